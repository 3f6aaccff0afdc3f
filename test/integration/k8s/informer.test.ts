// The informer against the embedded API server, including its failure modes: dropped
// watches, 410 after compaction, failing lists and watches.
import { strict as assert } from 'node:assert';
import { KubeConfig } from '../../../shared/k8s/kubeconfig.js';
import { createKubeClient, type KubeClient } from '../../../shared/k8s/client.js';
import { FakeClock } from '../../../shared/k8s/clock.js';
import { createInformer, type Informer, type InformerEvent, type K8sObject } from '../../../shared/k8s/informer.js';
import type { IPAddressPool } from '../../../shared/api/types.js';
import { collectionPath, heraldResource, NAMESPACES, objectPath, SECRETS, SERVICES, type ResourceType } from '../../../shared/k8s/resources.js';
import { MERGE_PATCH } from '../../../shared/k8s/rest.js';
import { clientFor, createService, ensureNamespace, sleep, startServer, waitFor, type ApiServer } from './harness.js';

const FAST = { initialMs: 20, maxMs: 200, factor: 2, jitter: 0.1 };

describe('informer (embedded API server)', function () {
  let api: ApiServer;
  let admin: KubeClient;
  let ns: string;
  let n = 0;
  const cleanup: (() => Promise<void> | void)[] = [];

  before(async () => {
    api = await startServer();
    admin = clientFor(api);
  });
  after(async () => {
    admin.close();
    await api.close();
  });
  beforeEach(async () => {
    ns = `inf-${++n}`;
    await ensureNamespace(admin, ns);
  });
  afterEach(async () => {
    api.faults.clear();
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  function informer<T extends K8sObject = K8sObject>(o: Partial<Parameters<typeof createInformer>[1]> & { resource: ResourceType }, client = admin) {
    const inf = createInformer<T>(client, { backoff: FAST, ...o });
    const events: InformerEvent<T>[] = [];
    inf.subscribe((e) => events.push(e));
    cleanup.push(() => inf.stop());
    inf.start();
    return { inf, events };
  }

  const names = (inf: Informer<K8sObject>) => inf.list().map((o) => o.metadata?.name).sort();
  const typesOf = (events: InformerEvent<K8sObject>[], name: string) => events.filter((e) => e.obj.metadata?.name === name).map((e) => e.type);

  it('lists what exists, then sees adds, updates and deletes', async () => {
    await createService(admin, ns, 'pre');
    const { inf, events } = informer({ resource: SERVICES, namespace: ns });
    await inf.synced;
    assert.equal(inf.hasSynced(), true);
    assert.deepEqual(names(inf), ['pre']);
    const pre = inf.get('pre', ns);
    assert.equal(pre?.kind, 'Service', 'list items carry their kind');
    assert.equal(pre?.apiVersion, 'v1');
    assert.equal(typeof pre?.metadata?.creationTimestamp, 'string', 'plain JSON, not Date');

    await createService(admin, ns, 'web');
    await waitFor(() => inf.get('web', ns) !== undefined, 'web added');
    await admin.rest.request('PATCH', objectPath(SERVICES, ns, 'web'), { body: { metadata: { labels: { tier: 'front' } } }, contentType: MERGE_PATCH });
    await waitFor(() => inf.get('web', ns)?.metadata?.labels?.tier === 'front', 'web updated');
    await admin.rest.request('DELETE', objectPath(SERVICES, ns, 'web'));
    await waitFor(() => inf.get('web', ns) === undefined, 'web deleted');

    assert.deepEqual(typesOf(events, 'pre'), ['add']);
    assert.deepEqual(typesOf(events, 'web'), ['add', 'update', 'delete']);
    const upd = events.find((e) => e.type === 'update');
    assert.equal(upd?.key, `${ns}/web`);
    assert.equal(upd?.old?.metadata?.labels?.tier, undefined, 'update carries the previous object');
    assert.equal(upd?.obj.metadata?.labels?.tier, 'front');
  });

  it('reconnects after the server drops its watches and sees later changes', async () => {
    const { inf, events } = informer({ resource: SERVICES, namespace: ns });
    await inf.synced;
    await waitFor(() => inf.stats().watching, 'the watch is open');
    const before = inf.stats();
    api.faults.closeWatches();
    await sleep(50);
    await createService(admin, ns, 'after-drop');
    await waitFor(() => inf.get('after-drop', ns) !== undefined, 'change after the drop');
    assert.ok(inf.stats().watches > before.watches, 'a new watch was opened');
    assert.equal(inf.stats().lists, before.lists, 'resumed from its resourceVersion without relisting');
    assert.deepEqual(typesOf(events, 'after-drop'), ['add']);
  });

  it('relists after 410 Gone and ends with the right cache, delivering the deletes it missed', async () => {
    await createService(admin, ns, 'keep');
    await createService(admin, ns, 'doomed');
    const { inf, events } = informer({ resource: SERVICES, namespace: ns });
    await inf.synced;
    await waitFor(() => inf.stats().watching, 'the watch is open');
    const listsBefore = inf.stats().lists;
    // Hold the reconnect back while the world changes and history is compacted away.
    api.faults.latency(500, { verb: 'watch' });
    api.faults.closeWatches();
    await sleep(50);
    await admin.rest.request('DELETE', objectPath(SERVICES, ns, 'doomed'));
    await admin.rest.request('PATCH', objectPath(SERVICES, ns, 'keep'), { body: { metadata: { labels: { v: '2' } } }, contentType: MERGE_PATCH });
    await createService(admin, ns, 'born');
    api.faults.compact();
    await waitFor(() => inf.stats().lists > listsBefore && inf.get('born', ns) !== undefined, 'relist after 410', 8_000);
    api.faults.latency(0, { verb: 'watch' });
    assert.deepEqual(names(inf), ['born', 'keep']);
    assert.equal(inf.get('keep', ns)?.metadata?.labels?.v, '2');
    assert.deepEqual(typesOf(events, 'doomed'), ['add', 'delete']);
    assert.deepEqual(typesOf(events, 'keep'), ['add', 'update']);
    assert.deepEqual(typesOf(events, 'born'), ['add']);
    // And it keeps watching afterwards.
    await createService(admin, ns, 'later');
    await waitFor(() => inf.get('later', ns) !== undefined, 'watch after relist');
  });

  it('retries a failing list with backoff until it syncs', async () => {
    await createService(admin, ns, 'a');
    api.faults.failNext(2, 500, { verb: 'list', resource: 'services' });
    const { inf } = informer({ resource: SERVICES, namespace: ns });
    await inf.synced;
    assert.deepEqual(names(inf), ['a']);
    assert.equal(inf.stats().errors, 2);
    assert.equal(inf.stats().lists, 3);
  });

  it('retries a refused watch (429, 503) and catches up', async () => {
    const { inf } = informer({ resource: SERVICES, namespace: ns });
    await inf.synced;
    await waitFor(() => inf.stats().watching, 'the watch is open');
    api.faults.failNext(1, 429, { verb: 'watch', resource: 'services' });
    api.faults.failNext(1, 503, { verb: 'watch', resource: 'services' });
    api.faults.closeWatches();
    await createService(admin, ns, 'during');
    await waitFor(() => inf.get('during', ns) !== undefined, 'catch up after refused watches');
    assert.ok(inf.stats().errors >= 2, `errors: ${inf.stats().errors}`);
  });

  it('keeps retrying while the server is unreachable and does not sync', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'nowhere', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'c', cluster: 'nowhere', user: 'u' }],
      currentContext: 'c',
    });
    const c = createKubeClient(kc);
    const { inf } = informer({ resource: SERVICES, namespace: ns }, c);
    await sleep(400);
    assert.equal(inf.hasSynced(), false);
    assert.ok(inf.stats().errors >= 3, `errors: ${inf.stats().errors}`);
    c.close();
  });

  it('aborts a watch that outlives its server-side timeout (a half-open connection) and resumes', async () => {
    const clock = new FakeClock(Date.now());
    const { inf } = informer({ resource: SERVICES, namespace: ns, clock, watchTimeoutSeconds: [60, 60] });
    await inf.synced;
    await waitFor(() => inf.stats().watching, 'the watch is open');
    const before = inf.stats();
    // The embedded server would end the watch at 60 s of real time; on the informer's
    // clock 90 s pass at once, as if the server's close had been lost.
    await clock.advance(90_000);
    await waitFor(async () => {
      await clock.advance(500);
      return inf.stats().watches > before.watches && inf.stats().watching;
    }, 'a new watch');
    assert.equal(inf.stats().lists, before.lists, 'resumed without relisting');
    await createService(admin, ns, 'after-guard');
    await waitFor(() => inf.get('after-guard', ns) !== undefined, 'change seen on the new watch');
  });

  it('filters by label selector, field selector and name', async () => {
    await createService(admin, ns, 'blue', { color: 'blue' });
    await createService(admin, ns, 'red', { color: 'red' });
    const byLabel = informer({ resource: SERVICES, namespace: ns, labelSelector: 'color=blue' });
    const byName = informer({ resource: SERVICES, namespace: ns, name: 'red' });
    await Promise.all([byLabel.inf.synced, byName.inf.synced]);
    assert.deepEqual(names(byLabel.inf), ['blue']);
    assert.deepEqual(names(byName.inf), ['red']);
    // An object that stops matching is a delete for that informer.
    await admin.rest.request('PATCH', objectPath(SERVICES, ns, 'blue'), { body: { metadata: { labels: { color: 'green' } } }, contentType: MERGE_PATCH });
    await waitFor(() => byLabel.inf.list().length === 0, 'blue left the selector');
    assert.deepEqual(typesOf(byLabel.events, 'blue'), ['add', 'delete']);
  });

  it('watches a namespaced Secret by name, and cluster-scoped Namespaces', async () => {
    await admin.rest.request('POST', collectionPath(SECRETS, ns), { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'memberlist', namespace: ns }, data: { key: 'c2VjcmV0' } } });
    await admin.rest.request('POST', collectionPath(SECRETS, ns), { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'other', namespace: ns }, data: {} } });
    const sec = informer<K8sObject & { data?: Record<string, string> }>({ resource: SECRETS, namespace: ns, name: 'memberlist' });
    const nss = informer({ resource: NAMESPACES });
    await Promise.all([sec.inf.synced, nss.inf.synced]);
    assert.deepEqual(names(sec.inf), ['memberlist']);
    assert.equal(sec.inf.get('memberlist', ns)?.data?.key, 'c2VjcmV0');
    assert.ok(nss.inf.get(ns), 'cluster-scoped get by name alone');
    assert.equal(nss.events.find((e) => e.obj.metadata?.name === ns)?.key, ns);
  });

  it('watches a herald.dev kind (IPAddressPool) in its namespace', async () => {
    const R = heraldResource('IPAddressPool');
    await ensureNamespace(admin, 'herald-system');
    const name = `pool-${ns}`;
    const { inf } = informer<IPAddressPool>({ resource: R, namespace: 'herald-system' });
    await inf.synced;
    await admin.rest.request('POST', collectionPath(R, 'herald-system'), {
      body: { apiVersion: 'herald.dev/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: 'herald-system' }, spec: { addresses: ['192.0.2.200-192.0.2.250'] } },
    });
    await waitFor(() => inf.get(name, 'herald-system') !== undefined, 'the pool');
    assert.deepEqual(inf.get(name, 'herald-system')?.spec.addresses, ['192.0.2.200-192.0.2.250']);
    assert.equal(inf.get(name, 'herald-system')?.spec.autoAssign, true, 'defaults from the CRD schema');
    await admin.rest.request('DELETE', objectPath(R, 'herald-system', name));
    await waitFor(() => inf.get(name, 'herald-system') === undefined, 'pool deleted');
  });

  it('resync re-delivers the cache; replay gives a late subscriber what is cached', async () => {
    await createService(admin, ns, 'a');
    const { inf, events } = informer({ resource: SERVICES, namespace: ns, resyncMs: 150 });
    await inf.synced;
    await waitFor(() => events.some((e) => e.type === 'resync'), 'a resync');
    assert.ok(events.filter((e) => e.type === 'resync').every((e) => e.key === `${ns}/a`));
    const late: string[] = [];
    inf.subscribe((e) => late.push(`${e.type} ${e.key}`), { replay: true });
    assert.equal(late[0], `add ${ns}/a`);
  });

  it('a throwing handler neither breaks the cache nor the other handlers', async () => {
    const { inf, events } = informer({ resource: SERVICES, namespace: ns });
    inf.subscribe(() => {
      throw new Error('handler bug');
    });
    await inf.synced;
    await createService(admin, ns, 'x');
    await createService(admin, ns, 'y');
    await waitFor(() => inf.get('y', ns) !== undefined, 'y');
    assert.deepEqual(events.map((e) => e.obj.metadata?.name), ['x', 'y']);
  });

  it('stops: no more events, and no retry after stop', async () => {
    const { inf, events } = informer({ resource: SERVICES, namespace: ns });
    await inf.synced;
    await inf.stop();
    assert.equal(inf.stats().watching, false);
    await createService(admin, ns, 'unseen');
    await sleep(200);
    assert.equal(events.length, 0);
    assert.equal(inf.get('unseen', ns), undefined);
    assert.equal(inf.stats().watching, false, 'a watch that came up after stop() was closed');
  });
});
