// The server through @kubernetes/client-node 1.4.0: typed and custom-object clients,
// informers (list + watch), and informers riding through injected faults: closed
// watches, compacted history (410 → relist), failing and slow requests.
import assert from 'node:assert/strict';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type ObjectCache,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { eventually, request, startHarness, svc, type Harness } from './harness.js';

describe('apiserver: client-node', function () {
  let h: Harness;
  let kc: KubeConfig;
  let core: CoreV1Api;
  const informers: (Informer<V1ConfigMap> & ObjectCache<V1ConfigMap>)[] = [];

  before(async () => {
    h = await startHarness();
    kc = new KubeConfig();
    kc.loadFromString(h.api.kubeconfig('admin'));
    core = kc.makeApiClient(CoreV1Api);
  });
  afterEach(async () => {
    h.api.faults.clear();
    for (const i of informers.splice(0)) await i.stop();
  });
  after(async () => {
    await h.close();
  });

  async function status(p: Promise<unknown>): Promise<number> {
    try {
      await p;
      return 200;
    } catch (e) {
      if (e instanceof ApiException) return e.code;
      throw e;
    }
  }

  it('creates, reads, patches and deletes through CoreV1Api', async () => {
    const created = await core.createNamespacedService({ namespace: 'default', body: svc('cn', { type: 'LoadBalancer' }) });
    assert.ok(created.spec?.clusterIP);
    assert.ok(created.spec?.ports?.[0]?.nodePort);
    const patched = await core.patchNamespacedServiceStatus(
      { name: 'cn', namespace: 'default', body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP' }] } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.equal(patched.status?.loadBalancer?.ingress?.[0]?.ip, '192.0.2.10');
    const read = await core.readNamespacedService({ name: 'cn', namespace: 'default' });
    assert.equal(read.metadata?.resourceVersion, patched.metadata?.resourceVersion);
    const list = await core.listNamespacedService({ namespace: 'default', labelSelector: 'nothing=here' });
    assert.equal(list.items.length, 0);
    await core.deleteNamespacedService({ name: 'cn', namespace: 'default' });
    assert.equal(await status(core.readNamespacedService({ name: 'cn', namespace: 'default' })), 404);
  });

  it('applies server-side and works with CustomObjectsApi', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const body = { apiVersion: 'herald.dev/v1beta1', kind: 'IPAddressPool', metadata: { name: 'ssa' }, spec: { addresses: ['192.0.2.0/28'], avoidBuggyIPs: true } };
    const created = (await custom.patchNamespacedCustomObject(
      { group: 'herald.dev', version: 'v1beta1', namespace: 'herald-system', plural: 'ipaddresspools', name: 'ssa', body, fieldManager: 'test', force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    )) as { metadata: { generation: number }; spec: Record<string, unknown> };
    assert.equal(created.metadata.generation, 1);
    assert.equal(created.spec.autoAssign, true);
    const reapplied = (await custom.patchNamespacedCustomObject(
      { group: 'herald.dev', version: 'v1beta1', namespace: 'herald-system', plural: 'ipaddresspools', name: 'ssa', body: { ...body, spec: { addresses: ['192.0.2.0/27'] } }, fieldManager: 'test', force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    )) as { metadata: { generation: number }; spec: Record<string, unknown> };
    assert.deepEqual(reapplied.spec.addresses, ['192.0.2.0/27']);
    assert.equal(reapplied.spec.avoidBuggyIPs, false, 'a field the manager stopped applying is removed (and defaulted again)');
    assert.equal(reapplied.metadata.generation, 2);
    const listed = (await custom.listNamespacedCustomObject({ group: 'herald.dev', version: 'v1beta1', namespace: 'herald-system', plural: 'ipaddresspools' })) as { items: unknown[] };
    assert.ok(listed.items.length >= 1);
  });

  function informer(ns: string, onList?: () => void): Informer<V1ConfigMap> & ObjectCache<V1ConfigMap> {
    const inf = makeInformer(kc, `/api/v1/namespaces/${ns}/configmaps`, () => {
      onList?.();
      return core.listNamespacedConfigMap({ namespace: ns });
    });
    informers.push(inf);
    return inf;
  }

  async function ns(name: string): Promise<void> {
    await request(h.api, 'POST', '/api/v1/namespaces', { body: { metadata: { name } } });
  }

  const cm = (namespace: string, name: string, data: Record<string, string> = {}) => core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data } });

  it('keeps an informer cache in step with adds, updates and deletes', async () => {
    await ns('inf');
    await cm('inf', 'pre');
    const inf = informer('inf');
    const seen: string[] = [];
    inf.on('add', (o) => seen.push(`add:${o.metadata?.name}`));
    inf.on('update', (o) => seen.push(`update:${o.metadata?.name}`));
    inf.on('delete', (o) => seen.push(`delete:${o.metadata?.name}`));
    await inf.start();
    await eventually(() => seen.includes('add:pre'), 'initial list');
    await cm('inf', 'a');
    await core.patchNamespacedConfigMap({ name: 'a', namespace: 'inf', body: { data: { k: 'v' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.deleteNamespacedConfigMap({ name: 'pre', namespace: 'inf' });
    await eventually(() => seen.includes('delete:pre') && seen.includes('update:a'), 'watch events');
    assert.deepEqual(seen, ['add:pre', 'add:a', 'update:a', 'delete:pre']);
    assert.equal(inf.get('a', 'inf')?.data?.k, 'v');
    assert.equal(inf.list('inf').length, 1);
  });

  it('reconnects after closed watches without relisting, and relists after a 410', async () => {
    await ns('flaky');
    let lists = 0;
    const inf = informer('flaky', () => lists++);
    let connects = 0;
    inf.on('connect', () => connects++);
    await inf.start();
    await eventually(() => connects >= 1 && lists === 1, 'started');
    await cm('flaky', 'one');
    await eventually(() => inf.get('one', 'flaky') !== undefined, 'first object');
    h.api.faults.closeWatches({ resource: 'configmaps', namespace: 'flaky' });
    await eventually(() => connects >= 2, 'reconnect');
    await cm('flaky', 'two');
    await eventually(() => inf.get('two', 'flaky') !== undefined, 'object after reconnect');
    assert.equal(lists, 1, 'a closed watch resumes from its resourceVersion');

    h.api.faults.compact();
    await core.deleteNamespacedConfigMap({ name: 'one', namespace: 'flaky' });
    await eventually(() => inf.get('one', 'flaky') === undefined, 'delete seen live');
    h.api.faults.compact();
    h.api.faults.closeWatches();
    await eventually(() => lists === 2, 'relist after 410');
    await cm('flaky', 'three');
    await eventually(() => inf.get('three', 'flaky') !== undefined, 'watching again after relist');
    assert.deepEqual(inf.list('flaky').map((o) => o.metadata?.name).sort(), ['three', 'two']);
  });

  it('fails the next requests with the injected status, then recovers', async () => {
    h.api.faults.failNext(2, 500, { verb: 'list', resource: 'configmaps' });
    assert.equal(await status(core.listNamespacedConfigMap({ namespace: 'default' })), 500);
    assert.equal(await status(core.listNamespacedConfigMap({ namespace: 'default' })), 500);
    assert.equal(await status(core.listNamespacedConfigMap({ namespace: 'default' })), 200);
    h.api.faults.failNext(1, 429);
    try {
      await core.listNamespacedConfigMap({ namespace: 'default' });
      assert.fail('expected 429');
    } catch (e) {
      assert.ok(e instanceof ApiException);
      assert.equal(e.code, 429);
      assert.equal(e.headers['retry-after'], '1');
    }
    await cm('default', 'conflicted');
    h.api.faults.failNext(1, 409, { verb: 'patch' });
    const patch = () => core.patchNamespacedConfigMap({ name: 'conflicted', namespace: 'default', body: { data: { a: 'b' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    assert.equal(await status(patch()), 409);
    assert.equal(await status(patch()), 200);
    h.api.faults.failNext(1, 503, { resource: 'services' });
    assert.equal(await status(core.listNamespacedConfigMap({ namespace: 'default' })), 200, 'other resources unaffected');
    assert.equal(await status(core.listNamespacedService({ namespace: 'default' })), 503);
  });

  it('delays matching requests', async () => {
    h.api.faults.latency(300, { verb: 'get' });
    const t0 = Date.now();
    await core.readNamespace({ name: 'default' });
    assert.ok(Date.now() - t0 >= 290, 'slowed');
    const t1 = Date.now();
    await core.listNamespace();
    assert.ok(Date.now() - t1 < 250, 'list not slowed');
    h.api.faults.clear();
    const t2 = Date.now();
    await core.readNamespace({ name: 'default' });
    assert.ok(Date.now() - t2 < 250, 'cleared');
  });
});
