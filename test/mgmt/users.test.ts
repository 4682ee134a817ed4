// Users, AAA and privilege without the network: stored secrets (types 5, 7, 8, 9 with
// published vectors), the login rules of lines and AAA method lists, privilege levels
// (`privilege exec level`, level 0), and secrets kept out of what lower levels can see.
import t from 'tap';
import '../../firmware/cli/commands/index.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { lineConfigFor } from '../../firmware/config/line.js';
import { createConfig, renderConfigLines, type Config } from '../../firmware/config/model.js';
import { decodeType7, hashType8, md5Crypt, secretType, verifySecret } from '../../firmware/lib/password.js';
import { checkLogin, loginNeed } from '../../firmware/mgmt/login.js';
import { fakeSystem } from '../lib/fake-system.js';

async function configured(lines: string[]): Promise<{ cfg: Config; text: string }> {
  const cfg = createConfig();
  const { text } = await runTranscript(['configure terminal', ...lines, 'end'], { config: cfg, system: fakeSystem(), privileged: true });
  return { cfg, text };
}

t.test('stored secrets: published vectors of types 5, 8 and 9, and type 7', async (t) => {
  t.ok(verifySecret('hashcat', '$8$TnGX/fE4KGHOVU$pEhnEvxrvaynpi8j4f.EMHr6M.FzU8xnZnBr/tJdFWk'), 'type 8 (hashcat 9200 example)');
  t.ok(verifySecret('hashcat', '$9$2MJBozw/9R3UsU$2lFhcKvpghcyw8deP25GOfyZaagyUOGBymkryvOdfo6'), 'type 9 (hashcat 9300 example)');
  t.equal(md5Crypt('hello world', 'abcdefgh'), '$1$abcdefgh$gJuEE5kgk4GxZUtJo4ZFv1', 'md5crypt = openssl passwd -1');
  t.ok(verifySecret('hello world', '$1$abcdefgh$gJuEE5kgk4GxZUtJo4ZFv1'), 'type 5');
  t.notOk(verifySecret('hashcat2', '$8$TnGX/fE4KGHOVU$pEhnEvxrvaynpi8j4f.EMHr6M.FzU8xnZnBr/tJdFWk'));
  t.notOk(verifySecret('x', 'not-a-hash'));
  t.equal(secretType(hashType8('p')), 8);
  t.equal(decodeType7('0822455D0A16'), 'cisco', 'type 7 of cisco');
});

t.test('username forms are stored hashed and rendered as IOS does', async (t) => {
  const { cfg, text } = await configured([
    'username admin privilege 15 secret Adm1n',
    'username pbk algorithm-type sha256 secret Pbk',
    'username old secret 5 $1$abcdefgh$gJuEE5kgk4GxZUtJo4ZFv1',
    'username bad secret 9 $9$short',
    'username weak password 0 clear1',
    'username md algorithm-type md5 secret x',
    'enable algorithm-type sha256 secret En4ble',
    'service password-encryption',
    'line vty 0 4',
    'password linepw',
  ]);
  t.match(text, /% Invalid type 9 secret/);
  t.match(text, /MD5 secrets are not created/);
  const run = renderConfigLines(cfg).join('\n');
  t.match(run, /^username admin privilege 15 secret 9 \$9\$[./0-9A-Za-z]{14}\$[./0-9A-Za-z]{43}$/m);
  t.match(run, /^username pbk secret 8 \$8\$/m);
  t.match(run, /^username old secret 5 \$1\$abcdefgh\$gJuEE5kgk4GxZUtJo4ZFv1$/m);
  t.match(run, /^username weak password 7 [0-9A-F]+$/m, 'service password-encryption hides clear-text user passwords');
  t.match(run, /^ password 7 [0-9A-F]+$/m, 'and line passwords typed after it');
  t.match(run, /^enable secret 8 \$8\$/m);
  t.notMatch(run, /Adm1n|Pbk|clear1|En4ble|linepw/, 'no clear-text secret anywhere in running-config');
  t.ok(verifySecret('Adm1n', cfg.users.accounts.admin!.secret!.hash));
});

t.test('login rules: line password, login local, aaa method lists and exec authorization', async (t) => {
  let { cfg } = await configured(['username admin privilege 15 secret A', 'username op secret O']);
  const vty = () => lineConfigFor(cfg, 'vty', 0);
  t.equal(loginNeed(cfg, vty(), 'vty'), 'refuse', 'vty without login is refused');
  t.equal(loginNeed(cfg, lineConfigFor(cfg, 'con', 0), 'con'), 'none', 'the console needs no login by default');
  ({ cfg } = await configured(['username admin privilege 15 secret A', 'line vty 0 4', 'login local']));
  t.same(checkLogin(cfg, vty(), 'vty', 'admin', 'A'), { ok: true, user: 'admin', privilege: 15 });
  t.equal(checkLogin(cfg, vty(), 'vty', 'admin', 'B').ok, false);
  t.equal(checkLogin(cfg, vty(), 'vty', 'nobody', 'A').ok, false);
  ({ cfg } = await configured(['line vty 0 4', 'login', 'password vtypw']));
  t.same(checkLogin(cfg, vty(), 'vty', 'anyone', 'vtypw'), { ok: true, user: 'anyone', privilege: 1 });
  // aaa new-model: without exec authorization the user's level does not apply (IOS).
  ({ cfg } = await configured(['username admin privilege 15 secret A', 'aaa new-model', 'aaa authentication login default local']));
  t.same(checkLogin(cfg, vty(), 'vty', 'admin', 'A'), { ok: true, user: 'admin', privilege: 1 });
  ({ cfg } = await configured(['username admin privilege 15 secret A', 'aaa new-model', 'aaa authentication login default local', 'aaa authorization exec default local']));
  t.same(checkLogin(cfg, vty(), 'vty', 'admin', 'A'), { ok: true, user: 'admin', privilege: 15 });
  ({ cfg } = await configured(['aaa new-model', 'aaa authentication login default local line', 'line vty 0 4', 'password vtypw']));
  t.equal(checkLogin(cfg, vty(), 'vty', 'ghost', 'vtypw').ok, true, 'an unknown user falls through to the line method');
  ({ cfg } = await configured(['aaa new-model', 'aaa authentication login VTY enable', 'enable secret En', 'line vty 0 4', 'login authentication VTY']));
  t.equal(checkLogin(cfg, vty(), 'vty', 'x', 'En').ok, true, 'a named list on the line');
  t.equal(checkLogin(cfg, lineConfigFor(cfg, 'vty', 0), 'vty', 'x', 'nope').ok, false);
  const bad = await configured(['aaa authentication login default local']);
  t.match(bad.text, /aaa new-model/, 'method lists need aaa new-model');
  const badMethod = await configured(['aaa new-model', 'aaa authentication login default lokal']);
  t.match(badMethod.text, /\^\n% Invalid input detected/);
});

t.test('privilege levels: level 1 cannot configure or read secrets, privilege exec level, level 0', async (t) => {
  const cfg = createConfig();
  const sys = fakeSystem();
  await runTranscript(['configure terminal', 'enable secret En', 'crypto isakmp key Psk-Secret address 10.0.0.2', 'username u secret Us',
    'privilege exec level 1 show running-config', 'privilege exec level 15 show clock', 'end'], { config: cfg, system: sys, privileged: true });
  const low = await runTranscript(['show privilege', 'configure terminal', 'show clock', 'show running-config', 'show version | include uptime'], { config: cfg, system: sys });
  t.match(low.text, /Current privilege level is 1/);
  t.match(low.text, /Router>configure terminal\n {7}\^\n% Invalid input detected/, 'no configuration mode at level 1');
  t.match(low.text, /Router>show clock\n {7}\^\n% Invalid input detected/, 'a command raised to level 15 is gone');
  t.match(low.text, /Building configuration/, 'a command lowered to level 1 runs');
  t.notMatch(low.text, /Psk-Secret|secret|\$9\$/, 'but shows no secret');
  t.match(low.text, /uptime is/);
  const zero = await runTranscript(['show version', 'enable'], { config: cfg, system: sys, privileged: false, line: 'console' });
  t.notMatch(zero.text, /Invalid/, 'level 1 has show version');
  const { CliSession } = await import('../../firmware/cli/session.js');
  let out = '';
  const s0 = new CliSession({ config: () => cfg, system: sys, privilege: 0, io: { write: (x) => { out += x; }, ask: async () => 'En' } });
  await s0.execute('show version');
  t.match(out, /Invalid input detected|Unknown command/, 'level 0 has no show');
  out = '';
  await s0.execute('enable');
  t.equal(s0.privilege, 15, 'level 0 can still enable');
  await s0.execute('show privilege');
  t.match(out, /Current privilege level is 15/);
  await s0.execute('disable');
  t.equal(s0.privilege, 1);
});
