import { strict as assert } from 'node:assert';
import { EventCorrelator, type EventInput } from '../../../../shared/k8s/event-correlator.js';

const svc = (name: string, uid = `uid-${name}`) => ({ apiVersion: 'v1', kind: 'Service', namespace: 'default', name, uid });
const ev = (over: Partial<EventInput> = {}): EventInput => ({
  involved: svc('web'),
  type: 'Normal',
  reason: 'IPAllocated',
  message: 'Assigned IP ["192.0.2.200"]',
  source: { component: 'herald-controller' },
  ...over,
});

describe('EventCorrelator', () => {
  const t0 = Date.UTC(2025, 0, 1);

  // Each row builds on the state the previous rows left.
  it('counts repeats of one event on the first, and keeps different events apart', () => {
    const c = new EventCorrelator();
    const rows: [string, EventInput, number, string, number?][] = [
      ['first occurrence creates', ev(), t0, 'create'],
      ['same event a minute later patches count 2', ev(), t0 + 60_000, 'patch', 2],
      ['and again: count 3', ev(), t0 + 120_000, 'patch', 3],
      ['another message is another event', ev({ message: 'Assigned IP ["192.0.2.201"]' }), t0 + 130_000, 'create'],
      ['another reason is another event', ev({ reason: 'AllocationFailed', type: 'Warning' }), t0 + 140_000, 'create'],
      ['another object is another event', ev({ involved: svc('db') }), t0 + 150_000, 'create'],
      ['another source is another event', ev({ source: { component: 'herald-speaker', host: 'node1' } }), t0 + 160_000, 'create'],
      ['the first event again: count 4', ev(), t0 + 170_000, 'patch', 4],
      ['after the 10-minute window it starts afresh', ev(), t0 + 170_000 + 600_001, 'create'],
      ['then counts on the new one', ev(), t0 + 170_000 + 600_002, 'patch', 2],
    ];
    const names = new Map<string, string>();
    for (const [what, input, now, action, count] of rows) {
      const d = c.observe(input, now);
      assert.equal(d.action, action, what);
      if (d.action === 'drop') continue;
      if (count !== undefined) assert.equal(d.count, count, what);
      const k = `${input.involved.name}/${input.reason}/${input.message}/${input.source.component}`;
      if (d.action === 'create') {
        assert.ok(d.name.startsWith(`${input.involved.name}.`), `${what}: name ${d.name}`);
        assert.ok(![...names.values()].includes(d.name), `${what}: name reused`);
        names.set(k, d.name);
      } else {
        assert.equal(d.name, names.get(k), `${what}: patches the event it counts on`);
      }
    }
  });

  it('gives distinct names to events created in the same millisecond', () => {
    const c = new EventCorrelator();
    const a = c.observe(ev({ message: 'a' }), t0);
    const b = c.observe(ev({ message: 'b' }), t0);
    assert.equal(a.action, 'create');
    assert.equal(b.action, 'create');
    assert.notEqual(a.action === 'create' && a.name, b.action === 'create' && b.name);
  });

  it('rate-limits per object: burst, then one event per refill period', () => {
    const c = new EventCorrelator({ burst: 3, refillMs: 1000 });
    const msgs = (i: number) => ev({ message: `m${i}` });
    const actions = [0, 1, 2, 3].map((i) => c.observe(msgs(i), t0).action);
    assert.deepEqual(actions, ['create', 'create', 'create', 'drop']);
    // Another object has its own bucket.
    assert.equal(c.observe(ev({ involved: svc('db') }), t0).action, 'create');
    assert.equal(c.observe(msgs(4), t0 + 999).action, 'drop');
    assert.equal(c.observe(msgs(5), t0 + 1000).action, 'create');
    assert.equal(c.observe(msgs(6), t0 + 1500).action, 'drop');
    // A long quiet spell refills up to the burst, not beyond.
    const later = [7, 8, 9, 10].map((i) => c.observe(msgs(i), t0 + 1_000_000).action);
    assert.deepEqual(later, ['create', 'create', 'create', 'drop']);
  });

  it('repeats of one event count against the rate limit too', () => {
    const c = new EventCorrelator({ burst: 2, refillMs: 60_000 });
    assert.equal(c.observe(ev(), t0).action, 'create');
    assert.equal(c.observe(ev(), t0 + 1).action, 'patch');
    assert.equal(c.observe(ev(), t0 + 2).action, 'drop');
  });

  it('forget() makes the next identical event a create', () => {
    const c = new EventCorrelator();
    c.observe(ev(), t0);
    c.forget(ev());
    assert.equal(c.observe(ev(), t0 + 1).action, 'create');
  });

  it('stays within maxEntries, forgetting the least recently seen', () => {
    const c = new EventCorrelator({ maxEntries: 2, burst: 100 });
    c.observe(ev({ message: 'a' }), t0);
    c.observe(ev({ message: 'b' }), t0);
    c.observe(ev({ message: 'a' }), t0 + 1); // a is now the most recent
    c.observe(ev({ message: 'c' }), t0 + 2); // evicts b
    assert.equal(c.observe(ev({ message: 'a' }), t0 + 3).action, 'patch');
    assert.equal(c.observe(ev({ message: 'b' }), t0 + 4).action, 'create');
  });
  it('names the same event of two processes apart when they start their sequences apart', () => {
    const a = new EventCorrelator({ sequenceStart: 17 });
    const b = new EventCorrelator({ sequenceStart: 123_456 });
    const da = a.observe(ev(), t0);
    const db = b.observe(ev(), t0);
    assert.ok(da.action === 'create' && db.action === 'create');
    assert.notEqual(da.name, db.name);
    const same = [new EventCorrelator(), new EventCorrelator()].map((c) => c.observe(ev(), t0));
    assert.ok(same[0]!.action === 'create' && same[1]!.action === 'create');
    assert.equal(same[0]!.name, same[1]!.name, 'without a start the names collide, as the recorder would without its random start');
  });
});
