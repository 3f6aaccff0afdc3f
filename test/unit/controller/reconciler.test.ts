// The reconciler against in-memory informers and a recording writer (MetalLB's way:
// the controller writes through a narrow interface, so a test sees what it wanted to
// write). The fake API keeps resourceVersions, so stale caches and conflicts behave as
// they do against a real server.
import { strict as assert } from 'node:assert';
import type { IPAddressPool } from '../../../shared/api/types.js';
import { ApiError } from '../../../shared/k8s/errors.js';
import type { EventRecorder, EventType } from '../../../shared/k8s/events.js';
import type { Informer, InformerEvent, InformerHandler, K8sObject } from '../../../shared/k8s/informer.js';
import { heraldResource, keyOf, NAMESPACES, SERVICES, type ResourceType } from '../../../shared/k8s/resources.js';
import type { ServiceStatus, ServiceStatusWriter, StatusWriter } from '../../../shared/k8s/writers.js';
import { silentLogger } from '../../../shared/log.js';
import { createMetrics } from '../../../shared/metrics.js';
import { realClock } from '../../../shared/k8s/clock.js';
import { controllerMetrics } from '../../../controller/metrics.js';
import { Reconciler } from '../../../controller/reconciler.js';
import type { ServiceObject } from '../../../controller/service-plan.js';

class FakeInformer<T extends K8sObject> implements Informer<T> {
  readonly objects = new Map<string, T>();
  private readonly handlers = new Set<InformerHandler<T>>();
  readonly synced = Promise.resolve();
  constructor(readonly resource: ResourceType) {}
  hasSynced = (): boolean => true;
  start(): void {}
  async stop(): Promise<void> {}
  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(namespace ? `${namespace}/${name}` : name);
  }
  list(namespace?: string): readonly T[] {
    return [...this.objects.values()].filter((o) => namespace === undefined || o.metadata?.namespace === namespace);
  }
  subscribe(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    return () => void this.handlers.delete(handler);
  }
  stats() {
    return { watching: true, lists: 1, watches: 1, errors: 0, restarts: 0 };
  }
  put(obj: T): void {
    const key = keyOf(obj.metadata ?? {});
    const old = this.objects.get(key);
    this.objects.set(key, obj);
    this.emit({ type: old ? 'update' : 'add', resource: this.resource, key, obj, ...(old ? { old } : {}) });
  }
  remove(key: string): void {
    const obj = this.objects.get(key);
    if (!obj) return;
    this.objects.delete(key);
    this.emit({ type: 'delete', resource: this.resource, key, obj });
  }
  private emit(ev: InformerEvent<T>): void {
    for (const h of this.handlers) h(ev);
  }
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** A tiny API: Services with resourceVersions, whose writes reach the informer only when told. */
class FakeApi implements ServiceStatusWriter {
  readonly store = new Map<string, ServiceObject>();
  readonly writes: { key: string; ips: string[]; rv?: string }[] = [];
  readonly failures: ApiError[] = [];
  rv = 100;
  /** Deliver stored writes to the informer at once (a watch with no lag). */
  autoDeliver = true;
  inFlight: Promise<void> | undefined;
  constructor(private readonly inf: FakeInformer<K8sObject>) {}

  create(name: string, o: { ips?: string[]; created?: string; ns?: string } = {}): ServiceObject {
    const ns = o.ns ?? 'default';
    const svc: ServiceObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns, resourceVersion: String(++this.rv), creationTimestamp: o.created ?? '2025-01-01T00:00:00Z' },
      spec: { type: 'LoadBalancer', ports: [{ protocol: 'TCP', port: 80 }], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' },
      status: { loadBalancer: o.ips ? { ingress: o.ips.map((ip) => ({ ip, ipMode: 'VIP' as const })) } : {} },
    };
    this.store.set(`${ns}/${name}`, svc);
    this.inf.put(clone(svc));
    return svc;
  }

  delete(key: string): void {
    this.store.delete(key);
    this.inf.remove(key);
  }

  async updateServiceStatus(namespace: string, name: string, status: ServiceStatus, resourceVersion?: string, annotations?: Record<string, string | null>): Promise<K8sObject> {
    await this.inFlight;
    const key = `${namespace}/${name}`;
    this.writes.push({ key, ips: (status.loadBalancer?.ingress ?? []).map((i) => i.ip ?? ''), ...(resourceVersion ? { rv: resourceVersion } : {}) });
    const f = this.failures.shift();
    if (f) throw f;
    const cur = this.store.get(key);
    if (!cur) throw new ApiError('NotFound', 404, 'gone');
    if (resourceVersion && resourceVersion !== cur.metadata?.resourceVersion) throw new ApiError('Conflict', 409, 'changed');
    const next = clone(cur);
    next.status = { loadBalancer: status.loadBalancer ?? {}, ...(status.conditions ? { conditions: status.conditions } : {}) };
    const ann = { ...(next.metadata?.annotations ?? {}) };
    for (const [k, v] of Object.entries(annotations ?? {})) {
      if (v === null) delete ann[k];
      else ann[k] = v;
    }
    next.metadata = { ...next.metadata, annotations: ann, resourceVersion: String(++this.rv) };
    this.store.set(key, next);
    if (this.autoDeliver) this.inf.put(clone(next));
    return next;
  }
}

interface Recorded {
  name: string;
  type: EventType;
  reason: string;
}

function setup(addresses: string[]) {
  const services = new FakeInformer<K8sObject>(SERVICES);
  const pools = new FakeInformer<IPAddressPool>(heraldResource('IPAddressPool'));
  const namespaces = new FakeInformer<K8sObject>(NAMESPACES);
  pools.objects.set('herald-system/lan', {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: 'lan', namespace: 'herald-system', creationTimestamp: '2025-01-01T00:00:00Z', generation: 1, resourceVersion: '1' },
    spec: { addresses },
  });
  const api = new FakeApi(services);
  const events: Recorded[] = [];
  const recorder: EventRecorder = { event: (obj, type, reason) => events.push({ name: (obj as K8sObject).metadata?.name ?? '', type, reason }) };
  const poolWrites: unknown[] = [];
  const status: Pick<StatusWriter, 'patchStatus'> = {
    patchStatus: async <T,>(_r: ResourceType, _ns: string | undefined, _name: string, s: unknown): Promise<T> => {
      poolWrites.push(s);
      return {} as T;
    },
  };
  const gets: string[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  const r = new Reconciler({
    log: silentLogger(),
    clock: realClock,
    namespace: 'herald-system',
    lbClass: undefined,
    informers: { services, pools, namespaces },
    source: {
      listServices: async (onPage) => onPage([...api.store.values()].map(clone)),
      getService: async (ns, name) => {
        gets.push(`${ns}/${name}`);
        const s = api.store.get(`${ns}/${name}`);
        return s ? clone(s) : undefined;
      },
    },
    services: api,
    status,
    events: recorder,
    metrics: controllerMetrics(metrics),
    poolStatusDelayMs: 5,
  });
  const ips = (name: string): string[] => (api.store.get(`default/${name}`)?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
  return { r, api, services, events, gets, poolWrites, metrics, ips };
}

const tick = (ms = 30): Promise<void> => new Promise((res) => setTimeout(res, ms));

describe('controller/reconciler (recorded writes)', () => {
  it('claims every shown address before serving a pending Service', async () => {
    const t = setup(['192.0.2.1-192.0.2.2']);
    t.api.create('pending', { created: '2024-01-01T00:00:00Z' });
    t.api.create('holder', { ips: ['192.0.2.1'], created: '2025-01-01T00:00:00Z' });
    await t.r.start();
    await t.r.idle();
    assert.deepEqual(t.ips('pending'), ['192.0.2.2']);
    assert.deepEqual(t.ips('holder'), ['192.0.2.1']);
    assert.deepEqual(t.events.filter((e) => e.reason === 'IPAllocated').map((e) => e.name), ['pending'], 'the holder kept its address: no allocation event');
    await t.r.stop();
  });

  it('on 409 re-reads and plans again, writing once and sending one event', async () => {
    const t = setup(['192.0.2.1-192.0.2.9']);
    await t.r.start();
    t.api.failures.push(new ApiError('Conflict', 409, 'changed'));
    t.api.create('web');
    await tick();
    await t.r.idle();
    assert.deepEqual(t.ips('web'), ['192.0.2.1']);
    assert.deepEqual(t.gets, ['default/web']);
    assert.equal(t.api.writes.length, 2);
    assert.deepEqual(t.events.map((e) => e.reason), ['IPAllocated']);
    await t.r.stop();
  });

  it('a cache behind its own last write costs a 409 and a re-read, never a second write or event', async () => {
    const t = setup(['192.0.2.1-192.0.2.9']);
    await t.r.start();
    t.api.autoDeliver = false;
    const original = t.api.create('web');
    await tick();
    await t.r.idle();
    assert.equal(t.api.writes.length, 1);
    // The informer still holds the object without status; an unrelated event re-queues it.
    t.services.put({ ...clone(original), metadata: { ...original.metadata, labels: { touched: 'yes' } } });
    await tick();
    await t.r.idle();
    assert.equal(t.api.writes.length, 2, 'one attempt with the stale resourceVersion…');
    assert.deepEqual(t.gets, ['default/web'], '…then a re-read that shows the address already written');
    assert.deepEqual(t.events.map((e) => e.reason), ['IPAllocated']);
    await t.r.stop();
  });

  it('does not reconcile the watch echo of its own write, but does the next real change', async () => {
    const t = setup(['192.0.2.1-192.0.2.9']);
    await t.r.start();
    t.api.autoDeliver = false;
    t.api.create('web');
    await tick();
    await t.r.idle();
    assert.equal(t.api.writes.length, 1);
    const unchanged = async (): Promise<number> => Number(/herald_controller_reconcile_total\{result="unchanged"\} (\d+)/.exec(await t.metrics.registry.metrics())?.[1] ?? 0);
    const before = await unchanged();
    // The watch delivers the write: nothing to do.
    t.services.put(clone(t.api.store.get('default/web') as ServiceObject));
    await tick();
    await t.r.idle();
    assert.equal(await unchanged(), before, 'the echo of its own write was reconciled');
    // Someone else changes the Service: reconciled (and found unchanged).
    const cur = t.api.store.get('default/web') as ServiceObject;
    t.services.put({ ...clone(cur), metadata: { ...cur.metadata, labels: { touched: 'yes' }, resourceVersion: String(++t.api.rv) } });
    await tick();
    await t.r.idle();
    assert.equal(await unchanged(), before + 1);
    assert.equal(t.api.writes.length, 1);
    await t.r.stop();
  });

  it('reconciles an update whose resourceVersion is not its own write (another writer got in between)', async () => {
    const t = setup(['192.0.2.1-192.0.2.9']);
    await t.r.start();
    t.api.autoDeliver = false;
    t.api.create('web');
    await tick();
    await t.r.idle();
    // Someone cleared the status after our write; the watch shows only their version.
    const cur = t.api.store.get('default/web') as ServiceObject;
    const cleared = { ...clone(cur), status: {}, metadata: { ...cur.metadata, resourceVersion: String(++t.api.rv) } };
    t.api.store.set('default/web', clone(cleared));
    t.services.put(cleared);
    await tick();
    await t.r.idle();
    assert.equal(t.api.writes.length, 2, 'the address is written back');
    assert.deepEqual(t.ips('web'), ['192.0.2.1']);
    await t.r.stop();
  });

  it('retries server errors with backoff and counts them', async () => {
    const t = setup(['192.0.2.1-192.0.2.9']);
    await t.r.start();
    t.api.failures.push(new ApiError('ServerError', 500, 'boom'), new ApiError('TooManyRequests', 429, 'slow down'));
    t.api.create('web');
    await tick(300);
    await t.r.idle();
    assert.deepEqual(t.ips('web'), ['192.0.2.1']);
    assert.match(await t.metrics.registry.metrics(), /herald_controller_reconcile_total\{result="error"\} 2/);
    await t.r.stop();
  });

  it('serves a waiting Service once a deleted one frees an address, and updates pool status', async () => {
    const t = setup(['192.0.2.1-192.0.2.1']);
    await t.r.start();
    t.api.create('a');
    await tick();
    t.api.create('b');
    await tick();
    await t.r.idle();
    assert.deepEqual(t.ips('b'), []);
    assert.deepEqual(t.events.map((e) => `${e.name} ${e.reason}`), ['a IPAllocated', 'b AllocationFailed']);
    t.api.delete('default/a');
    await tick(100);
    await t.r.idle();
    assert.deepEqual(t.ips('b'), ['192.0.2.1']);
    assert.ok(t.poolWrites.length > 0);
    await t.r.stop();
  });

  it('stop() waits for the write in flight and then writes nothing more', async () => {
    const t = setup(['192.0.2.1-192.0.2.9']);
    await t.r.start();
    let release!: () => void;
    t.api.inFlight = new Promise((r) => (release = r));
    t.api.create('web');
    await tick();
    let stopped = false;
    const stopping = t.r.stop().then(() => (stopped = true));
    await tick();
    assert.equal(stopped, false);
    release();
    await stopping;
    const n = t.api.writes.length;
    t.api.create('later');
    await tick();
    assert.equal(t.api.writes.length, n);
    assert.doesNotMatch(await t.metrics.registry.metrics(), /herald_allocator_addresses_total\{/, 'a replica that stopped leading reports no pool series');
  });
});
