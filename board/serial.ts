// A stable serial number for a board without one burnt in (the sim board, a VM): derived from
// the host's machine id and the box's flash folder, so each simulated box keeps its own
// serial across restarts and two boxes on one host differ.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export function derivedSerial(prefix: string, stateDir: string): string {
  let machine = '';
  try { machine = readFileSync('/etc/machine-id', 'utf8').trim(); } catch { /* no machine id: the folder alone */ }
  const h = createHash('sha256').update(`${machine}\n${resolve(stateDir)}`).digest('hex').slice(0, 8).toUpperCase();
  return `${prefix}${h}`;
}
