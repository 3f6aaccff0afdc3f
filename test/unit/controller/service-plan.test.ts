// planService as a sequential scenario: each row plans one Service against the state the
// rows before left (the allocator's record and the Services as the API stores them after
// each planned write), and states what should be written and which events go with it.
import { strict as assert } from 'node:assert';
import { Allocator } from '../../../controller/allocator.js';
import { mayWantMore, planService, SERVICE_CONDITION, type ServiceObject, type ServicePlan } from '../../../controller/service-plan.js';
import { pool } from './allocator-helpers.js';

const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-01T00:05:00Z';

interface SvcSpec {
  annotations?: Record<string, string>;
  type?: string;
  lbIP?: string;
  cls?: string;
  policy?: string;
  families?: string[];
  generation?: number;
}

function service(name: string, s: SvcSpec = {}): ServiceObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', annotations: s.annotations ?? {}, ...(s.generation !== undefined ? { generation: s.generation } : {}) },
    spec: {
      type: s.type ?? 'LoadBalancer',
      ports: [{ protocol: 'TCP', port: 80 }],
      ...(s.lbIP ? { loadBalancerIP: s.lbIP } : {}),
      ...(s.cls ? { loadBalancerClass: s.cls } : {}),
      ipFamilyPolicy: s.policy ?? 'SingleStack',
      ipFamilies: s.families ?? ['IPv4'],
    },
    status: { loadBalancer: {} },
  };
}

/** What the API stores after the plan's write. */
function stored(svc: ServiceObject, plan: ServicePlan): ServiceObject {
  const w = plan.write;
  if (!w) return svc;
  const annotations = { ...(svc.metadata?.annotations ?? {}) };
  for (const [k, v] of Object.entries(w.annotations)) {
    if (v === null) delete annotations[k];
    else annotations[k] = v;
  }
  return {
    ...svc,
    metadata: { ...svc.metadata, annotations },
    status: { loadBalancer: w.ingress.length > 0 ? { ingress: w.ingress } : {}, ...(w.conditions.length > 0 ? { conditions: w.conditions } : {}) },
  };
}

interface Row {
  name: string;
  /** The Service as the user leaves it (its status is what earlier rows stored). */
  spec: SvcSpec;
  svc?: string;
  now?: string;
  /** Expected ingress IPs written; undefined: no write at all. */
  write?: string[];
  condition?: [status: string, reason: string];
  pool?: string | null;
  events?: string[];
}

function run(rows: readonly Row[]): void {
  const alloc = new Allocator([pool('lan', ['192.0.2.1-192.0.2.3', '2001:db8::1-2001:db8::2'])]);
  const api = new Map<string, ServiceObject>();
  for (const row of rows) {
    const name = row.svc ?? 'web';
    const prev = api.get(name);
    // The user's fields come from the row; status and the controller's annotation from the API.
    const svc = service(name, row.spec);
    if (prev) {
      svc.status = prev.status;
      const mine = prev.metadata?.annotations?.['herald.dev/ip-allocated-from-pool'];
      if (mine) svc.metadata = { ...svc.metadata, annotations: { ...svc.metadata?.annotations, 'herald.dev/ip-allocated-from-pool': mine } };
    }
    const plan = planService(alloc, svc, {}, { now: row.now ?? T0 });
    const at = `row "${row.name}"`;
    if (row.write === undefined) assert.equal(plan.write, undefined, `${at}: expected no write, got ${JSON.stringify(plan.write)}`);
    else {
      assert.ok(plan.write, `${at}: expected a write`);
      assert.deepEqual(plan.write.ingress.map((i) => i.ip), row.write, at);
      for (const i of plan.write.ingress) assert.equal(i.ipMode, 'VIP');
      if (row.pool !== undefined) {
        const a = plan.write.annotations['herald.dev/ip-allocated-from-pool'];
        assert.equal(a, row.pool, `${at}: pool annotation`);
      }
    }
    if (row.condition) {
      const c = (plan.write?.conditions ?? svc.status?.conditions ?? []).find((x) => x.type === SERVICE_CONDITION);
      assert.deepEqual([c?.status, c?.reason], row.condition, `${at}: condition (${c?.message})`);
    }
    assert.deepEqual(plan.events.map((e) => `${e.type} ${e.reason}`), row.events ?? [], `${at}: events ${JSON.stringify(plan.events)}`);
    api.set(name, stored(svc, plan));
  }
}

describe('controller/service-plan', () => {
  it('writes an allocation once, and nothing (no event either) while nothing changes', () => {
    run([
      { name: 'new Service', spec: {}, write: ['192.0.2.1'], condition: ['True', 'IPAllocated'], pool: 'lan', events: ['Normal IPAllocated'] },
      { name: 'reconciled again', spec: {} },
      { name: 'generation bump: condition rewritten, no event', spec: { generation: 2 }, now: T1, write: ['192.0.2.1'] },
      { name: 'stable', spec: { generation: 2 }, now: T1 },
    ]);
  });

  it('reports a request it cannot meet once, then stays quiet; clears the address with ClearAssignment', () => {
    run([
      { name: 'allocated', spec: {}, write: ['192.0.2.1'], events: ['Normal IPAllocated'] },
      {
        name: 'asks for an address outside every pool',
        spec: { annotations: { 'herald.dev/loadBalancerIPs': '203.0.113.5' } },
        write: [],
        pool: null,
        condition: ['False', 'IPNotInPool'],
        events: ['Normal ClearAssignment', 'Warning AllocationFailed'],
      },
      { name: 'reconciled again: no spam', spec: { annotations: { 'herald.dev/loadBalancerIPs': '203.0.113.5' } } },
      { name: 'other bad request: a new reason, one new event', spec: { annotations: { 'herald.dev/loadBalancerIPs': 'nope' } }, write: [], condition: ['False', 'InvalidAnnotation'], events: ['Warning AllocationFailed'] },
      { name: 'fixed', spec: { annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.3' } }, write: ['192.0.2.3'], condition: ['True', 'IPAllocated'], events: ['Normal IPAllocated'] },
    ]);
  });

  it('keeps the transition time while the status stays, and moves it when it flips', () => {
    const alloc = new Allocator([pool('lan', ['192.0.2.1-192.0.2.1'])]);
    const a = planService(alloc, service('a'), {}, { now: T0 });
    const b = planService(alloc, service('b'), {}, { now: T0 });
    assert.equal(b.write?.conditions[0]?.reason, 'PoolExhausted');
    const bStored = stored(service('b'), b);
    const again = planService(alloc, { ...bStored, metadata: { ...bStored.metadata, generation: 3 } }, {}, { now: T1 });
    assert.equal(again.write?.conditions[0]?.lastTransitionTime, T0, 'still False: time kept');
    assert.deepEqual(again.events, [], 'same reason and message: no new event');
    alloc.release('default/a');
    const served = planService(alloc, bStored, {}, { now: T1 });
    assert.equal(served.write?.conditions[0]?.lastTransitionTime, T1);
    assert.ok(a.write);
  });

  it('keeps conditions written by others', () => {
    const alloc = new Allocator([pool('lan', ['192.0.2.1-192.0.2.3'])]);
    const svc = service('web');
    const other = { type: 'example.com/Other', status: 'True' as const, reason: 'X', message: 'y', lastTransitionTime: T0 };
    svc.status = { loadBalancer: {}, conditions: [other] };
    const plan = planService(alloc, svc, {}, { now: T0 });
    assert.deepEqual(plan.write?.conditions.map((c) => c.type), ['example.com/Other', SERVICE_CONDITION]);
  });

  it('clears what it gave a Service that stops being a LoadBalancer, and ignores other classes', () => {
    run([
      { name: 'allocated', spec: {}, write: ['192.0.2.1'], events: ['Normal IPAllocated'] },
      { name: 'now ClusterIP', spec: { type: 'ClusterIP' }, write: [], pool: null, events: ['Normal ClearAssignment'] },
      { name: 'nothing left to clear', spec: { type: 'ClusterIP' } },
      { name: 'another class', svc: 'classy', spec: { cls: 'example.com/lb' } },
    ]);
  });

  it('reports PreferDualStack short of one family as True with its own reason', () => {
    const alloc = new Allocator([pool('v4only', ['192.0.2.1-192.0.2.2'])]);
    const plan = planService(alloc, service('web', { policy: 'PreferDualStack', families: ['IPv4', 'IPv6'] }), {}, { now: T0 });
    const c = plan.write?.conditions[0];
    assert.equal(c?.status, 'True');
    assert.equal(c?.reason, 'PreferDualStackPartial');
    assert.match(c?.message ?? '', /no IPv6 address/);
    const stored1 = stored(service('web', { policy: 'PreferDualStack', families: ['IPv4', 'IPv6'] }), plan);
    assert.equal(mayWantMore(stored1), true, 'a later free IPv6 address should reach it');
  });

  it('mayWantMore: only Services without what they asked for', () => {
    const alloc = new Allocator([pool('lan', ['192.0.2.1-192.0.2.1'])]);
    const ok = stored(service('a'), planService(alloc, service('a'), {}, { now: T0 }));
    const failed = stored(service('b'), planService(alloc, service('b'), {}, { now: T0 }));
    assert.equal(mayWantMore(ok), false);
    assert.equal(mayWantMore(failed), true);
    assert.equal(mayWantMore(service('c', { type: 'ClusterIP' })), false);
  });
});
