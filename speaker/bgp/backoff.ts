// Reconnect pacing, kept pure: the random source is a seed the FSM state carries, so a
// step is reproducible from (state, event). MetalLB #780 and #1114 were CPU spins from
// reconnecting at once after every NOTIFICATION; herald always waits, and waits longer
// each time a session fails before it has carried any traffic.

/** Delay before the first retry, seconds. */
export const DEFAULT_BACKOFF_BASE = 1;

/** mulberry32: one uint32 of state, good enough to spread reconnects. Returns [0, 1) and the next state. */
export function nextRandom(seed: number): [number, number] {
  const next = (seed + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, next];
}

/**
 * Seconds to wait before retry number `attempt` (1 for the first): base doubling per
 * attempt, capped at `cap` (the peer's connectTime), times a jitter factor in
 * [0.75, 1) as RFC 4271 §10 suggests for its timers, so speakers restarted together do
 * not reconnect in lockstep. Never below 0.75 × min(base, cap); never zero.
 */
export function backoffDelay(attempt: number, base: number, cap: number, random: number): number {
  const n = Math.max(1, attempt);
  const ceiling = Math.max(cap, base);
  const raw = Math.min(ceiling, base * 2 ** Math.min(n - 1, 30));
  const delay = raw * (0.75 + 0.25 * Math.min(Math.max(random, 0), 1));
  return Math.round(delay * 1000) / 1000;
}
