// What the speaker keeps, and what it remembers between snapshots:
// - the informer transforms (speakerService, speakerEndpointSlice) keep every fact a
//   snapshot is made of, and little else;
// - an informer given a transform caches and delivers the transformed objects;
// - SnapshotBuilder gives the snapshot buildSnapshot gives, whatever happened to the
//   objects in between, and the same ServiceInfo objects for unchanged Services.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { ConfigModel } from '../../../shared/config/types.js';
import type { KubeClient } from '../../../shared/k8s/client.js';
import { FakeClock } from '../../../shared/k8s/clock.js';
import { createInformer, type InformerEvent, type K8sObject } from '../../../shared/k8s/informer.js';
import { SERVICES } from '../../../shared/k8s/resources.js';
import type { Query, RequestOptions, RestClient } from '../../../shared/k8s/rest.js';
import type { WatchCallback, Watcher } from '../../../shared/k8s/watch.js';
import { parseAddressSpec } from '../../../shared/ip/ip.js';
import {
  buildSnapshot,
  SnapshotBuilder,
  speakerEndpointSlice,
  speakerService,
  type RawEndpointSlice,
  type RawNode,
  type RawService,
} from '../../../speaker/snapshot.js';
import { endpointSliceJSON, serviceJSON, type ObjectSpec } from '../../bench/bgp-objects.js';

function range(s: string) {
  const r = parseAddressSpec(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const config: ConfigModel = {
  pools: [{ name: 'p', labels: {}, ranges: [range('203.0.113.0/24'), range('2001:db8:ff::/120')], autoAssign: true, avoidBuggyIPs: false }],
  l2Advertisements: [],
  bgpAdvertisements: [],
  peers: [],
  bfdProfiles: [],
  invalidPools: [],
};
const nodes: RawNode[] = ['n1', 'n2'].map((name) => ({ metadata: { name, labels: { zone: 'a' } }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.1' }] } }));

/** A Service and its slice as the API server has them, with the variations the speaker reads. */
const arbObjects = fc
  .record({
    name: fc.constantFrom('a', 'b', 'c', 'd'),
    namespace: fc.constantFrom('x', 'y'),
    ip: fc.constantFrom('203.0.113.1', '203.0.113.2', '2001:db8:ff::1', ''),
    node: fc.constantFrom('n1', 'n2'),
    ready: fc.boolean(),
    serving: fc.option(fc.boolean(), { nil: undefined }),
    policy: fc.constantFrom('Cluster', 'Local'),
    type: fc.constantFrom('LoadBalancer', 'ClusterIP'),
    lbClass: fc.option(fc.constantFrom('herald', 'other'), { nil: undefined }),
    sharing: fc.option(fc.constantFrom(['herald.dev/allow-shared-ip', 'k1'], ['metallb.io/allow-shared-ip', 'k2']), { nil: undefined }),
    deleting: fc.boolean(),
    version: fc.nat(5),
  })
  .map((o) => {
    const spec: ObjectSpec = { name: o.name, namespace: o.namespace, ip: o.ip, family: o.ip.includes(':') ? 6 : 4, node: o.node, ready: o.ready, version: o.version };
    const svc = serviceJSON(spec, o.version) as { metadata: Record<string, unknown>; spec: Record<string, unknown>; status: { loadBalancer: { ingress: unknown[] } } };
    svc.spec.type = o.type;
    svc.spec.externalTrafficPolicy = o.policy;
    if (o.lbClass) svc.spec.loadBalancerClass = o.lbClass;
    if (o.sharing) (svc.metadata.annotations as Record<string, string>)[o.sharing[0]] = o.sharing[1];
    if (o.deleting) svc.metadata.deletionTimestamp = '2025-01-01T00:00:09Z';
    if (o.ip === '') svc.status.loadBalancer.ingress = [];
    const slice = endpointSliceJSON(spec, o.version) as { endpoints: { conditions: Record<string, unknown> }[] };
    if (o.serving === undefined) delete slice.endpoints[0]!.conditions.serving;
    else slice.endpoints[0]!.conditions.serving = o.serving;
    return { svc: svc as K8sObject & RawService, slice: slice as K8sObject & RawEndpointSlice };
  });

describe('speaker: what it keeps of Services and EndpointSlices', () => {
  it('the projected objects make the same snapshot as the full ones (property)', () => {
    fc.assert(
      fc.property(fc.array(arbObjects, { maxLength: 6 }), fc.constantFrom(undefined, 'herald'), (objs, lbClass) => {
        const full = { nodeName: 'n1', config, nodes, ...(lbClass ? { lbClass } : {}) };
        assert.deepEqual(
          buildSnapshot({ ...full, services: objs.map((o) => speakerService(o.svc)), endpointSlices: objs.map((o) => speakerEndpointSlice(o.slice)) }),
          buildSnapshot({ ...full, services: objs.map((o) => o.svc), endpointSlices: objs.map((o) => o.slice) }),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the identity the cache and events need, drops what the speaker never reads', () => {
    const spec: ObjectSpec = { name: 'web', namespace: 'shop', ip: '203.0.113.7', family: 4, node: 'n1', ready: true, version: 0 };
    const full = serviceJSON(spec, 3) as K8sObject & { metadata: { uid: string; resourceVersion: string } };
    const svc = speakerService(full);
    assert.deepEqual(svc, {
      metadata: { name: 'web', namespace: 'shop', uid: full.metadata.uid, resourceVersion: full.metadata.resourceVersion },
      spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } },
    });
    const slice = speakerEndpointSlice(endpointSliceJSON(spec, 3) as K8sObject);
    assert.deepEqual(Object.keys(slice.metadata).sort(), ['labels', 'name', 'namespace', 'resourceVersion']);
    assert.deepEqual(slice.metadata.labels, { 'kubernetes.io/service-name': 'web' });
    assert.deepEqual(slice.endpoints, [{ nodeName: 'n1', conditions: { ready: true, serving: true, terminating: false } }]);
    // Endpoints on one node in one condition are one object, whichever slice they are in.
    const other = speakerEndpointSlice(endpointSliceJSON({ ...spec, name: 'api' }, 4) as K8sObject);
    assert.equal(other.endpoints?.[0], slice.endpoints?.[0]);
    assert.equal(other.endpoints, slice.endpoints, 'and so are lists of them');
    const notReady = speakerEndpointSlice(endpointSliceJSON({ ...spec, name: 'db', ready: false }, 5) as K8sObject);
    assert.notEqual(notReady.endpoints, slice.endpoints);
    assert.deepEqual(notReady.endpoints, [{ nodeName: 'n1', conditions: { ready: false, serving: false, terminating: false } }]);
    assert.equal(speakerService(serviceJSON({ ...spec, name: 'api' }, 4) as K8sObject).spec, svc.spec, 'one spec object for equal specs');
  });

  it('an informer with a transform caches and delivers the transformed objects (list and watch)', async () => {
    let items: K8sObject[] = [serviceJSON({ name: 'a', namespace: 'x', ip: '203.0.113.1', family: 4, node: 'n1', ready: true, version: 0 }, 1) as K8sObject];
    let send: ((type: string, obj: unknown) => void) | undefined;
    const rest: RestClient = {
      server: 'http://fake',
      request: <T>(_m: string, _p: string, _o?: RequestOptions) => Promise.resolve({ metadata: { resourceVersion: '5' }, items: structuredClone(items) } as T),
      close: () => undefined,
    };
    const watch: Watcher = {
      watch: <O>(_p: string, _q: Query, cb: WatchCallback<O>) => {
        send = (t, o) => cb(t, o as O, { type: t, object: o });
        return Promise.resolve(new AbortController());
      },
    };
    const client = { kc: { getCurrentCluster: () => null, getCurrentUser: () => null }, rest, watch, close: () => undefined } as unknown as KubeClient;
    const clock = new FakeClock();
    const inf = createInformer<K8sObject>(client, { resource: SERVICES, clock, transform: speakerService });
    const events: InformerEvent<K8sObject>[] = [];
    inf.subscribe((e) => events.push(e));
    inf.start();
    await clock.advance(0);
    await inf.synced;
    const projected = (o: K8sObject | undefined) => assert.deepEqual(Object.keys((o as { spec: object }).spec), ['type', 'externalTrafficPolicy']);
    projected(inf.get('a', 'x'));
    const changed = serviceJSON({ name: 'a', namespace: 'x', ip: '203.0.113.9', family: 4, node: 'n1', ready: true, version: 0 }, 2) as K8sObject & { metadata: { resourceVersion: string } };
    changed.metadata.resourceVersion = '6';
    send!('MODIFIED', changed);
    projected(inf.get('a', 'x'));
    assert.deepEqual((inf.get('a', 'x') as RawService).status?.loadBalancer?.ingress, [{ ip: '203.0.113.9' }]);
    send!('DELETED', { ...changed, metadata: { ...changed.metadata, resourceVersion: '7' } });
    assert.equal(inf.get('a', 'x'), undefined);
    assert.deepEqual(events.map((e) => e.type), ['add', 'update', 'delete']);
    for (const e of events) projected(e.obj);
    items = [];
    await inf.stop();
  });
});

describe('speaker: SnapshotBuilder', () => {
  it('a deletion and a replacement in one build: the Services after them keep their ServiceInfo', () => {
    const spec = (name: string, namespace: string, ip: string): ObjectSpec => ({ name, namespace, ip, family: 4, node: 'n1', ready: true, version: 0 });
    const svc = (o: ObjectSpec, n: number) => speakerService(serviceJSON(o, n) as K8sObject);
    const [xc, yc, xa, xb] = [spec('c', 'x', '203.0.113.1'), spec('c', 'y', '203.0.113.2'), spec('a', 'x', '203.0.113.3'), spec('b', 'x', '203.0.113.4')];
    const builder = new SnapshotBuilder();
    const build = (services: RawService[]) => builder.build({ nodeName: 'n1', config, services, endpointSlices: [], nodes });
    const kept = [svc(xa, 3), svc(xb, 4)];
    const before = build([svc(xc, 1), svc(yc, 2), ...kept]);
    // x/c deleted, y/c replaced (its place kept), x/a and x/b untouched.
    const after = build([svc({ ...yc, ip: '203.0.113.9' }, 5), ...kept]);
    const info = (snap: typeof before, key: string) => snap.services.find((x) => x.key === key);
    assert.equal(info(after, 'x/a'), info(before, 'x/a'));
    assert.equal(info(after, 'x/b'), info(before, 'x/b'));
    assert.notEqual(info(after, 'y/c'), info(before, 'y/c'));
    assert.deepEqual(after, buildSnapshot({ nodeName: 'n1', config, services: [svc({ ...yc, ip: '203.0.113.9' }, 5), ...kept], endpointSlices: [], nodes }));
  });

  it('any sequence of informer changes gives the snapshot built from nothing; unchanged Services keep their ServiceInfo (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('upsert' as const), obj: arbObjects, touch: fc.constantFrom('service', 'slice', 'both') }),
      fc.record({ kind: fc.constant('delete' as const), name: fc.constantFrom('a', 'b', 'c', 'd'), namespace: fc.constantFrom('x', 'y') }),
      fc.record({ kind: fc.constant('relist' as const), seed: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(fc.array(op, { maxLength: 4 }), { minLength: 1, maxLength: 8 }), (steps) => {
        const builder = new SnapshotBuilder();
        // Informer caches: Maps keep a replaced object's place, as ObjectCache does.
        let services = new Map<string, K8sObject & RawService>();
        let slices = new Map<string, K8sObject & RawEndpointSlice>();
        let prev = new Map<string, unknown>();
        for (const ops of steps) {
          const touched = new Set<string>();
          let reordered = false;
          for (const o of ops) {
            if (o.kind === 'upsert') {
              const key = `${o.obj.svc.metadata!.namespace}/${o.obj.svc.metadata!.name}`;
              touched.add(key);
              if (o.touch !== 'slice' || !services.has(key)) services.set(key, speakerService(o.obj.svc));
              if (o.touch !== 'service' || !slices.has(key)) slices.set(key, speakerEndpointSlice(o.obj.slice));
            } else if (o.kind === 'delete') {
              const key = `${o.namespace}/${o.name}`;
              touched.add(key);
              services.delete(key);
              slices.delete(key);
            } else {
              // The same objects in another order (a cache rebuilt): correct still, remembered no more.
              reordered = true;
              const order = <T>(m: Map<string, T>) => new Map([...m].sort((a, b) => ((a[0] < b[0]) !== (o.seed % 2 === 0) ? -1 : 1)));
              services = order(services);
              slices = order(slices);
            }
          }
          const input = { nodeName: 'n1', config, services: [...services.values()], endpointSlices: [...slices.values()], nodes };
          const snap = builder.build(input);
          assert.deepEqual(snap, buildSnapshot(input));
          if (!reordered) for (const info of snap.services) if (!touched.has(info.key) && prev.has(info.key)) assert.equal(info, prev.get(info.key), `${info.key} kept`);
          prev = new Map(snap.services.map((x) => [x.key, x]));
        }
      }),
      { numRuns: 300 },
    );
  });
});
