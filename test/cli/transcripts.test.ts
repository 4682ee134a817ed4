// Transcript tests: every test/cli/transcripts/NAME.in (lines typed at a fresh box's
// console, privileged unless the first line is `#user`) is run through the real engine
// and must print exactly NAME.out. UPDATE_TRANSCRIPTS=1 rewrites the .out files.
import t from 'tap';
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import '../../firmware/cli/commands/index.js';
import { createConfig } from '../../firmware/config/model.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { fakeSystem } from '../lib/fake-system.js';

const dir = join(import.meta.dirname, 'transcripts');
const files = readdirSync(dir).filter((f) => f.endsWith('.in')).sort();

for (const f of files) {
  t.test(f.replace(/\.in$/, ''), async (t) => {
    let lines = readFileSync(join(dir, f), 'utf8').replace(/\n$/, '').split('\n');
    const user = lines[0] === '#user';
    if (user) lines = lines.slice(1);
    const { text } = await runTranscript(lines, { config: createConfig(), system: fakeSystem(), privileged: !user });
    const outFile = join(dir, f.replace(/\.in$/, '.out'));
    if (process.env.UPDATE_TRANSCRIPTS === '1' || !existsSync(outFile)) writeFileSync(outFile, text);
    t.equal(text, readFileSync(outFile, 'utf8'));
  });
}
