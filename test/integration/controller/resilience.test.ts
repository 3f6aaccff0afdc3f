// Stability and survival: a restart with 1,000 Services changes no address; leader
// failover (crash and graceful hand-over) with Services created in the gap; and each
// injected API fault. After each, the invariant holds (no address shown by two Services
// that may not share it) and every pending Service is eventually served.
import { strict as assert } from 'node:assert';
import type { ServiceObject } from '../../../controller/service-plan.js';
import { collectionPath, objectPath, SERVICES } from '../../../shared/k8s/resources.js';
import {
  apply,
  createServiceAPI,
  doubleAllocations,
  eventsFor,
  ipsOf,
  kubectl,
  listServices,
  poolYAML,
  sleep,
  startEnv,
  startReplica,
  waitFor,
  type Env,
  type Replica,
} from './harness.js';

const key = (s: ServiceObject): string => `${s.metadata?.namespace}/${s.metadata?.name}`;

async function createMany(env: Env, ns: string, prefix: string, n: number, body?: (i: number) => object, parallel = 32): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < n; i = next++) {
      if (body) await env.admin.rest.request('POST', collectionPath(SERVICES, ns), { body: body(i) });
      else await createServiceAPI(env, ns, `${prefix}-${i}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** Every LoadBalancer Service shows an address; returns the snapshot. */
async function allServed(env: Env, timeoutMs = 20_000): Promise<Map<string, string[]>> {
  return waitFor(
    'every LoadBalancer Service to show an address',
    async () => {
      const svcs = (await listServices(env)).filter((s) => s.spec?.type === 'LoadBalancer');
      if (svcs.some((s) => ipsOf(s).length === 0)) return undefined;
      return new Map(svcs.map((s) => [key(s), ipsOf(s)]));
    },
    timeoutMs,
  );
}

async function assertInvariant(env: Env): Promise<void> {
  assert.deepEqual(doubleAllocations(await listServices(env)), [], 'no address held by two non-sharing Services');
}

function v6Service(ns: string, name: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { type: 'LoadBalancer', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'], selector: { app: name }, ports: [{ port: 443, protocol: 'TCP' }] },
  };
}

describe('controller: restart and failover', function () {
  this.timeout(60_000);
  let env: Env;
  const replicas: Replica[] = [];

  before(async () => {
    env = await startEnv();
    await apply(env, poolYAML('v4', ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24']));
    await apply(env, poolYAML('v6', ['2001:db8:1::/64']));
    await kubectl(env, ['create', 'namespace', 'bulk']);
  });
  afterEach(async () => {
    for (const r of replicas.splice(0)) await r.stop().catch(() => undefined);
  });
  after(async () => {
    await env?.close();
  });

  it('restarts with 1,000 Services and changes no address, serving Services created while it was down', async () => {
    await createMany(env, 'bulk', 'v4', 500);
    await createMany(env, 'bulk', 'v6', 500, (i) => v6Service('bulk', `v6-${i}`));
    const first = await startReplica(env);
    replicas.push(first);
    const before = await allServed(env);
    assert.equal(before.size, 1000);
    await first.stop();
    replicas.splice(0);

    // While no controller runs: holes appear (deletes) and new Services wait. A restart
    // that served them before re-claiming would hand out addresses still in use.
    const freed: string[] = [];
    for (let i = 0; i < 20; i++) {
      await env.admin.rest.request('DELETE', objectPath(SERVICES, 'bulk', `v4-${i * 7}`));
      freed.push(...(before.get(`bulk/v4-${i * 7}`) ?? []));
      before.delete(`bulk/v4-${i * 7}`);
    }
    await createMany(env, 'bulk', 'late', 30);
    const second = await startReplica(env);
    replicas.push(second);
    const after = await allServed(env);
    let changed = 0;
    for (const [k, ips] of before) if (JSON.stringify(after.get(k)) !== JSON.stringify(ips)) changed++;
    assert.equal(changed, 0, 'no Service changed address over the restart');
    const late = [...after].filter(([k]) => k.startsWith('bulk/late-')).map(([, ips]) => ips[0] ?? '');
    assert.equal(late.length, 30);
    for (const ip of freed) assert.ok(late.includes(ip), `the hole ${ip} is refilled (lowest free address first)`);
    await assertInvariant(env);
  });

  it('fails over: a crashed leader is replaced within the lease duration and the new one claims before assigning', async () => {
    const election = (identity: string) => ({ identity, leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 200 });
    const a = await startReplica(env, { election: election('a') });
    replicas.push(a);
    await waitFor('a leads', async () => a.isLeader());
    const b = await startReplica(env, { election: election('b') });
    replicas.push(b);
    await createMany(env, 'bulk', 'fo', 30);
    const before = await allServed(env);
    assert.equal(b.isLeader(), false);
    assert.equal(b.controller(), undefined, 'the standby does not reconcile');

    const crashedAt = Date.now();
    await a.crash();
    await createMany(env, 'bulk', 'gap', 10);
    await waitFor('b leads', async () => b.isLeader(), 5_000);
    const took = Date.now() - crashedAt;
    // Lease duration, one jittered retry period, and slack for a loaded machine.
    assert.ok(took <= 1_500 + 200 * 1.2 + 1_000, `took over after ${took} ms`);
    const after = await allServed(env);
    for (const [k, ips] of before) assert.deepEqual(after.get(k), ips, `${k} kept its address`);
    await assertInvariant(env);

    // Graceful: the leader releases the Lease on stop and a standby takes over at once.
    const c = await startReplica(env, { election: election('c') });
    replicas.push(c);
    await sleep(300);
    const stoppedAt = Date.now();
    await b.stop();
    await waitFor('c leads', async () => c.isLeader(), 5_000);
    assert.ok(Date.now() - stoppedAt < 1_500, 'a released Lease is taken before it would have expired');
    await createMany(env, 'bulk', 'after', 5);
    const final = await allServed(env);
    for (const [k, ips] of after) assert.deepEqual(final.get(k), ips);
    await assertInvariant(env);
  });
});

describe('controller: API faults', function () {
  this.timeout(60_000);
  let env: Env;
  let ctl: Replica;

  before(async () => {
    env = await startEnv();
    await apply(env, poolYAML('small', ['203.0.113.0/26']));
    await kubectl(env, ['create', 'namespace', 'f']);
    ctl = await startReplica(env);
  });
  after(async () => {
    await ctl?.stop();
    await env?.close();
  });
  afterEach(async () => {
    env.api.faults.clear();
    await assertInvariant(env);
  });

  it('keeps serving through dropped watches', async () => {
    const creating = createMany(env, 'f', 'w', 12, undefined, 2);
    for (let i = 0; i < 5; i++) {
      await sleep(30);
      env.api.faults.closeWatches();
    }
    await creating;
    await allServed(env);
  });

  it('relists after 410 Gone and sees deletes it missed', async () => {
    env.api.faults.compact();
    env.api.faults.closeWatches();
    // Deleted while the informers relist: their addresses must come free.
    for (let i = 0; i < 4; i++) await env.admin.rest.request('DELETE', objectPath(SERVICES, 'f', `w-${i}`));
    await createMany(env, 'f', 'g', 8);
    const served = await allServed(env);
    const ips = [...served.values()].flat();
    assert.equal(new Set(ips).size, ips.length);
    assert.equal(served.size, 12 - 4 + 8);
  });

  it('re-reads and retries on 409 Conflict from services/status, with one IPAllocated event each', async () => {
    env.api.faults.failNext(6, 409, { verb: 'patch', resource: 'services' });
    await createMany(env, 'f', 'c', 3, undefined, 1);
    await allServed(env);
    for (let i = 0; i < 3; i++) {
      const evs = await waitFor('event', async () => {
        const e = (await eventsFor(env, 'f', `c-${i}`)).filter((x) => x.reason === 'IPAllocated');
        return e.length > 0 ? e : undefined;
      });
      assert.equal(evs.length, 1);
      assert.equal(evs[0]?.count ?? 1, 1);
    }
    const text = await ctl.metrics.registry.metrics();
    assert.match(text, /^herald_controller_reconcile_total\{result="conflict"\} [1-9]/m);
  });

  it('backs off and retries on 500 and 429 from status writes and from lists', async () => {
    env.api.faults.failNext(3, 500, { verb: 'patch', resource: 'services' });
    env.api.faults.failNext(3, 429, { verb: 'patch', resource: 'services' });
    await createMany(env, 'f', 'e', 3, undefined, 1);
    await allServed(env);
    env.api.faults.failNext(3, 500, { verb: 'list', resource: 'services' });
    env.api.faults.failNext(2, 429, { verb: 'list', resource: 'services' });
    env.api.faults.compact();
    env.api.faults.closeWatches({ resource: 'services' });
    await sleep(50);
    await createMany(env, 'f', 'l', 3, undefined, 1);
    await allServed(env);
    const text = await ctl.metrics.registry.metrics();
    assert.match(text, /^herald_controller_reconcile_total\{result="error"\} [1-9]/m);
  });

  it('never hands out one address twice under all faults at once, with the pool nearly full', async () => {
    env.api.faults.latency(5, { verb: 'patch' });
    env.api.faults.failNext(10, 409, { verb: 'patch', resource: 'services' });
    env.api.faults.failNext(4, 503, { verb: 'patch', resource: 'services' });
    const creating = createMany(env, 'f', 'x', 40, undefined, 8);
    const deleting = (async () => {
      for (let i = 0; i < 6; i++) {
        await sleep(40);
        env.api.faults.closeWatches();
        if (i === 3) env.api.faults.compact();
        await env.admin.rest.request('DELETE', objectPath(SERVICES, 'f', `g-${i}`)).catch(() => undefined);
        await assertInvariant(env);
      }
    })();
    await Promise.all([creating, deleting]);
    // 64 addresses; the Services in namespace f now number under 64: all served.
    await allServed(env, 30_000);
  });
});
