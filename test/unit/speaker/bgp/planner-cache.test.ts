// The planner's per-Service memory (BGPPlanner): whatever sequence of snapshots it is
// given, each plan equals the plan worked out from nothing; an unchanged Service reuses
// its routes (the same objects), and each input that matters (the Service's IPs, its
// endpoints, the advertisements, peers, communities, this node's labels) makes a new plan.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { ConfigInput } from '../../../../shared/config/model.js';
import { BGPPlanner, planBGP, type BGPPlan } from '../../../../speaker/bgp/planner.js';
import { buildSnapshot, type RawNode, type SpeakerSnapshot } from '../../../../speaker/snapshot.js';
import { build } from '../../shared/config/factories.js';
import { bgpAdv, community, peer, pool, rawNode, rawService, rawSlice, type SvcSpec } from './planner-helpers.js';

const POOLS = [pool('bgp', { addresses: ['203.0.113.0/24', '2001:db8:ff::/120'] })];
const NODES = ['n1', 'n2', 'n3'];

function snapshot(config: Partial<ConfigInput>, services: SvcSpec[], nodes: RawNode[] = NODES.map((n) => rawNode(n, { zone: 'a' }))): SpeakerSnapshot {
  const { model, errors } = build(config);
  assert.deepEqual(errors, []);
  return buildSnapshot({ nodeName: 'n1', config: model, services: services.map(rawService), endpointSlices: services.map(rawSlice), nodes });
}

/** The same snapshot with another config model, Services and nodes untouched (as start.ts rebuilds it). */
const withConfig = (s: SpeakerSnapshot, config: Partial<ConfigInput>): SpeakerSnapshot => ({ ...s, config: build(config).model });

/** The same snapshot with one Service replaced (the others keep their ServiceInfo objects). */
function withService(s: SpeakerSnapshot, spec: SvcSpec): SpeakerSnapshot {
  const fresh = snapshot({ pools: POOLS }, [spec]).services;
  return { ...s, services: [...s.services.filter((x) => x.key !== `default/${spec.name}`), ...fresh].sort((a, b) => (a.key < b.key ? -1 : 1)) };
}

const prefixes = (plan: BGPPlan, peerName = 'r1'): string[] =>
  plan.peers.find((p) => p.name === peerName)?.advertisements.map((a) => `${a.prefix}/${a.length}${a.communities.length ? ` ${a.communities.join(',')}` : ''}${a.localPref !== undefined ? ` lp${a.localPref}` : ''}`) ?? [];

const CONFIG: Partial<ConfigInput> = { pools: POOLS, peers: [peer('r1')], bgpAdvertisements: [bgpAdv('all')] };
const SERVICES: SvcSpec[] = [
  { name: 'a', ips: ['203.0.113.1'] },
  { name: 'b', ips: ['203.0.113.2', '2001:db8:ff::2'] },
  { name: 'local', ips: ['203.0.113.3'], policy: 'Local', ready: ['n1'] },
];

describe('BGP planner cache', () => {
  it('an unchanged snapshot hands out the same lists again', () => {
    const planner = new BGPPlanner();
    const s = snapshot(CONFIG, SERVICES);
    const first = planner.plan(s);
    const again = planner.plan(s);
    assert.equal(again.peers[0]!.advertisements, first.peers[0]!.advertisements);
    assert.equal(again.services, first.services);
    // New ServiceInfo objects with the same content (another informer event) as well.
    const rebuilt = planner.plan({ ...s, services: snapshot(CONFIG, SERVICES).services, nodes: snapshot(CONFIG, SERVICES).nodes });
    assert.equal(rebuilt.peers[0]!.advertisements, first.peers[0]!.advertisements);
    assert.deepEqual(first, planBGP(s));
  });

  it('a changed Service is planned again; the others keep their route objects', () => {
    const planner = new BGPPlanner();
    const s = snapshot(CONFIG, SERVICES);
    const first = planner.plan(s);
    const next = planner.plan(withService(s, { name: 'a', ips: ['203.0.113.9'] }));
    assert.deepEqual(prefixes(next), ['203.0.113.2/32', '203.0.113.3/32', '203.0.113.9/32', '2001:db8:ff::2/128']);
    const before = new Map(first.peers[0]!.advertisements.map((a) => [`${a.prefix}/${a.length}`, a]));
    for (const a of next.peers[0]!.advertisements) {
      const old = before.get(`${a.prefix}/${a.length}`);
      if (a.prefix === '203.0.113.9') assert.equal(old, undefined);
      else assert.equal(a, old, `${a.prefix} reused`);
    }
    assert.deepEqual(next.services.find((x) => x.name === 'a')?.ips, ['203.0.113.9']);
  });

  it('endpoints: Cluster without ready endpoints, Local without one on this node, withdraw; back again, announce', () => {
    const planner = new BGPPlanner();
    const s = snapshot(CONFIG, SERVICES);
    planner.plan(s);
    let cur = withService(s, { name: 'a', ips: ['203.0.113.1'], ready: [] });
    assert.deepEqual(prefixes(planner.plan(cur)), ['203.0.113.2/32', '203.0.113.3/32', '2001:db8:ff::2/128']);
    cur = withService(cur, { name: 'local', ips: ['203.0.113.3'], policy: 'Local', ready: ['n2'] });
    assert.deepEqual(prefixes(planner.plan(cur)), ['203.0.113.2/32', '2001:db8:ff::2/128']);
    cur = withService(cur, { name: 'local', ips: ['203.0.113.3'], policy: 'Local', ready: ['n2', 'n1'] });
    cur = withService(cur, { name: 'a', ips: ['203.0.113.1'], notReady: ['n2'], ready: ['n3'] });
    assert.deepEqual(prefixes(planner.plan(cur)), ['203.0.113.1/32', '203.0.113.2/32', '203.0.113.3/32', '2001:db8:ff::2/128']);
    assert.deepEqual(planner.plan(cur), planBGP(cur));
  });

  it('a deleted Service is gone from the plan', () => {
    const planner = new BGPPlanner();
    const s = snapshot(CONFIG, SERVICES);
    planner.plan(s);
    const without = { ...s, services: s.services.filter((x) => x.name !== 'b') };
    const plan = planner.plan(without);
    assert.deepEqual(prefixes(plan), ['203.0.113.1/32', '203.0.113.3/32']);
    assert.deepEqual(plan.services.map((x) => x.name), ['a', 'local']);
  });

  it('config: changed advertisement, added peer, changed community alias and localPref each give a new plan', () => {
    const planner = new BGPPlanner();
    const s = snapshot(CONFIG, SERVICES.slice(0, 1));
    assert.deepEqual(prefixes(planner.plan(s)), ['203.0.113.1/32']);

    const aliases = (value: string) => [community('c', [{ name: 'mine', value }])];
    const ads = [bgpAdv('all', { communities: ['mine'], localPref: 50 })];
    const one = withConfig(s, { ...CONFIG, bgpAdvertisements: ads, communities: aliases('65000:1') });
    assert.deepEqual(prefixes(planner.plan(one)), [`203.0.113.1/32 ${(65000 * 65536 + 1) >>> 0}`]);

    const two = withConfig(s, { ...CONFIG, bgpAdvertisements: ads, communities: aliases('65000:2') });
    assert.deepEqual(prefixes(planner.plan(two)), [`203.0.113.1/32 ${(65000 * 65536 + 2) >>> 0}`]);

    // An iBGP peer added: it gets the route, with LOCAL_PREF.
    const ibgp = peer('r2', { peerAddress: '192.0.2.2', peerASN: 64512 });
    const three = withConfig(s, { ...CONFIG, peers: [peer('r1'), ibgp], bgpAdvertisements: ads, communities: aliases('65000:2') });
    const plan = planner.plan(three);
    assert.deepEqual(prefixes(plan, 'r2'), [`203.0.113.1/32 ${(65000 * 65536 + 2) >>> 0} lp50`]);
    const four = withConfig(s, { ...CONFIG, peers: [peer('r1'), ibgp], bgpAdvertisements: [bgpAdv('all', { communities: ['mine'], localPref: 70 })], communities: aliases('65000:2') });
    assert.deepEqual(prefixes(planner.plan(four), 'r2'), [`203.0.113.1/32 ${(65000 * 65536 + 2) >>> 0} lp70`]);
    for (const x of [one, two, three, four]) assert.deepEqual(planner.plan(x), planBGP(x));
  });

  it("this node: relabelled out of an advertisement's nodeSelectors, or excluded, advertises nothing", () => {
    const planner = new BGPPlanner();
    const config = { ...CONFIG, bgpAdvertisements: [bgpAdv('zone-a', { nodeSelectors: [{ matchLabels: { zone: 'a' } }] })] };
    const s = snapshot(config, SERVICES.slice(0, 1));
    assert.deepEqual(prefixes(planner.plan(s)), ['203.0.113.1/32']);
    const moved = snapshot(config, SERVICES.slice(0, 1), [rawNode('n1', { zone: 'b' }), rawNode('n2', { zone: 'a' })]);
    assert.deepEqual(prefixes(planner.plan({ ...s, nodes: moved.nodes })), []);
    assert.deepEqual(prefixes(planner.plan(s)), ['203.0.113.1/32']);
    const excluded = snapshot(config, SERVICES.slice(0, 1), [rawNode('n1', { zone: 'a', 'node.kubernetes.io/exclude-from-external-load-balancers': '' })]);
    assert.deepEqual(prefixes(planner.plan({ ...s, nodes: excluded.nodes })), []);
    assert.deepEqual(planner.plan({ ...s, nodes: new Map() }).peers, []);
    assert.deepEqual(prefixes(planner.plan(s)), ['203.0.113.1/32']);
  });

  it('aggregation across Services: the shared route follows every contributor (communities joined)', () => {
    const planner = new BGPPlanner();
    const config = { ...CONFIG, bgpAdvertisements: [bgpAdv('agg', { aggregationLength: 24 })] };
    const s = snapshot(config, [{ name: 'a', ips: ['203.0.113.1'] }, { name: 'b', ips: ['203.0.113.2'] }]);
    assert.deepEqual(prefixes(planner.plan(s)), ['203.0.113.0/24']);
    const oneLeft = withService(s, { name: 'a', ips: ['203.0.113.1'], ready: [] });
    assert.deepEqual(prefixes(planner.plan(oneLeft)), ['203.0.113.0/24']);
    const none = withService(oneLeft, { name: 'b', ips: ['203.0.113.2'], ready: [] });
    assert.deepEqual(prefixes(planner.plan(none)), []);
  });

  it('any sequence of snapshots gives the plan worked out from nothing (property)', () => {
    const IPS = ['203.0.113.1', '203.0.113.2', '203.0.113.130', '2001:db8:ff::1', '2001:db8:ff::81'];
    const svcArb = (name: string) =>
      fc.record({
        ips: fc.subarray(IPS, { minLength: 1, maxLength: 2 }),
        policy: fc.constantFrom<'Cluster' | 'Local'>('Cluster', 'Local'),
        ready: fc.subarray(NODES),
      }).map((x): SvcSpec => ({ name, ...x }));
    const configArb = fc.record({
      agg: fc.constantFrom(24, 32),
      communities: fc.subarray(['65000:1', 'large:1:2:3', 'mine']),
      alias: fc.constantFrom('65000:7', '65000:8'),
      localPref: fc.constantFrom(undefined, 100, 200),
      peers: fc.subarray(['r1', 'r2']),
      zone: fc.constantFrom(undefined, 'a', 'b'),
    });
    const stepArb = fc.record({
      config: fc.option(configArb, { nil: undefined }),
      services: fc.array(
        fc.oneof(
          fc.constantFrom('s0', 's1', 's2', 's3').chain((n) => svcArb(n)),
          fc.constantFrom('s0', 's1', 's2', 's3').map((name): { name: string; deleted: true } => ({ name, deleted: true })),
        ) as fc.Arbitrary<SvcSpec | { name: string; deleted: true }>,
        { maxLength: 3 },
      ),
      zone: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 8 }), (steps) => {
        const planner = new BGPPlanner();
        let config: Partial<ConfigInput> = CONFIG;
        let model = build(config).model;
        let zone = 'a';
        const specs = new Map<string, SvcSpec>();
        let prev: SpeakerSnapshot | undefined;
        for (const step of steps) {
          if (step.config) {
            const c = step.config;
            config = {
              pools: POOLS,
              peers: [peer('r1'), peer('r2', { peerAddress: '192.0.2.2', peerASN: 64512 })],
              communities: [community('c', [{ name: 'mine', value: c.alias }])],
              bgpAdvertisements: [
                bgpAdv('x', { aggregationLength: c.agg, communities: c.communities, peers: c.peers, ...(c.localPref !== undefined ? { localPref: c.localPref } : {}), ...(c.zone ? { nodeSelectors: [{ matchLabels: { zone: c.zone } }] } : {}) }),
              ],
            };
            model = build(config).model;
          }
          if (step.zone) zone = step.zone;
          const changed = new Set<string>();
          for (const svc of step.services) {
            changed.add(svc.name);
            if ('deleted' in svc) specs.delete(svc.name);
            else specs.set(svc.name, svc);
          }
          const fresh = buildSnapshot({
            nodeName: 'n1',
            config: model,
            services: [...specs.values()].map(rawService),
            endpointSlices: [...specs.values()].map(rawSlice),
            nodes: NODES.map((n) => rawNode(n, { zone: n === 'n1' ? zone : 'a' })),
          });
          // Unchanged Services keep their ServiceInfo objects, as a memoized snapshot builder gives them.
          const kept = new Map(prev?.services.map((x) => [x.key, x]));
          const s: SpeakerSnapshot = { ...fresh, services: fresh.services.map((x) => (changed.has(x.name) ? x : (kept.get(x.key) ?? x))) };
          assert.deepEqual(planner.plan(s), planBGP(s));
          prev = s;
        }
      }),
      { numRuns: 300 },
    );
  });
});
