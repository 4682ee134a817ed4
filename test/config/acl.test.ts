import t from 'tap';
import {
  aclAddress, aclEntrySelector, canonicalProtocol, formatAclRule, formatPort, insertRule, nextSeq, numberedKind,
  parsePort, protocolNumber, removeRuleBySeq, renderAcl, type AccessList, type AclRule,
} from '../../firmware/config/acl.js';
import { createConfig } from '../../firmware/config/model.js';
import '../../firmware/config/sections.js';

const rule = (seq: number, over: Partial<AclRule> = {}): AclRule => ({
  kind: 'rule', seq, action: 'permit', protocol: 'ip',
  source: { address: '0.0.0.0', wildcard: '255.255.255.255' },
  destination: { address: '0.0.0.0', wildcard: '255.255.255.255' }, ...over,
});

t.test('protocols: IOS keywords, numbers with a keyword render as the keyword', async (t) => {
  t.equal(canonicalProtocol('50'), 'esp');
  t.equal(canonicalProtocol('51'), 'ahp');
  t.equal(canonicalProtocol('6'), 'tcp');
  t.equal(canonicalProtocol('IP'), 'ip');
  t.equal(canonicalProtocol('250'), '250');
  t.equal(canonicalProtocol('256'), undefined);
  t.equal(canonicalProtocol('ah'), undefined, 'IOS spells it ahp');
  t.equal(protocolNumber('ip'), undefined, 'ip = any protocol');
  t.equal(protocolNumber('gre'), 47);
  t.equal(protocolNumber('250'), 250);
});

t.test('ports: names per protocol as IOS has them', async (t) => {
  t.equal(parsePort('udp', 'isakmp'), 500);
  t.equal(parsePort('udp', 'non500-isakmp'), 4500);
  t.equal(parsePort('tcp', 'www'), 80);
  t.equal(parsePort('udp', 'www'), undefined, 'www is tcp only');
  t.equal(parsePort('tcp', 'isakmp'), undefined, 'isakmp is udp only');
  t.equal(parsePort('tcp', 'ssh'), undefined, 'IOS has no ssh port keyword');
  t.equal(parsePort('tcp', '65535'), 65535);
  t.equal(parsePort('tcp', '65536'), undefined);
  t.equal(formatPort('udp', 500), 'isakmp');
  t.equal(formatPort('tcp', 22), '22');
  t.equal(formatPort('tcp', 80), 'www');
});

t.test('numbered list ranges', async (t) => {
  t.equal(numberedKind(1), 'standard');
  t.equal(numberedKind(99), 'standard');
  t.equal(numberedKind(100), 'extended');
  t.equal(numberedKind(1300), 'standard');
  t.equal(numberedKind(2699), 'extended');
  t.equal(numberedKind(200), undefined);
  t.equal(numberedKind(2700), undefined);
});

t.test('addresses keep only the bits the wildcard does not cover', async (t) => {
  t.same(aclAddress('10.1.1.77', '0.0.0.255'), { address: '10.1.1.0', wildcard: '0.0.0.255' });
  t.same(aclAddress('10.1.1.77', '0.255.0.255'), { address: '10.0.1.0', wildcard: '0.255.0.255' });
});

t.test('selector view for the SPD', async (t) => {
  const s = aclEntrySelector(rule(10, {
    protocol: 'udp', source: aclAddress('10.0.0.0', '0.0.0.255'), destination: { address: '192.0.2.1', wildcard: '0.0.0.0' },
    sourcePort: { op: 'eq', port: 500 }, destinationPort: { op: 'neq', port: 4500 }, log: 'log',
  }));
  t.equal(s.proto, 17);
  t.same(s.src, { address: 0x0a000000, wildcard: 0xff });
  t.same(s.dst, { address: 0xc0000201, wildcard: 0 });
  t.same(s.srcPort, { op: 'eq', port: 500 });
  t.same(s.srcPortRanges, [[500, 500]]);
  t.same(s.dstPortRanges, [[0, 4499], [4501, 65535]]);
  t.equal(s.log, true);
  t.equal(s.established, false);

  const any = aclEntrySelector(rule(20));
  t.equal(any.proto, undefined, 'ip: any protocol');
  t.same(any.src, { address: 0, wildcard: 0xffffffff });
  t.same(any.srcPortRanges, [[0, 65535]]);

  t.same(aclEntrySelector(rule(1, { protocol: 'tcp', sourcePort: { op: 'lt', port: 1024 } })).srcPortRanges, [[0, 1023]]);
  t.same(aclEntrySelector(rule(1, { protocol: 'tcp', sourcePort: { op: 'gt', port: 1023 } })).srcPortRanges, [[1024, 65535]]);
  t.same(aclEntrySelector(rule(1, { protocol: 'tcp', sourcePort: { op: 'lt', port: 0 } })).srcPortRanges, [], 'lt 0 matches no port');
  t.same(aclEntrySelector(rule(1, { protocol: 'tcp', destinationPort: { op: 'range', lo: 10, hi: 20 } })).dstPortRanges, [[10, 20]]);
  t.same(aclEntrySelector(rule(1, { protocol: 'icmp', icmp: { name: 'echo-reply' } })).icmp, { type: 0 });
  t.same(aclEntrySelector(rule(1, { protocol: 'icmp', icmp: { name: 'port-unreachable' } })).icmp, { type: 3, code: 3 });
  const std = aclEntrySelector({ kind: 'rule', seq: 10, action: 'deny', protocol: 'ip', source: { address: '10.1.1.1', wildcard: '0.0.0.0' } });
  t.same(std.dst, { address: 0, wildcard: 0xffffffff }, 'standard lists match any destination');
  t.equal(std.action, 'deny');
});

t.test('sequence numbers, duplicates and remarks', async (t) => {
  const list: AccessList = { name: 'x', kind: 'extended', numbered: false, entries: [], revision: 0 };
  t.equal(nextSeq(list), 10);
  t.equal(insertRule(list, rule(10), 1), 'ok');
  list.entries.push({ kind: 'remark', text: 'before 20' });
  t.equal(insertRule(list, rule(20, { protocol: 'esp' }), 2), 'ok');
  t.equal(nextSeq(list), 30);
  t.equal(insertRule(list, rule(15, { protocol: 'gre' }), 3), 'ok');
  t.same(list.entries.map((e) => (e.kind === 'rule' ? e.seq : e.text)), [10, 15, 'before 20', 20], 'inserted before the remark of the next rule');
  t.equal(insertRule(list, rule(25, { protocol: 'esp' }), 4), 'duplicate');
  t.equal(insertRule(list, rule(15, { protocol: 'udp' }), 4), 'seq-taken');
  t.equal(list.revision, 3, 'failed inserts do not bump the revision');
  t.ok(removeRuleBySeq(list, 15, 5));
  t.notOk(removeRuleBySeq(list, 15, 6));
  t.equal(list.revision, 5);
  t.equal(insertRule(list, rule(7, { protocol: 'pim' }), 7), 'ok');
  t.equal(nextSeq(list), 30, 'next after the last, not after the newest');
});

t.test('IOS text of rules', async (t) => {
  t.equal(formatAclRule(rule(1, { protocol: 'udp', sourcePort: { op: 'eq', port: 4500 } }), 'extended'), 'permit udp any eq non500-isakmp any');
  t.equal(formatAclRule(rule(1, { protocol: 'tcp', destination: { address: '10.0.0.1', wildcard: '0.0.0.0' }, destinationPort: { op: 'range', lo: 80, hi: 8080 }, established: true }), 'extended'),
    'permit tcp any host 10.0.0.1 range www 8080 established');
  t.equal(formatAclRule({ kind: 'rule', seq: 1, action: 'deny', protocol: 'ip', source: { address: '10.0.0.0', wildcard: '0.0.0.255' }, log: 'log' }, 'standard'), 'deny 10.0.0.0 0.0.0.255 log');
  t.equal(formatAclRule({ kind: 'rule', seq: 1, action: 'permit', protocol: 'ip', source: { address: '10.0.0.9', wildcard: '0.0.0.0' } }, 'standard'), 'permit 10.0.0.9');
});

t.test('running-config: named blocks, then numbered lines', async (t) => {
  const cfg = createConfig();
  cfg.acl.lists['101'] = { name: '101', kind: 'extended', numbered: true, entries: [{ kind: 'remark', text: 'vpn' }, rule(10)], revision: 1 };
  cfg.acl.lists['9'] = { name: '9', kind: 'standard', numbered: true, entries: [{ kind: 'rule', seq: 10, action: 'permit', protocol: 'ip', source: { address: '0.0.0.0', wildcard: '255.255.255.255' } }], revision: 1 };
  cfg.acl.lists['vpn'] = { name: 'vpn', kind: 'extended', numbered: false, entries: [rule(10, { protocol: 'esp' })], revision: 1 };
  t.same(renderAcl(cfg), [
    ['ip access-list extended vpn', ' permit esp any any'],
    ['access-list 9 permit any', 'access-list 101 remark vpn', 'access-list 101 permit ip any any'],
  ]);
});
