// Finds the lowest free address of one pool range without looking at every address, so
// that a /16 or an IPv6 /64 costs what a /28 costs (MetalLB walks the range from its
// first address on every allocation).
//
// Invariant: every address below `cursor` is in use, skipped as buggy, or listed in
// `holes` (a min-heap of addresses freed below the cursor). The cursor only moves up, so
// sequential allocation is O(1) amortised; an address freed below it costs O(log n) to
// record and to hand out again. "In use" is asked of the caller, so an address taken
// out of order (a requested IP) needs no call here: the cursor steps over it later, and a
// hole that was taken meanwhile is dropped when it reaches the top of the heap.
import type { IPRange } from '../shared/ip/ip.js';

/** MetalLB's avoidBuggyIPs: IPv4 addresses ending in .0 or .255 upset some CPE firmware. */
export function isBuggyValue(value: bigint): boolean {
  const last = value & 0xffn;
  return last === 0n || last === 0xffn;
}

/** How many addresses of an IPv4 range end in .0 or .255. */
export function countBuggy(first: bigint, last: bigint): bigint {
  // x ≤ n with x mod 256 = 0: ⌊n/256⌋ + 1; with x mod 256 = 255: ⌊(n+1)/256⌋.
  const upTo = (n: bigint): bigint => (n < 0n ? 0n : n / 256n + 1n + (n + 1n) / 256n);
  return upTo(last) - upTo(first - 1n);
}

export class RangeCursor {
  readonly range: IPRange;
  private readonly skipBuggy: boolean;
  private cursor: bigint;
  private readonly holes: bigint[] = [];
  private readonly inHoles = new Set<bigint>();

  constructor(range: IPRange, avoidBuggyIPs: boolean) {
    this.range = range;
    this.skipBuggy = avoidBuggyIPs && range.family === 4;
    this.cursor = range.first;
  }

  /** Addresses of the range the pool may hand out. */
  capacity(): bigint {
    const size = this.range.last - this.range.first + 1n;
    return this.skipBuggy ? size - countBuggy(this.range.first, this.range.last) : size;
  }

  /** Whether the pool may hand out `value` (in the range and not skipped as buggy). */
  allows(value: bigint): boolean {
    return value >= this.range.first && value <= this.range.last && !(this.skipBuggy && isBuggyValue(value));
  }

  /** The lowest allowed address for which `inUse` is false, or undefined when none is left. */
  lowestFree(inUse: (value: bigint) => boolean): bigint | undefined {
    while (this.holes.length > 0) {
      const top = this.holes[0] as bigint;
      if (!inUse(top)) return top;
      this.popHole();
    }
    while (this.cursor <= this.range.last && (inUse(this.cursor) || (this.skipBuggy && isBuggyValue(this.cursor)))) {
      this.cursor++;
    }
    return this.cursor <= this.range.last ? this.cursor : undefined;
  }

  /** Records that `value` is no longer in use. */
  freed(value: bigint): void {
    if (value >= this.cursor || !this.allows(value) || this.inHoles.has(value)) return;
    this.inHoles.add(value);
    const h = this.holes;
    h.push(value);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as bigint) <= value) break;
      h[i] = h[parent] as bigint;
      i = parent;
    }
    h[i] = value;
  }

  private popHole(): void {
    const h = this.holes;
    const top = h[0] as bigint;
    this.inHoles.delete(top);
    const last = h.pop() as bigint;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && (h[r] as bigint) < (h[l] as bigint) ? r : l;
      if ((h[child] as bigint) >= last) break;
      h[i] = h[child] as bigint;
      i = child;
    }
    h[i] = last;
  }
}
