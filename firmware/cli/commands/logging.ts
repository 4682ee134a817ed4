// Logging commands: `terminal monitor` / `terminal no monitor` (this session receives log
// and debug lines when it is a vty; the console line always gets `logging console`).
import '../logging-view.js';
import { defineCommand } from '../registry.js';

defineCommand({
  modes: ['user', 'exec'],
  syntax: ['terminal monitor', 'terminal no monitor'],
  help: { terminal: 'Set terminal line parameters', monitor: 'Copy debug output to the current terminal line', no: 'Negate a command or set its defaults' },
  handler(ctx, a) {
    ctx.session.monitor = !a.has('no');
  },
});
