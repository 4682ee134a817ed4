// Applies configuration text (startup-config at boot, `configure memory`) line by line
// through the same engine as typing, so a pasted or stored config means exactly what it
// would mean typed. A line that fails is reported with its line number; the rest loads.

import type { Config } from '../config/model.js';
import type { SystemServices } from './context.js';
import { CliSession } from './session.js';

export interface LoadError { lineNo: number; line: string; message: string }

export async function loadConfigText(text: string, config: Config, system: SystemServices): Promise<LoadError[]> {
  const errors: LoadError[] = [];
  let out = '';
  const session = new CliSession({
    config: () => config,
    system,
    privileged: true,
    line: 'boot',
    io: {
      write: (t) => { out += t; },
      // Nothing can answer a question at boot: the default answer applies.
      ask: async () => '',
    },
  });
  session.enterConfig();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === 'end') break;
    out = '';
    const ok = await session.execute(line);
    if (!ok) errors.push({ lineNo: i + 1, line, message: out.replace(/^\s*\^\s*\n/, '').trim() });
  }
  return errors;
}
