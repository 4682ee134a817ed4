// The matcher on its own grammar: abbreviation, ambiguity, caret position, incomplete
// commands, typed values, optional parts, repeats, help and completion.
import t from 'tap';
import { compileSyntax } from '../../firmware/cli/grammar.js';
import { completionsAt, helpAt, matchLine, type Candidate } from '../../firmware/cli/matcher.js';

const cmds: Candidate<string>[] = [
  'show clock [detail]',
  'show crypto map [tag WORD$tag|interface IFNAME$if]',
  'show crypto isakmp sa [detail]',
  'crypto map WORD$name (1-65535)$seq [ipsec-isakmp|ipsec-manual]',
  'crypto map ipv6 WORD$name (1-65535)$seq',
  'set peer A.B.C.D$peer',
  'set transform-set WORD$ts...',
  'description LINE$text',
  'ip route A.B.C.D$net A.B.C.D$mask <A.B.C.D$hop|IFNAME$if> [(1-255)$distance]',
  'configure [terminal]',
  '[no] keepalive',
].map((s) => ({ command: s, root: compileSyntax(s) }));

const ok = (line: string) => {
  const r = matchLine(line, cmds);
  if (r.kind !== 'ok') throw new Error(`${line}: ${r.kind}`);
  return r.parse;
};

t.test('unique prefixes abbreviate every keyword', async (t) => {
  t.equal(ok('sh cl').command, 'show clock [detail]');
  t.equal(ok('sh cr m').command, 'show crypto map [tag WORD$tag|interface IFNAME$if]');
  t.equal(ok('conf t').command, 'configure [terminal]');
  t.equal(ok('CONF T').command, 'configure [terminal]');
});

t.test('ambiguous prefixes are reported with the words up to the ambiguous one', async (t) => {
  t.same(matchLine('sh c', cmds), { kind: 'ambiguous', upTo: 1 });
  t.same(matchLine('s', cmds), { kind: 'ambiguous', upTo: 0 });
});

t.test('the caret points at the first character of the offending word', async (t) => {
  t.same(matchLine('show clack', cmds), { kind: 'invalid', at: 5 });
  t.same(matchLine('crypto map VPN 70000', cmds), { kind: 'invalid', at: 15 });
  t.same(matchLine('set peer 1.2.3.256', cmds), { kind: 'invalid', at: 9 });
  t.same(matchLine('show clock detail extra', cmds), { kind: 'invalid', at: 18 });
});

t.test('incomplete commands', async (t) => {
  t.same(matchLine('crypto map VPN', cmds), { kind: 'incomplete' });
  t.same(matchLine('show', cmds), { kind: 'incomplete' });
});

t.test('values, keywords and optional parts reach the handler', async (t) => {
  const p = ok('crypto map VPN 10 ipsec-m');
  t.equal(p.args.get('name'), 'VPN');
  t.equal(p.args.num('seq'), 10);
  t.ok(p.args.has('ipsec-manual'));
  t.notOk(p.args.has('ipsec-isakmp'));
  const v6 = ok('crypto map ipv6 V6MAP 20');
  t.equal(v6.command, 'crypto map ipv6 WORD$name (1-65535)$seq');
  t.equal(v6.args.get('name'), 'V6MAP');
  // A map may be named like a keyword prefix; the path that completes wins.
  t.equal(ok('crypto map i 10').args.get('name'), 'i');
});

t.test('typed values beat free words; exact keywords beat both', async (t) => {
  const r1 = ok('ip route 10.0.0.0 255.0.0.0 192.168.1.1');
  t.equal(r1.args.get('hop'), '192.168.1.1');
  t.equal(r1.args.get('if'), undefined);
  const r2 = ok('ip route 10.0.0.0 255.0.0.0 Fa0/0 5');
  t.equal(r2.args.get('if'), 'Fa0/0');
  t.equal(r2.args.num('distance'), 5);
  const r3 = ok('ip route 10.0.0.0 255.0.0.0 FastEthernet 0/1');
  t.equal(r3.args.get('if'), 'FastEthernet 0/1');
});

t.test('repeats and LINE', async (t) => {
  t.same(ok('set transform-set a b c').args.all('ts'), ['a', 'b', 'c']);
  t.equal(ok('description  link to  HQ  ').args.get('text'), 'link to  HQ');
  t.ok(ok('no keep').args.no);
  t.notOk(ok('keep').args.no);
});

t.test('help lists what may follow, with <cr> where the command may end', async (t) => {
  const h = helpAt('show clock ', cmds, () => 'h');
  t.equal(h.kind, 'items');
  if (h.kind === 'items') {
    t.same(h.items.map((i) => i.token), ['detail']);
    t.ok(h.cr);
  }
  const v = helpAt('crypto map VPN ', cmds, () => undefined);
  if (v.kind === 'items') t.same(v.items.map((i) => i.token), ['<1-65535>']);
  t.same(helpAt('bogus ', cmds, () => undefined), { kind: 'unrecognized' });
  const partial = helpAt('show c', cmds, () => undefined);
  if (partial.kind === 'items') t.same(partial.items.map((i) => i.token), ['clock', 'crypto']);
});

t.test('Tab completes a unique keyword only', async (t) => {
  t.same(completionsAt('sh', cmds), ['show']);
  t.same(completionsAt('show cr', cmds), ['crypto']);
  t.same(completionsAt('show c', cmds).sort(), ['clock', 'crypto']);
  t.same(completionsAt('show clock ', cmds), []);
});
