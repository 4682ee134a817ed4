// Waiting on conditions instead of sleeping: every wait polls a condition with a generous
// bound (the machine is shared and loaded) and says whether it held.
import type { Lab, LabProcess } from './netns.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `pred` every `stepMs` until it holds (true) or `ms` passed (false). */
export async function waitUntil(pred: () => Promise<boolean> | boolean, ms: number, stepMs = 200): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() > end) return false;
    await sleep(stepMs);
  }
}

/** Until a TCP (or UDP) socket listens on `port` in namespace `ns` (a server just spawned there). */
export function waitListening(lab: Lab, ns: string, port: number, opts: { udp?: boolean; ms?: number } = {}): Promise<boolean> {
  const argv = ['ss', '-Hn', opts.udp ? '-lu' : '-lt', 'sport', '=', `:${port}`];
  return waitUntil(async () => (await lab.exec(ns, argv)).stdout.trim() !== '', opts.ms ?? 30_000, 50);
}

/** Until a process's output matches `re` (a capture tool saying it listens). */
export function waitOutput(proc: LabProcess, re: RegExp, ms = 30_000): Promise<boolean> {
  return waitUntil(() => re.test(proc.output), ms, 50);
}
