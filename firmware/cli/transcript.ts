// Runs typed input through a CliSession and returns what a terminal would show: each prompt
// with the line typed after it, then the output. A line ending in `?` shows help (and the
// prompt comes back with the line, as IOS does); a line that answers a question (password,
// [confirm]) is consumed by the question. Used by transcript tests and by `rampart cli`.

import type { Config } from '../config/model.js';
import type { SystemServices } from './context.js';
import { CliSession } from './session.js';

export async function runTranscript(input: string[], opts: { config: Config; system: SystemServices; privileged?: boolean; line?: string }): Promise<{ text: string; session: CliSession }> {
  let text = '';
  const queue = [...input];
  const session = new CliSession({
    config: () => opts.config,
    system: opts.system,
    privileged: opts.privileged,
    line: opts.line,
    io: {
      write: (t) => { text += t; },
      ask: async (prompt, echo) => {
        const answer = queue.shift() ?? '';
        text += `${prompt}${echo ? answer : ''}\n`;
        return answer;
      },
    },
  });
  let pendingHelpLine: string | undefined;
  while (queue.length > 0 && !session.closed) {
    const raw = queue.shift()!;
    if (raw.endsWith('?')) {
      const line = (pendingHelpLine ?? '') + raw.slice(0, -1);
      text += `${session.prompt()}${raw}\n${session.help(line)}`;
      pendingHelpLine = undefined;
      continue;
    }
    text += `${session.prompt()}${raw}\n`;
    await session.execute(raw);
  }
  if (!session.closed) text += session.prompt();
  return { text, session };
}
