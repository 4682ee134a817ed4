// Loopback interfaces' addresses go onto Linux `lo` as /32s (firmware/daemon/loopback-addresses.ts):
// added, changed, removed with the configuration; shut down and VRF loopbacks left out.
import t from 'tap';
import '../../firmware/cli/commands/index.js';
import { createConfig } from '../../firmware/config/model.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { LoopbackAddresses, wantedLoopbackAddresses } from '../../firmware/daemon/loopback-addresses.js';
import { CommandHostNetwork } from '../../firmware/kernel/host-network.js';
import { fakeSystem } from '../lib/fake-system.js';

t.test('loopback addresses follow the configuration', async (t) => {
  const config = createConfig();
  const system = fakeSystem();
  const cli = (lines: string[]) => runTranscript(['configure terminal', ...lines, 'end'], { config, system, privileged: true });
  await cli(['ip vrf blue', ' rd 1:1', 'interface Loopback0', ' ip address 192.0.2.1 255.255.255.0', ' ip address 192.0.2.9 255.255.255.255 secondary',
    'interface Loopback1', ' ip vrf forwarding blue', ' ip address 198.51.100.1 255.255.255.255',
    'interface Loopback2', ' ip address 203.0.113.1 255.255.255.255', ' shutdown',
    'interface FastEthernet0/0', ' ip address 172.16.0.1 255.255.255.0']);
  t.same(wantedLoopbackAddresses(config), ['192.0.2.1/32', '192.0.2.9/32'], 'global, up loopbacks only, as /32 (a wider prefix on lo would make its subnet local)');

  const calls: string[] = [];
  const lo = new LoopbackAddresses({ net: new CommandHostNetwork({}, (argv) => { calls.push(argv.join(' ')); return { code: 0, stderr: '' }; }), log: () => {} });
  await lo.sync(config);
  t.same(calls, ['ip addr replace 192.0.2.1/32 dev lo', 'ip addr replace 192.0.2.9/32 dev lo'], 'added');
  calls.length = 0;
  await lo.sync(config);
  t.same(calls, [], 'nothing to do when nothing changed');
  await cli(['interface Loopback0', ' ip address 192.0.2.2 255.255.255.255', ' no ip address 192.0.2.9 255.255.255.255 secondary', 'interface Loopback2', ' no shutdown']);
  await lo.sync(config);
  t.same(calls.sort(), ['ip addr del 192.0.2.1/32 dev lo', 'ip addr del 192.0.2.9/32 dev lo', 'ip addr replace 192.0.2.2/32 dev lo', 'ip addr replace 203.0.113.1/32 dev lo'], 'changed: old ones removed, new ones added');
  calls.length = 0;
  await lo.clear();
  t.same(calls.sort(), ['ip addr del 192.0.2.2/32 dev lo', 'ip addr del 203.0.113.1/32 dev lo'], 'clear removes only what it added');
});

t.test('the daemon asks Linux to withdraw routes over a link without carrier', async (t) => {
  const { withdrawRoutesOnLinkDown } = await import('../../firmware/daemon/link-failover.js');
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'linkdown-'));
  const logs: string[] = [];
  t.equal(withdrawRoutesOnLinkDown((m) => logs.push(m), join(dir, 'knob')), true, 'set');
  t.equal(readFileSync(join(dir, 'knob'), 'utf8'), '1\n', 'writes 1');
  t.equal(withdrawRoutesOnLinkDown((m) => logs.push(m), join(dir, 'missing', 'knob')), false, 'a knob it cannot write');
  t.match(logs[0] ?? '', /cannot set .*routes over a link without carrier stay in use/, 'is logged, not thrown');
});
