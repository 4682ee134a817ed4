// Dynamic VTIs in the CLI: `show vtemplate`, and the Virtual-Access interfaces the runtime
// cloned from templates (one per peer session) for `show interfaces Virtual-AccessN`,
// `show running-config interface Virtual-AccessN` and `show ip interface brief`. They are
// not part of the configuration: the runtime reports them (RuntimeView.virtualAccess).

import { interfaceTypeOf } from '../../config/interface-names.js';
import type { InterfaceConfig } from '../../config/interface.js';
import type { CommandContext } from '../context.js';
import { defineCommand } from '../registry.js';

export interface VirtualAccessInfo {
  name: string;
  /** `Virtual-Template1` */
  template: string;
  config: InterfaceConfig;
  peer: string;
  local: string;
  createdAtMs: number;
  /** proxies routed into it */
  routes: string[];
}

declare module '../context.js' {
  interface RuntimeView {
    /** Virtual-Access interfaces alive now (dynamic VTIs). */
    virtualAccess?(): VirtualAccessInfo[];
  }
}

export function virtualAccessInterfaces(ctx: CommandContext): VirtualAccessInfo[] {
  return ctx.system.runtime.virtualAccess?.() ?? [];
}

/** The clone's configuration when `name` is a live Virtual-Access interface. */
export function virtualAccessConfig(ctx: CommandContext, name: string): InterfaceConfig | undefined {
  if (interfaceTypeOf(name) !== 'Virtual-Access') return undefined;
  return virtualAccessInterfaces(ctx).find((v) => v.name === name)?.config;
}

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show vtemplate',
  help: { vtemplate: 'Virtual Template interface information' },
  pipe: true,
  handler(ctx) {
    const vas = virtualAccessInterfaces(ctx);
    const templates = Object.values(ctx.config.interfaces.items).filter((i) => interfaceTypeOf(i.name) === 'Virtual-Template')
      .sort((a, b) => Number(a.name.slice(16)) - Number(b.name.slice(16)));
    const rows = templates.map((t) => ({
      template: t.name, type: t.templateType === 'tunnel' ? 'Tunnel' : 'Serial',
      active: vas.filter((v) => v.template === t.name).map((v) => v.name),
    }));
    ctx.data({ templates: rows, virtualAccess: vas.map((v) => ({ name: v.name, template: v.template, peer: v.peer })) });
    const out = [
      'Virtual access subinterface creation is globally enabled',
      '',
      '         Active     Active    Subint  Pre-clone Pre-clone Interface',
      '        Interface Subinterface Capable Available   Limit  Type',
      '        --------- ------------ ------- --------- --------- ---------',
    ];
    for (const r of rows) {
      const short = `Vt${r.template.slice('Virtual-Template'.length)}`;
      out.push(`${short.padEnd(8)}${String(r.active.length).padStart(9)}${'0'.padStart(13)}${'No'.padStart(8)}${'--'.padStart(10)}${'--'.padStart(10)}  ${r.type}`);
    }
    out.push('', 'Usage Summary', '                                     Interface    Subinterface', '                                    ---------     ------------');
    out.push(` Current Virtual Access interfaces  ${String(vas.length).padStart(9)}${'0'.padStart(17)}`);
    if (vas.length > 0) {
      out.push('', 'Interface          Template           Peer');
      for (const v of vas) out.push(`${v.name.padEnd(19)}${v.template.padEnd(19)}${v.peer}`);
    }
    ctx.print(out.join('\n'));
  },
});
