// Anti-replay window (RFC 4303 section 3.4.3) with extended sequence numbers
// (RFC 4303 Appendix A: the receiver infers the high 32 bits that are not on the wire).
//
// The window is a ring of 32-bit words indexed by the LOW 32 bits of the sequence number
// (the ring size is a power of two, so indexing stays consistent when the high half
// increments). Sliding the window clears only the words it passes over, so a jump costs at
// most the ring size and an in-window packet costs O(1).
//
// Use: `const hi = w.check(seqLo)`; if hi < 0 drop (replay / too old); otherwise verify the
// ICV using hi as the ESN high bits, and only after the ICV passed call `w.accept(hi, seqLo)`
// (which returns false if a duplicate slipped in meanwhile, e.g. with async engines).

export const REPLAY_WINDOW_DEFAULT = 64;
export const REPLAY_WINDOW_MIN = 32;
export const REPLAY_WINDOW_MAX = 4096;
const TWO32 = 4294967296;

export class ReplayWindow {
  /** Window size in packets; 0 = anti-replay disabled (ESN high bits are still inferred). */
  readonly size: number;
  readonly esn: boolean;
  private readonly ring: Uint32Array;
  private readonly mask: number;
  private readonly inferWindow: number;
  private topHi = 0;
  private topLo = 0;

  constructor(size: number = REPLAY_WINDOW_DEFAULT, esn = false) {
    if (!Number.isInteger(size) || (size !== 0 && (size < REPLAY_WINDOW_MIN || size > REPLAY_WINDOW_MAX))) {
      throw new RangeError(`replay window size must be 0 (disabled) or ${REPLAY_WINDOW_MIN}..${REPLAY_WINDOW_MAX}, got ${size}`);
    }
    this.size = size;
    this.esn = esn;
    const bits = size === 0 ? 64 : size;
    let words = 1;
    while (words * 32 < bits + 32) words *= 2;
    this.ring = new Uint32Array(words);
    this.mask = words - 1;
    this.inferWindow = bits;
  }

  /** Highest sequence number accepted so far (0 before the first packet). */
  get top(): bigint {
    return (BigInt(this.topHi) << 32n) | BigInt(this.topLo);
  }

  /** High 32 bits of the highest accepted sequence number. */
  get topHigh(): number {
    return this.topHi;
  }

  /**
   * Infers the high half for a received low half and checks the window.
   * Returns the high half (0 without ESN) or -1 when the packet must be dropped as a replay
   * or as too old. Does not change the window.
   */
  check(seqLo: number): number {
    let hi = 0;
    if (this.esn) {
      const w = this.inferWindow;
      const tl = this.topLo;
      const th = this.topHi;
      if (tl >= w - 1) {
        // Window within one high-half epoch (RFC 4303 A2.2 case A).
        hi = seqLo >= tl - w + 1 ? th : th + 1;
      } else {
        // Window straddles an epoch boundary (case B).
        hi = seqLo >= (tl - w + 1) >>> 0 ? th - 1 : th;
      }
      if (hi < 0 || hi >= TWO32) return -1;
    }
    if (hi === 0 && seqLo === 0) return -1; // sequence number 0 is never sent
    if (this.size === 0) return hi;
    const diff = (this.topHi - hi) * TWO32 + (this.topLo - seqLo);
    if (diff < 0) return hi; // ahead of the window: new
    if (diff >= this.size) return -1; // too old
    const bit = (this.ring[(seqLo >>> 5) & this.mask]! >>> (seqLo & 31)) & 1;
    return bit ? -1 : hi;
  }

  /**
   * Records (hi, lo) as received, after its ICV was verified. Slides the window when the
   * number is new. Returns false (and changes nothing) when it is now a replay or too old.
   */
  accept(hi: number, seqLo: number): boolean {
    const diff = (this.topHi - hi) * TWO32 + (this.topLo - seqLo);
    if (diff < 0) {
      const blocks = (hi - this.topHi) * (TWO32 / 32) + ((seqLo >>> 5) - (this.topLo >>> 5));
      if (blocks > this.mask) this.ring.fill(0);
      else {
        const from = this.topLo >>> 5;
        for (let k = 1; k <= blocks; k++) this.ring[(from + k) & this.mask] = 0;
      }
      this.topHi = hi;
      this.topLo = seqLo;
    } else if (this.size === 0) {
      return true;
    } else if (diff >= this.size) {
      return false;
    }
    const wi = (seqLo >>> 5) & this.mask;
    const m = 1 << (seqLo & 31);
    const word = this.ring[wi]!;
    if (word & m && diff >= 0 && this.size !== 0) return false;
    this.ring[wi] = word | m;
    return true;
  }

  /** Sets the window as if `hi:lo` had just been received (tests, SA handover). */
  seed(hi: number, lo: number): void {
    this.ring.fill(0);
    this.topHi = hi;
    this.topLo = lo;
    this.ring[(lo >>> 5) & this.mask] = 1 << (lo & 31);
  }
}
