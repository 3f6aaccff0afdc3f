// An in-memory Lease store with the API server's optimistic concurrency, and per-client
// views that can be made to fail or hang, for leader election tests.
import { ApiError } from '../../../../shared/k8s/errors.js';
import type { Lease, LeaseClient } from '../../../../shared/k8s/lease.js';

export class LeaseStore {
  private rv = 0;
  readonly leases = new Map<string, Lease>();
  writes = 0;

  get(ns: string, name: string): Lease | undefined {
    const l = this.leases.get(`${ns}/${name}`);
    return l ? structuredClone(l) : undefined;
  }

  create(lease: Lease): Lease {
    const key = `${lease.metadata.namespace}/${lease.metadata.name}`;
    if (this.leases.has(key)) throw new ApiError('AlreadyExists', 409, `lease ${key} already exists`, { reason: 'AlreadyExists' });
    const stored = structuredClone({ ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } });
    this.leases.set(key, stored);
    this.writes++;
    return structuredClone(stored);
  }

  update(lease: Lease): Lease {
    const key = `${lease.metadata.namespace}/${lease.metadata.name}`;
    const cur = this.leases.get(key);
    if (!cur) throw new ApiError('NotFound', 404, `lease ${key} not found`);
    if (lease.metadata.resourceVersion !== cur.metadata.resourceVersion) throw new ApiError('Conflict', 409, `lease ${key}: stale resourceVersion`);
    const stored = structuredClone({ ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } });
    this.leases.set(key, stored);
    this.writes++;
    return structuredClone(stored);
  }

  client(): FakeLeaseClient {
    return new FakeLeaseClient(this);
  }
}

export class FakeLeaseClient implements LeaseClient {
  /** 'ok' | 'fail' (503 at once) | 'hang' (never answers). */
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  constructor(private readonly store: LeaseStore) {}

  private gate(): Promise<void> {
    if (this.mode === 'fail') return Promise.reject(new ApiError('ServerError', 503, 'unavailable'));
    if (this.mode === 'hang') return new Promise<void>(() => undefined);
    return Promise.resolve();
  }

  async get(ns: string, name: string): Promise<Lease | undefined> {
    await this.gate();
    return this.store.get(ns, name);
  }
  async create(lease: Lease): Promise<Lease> {
    await this.gate();
    return this.store.create(lease);
  }
  async update(lease: Lease): Promise<Lease> {
    await this.gate();
    return this.store.update(lease);
  }
}
