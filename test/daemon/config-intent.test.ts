// The Config -> intent compiler and its diff: each CLI change becomes add/modify/remove
// of exactly the interfaces and crypto map entries it affects (through the ACLs and
// transform sets the entries reference), unchanged items keep their objects, and a
// replaced model (configure replace) is diffed by content. After every step the
// incremental intent must equal a fresh compile of the same configuration: a command
// that forgot its revision stamp fails here.
import t from 'tap';
import type { Test as Tap } from 'tap';
import '../../firmware/cli/commands/index.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { loadConfigText } from '../../firmware/cli/config-loader.js';
import { createConfig, renderConfigLines, type Config } from '../../firmware/config/model.js';
import { IntentCompiler, type IntentDelta } from '../../firmware/daemon/config-intent.js';
import { fakeSystem } from '../lib/fake-system.js';
import { isCliError } from '../lib/ios-config.js';

const BASE = [
  'crypto ipsec transform-set TA esp-aes 256 esp-sha-hmac', 'exit',
  'crypto ipsec transform-set TB esp-gcm 256', 'exit',
  'access-list 101 permit ip 10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255',
  'access-list 102 permit ip 10.1.1.0 0.0.0.255 10.2.1.0 0.0.0.255',
  'access-list 103 permit ip 10.1.2.0 0.0.0.255 10.2.2.0 0.0.0.255',
  'crypto map M 10 ipsec-isakmp', ' set peer 172.16.0.2', ' set transform-set TA', ' match address 101', 'exit',
  'crypto map M 20 ipsec-isakmp', ' set peer 172.16.0.3', ' set transform-set TB', ' match address 102', 'exit',
  'crypto map M 30 ipsec-isakmp', ' set peer 172.16.0.4', ' set transform-set TA TB', ' match address 103', 'exit',
  'interface FastEthernet0/0', ' ip address 172.16.0.1 255.255.255.0', ' crypto map M', 'exit',
];

const E = (seq: number) => `FastEthernet0/0|M/${seq}`;

/** What a delta says, as sorted `op key` lines. */
function summary(d: IntentDelta): string[] {
  return [...d.interfaces.map((c) => `${c.op} if ${c.key}`), ...d.mapEntries.map((c) => `${c.op} ${c.key}`)].sort();
}

async function setup() {
  const cfg = createConfig();
  const sys = fakeSystem();
  const compiler = new IntentCompiler();
  const cli = async (lines: string[]): Promise<IntentDelta> => {
    const { text } = await runTranscript(['configure terminal', ...lines, 'end'], { config: cfg, system: sys, privileged: true });
    if (isCliError(text)) throw new Error(`CLI error: ${text}`);
    return compiler.compile(cfg);
  };
  return { cfg, compiler, cli };
}

/** The incremental intent equals a fresh compile: same items, same content. */
function sameAsFresh(t: Tap, compiler: IntentCompiler, cfg: Config): void {
  const fresh = new IntentCompiler().compile(cfg).intent;
  const inc = compiler.current!;
  const fp = (i: typeof inc) => [...i.mapEntries].map(([k, v]) => `${k} ${v.fingerprint}`);
  t.same(fp(inc), fp(fresh), 'incremental intent = fresh compile (entries)');
  t.same([...inc.interfaces].map(([k, v]) => `${k} ${v.fingerprint}`), [...fresh.interfaces].map(([k, v]) => `${k} ${v.fingerprint}`), 'and interfaces');
}

t.test('add, modify and remove of crypto map entries', async (t) => {
  const { cfg, compiler, cli } = await setup();
  const first = await cli(BASE);
  t.equal(first.full, true, 'the first compile is full');
  t.ok(first.mapEntries.every((c) => c.op === 'add') && first.mapEntries.length === 3, 'every entry added');
  t.same(first.intent.interfaces.get('FastEthernet0/0')!.entries.map((e) => e.key), [E(10), E(20), E(30)], 'in search order');
  t.equal(first.intent.interfaces.get('FastEthernet0/0')!.local, '172.16.0.1');

  const before = compiler.current!;
  cfg.revision++;
  const none = compiler.compile(cfg);
  t.same(summary(none), [], 'nothing changed: no changes');
  t.equal(none.intent.mapEntries.get(E(20)), before.mapEntries.get(E(20)), 'unchanged items are the same objects');

  t.same(summary(await cli(['access-list 104 permit ip 10.1.3.0 0.0.0.255 10.2.3.0 0.0.0.255', 'crypto map M 40 ipsec-isakmp', ' set peer 172.16.0.5', ' set transform-set TA', ' match address 104', 'exit'])),
    ['add FastEthernet0/0|M/40', 'modify if FastEthernet0/0'], 'a new entry: add (its interface lists one more)');
  sameAsFresh(t, compiler, cfg);
  const peer = await cli(['crypto map M 20 ipsec-isakmp', ' set peer 172.16.0.9', 'exit']);
  t.same(summary(peer), ['modify FastEthernet0/0|M/20'], 'a new peer: modify of that entry only');
  const m = peer.mapEntries[0]!;
  t.ok(m.op === 'modify' && !m.prev.entry.peers.includes('172.16.0.9') && m.next.entry.peers.at(-1) === '172.16.0.9', 'with the entry before and after');
  sameAsFresh(t, compiler, cfg);
  t.same(summary(await cli(['crypto map M 20 ipsec-isakmp', 'exit'])), [], 'entering an entry changes nothing');
  t.same(summary(await cli(['no crypto map M 30'])), ['modify if FastEthernet0/0', 'remove FastEthernet0/0|M/30'], 'a deleted entry: remove');
  sameAsFresh(t, compiler, cfg);
});

t.test('ACLs and transform sets referenced by entries make those entries modify', async (t) => {
  const { cfg, compiler, cli } = await setup();
  await cli(BASE);
  t.same(summary(await cli(['access-list 101 permit ip 10.1.9.0 0.0.0.255 10.2.9.0 0.0.0.255'])), ['modify FastEthernet0/0|M/10'], 'an ACL rule added: the entry matching it');
  sameAsFresh(t, compiler, cfg);
  t.same(summary(await cli(['access-list 105 permit ip any any'])), [], 'an ACL no entry uses: nothing');
  t.same(summary(await cli(['no access-list 102'])), ['modify FastEthernet0/0|M/20'], 'the ACL deleted');
  sameAsFresh(t, compiler, cfg);
  t.same(summary(await cli(['access-list 102 permit ip 10.1.1.0 0.0.0.255 10.2.1.0 0.0.0.255'])), ['modify FastEthernet0/0|M/20'], 'and back');
  t.same(summary(await cli(['no access-list 102', 'access-list 102 permit ip 10.1.1.0 0.0.0.255 10.2.1.0 0.0.0.255'])), [],
    'deleted and re-created the same: stamps moved, content did not: no change');
  t.same(summary(await cli(['crypto ipsec transform-set TA esp-aes 128 esp-sha256-hmac', 'exit'])),
    ['modify FastEthernet0/0|M/10', 'modify FastEthernet0/0|M/30'], 'a transform set changed: every entry using it');
  sameAsFresh(t, compiler, cfg);
  t.same(summary(await cli(['no crypto ipsec transform-set TB'])), ['modify FastEthernet0/0|M/20', 'modify FastEthernet0/0|M/30'], 'a transform set deleted');
  sameAsFresh(t, compiler, cfg);
  t.same(summary(await cli(['crypto ipsec security-association lifetime seconds 1800'])),
    ['modify FastEthernet0/0|M/10', 'modify FastEthernet0/0|M/20', 'modify FastEthernet0/0|M/30'], 'the global SA lifetime: every entry');
  sameAsFresh(t, compiler, cfg);
});

t.test('interfaces', async (t) => {
  const { cfg, compiler, cli } = await setup();
  await cli(BASE);
  t.same(summary(await cli(['interface FastEthernet0/0', ' description uplink', 'exit'])), ['modify if FastEthernet0/0'], 'a description: the interface only');
  t.same(summary(await cli(['interface FastEthernet0/0', ' ip address 172.16.0.11 255.255.255.0', 'exit'])),
    ['modify FastEthernet0/0|M/10', 'modify FastEthernet0/0|M/20', 'modify FastEthernet0/0|M/30', 'modify if FastEthernet0/0'], 'a new address: the interface and its entries (their local address)');
  sameAsFresh(t, compiler, cfg);
  t.same(summary(await cli(['interface Loopback0', ' ip address 192.0.2.1 255.255.255.255', 'exit'])), ['add if Loopback0'], 'a new interface: add');
  t.same(summary(await cli(['crypto map M local-address Loopback0'])),
    ['modify FastEthernet0/0|M/10', 'modify FastEthernet0/0|M/20', 'modify FastEthernet0/0|M/30', 'modify if FastEthernet0/0'], 'local-address moves every entry of the set');
  t.equal(compiler.current!.interfaces.get('FastEthernet0/0')!.local, '192.0.2.1');
  t.same(summary(await cli(['interface Loopback0', ' ip address 192.0.2.2 255.255.255.255', 'exit'])),
    ['modify FastEthernet0/0|M/10', 'modify FastEthernet0/0|M/20', 'modify FastEthernet0/0|M/30', 'modify if FastEthernet0/0', 'modify if Loopback0'], 'and follows that interface');
  sameAsFresh(t, compiler, cfg);
  t.same(summary(await cli(['interface FastEthernet0/0', ' no crypto map', 'exit'])),
    ['modify if FastEthernet0/0', 'remove FastEthernet0/0|M/10', 'remove FastEthernet0/0|M/20', 'remove FastEthernet0/0|M/30'], 'no crypto map: its entries removed');
  t.same(summary(await cli(['no interface Loopback0'])), ['remove if Loopback0'], 'a deleted interface: remove');
  sameAsFresh(t, compiler, cfg);
});

t.test('a replaced model is diffed by content', async (t) => {
  const { cfg, compiler, cli } = await setup();
  await cli(BASE);
  const text = renderConfigLines(cfg).join('\n');
  const same = createConfig();
  await loadConfigText(text, same, fakeSystem());
  same.revision = cfg.revision + 1;
  const d = compiler.compile(same);
  t.equal(d.replaced, true);
  t.equal(d.full, false);
  t.same(summary(d), [], 'the same configuration in a new model: no change');
  const other = createConfig();
  await loadConfigText(text.replace('set peer 172.16.0.3', 'set peer 172.16.0.33'), other, fakeSystem());
  other.revision = same.revision + 1;
  t.same(summary(compiler.compile(other)), ['modify FastEthernet0/0|M/20'], 'one entry different: that entry only');
  t.same(compiler.compile(other, { full: true }).mapEntries.length, 3, 'a full compile lists everything as added');
});

t.test('dynamic map entries behind a crypto map entry', async (t) => {
  const { cfg, compiler, cli } = await setup();
  await cli([...BASE, 'crypto dynamic-map D 5', ' set transform-set TA', 'exit', 'crypto map M 100 ipsec-isakmp dynamic D']);
  t.ok(compiler.current!.mapEntries.has('FastEthernet0/0|M/100/5'), 'a dynamic entry has its own key');
  t.same(summary(await cli(['crypto dynamic-map D 6', ' set transform-set TB', 'exit'])), ['add FastEthernet0/0|M/100/6', 'modify if FastEthernet0/0'], 'a dynamic map entry added');
  t.same(summary(await cli(['crypto dynamic-map D 5', ' set pfs group14', 'exit'])), ['modify FastEthernet0/0|M/100/5'], 'and modified');
  t.same(summary(await cli(['no crypto dynamic-map D 6'])), ['modify if FastEthernet0/0', 'remove FastEthernet0/0|M/100/6'], 'and removed');
  sameAsFresh(t, compiler, cfg);
  t.same(compiler.current!.mapSet('M').map((r) => `${r.seq}/${r.subSeq ?? '-'}`), ['10/-', '20/-', '30/-', '100/5'], 'mapSet answers as resolveCryptoMapSet');
});

t.test('the README walkthrough typed a line at a time (each line compiled) equals a fresh compile', async (t) => {
  const { cfg, compiler, cli } = await setup();
  await cli(['interface FastEthernet0/0', ' ip address 172.16.0.1 255.255.255.0', 'exit', 'interface FastEthernet0/1', ' ip address 10.1.0.1 255.255.255.0', 'exit']);
  const lines: string[][] = [
    ['crypto isakmp policy 10', ' encryption aes 256'], ['crypto isakmp key lab-secret address 172.16.0.2'],
    ['crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac'],
    ['ip access-list extended VPN'], ['ip access-list extended VPN', ' permit ip 10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255'],
    ['crypto map VPN 10 ipsec-isakmp'], ['crypto map VPN 10 ipsec-isakmp', ' set peer 172.16.0.2'],
    ['crypto map VPN 10 ipsec-isakmp', ' set transform-set TS'], ['crypto map VPN 10 ipsec-isakmp', ' match address VPN'],
    ['interface FastEthernet0/0'], ['interface FastEthernet0/0', ' crypto map VPN'],
  ];
  for (const l of lines) {
    await cli(l);
    sameAsFresh(t, compiler, cfg);
  }
  const e = compiler.current!.mapEntries.get('FastEthernet0/0|VPN/10');
  t.ok(e, 'the entry is bound to the interface');
});
