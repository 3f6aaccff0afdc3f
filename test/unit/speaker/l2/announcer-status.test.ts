import assert from 'node:assert/strict';
import { FakeClock } from '../../../../shared/k8s/clock.js';
import { ApiError } from '../../../../shared/k8s/errors.js';
import { silentLogger } from '../../../../shared/log.js';
import { l2LabelValue, l2StatusCached, l2StatusName, l2StatusObject, L2StatusSync, nodeOwner, statusActions } from '../../../../speaker/l2/status.js';
import { RecordingWriter } from './responder-fakes.js';

const obj = (node: string, interfaces: string[] = ['eth0']) =>
  l2StatusObject({ namespace: 'herald-system', node, serviceNamespace: 'default', serviceName: 'web', ipText: '192.0.2.200', interfaces });

describe('speaker/l2/status', () => {
  it('builds one ServiceL2Status per (Service, IP, node) with the labels a speaker lists by', () => {
    const o = l2StatusObject({
      namespace: 'herald-system',
      node: 'hl-node1',
      serviceNamespace: 'default',
      serviceName: 'web',
      ipText: '2001:db8:0:2::200',
      interfaces: ['eth1', 'eth0'],
      owner: { apiVersion: 'v1', kind: 'Node', name: 'hl-node1', uid: 'u1' },
    });
    assert.equal(o.kind, 'ServiceL2Status');
    assert.match(o.metadata.name, /^web-2001-db8-0-2-200-[0-9a-f]{10}$/);
    assert.deepEqual(o.metadata.labels, { 'herald.dev/node': 'hl-node1', 'herald.dev/service-name': 'web', 'herald.dev/service-namespace': 'default' });
    assert.deepEqual(o.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'hl-node1', uid: 'u1' }]);
    assert.deepEqual(o.status, {
      node: 'hl-node1',
      serviceName: 'web',
      serviceNamespace: 'default',
      ip: '2001:db8:0:2::200',
      interfaces: [{ name: 'eth0' }, { name: 'eth1' }],
    });
  });

  it('names are valid, short, and distinct where the parts run together', () => {
    const a = l2StatusName('a-b', 'c', '192.0.2.1', 'n1');
    const b = l2StatusName('a', 'b-c', '192.0.2.1', 'n1');
    assert.notEqual(a, b);
    assert.notEqual(l2StatusName('a', 'b', '192.0.2.1', 'n1'), l2StatusName('a', 'b', '192.0.2.1', 'n2'));
    const long = l2StatusName('ns', 'x'.repeat(200), '2001:db8::1', 'n'.repeat(200));
    assert.ok(long.length <= 63 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(long), long);
    assert.equal(l2LabelValue('hl-node1'), 'hl-node1');
    const lv = l2LabelValue('node.'.repeat(30));
    assert.ok(lv.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(lv), lv);
    assert.equal(nodeOwner({ metadata: { name: 'n1' } }), undefined, 'no uid, no owner');
  });

  it('writes each wish once, skips identical ones, and the newest wish wins', async () => {
    const writer = new RecordingWriter();
    const sync = new L2StatusSync({ writer, namespace: 'herald-system', log: silentLogger(), clock: new FakeClock(), concurrency: 1 });
    sync.put(obj('n1'));
    sync.put(obj('n1'));
    await sync.idle();
    sync.put(obj('n1'));
    await sync.idle();
    assert.equal(writer.calls.length, 1, 'identical writes are skipped');
    sync.put(obj('n1', ['eth1'])); // in flight at once
    sync.put(obj('n1', ['eth2'])); // waits for it…
    sync.remove(obj('n1').metadata.name); // …and is replaced by this
    await sync.idle();
    assert.deepEqual(
      writer.calls.slice(1).map((c) => c.replace(/ \{.*"interfaces":\[\{"name":"(\w+)"\}\]\}$/, ' $1')),
      [`apply ${obj('n1').metadata.name} eth1`, `delete ${obj('n1').metadata.name}`],
      'the put still waiting was replaced by the delete',
    );
    sync.remove(obj('n1').metadata.name);
    await sync.idle();
    assert.equal(writer.calls.length, 3, 'deleting what is known absent is skipped');
    sync.forget();
    sync.remove(obj('n1').metadata.name);
    await sync.idle();
    assert.equal(writer.calls.length, 4, 'after forget() it is written again');
  });

  it('retries failed writes with backoff, conflicts at once', async () => {
    const clock = new FakeClock();
    const writer = new RecordingWriter();
    const sync = new L2StatusSync({ writer, namespace: 'herald-system', log: silentLogger(), clock, retryMs: 100 });
    writer.failNext = [new ApiError('ServerError', 503, 'down'), new ApiError('ServerError', 503, 'down')];
    sync.put(obj('n1'));
    await clock.advance(0);
    assert.equal(writer.calls.length, 1);
    await clock.advance(99);
    assert.equal(writer.calls.length, 1, 'first retry after 100 ms');
    await clock.advance(1);
    assert.equal(writer.calls.length, 2);
    await clock.advance(200);
    assert.equal(writer.calls.length, 3, 'second after 200 more');
    await sync.idle();
    writer.failNext = [new ApiError('Conflict', 409, 'changed')];
    sync.put(obj('n1', ['eth9']));
    await clock.advance(0);
    await clock.advance(0);
    assert.equal(writer.calls.length, 5, 'a conflict is retried at once');
    await sync.close();
  });

  describe('statusActions', () => {
    const o = (node: string, svc: string, ip: string, interfaces = ['eth0']) =>
      l2StatusObject({ namespace: 'herald-system', node, serviceNamespace: 'default', serviceName: svc, ipText: ip, interfaces });
    const names = (xs: { metadata: { name: string } }[]) => xs.map((x) => x.metadata.name).sort();
    const LIVE = new Set(['n1', 'n2']);

    it('writes what is missing or different, and nothing that already agrees', () => {
      const a = o('n1', 'a', '192.0.2.200');
      const b = o('n1', 'b', '192.0.2.201');
      const c = o('n1', 'c', '192.0.2.202');
      const r = statusActions({
        desired: [a, b, c],
        cached: [structuredClone(a), { ...structuredClone(b), status: { ...b.status, interfaces: [{ name: 'eth1' }] } }],
        self: 'n1',
        live: LIVE,
        announced: new Set(['192.0.2.200', '192.0.2.201', '192.0.2.202']),
      });
      assert.deepEqual(names(r.put), names([b, c]));
      assert.deepEqual(r.remove, []);
    });

    it('a label someone removed, or a key order the API server chose, is judged by content', () => {
      const a = o('n1', 'a', '192.0.2.200');
      const reordered = structuredClone(a);
      reordered.status = Object.fromEntries(Object.entries(a.status as object).reverse());
      const unlabelled = structuredClone(a);
      unlabelled.metadata.labels = {};
      const args = { desired: [a], self: 'n1', live: LIVE, announced: new Set(['192.0.2.200']) };
      assert.deepEqual(statusActions({ ...args, cached: [reordered] }).put, []);
      assert.deepEqual(names(statusActions({ ...args, cached: [unlabelled] }).put), names([a]));
    });

    it('deletes its own objects it no longer wants (after a restart too), never a live peer\'s', () => {
      const mineOld = o('n1', 'old', '192.0.2.210');
      const peers = o('n2', 'p', '192.0.2.211');
      const r = statusActions({ desired: [], cached: [mineOld, peers], self: 'n1', live: LIVE, announced: new Set() });
      assert.deepEqual(r.remove, [mineOld.metadata.name]);
    });

    it('deletes the object of a peer that is not live for an IP this node now announces, only that', () => {
      const dead = o('n3', 'a', '192.0.2.200');
      const deadElsewhere = o('n3', 'z', '192.0.2.220');
      const livePeer = o('n2', 'a', '192.0.2.200');
      const mine = o('n1', 'a', '192.0.2.200');
      const r = statusActions({ desired: [mine], cached: [dead, deadElsewhere, livePeer, mine], self: 'n1', live: LIVE, announced: new Set(['192.0.2.200']) });
      assert.deepEqual(r.remove, [dead.metadata.name], 'not a live peer\'s (it has its own view), not an IP this node does not hold');
      assert.deepEqual(r.put, []);
    });

    it('the cached form (the informer transform) drops what the API server adds and decides the same', () => {
      const mine = { ...o('n1', 'a', '192.0.2.200'), spec: {} };
      const served = structuredClone(mine);
      Object.assign(served.metadata, { uid: 'u', resourceVersion: '42', creationTimestamp: '2026-01-01T00:00:00Z', generation: 1, annotations: { x: 'y' } });
      const cached = l2StatusCached(served);
      assert.deepEqual(Object.keys(cached.metadata).sort(), ['labels', 'name', 'namespace', 'resourceVersion']);
      assert.equal(cached.spec, undefined);
      assert.deepEqual(cached.status, mine.status);
      const args = { desired: [o('n1', 'a', '192.0.2.200')], self: 'n1', live: LIVE, announced: new Set(['192.0.2.200']) };
      assert.deepEqual(statusActions({ ...args, cached: [cached] }), statusActions({ ...args, cached: [served] }));
      assert.deepEqual(statusActions({ ...args, cached: [cached] }), { put: [], remove: [] });
    });
  });
});
