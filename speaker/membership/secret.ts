// The shared membership key lives in the Secret `herald-memberlist` of the install
// namespace, key `secretkey` (MetalLB's equivalent is the `memberlist` Secret). The
// controller creates it when it is missing; speakers read it and rotate to a changed key
// (keyring.ts). Pure: the random bytes come from the caller.
import { MIN_KEY_BYTES } from './keyring.js';

export const MEMBERLIST_SECRET_NAME = 'herald-memberlist';
export const MEMBERLIST_SECRET_KEY = 'secretkey';
/** A new key's length: 256 bits, HMAC-SHA256's full strength. */
export const MEMBERLIST_KEY_BYTES = 32;

/** The parts of a core/v1 Secret read here (`data` values are base64, as in the API). */
export interface SecretLike {
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface MemberlistSecret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  type: 'Opaque';
  data: Record<string, string>;
}

export type KeyResult = { ok: true; key: Buffer } | { ok: false; error: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The membership key held by the Secret, or why there is none usable. */
export function memberlistKey(secret: SecretLike | undefined): KeyResult {
  if (!secret) return { ok: false, error: `Secret ${MEMBERLIST_SECRET_NAME} not found` };
  let key: Buffer | undefined;
  const b64 = secret.data?.[MEMBERLIST_SECRET_KEY];
  if (b64 !== undefined) {
    const text = b64.replace(/\s+/g, '');
    if (!BASE64.test(text)) return { ok: false, error: `${MEMBERLIST_SECRET_KEY} is not valid base64` };
    key = Buffer.from(text, 'base64');
  } else if (secret.stringData?.[MEMBERLIST_SECRET_KEY] !== undefined) {
    key = Buffer.from(secret.stringData[MEMBERLIST_SECRET_KEY], 'utf8');
  }
  if (!key) return { ok: false, error: `Secret ${MEMBERLIST_SECRET_NAME} has no key ${MEMBERLIST_SECRET_KEY}` };
  if (key.length < MIN_KEY_BYTES) {
    return { ok: false, error: `${MEMBERLIST_SECRET_KEY} is ${key.length} bytes; at least ${MIN_KEY_BYTES} are needed` };
  }
  return { ok: true, key };
}

/**
 * What the controller should do about the Secret: create it (with `random` as the key,
 * which must be MEMBERLIST_KEY_BYTES of a CSPRNG) when it is missing; never overwrite an
 * existing one, even an unusable one (a person may be rotating it), but say what is wrong.
 */
export function ensureMemberlistSecret(
  existing: SecretLike | undefined,
  namespace: string,
  random: Uint8Array,
): { action: 'none' } | { action: 'create'; secret: MemberlistSecret } | { action: 'report'; problem: string } {
  if (existing) {
    const k = memberlistKey(existing);
    return k.ok ? { action: 'none' } : { action: 'report', problem: k.error };
  }
  if (random.length < MEMBERLIST_KEY_BYTES) {
    throw new RangeError(`ensureMemberlistSecret needs ${MEMBERLIST_KEY_BYTES} random bytes, got ${random.length}`);
  }
  return {
    action: 'create',
    secret: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: MEMBERLIST_SECRET_NAME,
        namespace,
        labels: { 'app.kubernetes.io/name': 'herald', 'app.kubernetes.io/component': 'speaker' },
      },
      type: 'Opaque',
      data: { [MEMBERLIST_SECRET_KEY]: Buffer.from(random.subarray(0, MEMBERLIST_KEY_BYTES)).toString('base64') },
    },
  };
}
