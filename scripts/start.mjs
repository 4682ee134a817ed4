// `npm start`: installs what is missing, builds the firmware, and boots the sim board with
// a console on this terminal (daemon in a child process, restarted on `reload`).
// `npm start -- lab` (root) boots it inside a small lab instead: see scripts/lab.mjs.
import { spawn } from 'node:child_process';
import { ensureNpm, root } from './ensure.mjs';

const args = process.argv.slice(2);
const t0 = Date.now();
// One line per step, with the time spent so far (the first run spends it installing).
const progress = (n, text) => console.error(`rampart: [${n}/3] ${text}${n > 1 ? ` (${((Date.now() - t0) / 1000).toFixed(1)} s so far)` : ''}`);
progress(1, 'npm packages and the native addon');
ensureNpm();
progress(2, 'bundling the firmware (esbuild)');
const { buildFirmware } = await import('./build.mjs');
const bundle = await buildFirmware();
if (args[0] === 'lab') {
  progress(3, 'building the lab (network namespaces) and booting the box');
  const { runLab } = await import('./lab.mjs');
  await runLab(bundle);
} else {
  progress(3, 'booting the sim board');
  const child = spawn(process.execPath, [bundle, 'sim', ...args], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}
