// `npm test`: installs what the tests need, runs every test with tap, and ends with
// the one line CI reads: "N passed, N failed".
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureNpm, ensureDebian, root } from './ensure.mjs';

ensureNpm();
ensureDebian();

// Test files end in .test.ts; helpers and fixtures beside them are not tests.
function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : testFiles(p);
    return e.name.endsWith('.test.ts') ? [relative(root, p)] : [];
  });
}

const args = process.argv.slice(2);
const files = (args.length > 0 ? args : ['test']).flatMap((a) => {
  const p = join(root, a);
  return existsSync(p) && statSync(p).isDirectory() ? testFiles(p) : [a];
});
const tap = spawn(process.execPath, [
  // Four files at a time on two cores: most root tests spend their time waiting (on
  // pings, lifetimes, peers), so overlapping them halves the wall time of the suite.
  // 20 min per file: the QEMU files boot several emulated guests that share the two
  // cores with each other (xfrm-pair took 596 s of the old 600 s bound at load 8-13).
  'node_modules/tap/dist/esm/run.mjs', '--disable-coverage', '-R', 'tap', '--timeout', '1200', '--jobs', process.env.RAMPART_TEST_JOBS ?? '4', ...files,
], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });

let tail = '';
tap.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
tap.on('close', (code) => {
  // tap's closing summary: "# { total: 12, pass: 11, fail: 1, skip: 0 }"
  const m = /# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?(?:, todo: (\d+))?(?:, skip: (\d+))?/.exec(tail);
  const pass = m ? Number(m[2] ?? 0) : 0;
  let fail = m ? Number(m[3] ?? 0) : 0;
  const skip = m ? Number(m[5] ?? 0) : 0;
  if (code !== 0 && fail === 0) fail = 1; // a crashed file or a timeout counts as a failure
  console.log(`${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`);
  process.exit(code === 0 && fail === 0 ? 0 : 1);
});
