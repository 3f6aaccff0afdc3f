// The interval arithmetic of RFC 5880: the negotiated transmit interval (§6.8.2), the
// Detection Time (§6.8.4), per-packet jitter (§6.8.7), and a small seeded PRNG so the
// state machine stays pure. Intervals are microseconds, as on the wire.

/** §6.8.2/§6.8.7: we send no faster than the peer can take, nor than we want to. */
export function txInterval(desiredMinTxUs: number, remoteMinRxUs: number): number {
  return Math.max(desiredMinTxUs, remoteMinRxUs);
}

/**
 * §6.8.4 (Asynchronous mode): the peer's Detect Mult times the interval it actually sends
 * at, the greater of what we can take and what it wants to send.
 */
export function detectionTime(remoteDetectMult: number, requiredMinRxUs: number, remoteDesiredMinTxUs: number): number {
  return remoteDetectMult * Math.max(requiredMinRxUs, remoteDesiredMinTxUs);
}

/**
 * §6.8.7: each interval is reduced by a random 0–25 %; with Detect Mult 1 it lies between
 * 75 % and 90 %, so one late packet never costs the session. `random` is in [0, 1).
 */
export function jittered(intervalUs: number, detectMult: number, random: number): number {
  const factor = detectMult === 1 ? 0.9 - 0.15 * random : 1 - 0.25 * random;
  return intervalUs * factor;
}

/** mulberry32: one [0, 1) value and the next seed. */
export function nextRandom(seed: number): [number, number] {
  const next = (seed + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 0x100000000, next];
}

export const usToMs = (us: number): number => us / 1000;
export const msToUs = (ms: number): number => Math.round(ms * 1000);
