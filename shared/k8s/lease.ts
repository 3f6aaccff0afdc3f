// coordination.k8s.io/v1 Leases: the object leader election writes, and a narrow client.
import type { ObjectMeta } from '../api/types.js';
import { isNotFound } from './errors.js';
import { collectionPath, LEASES, objectPath } from './resources.js';
import type { RestClient } from './rest.js';

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  /** metav1.MicroTime: RFC 3339 with microseconds. */
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta & { name: string; namespace: string };
  spec?: LeaseSpec;
}

export interface LeaseClient {
  /** undefined when there is no such Lease. */
  get(namespace: string, name: string): Promise<Lease | undefined>;
  /** Fails with ApiError code 'AlreadyExists' if someone created it first. */
  create(lease: Lease): Promise<Lease>;
  /** Replaces the Lease; fails with code 'Conflict' if metadata.resourceVersion is stale. */
  update(lease: Lease): Promise<Lease>;
}

export interface LeaseClientOptions {
  /** Per request; leader election keeps it below its renew deadline. */
  timeoutMs?: number;
}

export function createLeaseClient(rest: RestClient, o: LeaseClientOptions = {}): LeaseClient {
  const ro = o.timeoutMs ? { timeoutMs: o.timeoutMs } : {};
  return {
    get: async (namespace, name) => {
      try {
        return await rest.request<Lease>('GET', objectPath(LEASES, namespace, name), ro);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    create: (lease) =>
      rest.request<Lease>('POST', collectionPath(LEASES, lease.metadata.namespace), {
        ...ro,
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease },
      }),
    update: (lease) =>
      rest.request<Lease>('PUT', objectPath(LEASES, lease.metadata.namespace, lease.metadata.name), {
        ...ro,
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease },
      }),
  };
}

/** metav1.MicroTime's wire form, "2006-01-02T15:04:05.000000Z". */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
