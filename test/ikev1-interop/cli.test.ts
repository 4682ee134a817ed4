// show crypto isakmp sa [detail] / show crypto session [detail] / clear / debug commands over
// a fake IKEv1 runtime (no daemon): layouts and what reaches the runtime.
import t from 'tap';
import '../../firmware/cli/commands/index.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { createConfig } from '../../firmware/config/model.js';
import { fakeSystem } from '../lib/fake-system.js';
import type { IsakmpSaShow } from '../../firmware/cli/commands/crypto-isakmp-sa.js';
import type { CryptoSessionInfo } from '../../firmware/ike/session-info.js';

const sa: IsakmpSaShow = {
  dst: '172.16.0.2', src: '172.16.0.1', state: 'QM_IDLE', connId: 1001, status: 'ACTIVE', role: 'initiator', mode: 'main',
  encryption: 'aes256', hash: 'sha', auth: 'pre-share', group: 2, lifetimeLeftSec: 86390, localPort: 500, remotePort: 500, natT: false,
};
const session: CryptoSessionInfo = {
  interface: 'FastEthernet0/0', peer: '172.16.0.2', peerPort: 500,
  ikeSas: [{ version: 'IKEv1', local: '172.16.0.1', localPort: 500, remote: '172.16.0.2', remotePort: 500, status: 'Active', connId: 1001 }],
  flows: [{ text: 'permit ip 10.1.0.0/255.255.255.0 10.2.0.0/255.255.255.0', activeSas: 2, origin: 'crypto map' }],
};

function setup() {
  const sys = fakeSystem();
  const calls: string[] = [];
  const listeners = new Map<string, (l: string) => void>();
  sys.runtime.ikev1 = {
    isakmpSas: () => [sa],
    clearIsakmp: (id) => { calls.push(`clear-isakmp ${id ?? 'all'}`); return id === undefined || id === 1001 ? 1 : 0; },
    addDebugListener: (id, w) => { listeners.set(id, w); },
    removeDebugListener: (id) => listeners.delete(id),
    debugEnabled: (id) => listeners.has(id),
    counters: () => ({}),
  };
  sys.runtime.ikeSessionSources = [{ name: 'ikev1', sessions: () => [session], clearSessions: (p) => { calls.push(`clear-session ${p ?? 'all'}`); } }];
  return { sys, calls, listeners };
}

t.test('show crypto isakmp sa', async (t) => {
  const { sys } = setup();
  const { text } = await runTranscript(['show crypto isakmp sa'], { config: createConfig(), system: sys, privileged: true });
  t.match(text, /dst\s+src\s+state\s+conn-id status/);
  t.match(text, /172\.16\.0\.2\s+172\.16\.0\.1\s+QM_IDLE\s+1001 ACTIVE/);
  const d = await runTranscript(['show crypto isakmp sa detail'], { config: createConfig(), system: sys, privileged: true });
  t.match(d.text, /1001\s+172\.16\.0\.1\s+172\.16\.0\.2\s+ACTIVE aes\s+sha\s+psk\s+2\s+23:59:50/);
});

t.test('show crypto session', async (t) => {
  const { sys } = setup();
  const { text } = await runTranscript(['show crypto session'], { config: createConfig(), system: sys, privileged: true });
  t.match(text, /Interface: FastEthernet0\/0\n/);
  t.match(text, /Session status: UP-ACTIVE/);
  t.match(text, /Peer: 172\.16\.0\.2 port 500/);
  t.match(text, /IKEv1 SA: local 172\.16\.0\.1\/500 remote 172\.16\.0\.2\/500 Active/);
  t.match(text, /IPSEC FLOW: permit ip 10\.1\.0\.0\/255\.255\.255\.0 10\.2\.0\.0\/255\.255\.255\.0/);
  t.match(text, /Active SAs: 2, origin: crypto map/);
});

t.test('clear and debug reach the runtime', async (t) => {
  const { sys, calls, listeners } = setup();
  const { text } = await runTranscript(['clear crypto isakmp 1001', 'clear crypto isakmp 7', 'clear crypto session remote 172.16.0.2', 'clear crypto session',
    'debug crypto isakmp', 'show debugging', 'undebug crypto isakmp', 'show debugging'], { config: createConfig(), system: sys, privileged: true });
  t.same(calls, ['clear-isakmp 1001', 'clear-isakmp 7', 'clear-session 172.16.0.2', 'clear-session all']);
  t.match(text, /No ISAKMP SA with conn-id 7/);
  t.match(text, /Crypto ISAKMP debugging is on/);
  t.match(text, /Crypto ISAKMP debugging is off/);
  t.equal(listeners.size, 0);
});
