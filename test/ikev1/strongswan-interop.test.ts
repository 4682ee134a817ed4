// IKEv1 control-plane interop with strongSwan 5.9 (root only): the engine runs on real UDP
// sockets in one lab namespace (test/ikev1/swan-peer-driver.ts), charon in another.
// Checks phase 1 + quick mode both ways for the suites, and that the ESP keys the
// engine derived are the ones charon derived (charon logs them at level 4; both sides are
// compared as SHA-256 digests).
import t from 'tap';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Lab, isRoot, hasCommand, projectRoot, type LabProcess } from '../lib/netns.js';
import { buildPeerPair } from '../lib/peer-pair.js';
import { StrongswanPeer, charonLoggedKeys as swanKeys, haveStrongswan, type SwanConnection } from '../lib/strongswan.js';
import type { DriverConfig } from './swan-peer-driver.js';
import type { IsakmpPolicy, TransformSet } from '../../firmware/ike/v1/policy.js';

const skip = !isRoot()
  ? 'needs root: network namespaces and strongSwan'
  : !haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ip') ? 'needs iproute2' : undefined;

const R = '10.77.0.1'; // rampart engine
const S = '10.77.0.2'; // strongSwan
const PSK = 'interop-psk-0123456789';

interface Case {
  name: string;
  policy: IsakmpPolicy;
  swanIke: string;
  set: TransformSet;
  swanEsp: string;
  pfs?: number;
  aggressive?: boolean;
}

const ONLY = process.env.IKEV1_INTEROP_ONLY;
const cases: Case[] = [
  { name: 'aes256/sha/group2 + esp-aes 256 esp-sha-hmac', policy: { priority: 10, encryption: 'aes256', hash: 'sha', authentication: 'pre-share', group: 2, lifetimeSec: 86400 }, swanIke: 'aes256-sha1-modp1024', set: { name: 'a', esp: { cipher: 'esp-aes', keyLenBits: 256, integrity: 'sha' }, mode: 'tunnel' }, swanEsp: 'aes256-sha1' },
  { name: '3des/md5/group2 + esp-3des esp-md5-hmac', policy: { priority: 10, encryption: '3des', hash: 'md5', authentication: 'pre-share', group: 2, lifetimeSec: 86400 }, swanIke: '3des-md5-modp1024', set: { name: 'b', esp: { cipher: 'esp-3des', integrity: 'md5' }, mode: 'tunnel' }, swanEsp: '3des-md5' },
  { name: 'aes128/sha256/group14 + PFS group14', policy: { priority: 10, encryption: 'aes128', hash: 'sha256', authentication: 'pre-share', group: 14, lifetimeSec: 86400 }, swanIke: 'aes128-sha256-modp2048', set: { name: 'c', esp: { cipher: 'esp-aes', keyLenBits: 128, integrity: 'sha256' }, mode: 'tunnel' }, swanEsp: 'aes128-sha256-modp2048', pfs: 14 },
  { name: 'aggressive mode aes256/sha/group2', policy: { priority: 10, encryption: 'aes256', hash: 'sha', authentication: 'pre-share', group: 2, lifetimeSec: 86400 }, swanIke: 'aes256-sha1-modp1024', set: { name: 'a', esp: { cipher: 'esp-aes', keyLenBits: 256, integrity: 'sha' }, mode: 'tunnel' }, swanEsp: 'aes256-sha1', aggressive: true },
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const dig = (hex: string): string => `sha256:${createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex').slice(0, 16)}`;

interface EngineEvent { event?: { type: string; sa?: Record<string, unknown> } }

function events(p: LabProcess): EngineEvent[] {
  return p.output.split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l) as EngineEvent; } catch { return {}; } });
}

async function waitFor(p: LabProcess, type: string, ms: number): Promise<EngineEvent['event'] | undefined> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const e = events(p).find((x) => x.event?.type === type);
    if (e) return e.event;
    if (!p.running) break;
    await sleep(100);
  }
  return undefined;
}


for (const c of cases.filter((x) => !ONLY || x.name.includes(ONLY))) {
  for (const rampartInitiates of [true, false]) {
    t.test(`strongSwan interop: ${c.name}, ${rampartInitiates ? 'Rampart initiates' : 'strongSwan initiates'}`, { skip, timeout: 300_000 }, async (t) => {
      const lab = Lab.create(`rt-i1${c.set.name}${c.aggressive ? 'g' : ''}${rampartInitiates ? 'r' : 's'}`);
      t.teardown(() => lab.destroy());
      // charon installs a route for its policy: give it a LAN and a route to ours
      buildPeerPair(lab, { local: R, peer: S, peerLoopback: '192.168.2.1/24', peerRoutes: ['192.168.1.0/24'] });
      const swan = new StrongswanPeer(lab, 's', {
        logLevels: { ike: 4, chd: 4, cfg: 2 },
        // strongSwan refuses to answer aggressive mode with PSK unless told otherwise
        ...(c.aggressive ? { extraCharon: '    i_dont_care_about_security_and_use_aggressive_mode_psk = yes' } : {}),
      });
      await swan.start();
      const conn: SwanConnection = {
        name: 'rt', version: 1, aggressive: !!c.aggressive, localAddr: S, remoteAddr: R, proposals: [c.swanIke], psk: PSK,
        children: [{ name: 'lan', localTs: ['192.168.2.0/24'], remoteTs: ['192.168.1.0/24'], espProposals: [c.swanEsp] }],
      };
      await swan.load([conn]);
      const cfg: DriverConfig = {
        local: R, remote: S, initiate: rampartInitiates, aggressive: !!c.aggressive, psk: PSK, policies: [c.policy], transformSets: [c.set],
        localSel: { addr: '192.168.1.0', prefixLen: 24, protocol: 0, port: 0 }, remoteSel: { addr: '192.168.2.0', prefixLen: 24, protocol: 0, port: 0 },
        ...(c.pfs ? { pfsGroup: c.pfs } : {}), runMs: 60_000,
      };
      const drv = await lab.spawnNode('r', join(projectRoot(), 'test/ikev1/swan-peer-driver.ts'), [JSON.stringify(cfg)], { name: 'rampart-ikev1' });
      const end = Date.now() + 10_000;
      while (!drv.output.includes('"ready"') && drv.running && Date.now() < end) await sleep(50);
      if (!rampartInitiates) void swan.initiate('lan', 30_000).catch(() => undefined);
      const up = await waitFor(drv, 'ipsec-up', 30_000);
      t.ok(up, 'engine reports ipsec-up');
      if (!up) {
        t.comment(drv.output.split('\n').slice(-30).join('\n'));
        t.comment(swan.log().split('\n').slice(-60).join('\n'));
        return;
      }
      const sas = await swan.waitForChild('lan', 15_000).catch((e: Error) => e.message);
      t.match(sas, /ESTABLISHED, IKEv1/, 'charon: IKE SA established');
      t.match(sas, /lan: #\d+, reqid \d+, INSTALLED/, 'charon: CHILD_SA installed');
      const p1 = events(drv).find((x) => x.event?.type === 'phase1-up')?.event?.sa as { mode?: string; natRemote?: boolean; natLocal?: boolean } | undefined;
      t.equal(p1?.mode, c.aggressive ? 'aggressive' : 'main');
      const sa = up.sa as { inbound: { spi: number; encKey: string; authKey: string }; outbound: { spi: number; encKey: string; authKey: string }; udpEncap: boolean; pfsGroup?: number };
      t.match(sas, new RegExp(`out\\s+${sa.inbound.spi.toString(16).padStart(8, '0')}`), 'charon outbound SPI = our inbound SPI');
      t.match(sas, new RegExp(`in\\s+${sa.outbound.spi.toString(16).padStart(8, '0')}`), 'charon inbound SPI = our outbound SPI');
      if (c.pfs) t.equal(sa.pfsGroup, c.pfs);
      t.comment(`udpEncap=${sa.udpEncap} natLocal=${p1?.natLocal} natRemote=${p1?.natRemote}`);
      const keys = new Set(swanKeys(swan.log()).map(dig));
      t.ok(keys.size >= 2, `charon logged key material (${keys.size} keys)`);
      for (const k of [sa.inbound.encKey, sa.inbound.authKey, sa.outbound.encKey, sa.outbound.authKey]) t.ok(keys.has(k), `key ${k} derived identically by charon`);
      t.notMatch(drv.output, new RegExp(PSK), 'the PSK is not in the engine output');
    });
  }
}
