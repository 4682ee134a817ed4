// The message IDs an ISAKMP SA has used (Quick Mode and Informational, both directions), kept
// for the life of the SA so a replayed message is recognised whatever its age. IKEv1 message
// IDs are random 32-bit values, so there is no window: every ID is remembered, in an
// open-addressing table of 32-bit slots (0 is never a phase-2 message ID and marks a free slot).
// Memory is bounded by `limit` IDs (at most 8 bytes per ID); a full memory means the ISAKMP SA
// has to be replaced (the engine expires it), never that old IDs are forgotten.

export const DEFAULT_MESSAGE_ID_MEMORY = 16384;

export class MessageIdMemory {
  private slots = new Uint32Array(16);
  private count = 0;

  constructor(readonly limit = DEFAULT_MESSAGE_ID_MEMORY) {}

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.limit;
  }

  has(id: number): boolean {
    const v = id >>> 0;
    if (v === 0) return false;
    const mask = this.slots.length - 1;
    for (let i = mix(v) & mask; ; i = (i + 1) & mask) {
      const s = this.slots[i]!;
      if (s === 0) return false;
      if (s === v) return true;
    }
  }

  /** Remembers `id`; false when the memory is full (the ID is then not remembered). */
  add(id: number): boolean {
    const v = id >>> 0;
    if (v === 0 || this.has(v)) return true;
    if (this.full) return false;
    // Keep the table at most half full so probes stay short.
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    this.insert(this.slots, v);
    this.count++;
    return true;
  }

  private grow(): void {
    const next = new Uint32Array(this.slots.length * 2);
    for (const s of this.slots) if (s !== 0) this.insert(next, s);
    this.slots = next;
  }

  private insert(table: Uint32Array, v: number): void {
    const mask = table.length - 1;
    let i = mix(v) & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = v;
  }
}

/** Spreads the bits of a 32-bit ID (IDs are random from honest peers, but not from attackers). */
function mix(v: number): number {
  let h = Math.imul(v ^ (v >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}
