import { strict as assert } from 'node:assert';
import { FakeClock } from '../../../../shared/k8s/clock.js';
import { ApiError } from '../../../../shared/k8s/errors.js';
import { createEventRecorder } from '../../../../shared/k8s/events.js';
import { createLogger } from '../../../../shared/log.js';
import { createMetrics } from '../../../../shared/metrics.js';
import { FakeRest, type Call } from './fake-rest.js';

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'apps', uid: 'u1', resourceVersion: '7' },
};

describe('EventRecorder', () => {
  it('creates a core/v1 Event naming the object, then patches its count on repeats', async () => {
    const clock = new FakeClock(Date.UTC(2025, 5, 1, 12, 0, 0));
    const rest = new FakeRest();
    const rec = createEventRecorder({ rest, component: 'herald-controller', clock });
    rec.event(service, 'Normal', 'IPAllocated', 'Assigned IP ["192.0.2.200"]');
    await rec.flush();
    await clock.advance(30_000);
    rec.event(service, 'Normal', 'IPAllocated', 'Assigned IP ["192.0.2.200"]');
    await rec.flush();

    assert.equal(rest.calls.length, 2);
    const [create, patch] = rest.calls as [Call, Call];
    assert.equal(create.method, 'POST');
    assert.equal(create.path, '/api/v1/namespaces/apps/events');
    const body = create.body as Record<string, unknown> & { metadata: { name: string } };
    assert.match(body.metadata.name, /^web\.[0-9a-f]+$/);
    assert.deepEqual(
      { ...body, metadata: undefined },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: undefined,
        involvedObject: { apiVersion: 'v1', kind: 'Service', namespace: 'apps', name: 'web', uid: 'u1', resourceVersion: '7' },
        reason: 'IPAllocated',
        message: 'Assigned IP ["192.0.2.200"]',
        type: 'Normal',
        count: 1,
        firstTimestamp: '2025-06-01T12:00:00Z',
        lastTimestamp: '2025-06-01T12:00:00Z',
        source: { component: 'herald-controller' },
        reportingComponent: 'herald-controller',
        reportingInstance: '',
      },
    );
    assert.equal(patch.method, 'PATCH');
    assert.equal(patch.path, `/api/v1/namespaces/apps/events/${body.metadata.name}`);
    assert.equal(patch.contentType, 'application/merge-patch+json');
    assert.deepEqual(patch.body, { count: 2, lastTimestamp: '2025-06-01T12:00:30Z' });
  });

  it('creates a fresh Event when the counted one has gone', async () => {
    const clock = new FakeClock();
    const rest = new FakeRest((c) => {
      if (c.method === 'PATCH') throw new ApiError('NotFound', 404, 'gone');
      return {};
    });
    const rec = createEventRecorder({ rest, component: 'c', clock });
    rec.event(service, 'Warning', 'AllocationFailed', 'no pool');
    rec.event(service, 'Warning', 'AllocationFailed', 'no pool');
    await rec.flush();
    assert.deepEqual(
      rest.calls.map((c) => c.method),
      ['POST', 'PATCH', 'POST'],
    );
    const names = rest.calls.filter((c) => c.method === 'POST').map((c) => (c.body as { metadata: { name: string } }).metadata.name);
    assert.notEqual(names[0], names[1]);
  });

  it('never throws into the caller, retries server errors a little, then gives up', async () => {
    const clock = new FakeClock();
    let n = 0;
    const rest = new FakeRest(() => {
      n++;
      throw new ApiError('ServerError', 500, 'down');
    });
    const metrics = createMetrics({ defaultMetrics: false });
    const rec = createEventRecorder({ rest, component: 'c', clock, metrics });
    assert.doesNotThrow(() => rec.event(service, 'Normal', 'R', 'm'));
    const done = rec.flush();
    await clock.advance(10_000);
    await done;
    assert.equal(n, 3);
    assert.match(await metrics.registry.metrics(), /^herald_events_total\{outcome="failed"\} 1$/m);
  });

  it('puts events about cluster-scoped objects in "default", and stops accepting after close', async () => {
    const rest = new FakeRest();
    const rec = createEventRecorder({ rest, component: 'herald-speaker', host: 'node1', clock: new FakeClock() });
    rec.event({ kind: 'Node', name: 'node1' }, 'Normal', 'R', 'm');
    await rec.close();
    rec.event(service, 'Normal', 'R', 'late');
    await rec.flush();
    assert.equal(rest.calls.length, 1);
    assert.equal(rest.calls[0]?.path, '/api/v1/namespaces/default/events');
    assert.deepEqual((rest.calls[0]?.body as { source: unknown }).source, { component: 'herald-speaker', host: 'node1' });
  });

  it('gives up on what is still queued at the close deadline: no request, retry or timer is left after', async () => {
    const lines: { msg: string; abandoned?: number }[] = [];
    const logger = createLogger({ component: 'test', level: 'warn', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
    const clock = new FakeClock();
    const rest = new FakeRest(() => {
      throw new ApiError('ServerError', 500, 'down');
    });
    const metrics = createMetrics({ defaultMetrics: false });
    const rec = createEventRecorder({ rest, component: 'c', clock, logger, metrics });
    for (let i = 0; i < 5; i++) rec.event({ ...service, metadata: { ...service.metadata, name: `svc-${i}` } }, 'Normal', 'IPAllocated', 'Assigned IP');
    const closed = rec.close(300);
    // The first event has failed twice and waits out its second backoff (320-480 ms).
    await clock.advance(300);
    await closed;
    const calls = rest.calls.length;
    assert.equal(calls, 2);
    // Drained without the clock moving: the backoff ended and the other four were never sent.
    const drained = await Promise.race([rec.flush().then(() => 'drained'), new Promise((r) => setImmediate(() => r('still writing')))]);
    assert.equal(drained, 'drained');
    assert.equal(clock.pending, 0, 'no timer left');
    await clock.advance(60_000);
    assert.equal(rest.calls.length, calls);
    assert.deepEqual(lines.map((l) => [l.msg, l.abandoned]), [['closing: gave up on events not written by the deadline', 5]]);
    assert.match(await metrics.registry.metrics(), /^herald_events_total\{outcome="failed"\} 5$/m);
  });

  it('drops events beyond maxPending with one warning per burst, then one line with the count', async () => {
    const lines: { level: string; msg: string; dropped?: number }[] = [];
    const logger = createLogger({ component: 'test', level: 'warn', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const rest = new FakeRest(async () => gate);
    const metrics = createMetrics({ defaultMetrics: false });
    const rec = createEventRecorder({ rest, component: 'c', clock: new FakeClock(), logger, maxPending: 10, metrics });
    const svc = (i: number) => ({ ...service, metadata: { ...service.metadata, name: `svc-${i}`, uid: `u${i}` } });
    for (let i = 0; i < 1_000; i++) rec.event(svc(i), 'Normal', 'IPAllocated', 'Assigned IP');
    assert.deepEqual(lines.map((l) => l.msg), ['too many events waiting to be written; dropping new ones until the backlog halves']);
    release();
    await rec.flush();
    assert.equal(rest.calls.length, 10, 'the ten queued ones were written');
    assert.equal(lines.length, 2);
    assert.equal(lines[1]?.msg, 'dropped events while too many were waiting to be written');
    assert.equal(lines[1]?.dropped, 990);
    const text = await metrics.registry.metrics();
    assert.match(text, /^herald_events_total\{outcome="written"\} 10$/m);
    assert.match(text, /^herald_events_total\{outcome="backlog"\} 990$/m);
    // A later burst is reported on its own.
    for (let i = 0; i < 15; i++) rec.event(svc(2_000 + i), 'Normal', 'IPAllocated', 'Assigned IP');
    await rec.close();
    assert.deepEqual(lines.slice(2).map((l) => [l.msg, l.dropped]), [
      ['too many events waiting to be written; dropping new ones until the backlog halves', undefined],
      ['dropped events while too many were waiting to be written', 5],
    ]);
  });
});
