import { strict as assert } from 'node:assert';
import type { IPAddressPool } from '../../../shared/api/types.js';
import { buildConfig, errorsFor, poolByName } from '../../../shared/config/model.js';
import { Allocator } from '../../../controller/allocator.js';
import { advertisementsByPool, planPoolStatus } from '../../../controller/pool-status.js';
import { nextCondition, mergeConditions } from '../../../controller/conditions.js';
import { svc } from './allocator-helpers.js';

const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-01T01:00:00Z';

function raw(name: string, addresses: string[], created: string, generation = 1): IPAddressPool {
  return {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name, namespace: 'herald-system', creationTimestamp: created, generation },
    spec: { addresses },
  };
}

function plan(pools: IPAddressPool[], name: string, now = T0, alloc?: Allocator) {
  const { model, errors } = buildConfig({ pools, l2Advertisements: [], bgpAdvertisements: [], peers: [], communities: [], bfdProfiles: [], secrets: [], namespace: 'herald-system' });
  const a = alloc ?? new Allocator(model.pools, model.invalidPools);
  const p = pools.find((x) => x.metadata.name === name) as IPAddressPool;
  return planPoolStatus({ pool: p, model: poolByName(model, name), usage: a.poolUsage(name), errors: errorsFor(errors, 'IPAddressPool', name), now });
}

const cond = (s: { conditions?: { type: string; status: string; reason: string; message: string }[] }, type: string) => s.conditions?.find((c) => c.type === type);

describe('controller/pool-status', () => {
  it('counts per family, saturating an IPv6 /64 at Number.MAX_SAFE_INTEGER', () => {
    const p = plan([raw('big', ['192.0.2.0/24', '2001:db8::/64'], T0, 4)], 'big');
    assert.equal(p.changed, true);
    assert.equal(p.status.assignedIPv4, 0);
    assert.equal(p.status.availableIPv4, 256);
    assert.equal(p.status.availableIPv6, Number.MAX_SAFE_INTEGER);
    assert.equal(p.status.observedGeneration, 4);
    assert.equal(cond(p.status, 'Ready')?.status, 'True');
    assert.equal(cond(p.status, 'Overlap')?.status, 'False');
    assert.equal(cond(p.status, 'InvalidAddresses')?.status, 'False');
    assert.deepEqual(p.events, []);
  });

  it('marks the later of two overlapping pools, naming the other, with one Warning', () => {
    const pools = [raw('old', ['192.0.2.0/28'], '2025-01-01T00:00:00Z'), raw('new', ['192.0.2.8-192.0.2.20'], '2025-01-02T00:00:00Z')];
    const first = plan(pools, 'new');
    const o = cond(first.status, 'Overlap');
    assert.equal(o?.status, 'True');
    assert.equal(o?.reason, 'OverlapsPool');
    assert.match(o?.message ?? '', /^spec\.addresses\[0\]: 192\.0\.2\.8-192\.0\.2\.15 .*already in pool "old"/);
    assert.equal(cond(first.status, 'Ready')?.status, 'True');
    assert.equal(first.status.availableIPv4, 5, '.16 to .20 only');
    assert.deepEqual(first.events.map((e) => `${e.type} ${e.reason}`), ['Warning OverlapsPool']);
    assert.equal(cond(plan(pools, 'old').status, 'Overlap')?.status, 'False');

    // Once written, the same plan changes nothing and says nothing.
    const written = { ...pools[1], status: first.status } as IPAddressPool;
    const again = plan([pools[0] as IPAddressPool, written], 'new', T1);
    assert.equal(again.changed, false);
    assert.deepEqual(again.events, []);
  });

  it('is not Ready when every address overlaps, or when an entry is unusable', () => {
    const pools = [raw('old', ['192.0.2.0/28'], '2025-01-01T00:00:00Z'), raw('inside', ['192.0.2.1-192.0.2.2'], '2025-01-02T00:00:00Z')];
    const inside = plan(pools, 'inside');
    assert.equal(cond(inside.status, 'Ready')?.reason, 'NoAddresses');
    const bad = plan([raw('dup', ['192.0.2.0/31', '192.0.2.1'], T0)], 'dup');
    assert.equal(cond(bad.status, 'Ready')?.status, 'False');
    assert.equal(cond(bad.status, 'Ready')?.reason, 'InvalidConfiguration');
    const ia = cond(bad.status, 'InvalidAddresses');
    assert.equal(ia?.status, 'True');
    assert.match(ia?.message ?? '', /^spec\.addresses\[1\]: /);
    assert.equal(bad.status.availableIPv4, 0, 'nothing is handed out from an invalid pool');
    assert.deepEqual(bad.events.map((e) => e.reason), ['InvalidConfiguration']);
  });

  it('reports assigned addresses from the allocator', () => {
    const pools = [raw('lan', ['192.0.2.1-192.0.2.4', '2001:db8::1-2001:db8::2'], T0)];
    const { model } = buildConfig({ pools, l2Advertisements: [], bgpAdvertisements: [], peers: [], communities: [], bfdProfiles: [], secrets: [], namespace: 'herald-system' });
    const a = new Allocator(model.pools);
    assert.ok(a.assign(svc('a', { families: [4, 6], policy: 'RequireDualStack' })).ok);
    const p = plan(pools, 'lan', T0, a);
    assert.deepEqual([p.status.assignedIPv4, p.status.availableIPv4, p.status.assignedIPv6, p.status.availableIPv6], [1, 3, 1, 1]);
  });
});

describe('controller/conditions', () => {
  it('moves lastTransitionTime only when the status flips, and keeps others\' conditions in place', () => {
    const a = nextCondition(undefined, { type: 'Ready', status: 'True', reason: 'Valid', message: 'm' }, T0);
    const b = nextCondition(a, { type: 'Ready', status: 'True', reason: 'Other', message: 'n' }, T1);
    assert.equal(b.lastTransitionTime, T0);
    const c = nextCondition(b, { type: 'Ready', status: 'False', reason: 'Bad', message: 'n' }, T1);
    assert.equal(c.lastTransitionTime, T1);
    const theirs = { type: 'X', status: 'True' as const, reason: 'R', message: '', lastTransitionTime: T0 };
    assert.deepEqual(mergeConditions([theirs, a], [c]).map((x) => `${x.type}:${x.status}`), ['X:True', 'Ready:False']);
  });

  it('says whether an advertisement covers the pool, with one Warning when none does, and nothing while that is unknown', () => {
    const pools = [raw('lan', ['192.0.2.1-192.0.2.4'], T0), raw('spare', ['192.0.2.8/30'], T0)];
    const config = buildConfig({
      pools,
      l2Advertisements: [{ apiVersion: 'herald.dev/v1beta1', kind: 'L2Advertisement', metadata: { name: 'l2', namespace: 'herald-system' }, spec: { ipAddressPools: ['lan'] } }],
      bgpAdvertisements: [{ apiVersion: 'herald.dev/v1beta1', kind: 'BGPAdvertisement', metadata: { name: 'up', namespace: 'herald-system' }, spec: { ipAddressPools: ['lan'] } }],
      peers: [],
      communities: [],
      bfdProfiles: [],
      secrets: [],
      namespace: 'herald-system',
    });
    const by = advertisementsByPool(config.model);
    assert.deepEqual([...by], [['lan', ['L2Advertisement "l2"', 'BGPAdvertisement "up"']]]);
    const a = new Allocator(config.model.pools);
    const planFor = (name: string, advertisedBy: readonly string[] | undefined, status?: IPAddressPool['status']) => {
      const pool = { ...(pools.find((p) => p.metadata.name === name) as IPAddressPool), ...(status ? { status } : {}) };
      return planPoolStatus({ pool, model: poolByName(config.model, name), usage: a.poolUsage(name), errors: [], now: T0, ...(advertisedBy ? { advertisedBy } : {}) });
    };
    const lan = planFor('lan', by.get('lan') ?? []);
    assert.deepEqual(cond(lan.status, 'Advertised'), { type: 'Advertised', status: 'True', reason: 'Advertised', message: 'covered by L2Advertisement "l2", BGPAdvertisement "up"', observedGeneration: 1, lastTransitionTime: T0 });
    assert.deepEqual(lan.events, []);
    const spare = planFor('spare', by.get('spare') ?? []);
    assert.equal(cond(spare.status, 'Advertised')?.status, 'False');
    assert.deepEqual(spare.events.map((e) => `${e.type} ${e.reason}`), ['Warning NotAdvertised']);
    assert.deepEqual(planFor('spare', [], spare.status).events, [], 'said once');
    assert.equal(cond(planFor('spare', undefined).status, 'Advertised'), undefined, 'unknown: no condition');
  });
});
