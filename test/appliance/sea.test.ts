// The single executable: built from this tree with esbuild + postject, it names its build
// (`rampart version`) and runs the box from its own folder, native addons included.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnOnPty } from '../lib/pty.js';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'rampart-sea-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

interface SeaBuild { exe: string; outDir: string; id: { commit: string; date: string; board: string } }
const { buildSea } = await import(pathToFileURL(join(root, 'scripts', 'sea.mjs')).href) as
  { buildSea: (o: { outDir: string; board: string }) => Promise<SeaBuild> };
const sea = await buildSea({ outDir: join(work, 'sea'), board: 'sim' });

t.test('rampart version names version, commit, build date and board', async (t) => {
  const out = execFileSync(sea.exe, ['version'], { encoding: 'utf8', timeout: 60_000 });
  const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  const pkg = (await import(pathToFileURL(join(root, 'package.json')).href, { with: { type: 'json' } })).default as { version: string };
  t.match(out, new RegExp(`^rampart ${pkg.version.replace(/\./g, '\\.')}\\n`));
  t.match(out, new RegExp(`\\ncommit ${head}(-dirty)?\\n`), 'the commit of this tree');
  t.match(out, /\nbuilt \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n/);
  t.match(out, /\nboard sim\n$/);
  t.equal(out, execFileSync(sea.exe, ['--version'], { encoding: 'utf8', timeout: 60_000 }), '--version says the same');
});

t.test('the executable carries its addons beside it and boots the box', async (t) => {
  t.ok(existsSync(join(sea.outDir, 'node_modules', 'raw-socket', 'package.json')), 'raw-socket beside the executable');
  t.notOk(existsSync(join(sea.outDir, 'node_modules', 'nan')), 'build-only packages are not shipped');
  const state = join(work, 'state');
  // Run from another folder: the addons must be found next to the executable, not in the cwd.
  const box = spawnOnPty(`${sea.exe} sim --state ${state}`, { cwd: work });
  t.teardown(() => box.kill());
  await box.expect(/Router>$/, 60000);
  box.type('enable\r');
  await box.expect(/Router#$/);
  box.type('show crypto engine configuration | include contexts\r');
  const shown = await box.expect(/Router#$/);
  const native = existsSync(join(root, 'drivers', 'native', 'build', 'Release', 'rampart_native.node'));
  if (native) t.match(shown, /native OpenSSL/, 'the rampart-native addon loads from beside the executable');
  else t.pass('rampart-native is not built on this machine (no compiler): nothing to load');
  box.type('\x1c');
});
