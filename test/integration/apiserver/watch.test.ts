// Watch streams over raw HTTPS: resuming from a resourceVersion, initial state,
// selectors and their transitions, bookmarks, timeouts, 410 after compaction.
import assert from 'node:assert/strict';
import { request, startHarness, svc, watch, type Harness } from './harness.js';

const CM = '/api/v1/namespaces/default/configmaps';

describe('apiserver: watch', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness({ bookmarkIntervalMs: 100 });
  });
  after(async () => {
    await h.close();
  });

  it('streams ADDED, MODIFIED and DELETED from a list resourceVersion', async () => {
    const list = await request(h.api, 'GET', CM);
    const w = await watch(h.api, `${CM}?watch=true&resourceVersion=${list.body.metadata.resourceVersion}`);
    assert.equal(w.status, 200);
    await request(h.api, 'POST', CM, { body: { metadata: { name: 'w1' }, data: { a: '1' } } });
    await request(h.api, 'PATCH', `${CM}/w1`, { body: { data: { a: '2' } }, contentType: 'application/merge-patch+json' });
    const del = await request(h.api, 'DELETE', `${CM}/w1`);
    const ev = await w.next(3);
    w.close();
    assert.deepEqual(ev.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
    assert.equal(ev[1]?.object.data.a, '2');
    assert.equal(ev[2]?.object.metadata.resourceVersion, del.body.metadata.resourceVersion, 'DELETED carries the deletion revision');
    assert.ok(Number(ev[2]?.object.metadata.resourceVersion) > Number(ev[1]?.object.metadata.resourceVersion));
  });

  it('replays history after the given resourceVersion, and sends the initial state without one', async () => {
    const a = await request(h.api, 'POST', CM, { body: { metadata: { name: 'h1' } } });
    await request(h.api, 'POST', CM, { body: { metadata: { name: 'h2' } } });
    const w = await watch(h.api, `${CM}?watch=true&resourceVersion=${a.body.metadata.resourceVersion}`);
    const [e] = await w.next(1);
    w.close();
    assert.equal(e?.type, 'ADDED');
    assert.equal(e?.object.metadata.name, 'h2');
    const fresh = await watch(h.api, `${CM}?watch=1&fieldSelector=metadata.name%3Dh1`);
    const [init] = await fresh.next(1);
    fresh.close();
    assert.equal(init?.type, 'ADDED');
    assert.equal(init?.object.metadata.name, 'h1');
  });

  it('turns selector transitions into ADDED and DELETED for that watch', async () => {
    const rv = (await request(h.api, 'GET', CM)).body.metadata.resourceVersion;
    const w = await watch(h.api, `${CM}?watch=true&resourceVersion=${rv}&labelSelector=team%3Dblue`);
    await request(h.api, 'POST', CM, { body: { metadata: { name: 'sel', labels: { team: 'red' } } } });
    await request(h.api, 'PATCH', `${CM}/sel`, { body: { metadata: { labels: { team: 'blue' } } }, contentType: 'application/merge-patch+json' });
    await request(h.api, 'PATCH', `${CM}/sel`, { body: { data: { x: 'y' } }, contentType: 'application/merge-patch+json' });
    await request(h.api, 'PATCH', `${CM}/sel`, { body: { metadata: { labels: { team: 'red' } } }, contentType: 'application/merge-patch+json' });
    const ev = await w.next(3);
    w.close();
    assert.deepEqual(ev.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
  });

  it('only shows the watched namespace', async () => {
    await request(h.api, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'other' } } });
    const rv = (await request(h.api, 'GET', CM)).body.metadata.resourceVersion;
    const w = await watch(h.api, `${CM}?watch=true&resourceVersion=${rv}`);
    const all = await watch(h.api, `/api/v1/configmaps?watch=true&resourceVersion=${rv}`);
    await request(h.api, 'POST', '/api/v1/namespaces/other/configmaps', { body: { metadata: { name: 'elsewhere' } } });
    await request(h.api, 'POST', CM, { body: { metadata: { name: 'here' } } });
    const [e] = await w.next(1);
    const both = await all.next(2);
    w.close();
    all.close();
    assert.equal(e?.object.metadata.name, 'here');
    assert.deepEqual(both.map((x) => x.object.metadata.name), ['elsewhere', 'here']);
  });

  it('sends BOOKMARKs when allowed and ends at timeoutSeconds', async () => {
    const rv = (await request(h.api, 'GET', CM)).body.metadata.resourceVersion;
    const w = await watch(h.api, `${CM}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=1`);
    const [b] = await w.next(1);
    assert.equal(b?.type, 'BOOKMARK');
    assert.equal(b?.object.kind, 'ConfigMap');
    assert.ok(Number(b?.object.metadata.resourceVersion) >= Number(rv));
    await w.done(3000);
    const plain = await watch(h.api, `${CM}?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
    await plain.done(3000);
    assert.equal(plain.events.length, 0, 'no bookmarks unless asked');
  });

  it('marks the end of initial events with sendInitialEvents', async () => {
    const w = await watch(h.api, `${CM}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dhere`);
    const ev = await w.next(2);
    w.close();
    assert.equal(ev[0]?.type, 'ADDED');
    assert.equal(ev[1]?.type, 'BOOKMARK');
    assert.equal(ev[1]?.object.metadata.annotations['k8s.io/initial-events-end'], 'true');
  });

  it('answers a resourceVersion older than the history with an ERROR 410 event and closes', async () => {
    const rv = (await request(h.api, 'GET', CM)).body.metadata.resourceVersion;
    h.api.faults.compact();
    const w = await watch(h.api, `${CM}?watch=true&resourceVersion=${rv}`);
    const [e] = await w.next(1);
    await w.done();
    assert.equal(w.status, 200);
    assert.equal(e?.type, 'ERROR');
    assert.equal(e?.object.kind, 'Status');
    assert.equal(e?.object.code, 410);
    assert.equal(e?.object.reason, 'Expired');
    const now = (await request(h.api, 'GET', CM)).body.metadata.resourceVersion;
    const ok = await watch(h.api, `${CM}?watch=true&resourceVersion=${now}`);
    await request(h.api, 'POST', CM, { body: { metadata: { name: 'after-compact' } } });
    const [a] = await ok.next(1);
    ok.close();
    assert.equal(a?.object.metadata.name, 'after-compact');
  });

  it('expires history beyond historyLimit', async () => {
    const small = await startHarness({ historyLimit: 3 });
    try {
      const rv = (await request(small.api, 'GET', CM)).body.metadata.resourceVersion;
      for (let i = 0; i < 5; i++) await request(small.api, 'POST', CM, { body: { metadata: { name: `x${i}` } } });
      const w = await watch(small.api, `${CM}?watch=true&resourceVersion=${rv}`);
      const [e] = await w.next(1);
      await w.done();
      assert.equal(e?.object.code, 410);
    } finally {
      await small.close();
    }
  });

  it('streams table rows when asked for tables', async () => {
    const rv = (await request(h.api, 'GET', '/api/v1/namespaces/default/services')).body.metadata.resourceVersion;
    const w = await watch(h.api, `/api/v1/namespaces/default/services?watch=true&resourceVersion=${rv}`, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    await request(h.api, 'POST', '/api/v1/namespaces/default/services', { body: svc('tw') });
    const [e] = await w.next(1);
    w.close();
    assert.equal(e?.object.kind, 'Table');
    assert.equal(e?.object.rows[0].cells[0], 'tw');
  });
});
