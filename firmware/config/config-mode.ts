// `configuration mode exclusive auto|manual`: one session configures at a time (IOS lets
// several configure at once without it). `auto`: entering configuration mode takes the lock;
// `manual`: only `configure terminal lock` does.
import { defineSection } from './model.js';

export interface ConfigModeConfig { exclusive?: 'auto' | 'manual' }

declare module './model.js' {
  interface Config { configMode: ConfigModeConfig }
}

defineSection({
  key: 'configMode',
  // IOS prints it among the global service lines, before the hostname's block ends
  order: 12,
  create: () => ({}),
  render: (cfg) => [cfg.configMode.exclusive ? [`configuration mode exclusive ${cfg.configMode.exclusive}`] : []],
});
