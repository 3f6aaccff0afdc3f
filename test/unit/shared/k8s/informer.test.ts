// The informer's list/watch loop against a scripted API (paged lists, watch streams the
// test feeds by hand) on a fake clock. The embedded API server covers the same loop over
// HTTP in test/integration/k8s/informer.test.ts.
import { strict as assert } from 'node:assert';
import type { KubeClient } from '../../../../shared/k8s/client.js';
import { FakeClock } from '../../../../shared/k8s/clock.js';
import { ApiError } from '../../../../shared/k8s/errors.js';
import { createInformer, type InformerEvent, type K8sObject } from '../../../../shared/k8s/informer.js';
import { SERVICES } from '../../../../shared/k8s/resources.js';
import type { Query, RequestOptions, RestClient } from '../../../../shared/k8s/rest.js';
import type { WatchCallback, Watcher } from '../../../../shared/k8s/watch.js';

const svc = (name: string, rv: string, extra: Record<string, unknown> = {}): K8sObject =>
  ({ metadata: { namespace: 'ns', name, resourceVersion: rv, managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }], ...extra } }) as K8sObject;

interface OpenWatch {
  query: Query;
  send(type: string, obj: unknown): void;
  end(err?: unknown): void;
  aborted(): boolean;
}

class FakeWatcher implements Watcher {
  readonly opened: OpenWatch[] = [];
  refuse: unknown[] = [];
  async watch<O>(_path: string, query: Query, callback: WatchCallback<O>, done: (err: unknown) => void): Promise<AbortController> {
    const ctl = new AbortController();
    const refusal = this.refuse.shift();
    if (refusal) {
      done(refusal);
      ctl.abort();
      return ctl;
    }
    let ended = false;
    const end = (err: unknown = null): void => {
      if (ended) return;
      ended = true;
      done(err);
    };
    ctl.signal.addEventListener('abort', () => end(new Error('aborted')));
    this.opened.push({ query, send: (t, o) => !ended && callback(t, o as O, { type: t, object: o }), end, aborted: () => ctl.signal.aborted });
    return ctl;
  }
  get last(): OpenWatch {
    const w = this.opened[this.opened.length - 1];
    assert.ok(w, 'a watch is open');
    return w;
  }
}

/** A list endpoint serving `items` in pages, numbered by continue token; records the queries. */
class ListRest implements RestClient {
  readonly server = 'http://fake';
  readonly queries: Query[] = [];
  constructor(
    private readonly items: () => K8sObject[],
    private readonly rv: () => string,
  ) {}
  async request<T>(_method: string, _path: string, o: RequestOptions = {}): Promise<T> {
    const q = o.query ?? {};
    this.queries.push(q);
    const limit = Number(q.limit ?? 0);
    const from = Number(q.continue ?? 0);
    const all = this.items();
    const to = limit ? Math.min(all.length, from + limit) : all.length;
    return { metadata: { resourceVersion: this.rv(), ...(to < all.length ? { continue: String(to) } : {}) }, items: structuredClone(all.slice(from, to)) } as T;
  }
  close(): void {}
}

function setup(items: () => K8sObject[], rv: () => string, pageSize?: number) {
  const clock = new FakeClock();
  const rest = new ListRest(items, rv);
  const watcher = new FakeWatcher();
  const client = { kc: { getCurrentCluster: () => null, getCurrentUser: () => null }, rest, watch: watcher, close: () => undefined } as KubeClient;
  const inf = createInformer<K8sObject>(client, {
    resource: SERVICES,
    clock,
    rand: () => 0.5,
    backoff: { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0 },
    ...(pageSize !== undefined ? { pageSize } : {}),
  });
  const events: InformerEvent<K8sObject>[] = [];
  inf.subscribe((e) => events.push(e));
  return { clock, rest, watcher, inf, events, lists: () => rest.queries.filter((q) => q.continue === undefined).length };
}

describe('informer (scripted API)', () => {
  it('lists in pages and watches from the list resourceVersion; managedFields never reach the cache', async () => {
    const items = ['a', 'b', 'c', 'd', 'e'].map((n) => svc(n, '10'));
    const t = setup(() => items, () => '42', 2);
    t.inf.start();
    await t.clock.advance(0);
    await t.inf.synced;
    assert.deepEqual(t.rest.queries.map((q) => [q?.limit, q?.continue]), [[2, undefined], [2, '2'], [2, '4']]);
    assert.deepEqual(t.inf.list().map((o) => o.metadata?.name), ['a', 'b', 'c', 'd', 'e']);
    assert.equal(t.watcher.last.query.resourceVersion, '42');
    assert.equal(t.watcher.last.query.allowWatchBookmarks, true);
    t.watcher.last.send('ADDED', svc('f', '43'));
    for (const o of t.inf.list()) assert.ok(o.metadata && !('managedFields' in o.metadata), `${o.metadata?.name} has no managedFields`);
    assert.equal(t.inf.get('a', 'ns')?.kind, 'Service', 'list items get their kind');
    assert.equal(t.events.length, 6);
  });

  it('resumes from the last event or bookmark after the server ends the watch, without relisting', async () => {
    const t = setup(() => [svc('a', '5')], () => '5');
    t.inf.start();
    await t.clock.advance(0);
    t.watcher.last.send('MODIFIED', svc('a', '6'));
    t.watcher.last.send('BOOKMARK', { metadata: { resourceVersion: '9' } });
    await t.clock.advance(300_000);
    t.watcher.last.end();
    await t.clock.advance(0);
    assert.equal(t.watcher.opened.length, 2);
    assert.equal(t.watcher.last.query.resourceVersion, '9');
    assert.equal(t.lists(), 1);
    assert.deepEqual(t.events.map((e) => e.type), ['add', 'update']);
  });

  it('relists after an ERROR 410 event, delivering the deletes the watch missed', async () => {
    let items = [svc('keep', '1'), svc('gone', '1')];
    let rv = '1';
    const t = setup(() => items, () => rv);
    t.inf.start();
    await t.clock.advance(0);
    items = [svc('keep', '7')];
    rv = '8';
    t.watcher.last.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    t.watcher.last.end();
    await t.clock.advance(0);
    assert.equal(t.lists(), 2);
    assert.equal(t.watcher.last.query.resourceVersion, '8');
    assert.deepEqual(t.events.map((e) => `${e.type} ${e.key}`), ['add ns/keep', 'add ns/gone', 'delete ns/gone', 'update ns/keep']);
    assert.equal(t.inf.stats().errors, 0, 'a 410 is not a failure');
  });

  it('backs off after another ERROR event or a refused watch, then resumes from where it was', async () => {
    const t = setup(() => [svc('a', '3')], () => '3');
    t.inf.start();
    await t.clock.advance(0);
    t.watcher.refuse.push(new ApiError('TooManyRequests', 429, 'slow down'));
    t.watcher.last.send('ERROR', { kind: 'Status', code: 500, message: 'etcd is sad' });
    t.watcher.last.send('ADDED', svc('ignored-after-error', '4'));
    t.watcher.last.end();
    await t.clock.advance(99);
    assert.equal(t.watcher.opened.length, 1, 'no new watch before the backoff');
    await t.clock.advance(1);
    // The 429 refusal comes next: backoff doubles.
    await t.clock.advance(199);
    assert.equal(t.watcher.opened.length, 1);
    await t.clock.advance(1);
    assert.equal(t.watcher.opened.length, 2);
    assert.equal(t.watcher.last.query.resourceVersion, '3');
    assert.equal(t.inf.get('ignored-after-error', 'ns'), undefined);
    assert.equal(t.inf.stats().errors, 2);
    assert.equal(t.lists(), 1);
  });

  it('does not spin on a server that ends every watch at once', async () => {
    const t = setup(() => [], () => '1');
    t.inf.start();
    await t.clock.advance(0);
    for (let i = 0; i < 5; i++) {
      t.watcher.last.end();
      await t.clock.advance(10);
    }
    assert.ok(t.watcher.opened.length <= 2, `${t.watcher.opened.length} watches in 50 ms`);
    await t.clock.advance(10_000);
    t.watcher.last.end();
    await t.clock.advance(0);
    const n = t.watcher.opened.length;
    await t.clock.advance(0);
    assert.equal(t.watcher.opened.length, n, 'a watch that lasted is resumed at once, once');
  });

  it('aborts a watch that outlives its timeout by 30 s and opens a new one at once', async () => {
    const t = setup(() => [], () => '1');
    t.inf.start();
    await t.clock.advance(0);
    const first = t.watcher.last;
    const timeout = Number(first.query.timeoutSeconds);
    assert.ok(timeout >= 300 && timeout <= 600);
    await t.clock.advance((timeout + 30) * 1000);
    assert.equal(first.aborted(), true);
    assert.equal(t.watcher.opened.length, 2);
    assert.equal(t.inf.stats().watching, true);
  });
});
