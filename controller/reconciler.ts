// The controller's convergence loop: informers in, a keyed work queue, the plain
// planning functions (service-plan.ts, pool-status.ts) and narrow writers out. The only
// memory is the allocator's record, rebuilt from the API on every start; everything
// else (what was announced, which events were sent) is read back from the objects.
//
// Start (as leader): one consistent, paged read of every Service (the informer cache of a
// standby may lag the old leader's last writes), claims in a stable order, and only then
// the queue: no pending Service is served before every address in use is known
// (MetalLB #1774, #2443).
//
// Faults: a 409 on a status write means the Service changed since it was read (or the
// cache is behind our own last write): re-read it and plan again; 5xx/429/network errors
// go back to the queue with per-key backoff. The allocator keeps an address reserved for
// its Service while a write is outstanding, so retries never hand it to another.
import type { IPAddressPool } from '../shared/api/types.js';
import { buildConfig, errorsFor, poolByName, type ConfigResult } from '../shared/config/model.js';
import type { Clock, TimerHandle } from '../shared/k8s/clock.js';
import { CoalescedPass } from '../shared/k8s/coalesced-pass.js';
import { isConflict, isNotFound, toApiError } from '../shared/k8s/errors.js';
import type { EventRecorder } from '../shared/k8s/events.js';
import type { Informer, InformerEvent, K8sObject } from '../shared/k8s/informer.js';
import { WorkQueue, type ProcessResult } from '../shared/k8s/queue.js';
import { heraldResource } from '../shared/k8s/resources.js';
import type { ServiceStatusWriter, StatusWriter } from '../shared/k8s/writers.js';
import type { Logger } from '../shared/log.js';
import { formatIP } from '../shared/ip/ip.js';
import { Allocator } from './allocator.js';
import type { PoolUsage } from './allocator-types.js';
import { conditionTime } from './conditions.js';
import type { ControllerMetrics } from './metrics.js';
import { planPoolStatus } from './pool-status.js';
import { keyOfService, mayWantMore, planService, type ServiceObject } from './service-plan.js';
import { claimAll, claimCandidate, type ClaimCandidate } from './startup-claims.js';

const POOLS = heraldResource('IPAddressPool');

/** Reads that must be current, not cached. */
export interface ServiceSource {
  /** Every Service in one consistent read, a page at a time. */
  listServices(onPage: (items: readonly ServiceObject[]) => void): Promise<void>;
  /** The Service as stored now, or undefined when it does not exist. */
  getService(namespace: string, name: string): Promise<ServiceObject | undefined>;
}

export interface ReconcilerOptions {
  log: Logger;
  clock: Clock;
  /** herald's namespace (IPAddressPools live here). */
  namespace: string;
  lbClass: string | undefined;
  informers: {
    services: Informer<K8sObject>;
    pools: Informer<IPAddressPool>;
    namespaces: Informer<K8sObject>;
  };
  source: ServiceSource;
  services: ServiceStatusWriter;
  status: Pick<StatusWriter, 'patchStatus'>;
  events: EventRecorder;
  metrics: ControllerMetrics;
  /** Services written at the same time; default 32. */
  concurrency?: number;
  /** Pool status and metrics are refreshed at most this often; default 250 ms. */
  poolStatusDelayMs?: number;
  /** Immediate re-read-and-retry rounds after 409s, before backing off; default 5. */
  conflictRetries?: number;
}

/** The parts of a pool that make the config; a status write changes none of them. */
function poolConfigOf(p: IPAddressPool | undefined): string {
  if (!p) return '';
  return JSON.stringify([p.metadata.labels ?? {}, p.metadata.creationTimestamp ?? '', p.metadata.deletionTimestamp ?? '', p.spec]);
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

export class Reconciler {
  private alloc = new Allocator();
  private config: ConfigResult = { model: { pools: [], l2Advertisements: [], bgpAdvertisements: [], peers: [], bfdProfiles: [], invalidPools: [] }, errors: [] };
  private readonly queue: WorkQueue;
  private readonly unsubscribe: (() => void)[] = [];
  /**
   * The resourceVersion each of our status writes produced, until its watch event comes
   * back: that event is our own write and needs no reconcile (at cold start it was half
   * of all reconciles). Any other event for the key clears the entry.
   */
  private readonly ownWrites = new Map<string, string>();
  /** Metrics only: when each Service was first seen without an address. */
  private readonly pendingSince = new Map<string, number>();
  private readonly poolPass: CoalescedPass;
  /** Pool → the advertisements covering it, once the whole configuration is known. */
  private advertised: ReadonlyMap<string, readonly string[]> | undefined;
  private waitingTimer: TimerHandle | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly o: ReconcilerOptions) {
    this.log = o.log;
    this.poolPass = new CoalescedPass({ clock: o.clock, delayMs: o.poolStatusDelayMs ?? 250, pass: () => this.flushPools() });
    this.queue = new WorkQueue({
      process: (key) => this.process(key),
      concurrency: o.concurrency ?? 32,
      clock: o.clock,
      logger: o.log,
    });
  }

  /** Claims what Services hold, then starts serving them. */
  async start(): Promise<void> {
    const t0 = this.o.clock.now();
    const candidates: ClaimCandidate[] = [];
    const keys = new Set<string>();
    await this.o.source.listServices((items) => {
      for (const svc of items) {
        keys.add(keyOfService(svc));
        const c = claimCandidate(svc, this.namespaceLabels(svc.metadata?.namespace), this.o.lbClass);
        if (c) candidates.push(c);
      }
    });
    if (this.stopped) return;
    // From here to the end, synchronous: no informer event can slip between the claims
    // and the subscriptions.
    this.rebuildConfig();
    const summary = claimAll(this.alloc, candidates);
    this.log.info(
      { services: keys.size, claimed: summary.claimed, dropped: summary.dropped.length, pools: this.config.model.pools.length, ms: this.o.clock.now() - t0 },
      'claimed the addresses Services hold',
    );
    for (const d of summary.dropped) {
      this.log.info({ service: d.key, ip: formatIP(d.ip), reason: d.reason }, `not re-claimed: ${d.message}`);
    }
    const inf = this.o.informers;
    this.unsubscribe.push(
      inf.services.subscribe((ev) => this.onService(ev)),
      inf.pools.subscribe((ev) => this.onPool(ev)),
      inf.namespaces.subscribe((ev) => this.onNamespace(ev)),
    );
    for (const svc of inf.services.list()) {
      const key = keyOfService(svc);
      keys.add(key);
      this.notePending(key, svc);
    }
    for (const key of keys) this.queue.add(key);
    this.schedulePools(0);
  }

  /** Stops reconciling; resolves when no write is in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
    this.ownWrites.clear();
    this.waitingTimer?.cancel();
    this.waitingTimer = undefined;
    await Promise.all([this.queue.stop(), this.poolPass.stop()]);
    this.o.metrics.clear();
  }

  /** Resolves when nothing is queued or being written (tests, benchmarks). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  // ---- events in ----

  private onService(ev: InformerEvent<K8sObject>): void {
    const own = this.ownWrites.get(ev.key);
    if (own !== undefined) {
      this.ownWrites.delete(ev.key);
      if (ev.type === 'update' && ev.obj.metadata?.resourceVersion === own) return;
    }
    if (ev.type === 'delete') this.pendingSince.delete(ev.key);
    else this.notePending(ev.key, ev.obj);
    this.queue.add(ev.key);
  }

  private onPool(ev: InformerEvent<IPAddressPool>): void {
    if (ev.type !== 'update' || poolConfigOf(ev.old) !== poolConfigOf(ev.obj)) {
      this.rebuildConfig();
      // serviceAllocation, autoAssign or ranges may have changed for anyone.
      for (const svc of this.o.informers.services.list()) this.queue.add(keyOfService(svc));
    }
    this.schedulePools();
  }

  private onNamespace(ev: InformerEvent<K8sObject>): void {
    if (ev.type === 'update' && JSON.stringify(ev.old?.metadata?.labels ?? {}) === JSON.stringify(ev.obj.metadata?.labels ?? {})) return;
    const ns = ev.obj.metadata?.name;
    if (ns === undefined) return;
    for (const svc of this.o.informers.services.list(ns)) this.queue.add(keyOfService(svc));
  }

  private notePending(key: string, obj: K8sObject): void {
    const svc = obj as ServiceObject;
    if (svc.spec?.type === 'LoadBalancer' && !svc.status?.loadBalancer?.ingress?.length && !this.pendingSince.has(key)) {
      this.pendingSince.set(key, this.o.clock.now());
    }
  }

  private namespaceLabels(ns: string | undefined): Record<string, string> {
    return (ns === undefined ? undefined : this.o.informers.namespaces.get(ns)?.metadata?.labels) ?? {};
  }

  // ---- config ----

  private rebuildConfig(): void {
    const pools = this.o.informers.pools.list().filter((p) => !p.metadata.deletionTimestamp);
    this.config = buildConfig({
      pools: [...pools],
      l2Advertisements: [],
      bgpAdvertisements: [],
      peers: [],
      communities: [],
      bfdProfiles: [],
      secrets: [],
      namespace: this.o.namespace,
    });
    const { model, errors } = this.config;
    const r = this.alloc.setPools(model.pools, model.invalidPools);
    for (const rel of r.released) {
      this.log.info({ service: rel.key, ip: formatIP(rel.ip), pool: rel.pool }, 'address left every pool; released');
    }
    const byKind = new Map<string, number>([['IPAddressPool', 0]]);
    for (const e of errors) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
    this.o.metrics.setConfigErrors(byKind);
    if (errors.length > 0) this.log.debug({ errors: errors.length }, 'config has errors');
  }

  // ---- one Service ----

  private async process(key: string): Promise<ProcessResult> {
    if (this.stopped) return;
    const [ns, name] = splitKey(key);
    let svc = this.o.informers.services.get(name, ns) as ServiceObject | undefined;
    try {
      // Absent from the cache: deleted, or the cache is behind (a takeover). Ask.
      svc ??= await this.o.source.getService(ns, name);
    } catch (err) {
      return this.apiFailure(key, err, 'reading the Service failed');
    }
    const heldBefore = this.alloc.holding(key)?.ips.length ?? 0;
    if (!svc) {
      this.alloc.release(key);
      this.pendingSince.delete(key);
      this.o.metrics.reconciles.inc({ result: 'released' });
      if (heldBefore > 0) this.afterRelease();
      return;
    }
    const retries = this.o.conflictRetries ?? 5;
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) return;
      const plan = planService(this.alloc, svc, this.namespaceLabels(ns), {
        ...(this.o.lbClass !== undefined ? { lbClass: this.o.lbClass } : {}),
        now: conditionTime(this.o.clock.now()),
      });
      const heldAfter = this.alloc.holding(key)?.ips.length ?? 0;
      if (heldAfter < heldBefore) this.afterRelease();
      if (heldAfter !== heldBefore || plan.write) this.schedulePools();
      const w = plan.write;
      if (!w) {
        this.o.metrics.reconciles.inc({ result: plan.outcome.kind === 'ignored' ? 'ignored' : plan.outcome.kind === 'failed' ? 'failed' : 'unchanged' });
        if (plan.outcome.kind === 'ignored') this.pendingSince.delete(key);
        return;
      }
      try {
        const stored = await this.o.services.updateServiceStatus(ns, name, { loadBalancer: { ingress: w.ingress }, conditions: w.conditions }, svc.metadata?.resourceVersion, w.annotations);
        const rv = stored.metadata?.resourceVersion;
        // Unless the watch was faster than the answer (the cache has it already).
        if (rv !== undefined && this.o.informers.services.get(name, ns)?.metadata?.resourceVersion !== rv) this.ownWrites.set(key, rv);
      } catch (err) {
        if (isNotFound(err)) {
          this.alloc.release(key);
          this.afterRelease();
          return;
        }
        if (isConflict(err) && attempt < retries) {
          this.o.metrics.reconciles.inc({ result: 'conflict' });
          try {
            svc = await this.o.source.getService(ns, name);
          } catch (e) {
            return this.apiFailure(key, e, 'reading the Service after a conflict failed');
          }
          if (!svc) {
            this.alloc.release(key);
            this.afterRelease();
            return;
          }
          continue;
        }
        return this.apiFailure(key, err, 'writing the Service status failed');
      }
      this.afterWrite(svc, plan);
      return;
    }
  }

  private afterWrite(svc: ServiceObject, plan: ReturnType<typeof planService>): void {
    const key = plan.key;
    const o = plan.outcome;
    for (const e of plan.events) this.o.events.event(svc, e.type, e.reason, e.message);
    if (o.kind === 'allocated') {
      this.o.metrics.reconciles.inc({ result: 'allocated' });
      const since = this.pendingSince.get(key);
      if (since !== undefined) {
        this.o.metrics.timeToIP.observe((this.o.clock.now() - since) / 1000);
        this.pendingSince.delete(key);
      }
      if (o.changed) this.log.info({ service: key, ip: o.texts, pool: o.pool }, 'IP allocated');
      // Newly given an address nothing will announce: the Service says so where its owner looks.
      if (o.changed && this.advertised && (this.advertised.get(o.pool) ?? []).length === 0) {
        this.o.events.event(
          svc,
          'Warning',
          'NotAdvertised',
          `no L2Advertisement or BGPAdvertisement covers pool "${o.pool}": ${o.texts.join(', ')} is assigned, but no node announces it`,
        );
      }
    } else if (o.kind === 'failed') {
      this.o.metrics.reconciles.inc({ result: 'failed' });
      if (plan.events.some((e) => e.reason === 'AllocationFailed')) this.log.info({ service: key, reason: o.reason }, `allocation failed: ${o.message}`);
    } else {
      this.o.metrics.reconciles.inc({ result: 'released' });
      this.pendingSince.delete(key);
      this.log.info({ service: key }, 'no longer a LoadBalancer Service of ours; status cleared');
    }
  }

  /**
   * An address came free: Services still waiting for one (or for a second family) try
   * again. One scan per burst of releases, not one per release.
   */
  private afterRelease(): void {
    if (this.stopped || this.waitingTimer) return;
    this.waitingTimer = this.o.clock.setTimeout(() => {
      this.waitingTimer = undefined;
      if (this.stopped) return;
      for (const obj of this.o.informers.services.list()) {
        const svc = obj as ServiceObject;
        if (mayWantMore(svc)) this.queue.add(keyOfService(svc));
      }
    }, 20);
  }

  private apiFailure(key: string, err: unknown, what: string): ProcessResult {
    const e = toApiError(err);
    this.o.metrics.reconciles.inc({ result: 'error' });
    this.log.warn({ service: key, err: e, code: e.code, status: e.status }, `${what}; will retry`);
    return { retry: true };
  }

  // ---- pools ----

  /**
   * The advertisements of the whole configuration, by pool (the controller's allocation
   * reads pools only; ConfigStatusSync builds the rest). Pools then say whether anything
   * announces them (Advertised).
   */
  setAdvertisements(byPool: ReadonlyMap<string, readonly string[]>): void {
    const same = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean => (a ?? []).join('\n') === (b ?? []).join('\n');
    const old = this.advertised;
    this.advertised = byPool;
    if (old && old.size === byPool.size && [...byPool].every(([k, v]) => same(old.get(k), v))) return;
    this.schedulePools(0);
  }

  private schedulePools(delayMs?: number): void {
    this.poolPass.request(delayMs);
  }

  /** Writes every pool's status that changed; false when a write failed (retried later). */
  private async flushPools(): Promise<boolean> {
    const { model, errors } = this.config;
    const usage = new Map<string, PoolUsage>();
    for (const name of [...model.pools.map((p) => p.name), ...model.invalidPools]) {
      const u = this.alloc.poolUsage(name);
      if (u) usage.set(name, u);
    }
    this.o.metrics.setPools(usage);
    let failed = false;
    for (const pool of this.o.informers.pools.list()) {
      if (this.stopped) return true;
      const name = pool.metadata.name ?? '';
      if (pool.metadata.deletionTimestamp) continue;
      const plan = planPoolStatus({
        pool,
        model: poolByName(model, name),
        usage: usage.get(name),
        errors: errorsFor(errors, 'IPAddressPool', name),
        ...(this.advertised ? { advertisedBy: this.advertised.get(name) ?? [] } : {}),
        now: conditionTime(this.o.clock.now()),
      });
      if (!plan.changed) continue;
      try {
        await this.o.status.patchStatus(POOLS, pool.metadata.namespace ?? this.o.namespace, name, plan.status, pool.metadata.resourceVersion);
      } catch (err) {
        // A 409: the cache is behind; the update it is about to deliver schedules another pass.
        failed = true;
        if (isNotFound(err)) continue;
        const e = toApiError(err);
        this.log.warn({ pool: name, err: e, code: e.code }, 'writing the pool status failed; will retry');
        continue;
      }
      for (const e of plan.events) this.o.events.event(pool, e.type, e.reason, e.message);
    }
    return !failed;
  }
}
