// Membership keys and their rotation. Pure: time (a monotonic ms clock) is passed in.
//
// Speakers see a changed `herald-memberlist` Secret at slightly different moments. If a
// speaker signed with the new key as soon as it saw it, peers that had not seen it yet
// would drop its heartbeats and declare it dead. So a rotation has three phases:
//   1. for `signDelayMs` (default 10 s): accept old and new, keep signing with the old;
//   2. then for `retireAfterMs` (default 30 s): sign with the new, still accept the old;
//   3. then: the old key is forgotten.
// Every speaker that sees the change within `signDelayMs` of the first one never drops a
// peer's packet. Rotating again mid-rotation starts over from the newest key.
import { timingSafeEqual } from 'node:crypto';
import { MembershipError } from './codec.js';

export interface KeyEntry {
  readonly key: Uint8Array;
  /** Sign with this key from then on (if it is the newest such key). */
  readonly signFrom: number;
  /** Stop accepting it then; undefined: the newest key, accepted until replaced. */
  readonly acceptUntil?: number;
}

/** Oldest first; the last entry is the newest key. */
export interface Keyring {
  readonly entries: readonly KeyEntry[];
}

export interface RotationOptions {
  signDelayMs?: number;
  retireAfterMs?: number;
}

export const DEFAULT_SIGN_DELAY_MS = 10_000;
export const DEFAULT_RETIRE_AFTER_MS = 30_000;
/** Shorter keys are refused: HMAC-SHA256 wants at least 128 bits of key (RFC 2104 §3). */
export const MIN_KEY_BYTES = 16;

function checkKey(key: Uint8Array): void {
  if (key.length < MIN_KEY_BYTES) throw new MembershipError('badKey', `membership key is ${key.length} bytes; at least ${MIN_KEY_BYTES} needed`);
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function keyring(key: Uint8Array): Keyring {
  checkKey(key);
  return { entries: [{ key: Uint8Array.from(key), signFrom: Number.NEGATIVE_INFINITY }] };
}

/** Starts a rotation to `key` at `now`; the same key again changes nothing. */
export function rotateKey(ring: Keyring, key: Uint8Array, now: number, opts: RotationOptions = {}): Keyring {
  checkKey(key);
  const newest = ring.entries[ring.entries.length - 1];
  if (newest && sameKey(newest.key, key)) return ring;
  const signDelay = opts.signDelayMs ?? DEFAULT_SIGN_DELAY_MS;
  const retireAt = now + signDelay + (opts.retireAfterMs ?? DEFAULT_RETIRE_AFTER_MS);
  const kept = pruneKeyring(ring, now).entries.map((e) => ({
    ...e,
    acceptUntil: Math.min(e.acceptUntil ?? Number.POSITIVE_INFINITY, retireAt),
  }));
  return { entries: [...kept.filter((e) => !sameKey(e.key, key)), { key: Uint8Array.from(key), signFrom: now + signDelay }] };
}

export function pruneKeyring(ring: Keyring, now: number): Keyring {
  const entries = ring.entries.filter((e) => e.acceptUntil === undefined || now < e.acceptUntil);
  return entries.length === ring.entries.length ? ring : { entries };
}

/** The key to sign with at `now`: the newest key whose signing time has come. */
export function signingKey(ring: Keyring, now: number): Uint8Array {
  let out: Uint8Array | undefined;
  for (const e of ring.entries) {
    if (e.signFrom <= now && (e.acceptUntil === undefined || now < e.acceptUntil)) out = e.key;
  }
  return out ?? (ring.entries[ring.entries.length - 1] as KeyEntry).key;
}

/** The keys a packet may be signed with at `now`, the signing key first. */
export function acceptedKeys(ring: Keyring, now: number): Uint8Array[] {
  const sign = signingKey(ring, now);
  const rest = ring.entries.filter((e) => e.key !== sign && (e.acceptUntil === undefined || now < e.acceptUntil)).map((e) => e.key);
  return [sign, ...rest.reverse()];
}
