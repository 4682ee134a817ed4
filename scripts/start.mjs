// `npm start`: installs what is missing, builds the firmware, and boots the sim board with
// a console on this terminal (daemon in a child process, restarted on `reload`).
import { spawn } from 'node:child_process';
import { ensureNpm, root } from './ensure.mjs';

ensureNpm();
const { buildFirmware } = await import('./build.mjs');
const bundle = await buildFirmware();
const child = spawn(process.execPath, [bundle, 'sim', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
