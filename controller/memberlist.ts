// Creates the speakers' membership key (Secret herald-memberlist, key secretkey) when it
// is missing, as MetalLB's controller creates its `memberlist` Secret. What to do is
// decided by speaker/membership/secret.ts; this is the I/O around it. Never overwrites an
// existing Secret: a person may be rotating the key.
import { randomBytes } from 'node:crypto';
import { isAlreadyExists, isNotFound, toApiError } from '../shared/k8s/errors.js';
import type { Clock } from '../shared/k8s/clock.js';
import { collectionPath, objectPath, SECRETS } from '../shared/k8s/resources.js';
import type { RestClient } from '../shared/k8s/rest.js';
import { withRetry } from '../shared/k8s/retry.js';
import type { Logger } from '../shared/log.js';
import { ensureMemberlistSecret, MEMBERLIST_KEY_BYTES, MEMBERLIST_SECRET_NAME, type MemberlistSecret, type SecretLike } from '../speaker/membership/secret.js';

/** The two calls this needs (RBAC: get on that one Secret, create in the namespace). */
export interface SecretStore {
  get(namespace: string, name: string): Promise<SecretLike | undefined>;
  create(secret: MemberlistSecret): Promise<void>;
}

export function restSecretStore(rest: RestClient): SecretStore {
  return {
    get: async (namespace, name) => {
      try {
        return await rest.request<SecretLike>('GET', objectPath(SECRETS, namespace, name));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    create: async (secret) => {
      try {
        await rest.request('POST', collectionPath(SECRETS, secret.metadata.namespace), { body: secret });
      } catch (err) {
        // Another replica got there first.
        if (!isAlreadyExists(err)) throw err;
      }
    },
  };
}

export type MemberlistOutcome = 'exists' | 'created' | 'unusable' | 'failed';

export async function ensureMemberlist(o: {
  store: SecretStore;
  namespace: string;
  clock: Clock;
  log: Logger;
  signal?: AbortSignal;
  random?: (n: number) => Uint8Array;
}): Promise<MemberlistOutcome> {
  const random = o.random ?? ((n: number) => randomBytes(n));
  try {
    return await withRetry(
      async () => {
        const existing = await o.store.get(o.namespace, MEMBERLIST_SECRET_NAME);
        const d = ensureMemberlistSecret(existing, o.namespace, random(MEMBERLIST_KEY_BYTES));
        if (d.action === 'none') return 'exists' as const;
        if (d.action === 'report') {
          o.log.warn({ secret: `${o.namespace}/${MEMBERLIST_SECRET_NAME}`, problem: d.problem }, 'the memberlist Secret is unusable; speakers cannot authenticate each other until it is fixed');
          return 'unusable' as const;
        }
        await o.store.create(d.secret);
        o.log.info({ secret: `${o.namespace}/${MEMBERLIST_SECRET_NAME}` }, 'created the memberlist Secret');
        return 'created' as const;
      },
      { clock: o.clock, maxAttempts: 8, ...(o.signal ? { signal: o.signal } : {}) },
    );
  } catch (err) {
    const e = toApiError(err);
    o.log.error({ err: e, code: e.code }, 'could not make sure the memberlist Secret exists');
    return 'failed';
  }
}
