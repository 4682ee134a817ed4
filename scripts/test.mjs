// `npm test`: installs what the tests need, runs every test with tap, and ends with
// the one line CI reads: "N passed, N failed".
//
// Two lanes run at once: the files that boot QEMU guests (any test file that constructs an
// `Appliance`, test/lib/appliance.ts) one after another, and every other file three at a
// time beside them. Emulated guests (TCG, no KVM) are CPU-bound: several at once on two
// cores made each boot 5-15 times slower than alone, and the QEMU files timed out.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/** A test file that boots QEMU guests: it builds an Appliance (the one way tests boot one). */
export function bootsGuests(file) {
  try {
    return /\bnew Appliance\s*\(/.test(readFileSync(join(root, file), 'utf8'));
  } catch {
    return false;
  }
}

const args = process.argv.slice(2);
const files = (args.length > 0 ? args : ['test']).flatMap((a) => {
  const p = join(root, a);
  return existsSync(p) && statSync(p).isDirectory() ? testFiles(p) : [a];
});
const vmFiles = files.filter(bootsGuests);
const otherFiles = files.filter((f) => !vmFiles.includes(f));

// Both lanes share the project's .tap/ folder. tap empties .tap/processinfo when a run
// starts, unless it runs from a save list: so it is emptied here once, and each lane runs
// from its own save list (the lane's files; tap writes back the ones that failed).
// Result files (.tap/test-results/FILE.tap) are per test file, so the lanes never share one.
rmSync(join(root, '.tap', 'processinfo'), { recursive: true, force: true });
mkdirSync(join(root, '.tap'), { recursive: true });

/**
 * Runs one tap process over `list`; resolves to { pass, fail, skip, code }. Its output goes
 * to `write` in whole units: `byLine` (every complete line) or else whole top-level blocks.
 */
function lane(name, list, jobs, write, byLine = false) {
  if (list.length === 0) return Promise.resolve({ pass: 0, fail: 0, skip: 0, code: 0 });
  const save = join('.tap', `lane-${name}.list`);
  writeFileSync(join(root, save), `${list.join('\n')}\n`);
  const tap = spawn(process.execPath, [
    // 20 min per file: a QEMU file boots several emulated guests (xfrm-pair took 596 s
    // under the old 4-jobs scheme, with five guests on two cores).
    'node_modules/tap/dist/esm/run.mjs', '--disable-coverage', '-R', 'tap', '--timeout', '1200', '--jobs', String(jobs),
    '--save', save, ...list,
  ], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let tail = '';
  let pending = '';
  tap.stdout.on('data', (chunk) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-4000);
    // Whole units only, so the lanes never split each other's lines: the main lane's
    // top-level blocks (a file's subtest ends with its `ok N - FILE` line at the left
    // margin) stay whole, the QEMU lane's lines (comments) come as they are written.
    pending += text;
    let end = -1;
    if (byLine) end = pending.lastIndexOf('\n') + 1;
    else for (const m of pending.matchAll(/^(?:(?:not )?ok \d+ - |# \{ total|1\.\.\d+)[^\n]*\n/gm)) end = m.index + m[0].length;
    if (end > 0) {
      write(pending.slice(0, end));
      pending = pending.slice(end);
    }
  });
  return new Promise((resolve) => {
    tap.on('close', (code) => {
      if (pending) write(pending);
      rmSync(join(root, save), { force: true });
      // tap's closing summary: "# { total: 12, pass: 11, fail: 1, skip: 0 }"
      const m = /# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?(?:, todo: (\d+))?(?:, skip: (\d+))?/.exec(tail);
      const pass = m ? Number(m[2] ?? 0) : 0;
      let fail = m ? Number(m[3] ?? 0) : 0;
      const skip = m ? Number(m[5] ?? 0) : 0;
      if (code !== 0 && fail === 0) fail = 1; // a crashed file or a timeout counts as a failure
      resolve({ pass, fail, skip, code: code ?? 1 });
    });
  });
}

const out = (text) => { process.stdout.write(text); };
if (vmFiles.length > 0) out(`# QEMU files, one at a time beside the rest: ${vmFiles.join(' ')}\n`);
const results = await Promise.all([
  lane('vm', vmFiles, 1, (t) => out(t.replace(/^(?=[^\n])/gm, '# vm lane | ')), true),
  lane('main', otherFiles, Number(process.env.RAMPART_TEST_JOBS ?? 3), out),
]);
const sum = (k) => results.reduce((n, r) => n + r[k], 0);
const pass = sum('pass'), fail = sum('fail'), skip = sum('skip');
console.log(`${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`);
process.exit(results.every((r) => r.code === 0) && fail === 0 ? 0 : 1);
