// The configuration archive on a running daemon (in-process, no root needed): `archive`
// configuration mode and its running-config block, `archive config`, `write-memory`,
// `time-period`, `show archive` in IOS 15's layout (and through the ntc-templates parser),
// the change log (`show archive log config all | N [M] | statistics`, `hidekeys`,
// `notify syslog`), `show archive config differences` and `configure replace ... list`
// applying only the differences.
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simBoard } from '../../board/sim.js';
import { ScriptedConsole } from '../lib/daemon-client.js';
import { projectRoot } from '../lib/netns.js';
import { commandScript, contextualDiff, replaceCommands } from '../../firmware/config/config-diff.js';
import { changedMapEntries } from '../../firmware/mgmt/config-replace.js';
import { hideKeys } from '../../firmware/mgmt/config-archive.js';

// a minute of `time-period` is a second here (read when the daemon module loads)
process.env.RAMPART_REVERT_SPEEDUP = '60';
const { Daemon } = await import('../../firmware/daemon/daemon.js');
await import('../../firmware/cli/commands/index.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const VENDOR = join(process.env.RAMPART_NTC_TEMPLATES ?? join(projectRoot(), '..', 'shared', 'vendor', 'ntc-templates'), 'templates');
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const ntcSkip = !existsSync(join(VENDOR, 'index')) ? `ntc-templates not found at ${VENDOR}`
  : spawnSync(PYTHON, ['-c', 'import textfsm.clitable'], { stdio: 'ignore' }).status !== 0 ? 'needs python3-textfsm' : undefined;

type Row = Record<string, string | string[]>;
function ntcParse(command: string, text: string): { template: string | null; rows: Row[]; error: string | null } {
  const out = execFileSync(PYTHON, [join(projectRoot(), 'test', 'show', 'textfsm-parse.py')], {
    input: JSON.stringify({ templates: VENDOR, items: [{ command, text }] }), encoding: 'utf8', timeout: 60_000,
  });
  return (JSON.parse(out) as Array<{ template: string | null; rows: Row[]; error: string | null }>)[0]!;
}

async function startBox(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-archive-'));
  const sock = join(dir, 'run', 'rampart.sock');
  const d = new Daemon({ board: simBoard({ stateDir: dir }), socketPath: sock, services: [] });
  await d.start();
  const con = await ScriptedConsole.open(sock);
  t.teardown(async () => { con.close(); await d.stop(); rmSync(dir, { recursive: true, force: true }); });
  await con.run('enable');
  await con.run('terminal length 0');
  const configure = async (lines: string[]) => {
    let out = await con.run('configure terminal');
    for (const l of lines) out += await con.run(l);
    out += await con.run('end');
    return out;
  };
  return { d, con, dir, configure };
}

t.test('archive mode, archive config, write-memory, show archive', async (t) => {
  const { con, dir, configure } = await startBox(t);
  const off = await con.run('show archive');
  t.equal(off, ' Archive feature not enabled\n', 'without a path the feature is off, as IOS says');
  if (!ntcSkip) t.equal(ntcParse('show archive', off).rows[0]?.STATE, 'not enabled', 'ntc-templates reads the state');
  await configure(['archive', ' path flash:$h-cfg', ' maximum 3', ' write-memory', ' log config', '  logging enable', '  logging size 50', '  hidekeys', '  notify syslog', ' exit', ' time-period 1440']);
  t.equal(await con.run('show running-config | section archive'),
    'archive\n log config\n  logging enable\n  logging size 50\n  notify syslog contenttype plaintext\n  hidekeys\n path flash:$h-cfg\n maximum 3\n write-memory\n time-period 1440\n', 'running-config block as IOS 15 prints it');
  t.match(await con.run('configure terminal'), /Enter configuration/);
  await con.run('archive');
  t.equal(con.state.prompt, 'Router(config-archive)#', 'archive mode prompt');
  await con.run('log config');
  t.equal(con.state.prompt, 'Router(config-archive-log-cfg)#', 'log config mode prompt');
  t.match(await con.run('path flash:../x'), /invalid archive path/, 'a path leaving flash is refused');
  await con.run('end');

  t.equal(await con.run('archive config'), '', 'archive config prints nothing');
  t.match(await con.run('write memory'), /\[OK\]/);
  const two = await con.run('show archive');
  t.equal(two, [
    'The maximum archive configurations allowed is 3.',
    'There are currently 2 archive configurations saved.',
    'The next archive file will be named flash:Router-cfg-3',
    ' Archive #  Name',
    '   1        flash:Router-cfg-1',
    '   2        flash:Router-cfg-2 <- Most Recent',
    '   3',
    '',
  ].join('\n'), 'show archive layout');
  t.match(readFileSync(join(dir, 'flash', 'Router-cfg-2'), 'utf8'), /^archive\n log config\n[\s\S]* path flash:\$h-cfg$/m, 'write memory archived the configuration');
  await con.run('archive config');
  await con.run('archive config');
  const wrapped = await con.run('show archive');
  t.match(wrapped, /There are currently 3 archive configurations saved\.\nThe next archive file will be named flash:Router-cfg-5\n Archive # {2}Name\n {3}1 {8}flash:Router-cfg-4 <- Most Recent\n {3}2 {8}flash:Router-cfg-2\n {3}3 {8}flash:Router-cfg-3\n$/, 'the oldest slot is reused');
  t.notOk(existsSync(join(dir, 'flash', 'Router-cfg-1')), 'and its file deleted');
  if (!ntcSkip) {
    const p = ntcParse('show archive', two);
    t.equal(p.error, null, 'the template accepts every line');
    t.strictSame(p.rows[0]?.FILENAMES, ['flash:Router-cfg-1', 'flash:Router-cfg-2'], 'ntc-templates: file names');
    t.equal(p.rows[0]?.CURRENT_INDEX, '2', 'ntc-templates: most recent index');
    t.equal(p.rows[0]?.NEXT_FILENAME, 'flash:Router-cfg-3', 'ntc-templates: next file name');
  }
  await configure(['no archive']);
  t.equal(await con.run('show running-config | section archive'), '', 'no archive removes the block');
  t.match(await con.run('archive config'), /Archive path not specified/);
});

t.test('time-period archives by itself', async (t) => {
  const { con, configure } = await startBox(t);
  await configure(['archive', ' path flash:tp', ' time-period 1']);
  let st = '';
  for (let i = 0; i < 40 && !/tp-2 <- Most/.test(st); i++) { await sleep(100); st = await con.run('show archive'); }
  t.match(st, /flash:tp-1\n[\s\S]*flash:tp-2 <- Most Recent/, 'two archives after two periods (a minute is a second in this test)');
});

t.test('configuration change log', async (t) => {
  const { con, configure } = await startBox(t);
  t.match(await con.run('show archive log config all'), /^ idx {3}sess {11}user@line {6}Logged command\n$/, 'empty log: the header');
  const out = await configure(['archive', ' log config', '  logging enable', '  notify syslog', ' exit', 'exit', 'username bob secret 0 hunter2', 'crypto isakmp key sekrit address 1.2.3.4', 'interface Loopback0', ' ip address 1.1.1.1 255.255.255.255']);
  t.match(out, /%PARSER-5-CFGLOG_LOGGEDCMD: User:console {2}logged command:crypto isakmp key \* address 1\.2\.3\.4/, 'notify syslog: a system message per command');
  t.notMatch(out, /sekrit|hunter2/, 'and never a secret in it');
  const all = await con.run('show archive log config all');
  t.equal(all, [
    ' idx   sess           user@line      Logged command',
    '    1     1        console@console  |  logging enable',
    '    2     1        console@console  |  notify syslog',
    '    3     1        console@console  |username bob secret 0 *',
    '    4     1        console@console  |crypto isakmp key * address 1.2.3.4',
    '    5     1        console@console  |interface Loopback0',
    '    6     1        console@console  | ip address 1.1.1.1 255.255.255.255',
    '',
  ].join('\n'), 'IOS layout; sub-mode commands indented; secrets masked as IOS 15 masks them');
  t.notMatch(all, /sekrit|hunter2/, 'no secret in the log');
  await configure(['archive', ' log config', '  hidekeys', '  logging size 3', 'exit', 'exit', 'crypto isakmp key other address 5.6.7.8']);
  const hidden = await con.run('show archive log config all');
  t.match(hidden, /\|crypto isakmp key \* address 5\.6\.7\.8$/m, 'hidekeys: the key stays hidden');
  t.match(hidden, /^ {4}\d {5}2 /m, 'a new configuration session gets the next session number');
  t.equal(hidden.trim().split('\n').length, 4, 'logging size 3 keeps the last 3');
  const one = await con.run('show archive log config 10');
  t.match(one, /^ idx[^\n]*\n {3}10 {5}2 [^\n]*\|  logging size 3\n$/, 'one record by number');
  const st = await con.run('show archive log config statistics');
  t.match(st, /Config Log Session Info:\n {8}Number of sessions being tracked: \d+\n {8}Memory being held: \d+ bytes[\s\S]*Config Log log-queue Info:\n {8}Number of entries in the log-queue: 3\n/, 'statistics');
  t.match(await con.run('show archive log config bogus'), /Invalid input/, 'a bad argument gets the caret');
});

t.test('config differences and configure replace list', async (t) => {
  const { con, dir, configure } = await startBox(t);
  t.match(await con.run('show archive config differences'), /%Error opening nvram:startup-config/, 'without startup-config there is nothing to compare');
  await con.run('write memory');
  t.equal(await con.run('show archive config differences'), '!Contextual Config Diffs:\n!No changes were found\n', 'startup-config against running-config: the same');
  await con.run('copy running-config flash:base.cfg', '');
  await configure(['crypto ipsec transform-set ts esp-aes esp-sha-hmac', 'exit', 'access-list 101 permit ip 10.0.0.0 0.0.0.255 10.1.0.0 0.0.0.255',
    'crypto map m 10 ipsec-isakmp', ' set peer 1.2.3.4', ' set transform-set ts', ' match address 101', 'exit',
    'interface Loopback0', ' ip address 1.1.1.1 255.255.255.255', ' crypto map m']);
  await con.run('copy running-config flash:a.cfg', '');
  await configure(['hostname R9', 'interface Loopback0', ' ip address 2.2.2.2 255.255.255.255', 'crypto map m 10', ' set peer 5.5.5.5',
    'ip access-list extended foo', ' permit ip any host 1.1.1.1']);
  const diff = await con.run('show archive config differences flash:a.cfg');
  t.equal(diff, [
    '!Contextual Config Diffs:',
    '+hostname R9',
    'crypto map m 10 ipsec-isakmp',
    ' +set peer 5.5.5.5',
    'interface Loopback0',
    ' +ip address 2.2.2.2 255.255.255.255',
    ' -ip address 1.1.1.1 255.255.255.255',
    '+ip access-list extended foo',
    ' +permit ip any host 1.1.1.1',
    '-hostname Router',
    '',
  ].join('\n'), 'contextual diff: parents for context, + and - lines');
  t.match(await con.run('show archive config differences flash:a.cfg flash:base.cfg'), /-crypto map m 10 ipsec-isakmp\n -set peer 1\.2\.3\.4\n -set transform-set ts\n -match address 101\n/, 'two files');
  t.match(await con.run('show archive config differences flash:nope.cfg'), /%Error opening flash:nope\.cfg/);

  const list = await con.run('configure replace flash:a.cfg list force');
  t.equal(list, [
    '!Pass 1',
    '',
    '!List of Commands:',
    'no ip access-list extended foo',
    'no hostname R9',
    'hostname Router',
    'crypto map m 10 ipsec-isakmp',
    ' no set peer 5.5.5.5',
    'interface Loopback0',
    ' no ip address 2.2.2.2 255.255.255.255',
    ' ip address 1.1.1.1 255.255.255.255',
    'end',
    '',
    'Total number of passes: 1',
    'Rollback Done',
    '',
  ].join('\n'), 'list prints only the commands that make the difference');
  t.equal(await con.run('show archive config differences flash:a.cfg'), '!Contextual Config Diffs:\n!No changes were found\n', 'the running configuration is the file');
  t.equal(await con.run('configure replace flash:a.cfg list force'), 'Total number of passes: 1\nRollback Done\n', 'nothing to apply the second time');
  // an ACL whose lines only changed order is removed and added again (the only way with commands)
  const a = readFileSync(join(dir, 'flash', 'a.cfg'), 'utf8');
  const acl = (first: string, second: string) => a.replace(/^access-list 101 .*$/m, `ip access-list extended foo\n permit ip any host ${first}\n permit ip any host ${second}\naccess-list 150 permit ip any host ${first}\naccess-list 150 permit ip any host ${second}`);
  writeFileSync(join(dir, 'flash', 'acl.cfg'), acl('9.9.9.9', '8.8.8.8'));
  await con.run('configure replace flash:acl.cfg force');
  writeFileSync(join(dir, 'flash', 'acl2.cfg'), acl('8.8.8.8', '9.9.9.9'));
  t.match(await con.run('configure replace flash:acl2.cfg list force'), /^!Pass 1\n\n!List of Commands:\nno ip access-list extended foo\nip access-list extended foo\n permit ip any host 8\.8\.8\.8\n permit ip any host 9\.9\.9\.9\nno access-list 150\naccess-list 150 permit ip any host 8\.8\.8\.8\naccess-list 150 permit ip any host 9\.9\.9\.9\nend\n\nTotal number of passes: 1\n/, 'reordered ACL lines: the ACL is removed and written again');
  t.match(await con.run('show running-config | include host'), /^ permit ip any host 8\.8\.8\.8\n[^\n]*9\.9\.9\.9\n[^\n]*150[^\n]*8\.8\.8\.8\n[^\n]*150[^\n]*9\.9\.9\.9/m, 'in the file\'s order');
  t.equal(await con.run('show archive config differences flash:acl2.cfg'), '!Contextual Config Diffs:\n!No changes were found\n');
  // revert trigger timer arms the rollback; configure confirm keeps the new configuration
  t.match(await con.run('configure replace flash:base.cfg force revert trigger timer 5'), /Rollback Done\n\nRollback Confirmed Change timer is set\./);
  t.equal(await con.run('configure confirm'), '', 'a rollback was pending');
});

t.test('diff units', async (t) => {
  const from = 'hostname A\n!\ninterface Loopback1\n ip address 1.1.1.1 255.255.255.255\n!\nbanner motd ^C\nhi\n^C\nend\n';
  const to = 'hostname A\n!\ninterface Loopback1\n description d\n ip address 1.1.1.1 255.255.255.255\n!\nend\n';
  t.strictSame(contextualDiff(from, to), ['interface Loopback1', ' +description d', '-banner motd ^C\nhi\n^C']);
  t.strictSame(commandScript(replaceCommands(from, to)), ['no banner motd', 'interface Loopback1', ' description d']);
  const nested = replaceCommands('archive\n log config\n  logging enable\nhostname A\n', 'archive\n log config\n  hidekeys\nhostname B\n');
  t.strictSame(commandScript(nested), ['no hostname A', 'archive', ' log config', '  no logging enable', '  hidekeys', ' exit', 'exit', 'hostname B'], 'exits back out of nested sub-modes, never out of config mode');
  const before = 'access-list 101 permit ip any any\ncrypto ipsec transform-set T esp-aes esp-sha-hmac\ncrypto map m 10 ipsec-isakmp\n set transform-set T\n match address 101\ncrypto map m 20 ipsec-isakmp\n set peer 2.2.2.2\n match address 102\ncrypto map m 30 ipsec-isakmp\n set peer 3.3.3.3\n match address 103\n';
  const after = before.replace('access-list 101 permit ip any any', 'access-list 101 permit ip any host 1.1.1.1').replace(' set peer 3.3.3.3', ' set peer 3.3.3.4');
  t.strictSame(changedMapEntries(before, after), [{ map: 'm', seq: 10 }, { map: 'm', seq: 30 }], 'entries whose ACL or lines changed; 20 untouched');
  t.equal(hideKeys('username u privilege 15 secret 9 $9$abc'), 'username u privilege 15 secret 9 *');
  t.equal(hideKeys('pre-shared-key local 0 k1'), 'pre-shared-key local 0 *');
  t.equal(hideKeys('ntp authentication-key 5 md5 k'), 'ntp authentication-key 5 md5 *');
  t.equal(hideKeys('snmp-server community public ro'), 'snmp-server community * ro');
  t.equal(hideKeys('crypto key generate rsa modulus 2048'), 'crypto key generate rsa modulus 2048', 'crypto key commands keep their words');
});

t.test('configuration lock: configuration mode exclusive and configure replace', async (t) => {
  const { con, dir, configure } = await startBox(t);
  const sock = join(dir, 'run', 'rampart.sock');
  const other = await ScriptedConsole.open(sock, 'vty 3');
  t.teardown(() => other.close());
  await configure(['enable secret Ena8le']);
  await other.run('enable', 'Ena8le');
  t.equal(other.state.prompt, 'Router#', 'a second session (vty 3), privileged');
  await con.run('configure terminal');
  t.match(await other.run('configure terminal'), /Enter configuration commands/, 'without exclusive mode two sessions configure at once (IOS default)');
  await other.run('end');
  await con.run('configuration mode exclusive auto');
  await con.run('end');
  t.match(await con.run('show running-config | include configuration mode'), /^configuration mode exclusive auto$/m);
  t.match(await con.run('configure terminal'), /^Configuration mode locked exclusively\. The lock will be cleared once you exit out of configuration mode using end\/exit\nEnter configuration/, 'the first session takes the lock');
  const refused = await other.run('configure terminal');
  t.match(refused, /^Configuration mode is locked by process '\d+' user 'NULL' from terminal '0'\. Please try later\.$/m, 'the second is refused with IOS\'s text');
  t.equal(other.state.prompt, 'Router#', 'and stays in exec mode');
  t.match(await other.run('show running-config | include hostname'), /hostname Router/, 'exec commands still work');
  t.match(await other.run('configure replace flash:none.cfg force'), /%Error opening flash:none\.cfg/, 'a missing file is reported first');
  await con.run('end');
  t.match(await other.run('configure terminal'), /locked exclusively/, 'after end the lock is free');
  await other.run('copy running-config flash:same.cfg', '');
  t.match(await con.run('configure terminal'), /locked by process '\d+' user 'NULL' from terminal '5'/, 'terminal is the IOS line number (vty 3 = 5)');
  await other.run('end');
  await con.run('copy running-config flash:same.cfg', '');
  await other.run('configure terminal');
  t.match(await con.run('configure replace flash:same.cfg force'), /Configuration mode is locked by process/, 'configure replace waits for the lock too');
  other.close();
  let freed = '';
  for (let i = 0; i < 20 && !/locked exclusively/.test(freed); i++) { await sleep(50); freed = await con.run('configure terminal'); }
  t.match(freed, /locked exclusively/, 'a session that closes gives the lock back');
  await con.run('configuration mode exclusive manual');
  await con.run('end');
  t.notMatch(await con.run('configure terminal'), /locked/, 'manual: configure terminal takes no lock');
  await con.run('end');
  t.match(await con.run('configure terminal lock'), /locked exclusively/, 'configure terminal lock takes it');
  await configure(['no configuration mode exclusive']);
  t.equal(await con.run('show running-config | include configuration mode'), '', 'no configuration mode exclusive removes the line');
});
