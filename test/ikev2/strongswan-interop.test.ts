// IKEv2 control-plane interop with strongSwan 5.9 (root only): our engine on real UDP
// sockets in one lab namespace (swan-driver.ts), charon in another. Both directions, the
// issue's suites, key agreement checked against the keys charon logs, then child and IKE
// rekeys initiated by us, and a proposal mismatch diagnosed.
import t from 'tap';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Lab, isRoot, hasCommand, projectRoot, type LabProcess } from '../lib/netns.js';
import { buildPeerPair } from '../lib/peer-pair.js';
import { StrongswanPeer, charonLoggedKeys as swanKeys, haveStrongswan, type SwanConnection } from '../lib/strongswan.js';
import type { Ikev2DriverConfig } from './swan-driver.js';

const skip = !isRoot()
  ? 'needs root: network namespaces and strongSwan'
  : !haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ip') ? 'needs iproute2' : undefined;

const R = '10.78.0.1';
const S = '10.78.0.2';
const PSK = 'ikev2-interop-psk-0123456789';

interface Case {
  name: string;
  ike: Ikev2DriverConfig['ike'];
  esp: Ikev2DriverConfig['esp'];
  swanIke: string;
  swanEsp: string;
  pfs?: number;
  rekey?: boolean;
}

const ONLY = process.env.IKEV2_INTEROP_ONLY;
const cases: Case[] = [
  { name: 'aes256-sha256-modp2048 + esp aes256gcm16', ike: [{ encryption: ['aes-cbc-256'], integrity: ['sha256'], dhGroups: [14] }], esp: [{ encryption: ['aes-gcm-256'] }], swanIke: 'aes256-sha256-modp2048', swanEsp: 'aes256gcm16', rekey: true },
  { name: 'aes128-sha1-modp1536 + esp aes128-sha1 with PFS', ike: [{ encryption: ['aes-cbc-128'], integrity: ['sha1'], dhGroups: [5] }], esp: [{ encryption: ['aes-cbc-128'], integrity: ['sha1'] }], swanIke: 'aes128-sha1-modp1536', swanEsp: 'aes128-sha1-modp1536', pfs: 5, rekey: true },
  { name: 'ecp256', ike: [{ encryption: ['aes-cbc-128'], integrity: ['sha256'], dhGroups: [19] }], esp: [{ encryption: ['aes-cbc-128'], integrity: ['sha256'] }], swanIke: 'aes128-sha256-ecp256', swanEsp: 'aes128-sha256' },
  { name: '3des-md5-modp1024', ike: [{ encryption: ['3des'], integrity: ['md5'], dhGroups: [2] }], esp: [{ encryption: ['3des'], integrity: ['md5'] }], swanIke: '3des-md5-modp1024', swanEsp: '3des-md5' },
  { name: 'aes-gcm IKE + curve25519', ike: [{ encryption: ['aes-gcm-256'], prf: ['sha256'], dhGroups: [31] }], esp: [{ encryption: ['aes-gcm-128'] }], swanIke: 'aes256gcm16-prfsha256-curve25519', swanEsp: 'aes128gcm16' },
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const dig = (hex: string): string => `sha256:${createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex').slice(0, 16)}`;

type Line = { event?: { type: string; child?: { keysIn: { encr: string; integ: string }; keysOut: { encr: string; integ: string }; spiIn: number; spiOut: number }; diagnosis?: unknown }; diagnoses?: unknown[]; log?: string };

function lines(p: LabProcess): Line[] {
  return p.output.split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l) as Line; } catch { return {}; } });
}

async function waitFor(p: LabProcess, pred: (l: Line[]) => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred(lines(p))) return true;
    if (!p.running) return pred(lines(p));
    await sleep(100);
  }
  return false;
}


async function setup(t: Tap, tag: string, swanIke: string, swanEsp: string, rekey: { childSec?: number; ikeSec?: number } = {}): Promise<{ lab: Lab; swan: StrongswanPeer }> {
  const lab = Lab.create(`rt-i2${tag}`);
  t.teardown(() => lab.destroy());
  buildPeerPair(lab, { local: R, peer: S, peerLoopback: '192.168.22.1/24', peerRoutes: ['192.168.21.0/24'] });
  const swan = new StrongswanPeer(lab, 's', { logLevels: { ike: 4, chd: 4, cfg: 2, enc: 1 } });
  await swan.start();
  const conn: SwanConnection = {
    name: 'rt', version: 2, localAddr: S, remoteAddr: R, proposals: [swanIke], psk: PSK,
    ...(rekey.ikeSec ? { rekeyTimeSec: rekey.ikeSec } : {}),
    children: [{ name: 'lan', localTs: ['192.168.22.0/24'], remoteTs: ['192.168.21.0/24'], espProposals: [swanEsp], ...(rekey.childSec ? { lifetimeSec: rekey.childSec } : {}) }],
  };
  await swan.load([conn]);
  return { lab, swan };
}

type Tap = typeof t;

for (const c of cases.filter((x) => !ONLY || x.name.includes(ONLY))) {
  for (const rampartInitiates of [true, false]) {
    const tag = `${cases.indexOf(c)}${rampartInitiates ? 'r' : 's'}`;
    t.test(`strongSwan IKEv2 interop: ${c.name}, ${rampartInitiates ? 'Rampart initiates' : 'strongSwan initiates'}`, { skip, timeout: 300_000 }, async (t) => {
      const { lab, swan } = await setup(t as unknown as Tap, tag, c.swanIke, c.swanEsp);
      const rekey = !!c.rekey && rampartInitiates;
      const cfg: Ikev2DriverConfig = {
        local: R, remote: S, psk: PSK, initiate: rampartInitiates, ike: c.ike, esp: c.esp, ...(c.pfs ? { pfsGroup: c.pfs } : {}),
        localCidr: '192.168.21.0/24', remoteCidr: '192.168.22.0/24', runMs: rekey ? 25_000 : 15_000, ...(rekey ? { rekeyAfterMs: 3000 } : {}),
      };
      const drv = await lab.spawnNode('r', join(projectRoot(), 'test/ikev2/swan-driver.ts'), [JSON.stringify(cfg)], { name: 'rampart-ikev2' });
      await waitFor(drv, (l) => l.some((x) => 'ready' in x), 10_000);
      if (!rampartInitiates) void swan.initiate('lan', 30_000).catch(() => undefined);
      const up = await waitFor(drv, (l) => l.some((x) => x.event?.type === 'child-up'), 30_000);
      t.ok(up, 'engine reports child-up');
      if (!up) {
        t.comment(drv.output.split('\n').slice(-30).join('\n'));
        t.comment(swan.log().split('\n').slice(-80).join('\n'));
        return;
      }
      const sas = await swan.waitForChild('lan', 15_000).catch((e: Error) => e.message);
      t.match(sas, /ESTABLISHED, IKEv2/, 'charon: IKE SA established');
      t.match(sas, /lan: #\d+, reqid \d+, INSTALLED/, 'charon: CHILD_SA installed');
      const child = lines(drv).find((x) => x.event?.type === 'child-up')!.event!.child!;
      t.match(sas, new RegExp(`in\\s+${child.spiOut.toString(16).padStart(8, '0')}`), 'charon inbound SPI = our outbound SPI');
      const keys = new Set(swanKeys(swan.log()).map(dig));
      t.ok(keys.size >= 2, `charon logged key material (${keys.size} keys)`);
      for (const k of [child.keysIn.encr, child.keysOut.encr, ...(child.keysIn.integ !== dig('') ? [child.keysIn.integ, child.keysOut.integ] : [])]) {
        t.ok(keys.has(k), `key ${k} derived identically by charon`);
      }
      if (rekey) {
        const done = await waitFor(drv, (l) => l.some((x) => 'state' in x), 20_000);
        t.ok(done, 'rekeys ran');
        const ev = lines(drv).map((x) => x.event?.type).filter(Boolean);
        t.ok(ev.filter((e) => e === 'child-up').length >= 2, 'child rekeyed with charon');
        t.ok(ev.includes('ike-rekeyed'), 'IKE SA rekeyed with charon');
        t.notOk(ev.includes('negotiation-failed'), 'no failure');
        const after = await swan.listSas();
        t.match(after, /ESTABLISHED, IKEv2/, 'charon still has the IKE SA');
        t.match(after, /INSTALLED/, 'and a CHILD_SA');
      }
      t.notMatch(drv.output, new RegExp(PSK), 'the PSK is not in the engine output');
    });
  }
}

t.test('strongSwan IKEv2 interop: proposal mismatch is diagnosed by the Rampart responder', { skip, timeout: 300_000 }, async (t) => {
  const { lab, swan } = await setup(t as unknown as Tap, 'pm', 'aes128-sha1-modp2048', 'aes128-sha1');
  const cfg: Ikev2DriverConfig = {
    local: R, remote: S, psk: PSK, initiate: false, ike: [{ name: 'ONLY-AES256', encryption: ['aes-cbc-256'], integrity: ['sha256'], dhGroups: [14] }],
    esp: [{ encryption: ['aes-gcm-256'] }], localCidr: '192.168.21.0/24', remoteCidr: '192.168.22.0/24', runMs: 8000,
  };
  const drv = await lab.spawnNode('r', join(projectRoot(), 'test/ikev2/swan-driver.ts'), [JSON.stringify(cfg)], { name: 'rampart-ikev2' });
  await waitFor(drv, (l) => l.some((x) => 'ready' in x), 10_000);
  void swan.initiate('lan', 10_000).catch(() => undefined);
  const got = await waitFor(drv, (l) => l.some((x) => x.event?.type === 'negotiation-failed'), 15_000);
  t.ok(got, 'negotiation-failed reported');
  const d = lines(drv).find((x) => x.event?.type === 'negotiation-failed')?.event?.diagnosis as { kind?: string; comparisons?: { firstDifference: { transformType: string; offered: string[] } }[] } | undefined;
  t.equal(d?.kind, 'NO_PROPOSAL_CHOSEN');
  t.equal(d?.comparisons?.[0]?.firstDifference.transformType, 'encryption');
  t.match(d?.comparisons?.[0]?.firstDifference.offered.join(','), /ENCR_AES_CBC_128/);
  // the engine reports the failure as it sends the notify: charon logs it a moment later
  for (let i = 0; i < 100 && !/NO_PROPOSAL_CHOSEN/.test(swan.log()); i++) await new Promise((r) => setTimeout(r, 100));
  t.match(swan.log(), /NO_PROPOSAL_CHOSEN/, 'charon got NO_PROPOSAL_CHOSEN');
});

t.test('strongSwan IKEv2 interop: strongSwan rekeys the child and the IKE SA, Rampart responds', { skip, timeout: 300_000 }, async (t) => {
  const { lab, swan } = await setup(t as unknown as Tap, 'rk', 'aes128-sha256-modp2048', 'aes128-sha256-modp2048', { childSec: 5, ikeSec: 14 });
  const cfg: Ikev2DriverConfig = {
    local: R, remote: S, psk: PSK, initiate: false, ike: [{ encryption: ['aes-cbc-128'], integrity: ['sha256'], dhGroups: [14] }],
    esp: [{ encryption: ['aes-cbc-128'], integrity: ['sha256'] }], pfsGroup: 14, localCidr: '192.168.21.0/24', remoteCidr: '192.168.22.0/24', runMs: 26_000,
  };
  const drv = await lab.spawnNode('r', join(projectRoot(), 'test/ikev2/swan-driver.ts'), [JSON.stringify(cfg)], { name: 'rampart-ikev2' });
  await waitFor(drv, (l) => l.some((x) => 'ready' in x), 10_000);
  void swan.initiate('lan', 30_000).catch(() => undefined);
  const rekeyed = await waitFor(drv, (l) => l.some((x) => x.event?.type === 'ike-rekeyed') && l.filter((x) => x.event?.type === 'child-up').length >= 2, 30_000);
  t.ok(rekeyed, 'child and IKE SA rekeyed by strongSwan');
  const ev = lines(drv).map((x) => x.event?.type).filter(Boolean);
  t.notOk(ev.includes('negotiation-failed'), 'no failure');
  const downs = lines(drv).filter((x) => x.event?.type === 'ike-down').map((x) => (x.event as { reason?: string }).reason);
  t.ok(downs.every((r) => r === 'rekeyed'), `IKE SAs only went down by rekey (${downs.join(',')})`);
  const sas = await swan.listSas();
  t.match(sas, /ESTABLISHED, IKEv2/, 'charon has the IKE SA');
  t.match(sas, /INSTALLED/, 'and a CHILD_SA');
  if (!rekeyed || !/ESTABLISHED/.test(sas)) {
    t.comment(drv.output.split('\n').filter((l) => !l.includes('"child-up"')).slice(-30).join('\n'));
    t.comment(swan.log().split('\n').filter((l) => /IKE|CHD|ENC|NET/.test(l) && !/\]\s+\d+: /.test(l)).slice(-80).join('\n'));
  }
});
