// Pastes a corpus file of the guide's examples through the real CLI engine (a CliSession
// typed into line by line, as runTranscript does, with a fake system whose board has every
// port the guide names), keeping one result per typed line.
//
// Two kinds of files:
//   configuration  plain configuration text: pasted after `configure terminal`;
//   transcript     lines with IOS prompts (`Router(config)# crypto ...`, or `Router#` alone
//                  with the command on the next line): the text after a prompt is what the
//                  user typed, every other line is router output and is not typed. A
//                  transcript whose first prompt is a configuration prompt starts in
//                  `configure terminal`.

import '../../firmware/cli/commands/index.js';
import { createConfig, renderConfigLines, type Config } from '../../firmware/config/model.js';
import { CliSession } from '../../firmware/cli/session.js';
import { fakeSystem, type FakeSystem } from '../lib/fake-system.js';

/** Every physical interface name the guide's examples use (the sim board must offer them). */
export const GUIDE_PORTS = [
  'Ethernet0/0', 'Ethernet1/0', 'Ethernet2/0', 'Ethernet3/0', 'Ethernet3/3',
  'FastEthernet0/0', 'FastEthernet0/1', 'GigabitEthernet0/1', 'GigabitEthernet0/2',
  'Serial0/0', 'Serial2/0', 'Serial2/1', 'Serial12/0',
];

export function guideSystem(): FakeSystem {
  const sys = fakeSystem();
  return { ...sys, board: { ...sys.board, ports: [...GUIDE_PORTS] } };
}

const PROMPT = /^Router ?(\([^)]*\))? ?([#>]) ?(.*)$/;

export interface TypedLine {
  /** 1-based line number in the corpus file. */
  lineNo: number;
  text: string;
}

export function isTranscript(text: string): boolean {
  return text.split('\n').some((l) => PROMPT.test(l));
}

/** The lines a user types for this example, with their line numbers. */
export function typedLines(text: string): TypedLine[] {
  const lines = text.replace(/\n$/, '').split('\n');
  if (!isTranscript(text)) {
    return [{ lineNo: 0, text: 'configure terminal' }, ...lines.map((l, i) => ({ lineNo: i + 1, text: l }))];
  }
  const out: TypedLine[] = [];
  let first = true;
  for (let i = 0; i < lines.length; i++) {
    const m = PROMPT.exec(lines[i]!);
    if (!m) continue;
    if (first) {
      first = false;
      if (m[1] !== undefined) out.push({ lineNo: 0, text: 'configure terminal' });
    }
    if (m[3]!.trim() !== '') out.push({ lineNo: i + 1, text: m[3]! });
    else if (i + 1 < lines.length) {
      out.push({ lineNo: i + 2, text: lines[i + 1]! });
      i++;
    }
  }
  return out;
}

export interface LineResult extends TypedLine {
  /** The session took the line without an error. */
  ok: boolean;
  /** What the router printed after the line. */
  output: string[];
  /** The prompt the line was typed at, and the one after it ran. */
  prompt: string;
  promptAfter: string;
}

export interface PasteResult {
  lines: LineResult[];
  /** The whole terminal text, as runTranscript would show it. */
  transcript: string;
  config: Config;
  system: FakeSystem;
  runningConfig: string[];
}

/**
 * Types every line into one privileged session, like runTranscript (same engine, same
 * echo), but keeps each line's status: `execute` tells whether the line was rejected,
 * which the terminal text alone cannot (warnings and show output also start with `%`).
 */
export async function paste(text: string): Promise<PasteResult> {
  const typed = typedLines(text);
  const config = createConfig();
  const system = guideSystem();
  let buf = '';
  const session = new CliSession({
    config: () => config,
    system,
    privileged: true,
    io: { write: (t) => { buf += t; }, ask: async () => '' },
  });
  const results: LineResult[] = [];
  let transcript = '';
  for (const t of typed) {
    const prompt = session.prompt();
    buf = '';
    const ok = await session.execute(t.text);
    transcript += `${prompt}${t.text}\n${buf}`;
    results.push({ ...t, ok, prompt, promptAfter: session.prompt(), output: buf.replace(/\n$/, '').split('\n').filter((l, i, a) => !(a.length === 1 && l === '')) });
  }
  return { lines: results, transcript, config, system, runningConfig: renderConfigLines(config) };
}

/** The message a rejected line got, caret lines removed; '' when the line was accepted. */
export function errorOf(r: LineResult): string {
  if (r.ok) return '';
  return r.output.filter((l) => !/^\s*\^$/.test(l) && l.trim() !== '').join('\n');
}

/** The text under the caret of an `Invalid input` error (the rest of the word from there). */
export function caretWord(r: LineResult): string | undefined {
  const caret = r.output.find((l) => /^\s*\^$/.test(l));
  if (caret === undefined) return undefined;
  const col = caret.indexOf('^') - r.prompt.length;
  return r.text.slice(col).split(/\s+/)[0];
}
