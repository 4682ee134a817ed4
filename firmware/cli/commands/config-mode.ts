// `configuration mode exclusive auto|manual` (the lock itself lives in the daemon:
// firmware/mgmt/config-lock.ts; `configure terminal [lock]` takes it).
import { defineCommand } from '../registry.js';

defineCommand({
  modes: ['config'],
  syntax: ['configuration mode exclusive <auto|manual>', 'no configuration mode exclusive [auto|manual]'],
  help: {
    configuration: 'Configuration access', mode: 'Set the configuration mode', exclusive: 'Configure exclusive configuration mode',
    auto: 'Lock configuration mode automatically', manual: 'Lock configuration mode on-demand',
  },
  handler(ctx, a) {
    if (a.no) delete ctx.config.configMode.exclusive;
    else ctx.config.configMode.exclusive = a.has('auto') ? 'auto' : 'manual';
  },
});
