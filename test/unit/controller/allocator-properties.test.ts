// Properties of the allocator over random sequences of Service changes, releases, pool
// edits and controller restarts, checked after every step.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { Allocator } from '../../../controller/allocator.js';
import { isBuggyValue } from '../../../controller/allocator-range.js';
import type { ServiceDesc } from '../../../controller/allocator-types.js';
import type { Pool } from '../../../shared/config/types.js';
import { formatIP, parseIP, type Family, type IP } from '../../../shared/ip/ip.js';
import { pool, svc, type PoolOpts, type SvcOpts } from './allocator-helpers.js';

const POOL_ADDRESSES: Record<string, string[]> = {
  p1: ['192.0.2.0/29', '2001:db8:1::/125'],
  p2: ['192.0.2.250-192.0.3.5'],
  p3: ['2001:db8:2::/126'],
  p4: ['198.51.100.0/30', '198.51.100.8/31', '2001:db8:4::/127'],
};
const POOL_NAMES = Object.keys(POOL_ADDRESSES);
const KEYS = ['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9'];
const SOME_IPS = ['192.0.2.3', '192.0.2.255', '192.0.3.0', '192.0.3.1', '198.51.100.9', '2001:db8:1::2', '2001:db8:2::1', '203.0.113.1'];

const poolArb = (name: string): fc.Arbitrary<Pool> =>
  fc
    .record({
      autoAssign: fc.boolean(),
      avoidBuggyIPs: fc.boolean(),
      sa: fc.constantFrom('none', 'none', 'ns-a', 'app-x', 'prio'),
      priority: fc.integer({ min: 1, max: 3 }),
    })
    .map(({ autoAssign, avoidBuggyIPs, sa, priority }) => {
      const o: PoolOpts = { autoAssign, avoidBuggyIPs };
      if (sa === 'ns-a') o.namespaces = ['ns-a'];
      if (sa === 'app-x') o.serviceSelectors = [{ matchLabels: { app: 'x' } }];
      if (sa === 'prio') o.priority = priority;
      return pool(name, POOL_ADDRESSES[name] as string[], o);
    });

const configArb = fc
  .record({
    present: fc.subarray(POOL_NAMES, { minLength: 1 }),
    invalid: fc.subarray(POOL_NAMES, { maxLength: 1 }),
    defs: fc.tuple(...POOL_NAMES.map(poolArb)),
  })
  .map(({ present, invalid, defs }) => ({
    pools: defs.filter((p) => present.includes(p.name) && !invalid.includes(p.name)),
    invalid: invalid.filter((n) => present.includes(n)),
  }));

const descArb = (name: string): fc.Arbitrary<ServiceDesc> =>
  fc
    .record({
      ns: fc.constantFrom('ns-a', 'ns-b'),
      app: fc.constantFrom('x', 'y'),
      ports: fc.subarray(['TCP/80', 'UDP/53', 'TCP/53'], { minLength: 1 }),
      share: fc.constantFrom(undefined, undefined, 'k1', 'k2'),
      backend: fc.constantFrom('Cluster', 'Cluster', 'Local:a'),
      stack: fc.constantFrom('v4', 'v6', 'prefer46', 'prefer64', 'require46', 'prefer4'),
      pool: fc.option(fc.constantFrom(...POOL_NAMES, 'nope'), { freq: 4 }),
      request: fc.option(fc.subarray(SOME_IPS, { minLength: 1, maxLength: 2 }), { freq: 4 }),
    })
    .map((r) => {
      const o: SvcOpts = { ns: r.ns, labels: { app: r.app }, ports: r.ports, backend: r.backend };
      if (r.share) o.share = r.share;
      const stacks: Record<string, [Family[], ServiceDesc['familyPolicy']]> = {
        v4: [[4], 'SingleStack'],
        v6: [[6], 'SingleStack'],
        prefer46: [[4, 6], 'PreferDualStack'],
        prefer64: [[6, 4], 'PreferDualStack'],
        require46: [[4, 6], 'RequireDualStack'],
        prefer4: [[4], 'PreferDualStack'],
      };
      [o.families, o.policy] = stacks[r.stack] as [Family[], ServiceDesc['familyPolicy']];
      if (r.pool !== null) o.pool = r.pool;
      if (r.request !== null) o.request = r.request;
      return svc(name, o);
    });

type Op =
  | { kind: 'assign'; desc: ServiceDesc }
  | { kind: 'release'; key: string }
  | { kind: 'config'; pools: Pool[]; invalid: string[] }
  | { kind: 'restart'; order: number[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...KEYS).chain((k) => descArb(k).map((desc): Op => ({ kind: 'assign', desc }))) },
  { weight: 2, arbitrary: fc.constantFrom(...KEYS).map((k): Op => ({ kind: 'release', key: `default/${k}` })) },
  { weight: 1, arbitrary: configArb.map((c): Op => ({ kind: 'config', ...c })) },
  { weight: 1, arbitrary: fc.shuffledSubarray(KEYS.map((_, i) => i), { minLength: KEYS.length }).map((order): Op => ({ kind: 'restart', order })) },
);

const id = (ip: IP) => formatIP(ip);

interface World {
  a: Allocator;
  pools: Pool[];
  invalid: string[];
  /** The description each key was last successfully assigned or claimed with. */
  descs: Map<string, ServiceDesc>;
  status: Map<string, IP[]>;
  /** Pool names each key's IPs were allocated from (the ip-allocated-from-pool annotation). */
  fromPool: Map<string, string>;
}

function allKeys(w: World): string[] {
  return [...new Set([...w.descs.keys(), ...w.status.keys()])].sort();
}

function checkInvariants(w: World): void {
  const byIP = new Map<string, string[]>();
  const perPool = new Map<string, { v4: Set<string>; v6: Set<string>; services: Set<string> }>();
  for (const key of allKeys(w)) {
    const h = w.a.holding(key);
    if (!h) continue;
    const desc = w.descs.get(key);
    assert.ok(desc, `${key} holds IPs without a description`);
    assert.ok(h.ips.length >= 1 && h.ips.length <= 2);
    assert.ok(new Set(h.ips.map((x) => x.family)).size === h.ips.length, `${key} holds two IPs of one family`);
    const def = w.pools.find((p) => p.name === h.pool);
    for (const ip of h.ips) {
      if (def) {
        // Never an IP outside its pool's ranges (or one its pool must avoid).
        assert.ok(def.ranges.some((r) => r.family === ip.family && ip.value >= r.first && ip.value <= r.last), `${id(ip)} outside pool ${h.pool}`);
        assert.ok(!(def.avoidBuggyIPs && ip.family === 4 && isBuggyValue(ip.value)), `${id(ip)} is buggy in ${h.pool}`);
      } else {
        assert.ok(w.invalid.includes(h.pool), `${key} holds ${id(ip)} from vanished pool ${h.pool}`);
      }
      assert.equal(w.a.poolOf(ip), h.pool);
      const list = byIP.get(id(ip)) ?? [];
      list.push(key);
      byIP.set(id(ip), list);
      let u = perPool.get(h.pool);
      if (!u) perPool.set(h.pool, (u = { v4: new Set(), v6: new Set(), services: new Set() }));
      (ip.family === 4 ? u.v4 : u.v6).add(id(ip));
      u.services.add(key);
    }
  }
  // Never one IP to two Services that may not share it.
  for (const [ipText, keys] of byIP) {
    assert.deepEqual([...w.a.holdersOf(parseIP(ipText) as IP)].sort(), [...keys].sort());
    for (let i = 0; i < keys.length; i++) {
      for (let j = i + 1; j < keys.length; j++) {
        const x = w.descs.get(keys[i] as string) as ServiceDesc;
        const y = w.descs.get(keys[j] as string) as ServiceDesc;
        assert.ok(x.sharingKey && x.sharingKey === y.sharingKey, `${ipText} held by ${x.key} and ${y.key} without a common sharing key`);
        assert.equal(x.backendKey, y.backendKey, `${ipText}: backends differ`);
        const px = new Set(x.ports.map((p) => `${p.protocol}/${p.port}`));
        assert.ok(!y.ports.some((p) => px.has(`${p.protocol}/${p.port}`)), `${ipText}: port collision between ${x.key} and ${y.key}`);
      }
    }
  }
  // Usage counts equal the distinct IPs held.
  for (const name of [...w.pools.map((p) => p.name), ...w.invalid]) {
    const u = w.a.poolUsage(name);
    assert.ok(u, `no usage for ${name}`);
    const want = perPool.get(name);
    assert.equal(u.assignedIPv4, BigInt(want?.v4.size ?? 0), `${name} assignedIPv4`);
    assert.equal(u.assignedIPv6, BigInt(want?.v6.size ?? 0), `${name} assignedIPv6`);
    assert.equal(u.services, want?.services.size ?? 0, `${name} services`);
  }
}

/** Every address of a pool's ranges of one family that the pool may hand out, lowest first. */
function allowed(def: Pool, family: Family): bigint[] {
  const out: bigint[] = [];
  for (const r of [...def.ranges].filter((x) => x.family === family).sort((a, b) => (a.first < b.first ? -1 : 1))) {
    for (let v = r.first; v <= r.last; v++) if (!(def.avoidBuggyIPs && family === 4 && isBuggyValue(v))) out.push(v);
  }
  return out;
}

function doAssign(w: World, desc: ServiceDesc): void {
  const before = w.a.holding(desc.key);
  const current = w.status.get(desc.key) ?? [];
  const r = w.a.assign(desc, current);
  if (!r.ok) {
    assert.equal(w.a.holding(desc.key), undefined, 'a failed Service holds nothing');
    w.descs.delete(desc.key);
    w.status.set(desc.key, []);
    return;
  }
  w.descs.set(desc.key, desc);
  w.status.set(desc.key, r.ips);
  w.fromPool.set(desc.key, r.pool);
  // A fresh automatic, non-sharing, single-family allocation takes the lowest free address.
  if (!before && current.length === 0 && desc.requestedIPs.length === 0 && !desc.sharingKey && r.ips.length === 1) {
    const def = w.pools.find((p) => p.name === r.pool) as Pool;
    const got = r.ips[0] as IP;
    for (const v of allowed(def, got.family)) {
      if (v >= got.value) break;
      assert.ok(w.a.holdersOf({ family: got.family, value: v }).length > 0, `${id(got)} handed out while a lower address of ${r.pool} is free`);
    }
  }
  // Idempotent: asking again with what it got changes nothing.
  const again = w.a.assign(desc, r.ips);
  assert.ok(again.ok, 'repeat failed');
  assert.deepEqual(again.ips.map(id), r.ips.map(id));
  assert.equal(again.pool, r.pool);
  assert.equal(again.changed, false);
  assert.deepEqual(again.dropped, []);
}

function run(ops: Op[], initial: { pools: Pool[]; invalid: string[] }): void {
  const w: World = {
    a: new Allocator(initial.pools, initial.invalid),
    pools: initial.pools,
    invalid: initial.invalid,
    descs: new Map(),
    status: new Map(),
    fromPool: new Map(),
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'assign':
        doAssign(w, op.desc);
        break;
      case 'release':
        w.a.release(op.key);
        w.descs.delete(op.key);
        w.status.delete(op.key);
        assert.equal(w.a.holding(op.key), undefined);
        break;
      case 'config': {
        // An invalid pool the allocator never saw valid has nothing to keep.
        const r = w.a.setPools(op.pools, op.invalid);
        for (const x of r.released) {
          const h = w.a.holding(x.key);
          assert.ok(!h || !h.ips.some((i) => i.family === x.ip.family && i.value === x.ip.value));
        }
        w.pools = op.pools;
        w.invalid = op.invalid;
        for (const key of allKeys(w)) if (!w.a.holding(key)) w.descs.delete(key);
        break;
      }
      case 'restart': {
        // The reconciler converges first (re-assigns everything, writes status), then a
        // new controller claims every status in arbitrary order: nothing may move.
        for (const key of allKeys(w)) {
          const d = w.descs.get(key);
          if (d) doAssign(w, d);
        }
        const before = new Map(allKeys(w).map((k) => [k, w.a.holding(k)?.ips.map(id) ?? []]));
        const keys = allKeys(w);
        const fresh = new Allocator(w.pools, w.invalid);
        for (const i of op.order) {
          const key = keys[i];
          if (key === undefined) continue;
          const d = w.descs.get(key);
          const ips = w.status.get(key) ?? [];
          if (!d || ips.length === 0) continue;
          const c = fresh.claim(d, ips, w.fromPool.get(key));
          assert.deepEqual(c.dropped, [], `${key} lost ${c.dropped.map((x) => x.message).join('; ')} on restart`);
        }
        w.a = fresh;
        for (const [k, ips] of before) assert.deepEqual(w.a.holding(k)?.ips.map(id) ?? [], ips, `${k} moved on restart`);
        break;
      }
    }
    checkInvariants(w);
  }
}

describe('allocator properties', () => {
  it('never double-allocates, stays inside pools, is idempotent, counts right, survives restarts', () => {
    fc.assert(
      fc.property(configArb, fc.array(opArb, { minLength: 1, maxLength: 60 }), (cfg, ops) => run(ops, cfg)),
      { numRuns: 300 },
    );
  });

  it('after release, assigning everything again gives a valid state', () => {
    fc.assert(
      fc.property(configArb, fc.array(fc.constantFrom(...KEYS).chain(descArb), { minLength: 1, maxLength: 30 }), fc.constantFrom(...KEYS), (cfg, descs, victim) => {
        const ops: Op[] = descs.map((desc) => ({ kind: 'assign', desc }));
        ops.push({ kind: 'release', key: `default/${victim}` });
        for (const desc of descs) ops.push({ kind: 'assign', desc });
        run(ops, cfg);
      }),
      { numRuns: 150 },
    );
  });
});
