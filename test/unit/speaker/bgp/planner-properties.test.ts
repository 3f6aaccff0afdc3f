import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { planBGP } from '../../../../speaker/bgp/planner.js';
import { buildSnapshot } from '../../../../speaker/snapshot.js';
import { parseIP, prefixRange, rangeContains } from '../../../../shared/ip/ip.js';
import { build } from '../../shared/config/factories.js';
import { bgpAdv, peer, pool, rawNode, rawService, rawSlice, type SvcSpec } from './planner-helpers.js';

const NODES = ['n1', 'n2', 'n3'];
const IPS = ['203.0.113.1', '203.0.113.2', '203.0.113.130', '2001:db8:ff::1', '2001:db8:ff::81'];

const arbService = (i: number) =>
  fc
    .record({
      ips: fc.subarray(IPS, { minLength: 1, maxLength: 2 }),
      policy: fc.constantFrom<'Cluster' | 'Local'>('Cluster', 'Local'),
      ready: fc.subarray(NODES),
    })
    .map(({ ips, policy, ready }): SvcSpec => ({ name: `s${i}`, ips, policy, ready }));

const arbAd = (name: string) =>
  fc
    .record({
      agg: fc.constantFrom(24, 25, 32),
      agg6: fc.constantFrom(120, 121, 128),
      communities: fc.subarray(['65000:1', '65000:2', 'large:1:2:3', '65535:65281']),
      peers: fc.subarray(['r1', 'r2']),
      zone: fc.constantFrom(undefined, 'a', 'b'),
      localPref: fc.constantFrom(undefined, 100, 200),
    })
    .map(({ agg, agg6, communities, peers, zone, localPref }) =>
      bgpAdv(name, {
        aggregationLength: agg,
        aggregationLengthV6: agg6,
        communities,
        peers,
        ...(zone ? { nodeSelectors: [{ matchLabels: { zone } }] } : {}),
        ...(localPref !== undefined ? { localPref } : {}),
      }),
    );

const arbWorld = fc.record({
  services: fc.tuple(...[0, 1, 2, 3].map(arbService)),
  ads: fc.tuple(arbAd('a1'), arbAd('a2'), arbAd('a3')).chain((ads) => fc.subarray(ads)),
  zones: fc.tuple(...NODES.map(() => fc.constantFrom('a', 'b'))),
  excluded: fc.boolean(),
  node: fc.constantFrom(...NODES),
});

type World = typeof arbWorld extends fc.Arbitrary<infer T> ? T : never;

const POOLS = [pool('bgp', { addresses: ['203.0.113.0/24', '2001:db8:ff::/120'] })];
const PEERS = [peer('r1'), peer('r2', { peerAddress: '192.0.2.2', peerASN: 64512 })];

function snapshotFor(w: World, order: (<T>(xs: T[]) => T[]) = (xs) => xs) {
  const { model } = build({ pools: order([...POOLS]), peers: order([...PEERS]), bgpAdvertisements: order([...w.ads]) });
  const nodes = NODES.map((n, i) =>
    rawNode(n, { zone: w.zones[i]!, ...(w.excluded && n === w.node ? { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {}) }),
  );
  return buildSnapshot({
    nodeName: w.node,
    config: model,
    services: order(w.services.map(rawService)),
    endpointSlices: order(w.services.map(rawSlice)),
    nodes: order(nodes),
  });
}

describe('BGP planner properties', () => {
  it('is deterministic: the same objects in any order give the same plan', () => {
    fc.assert(
      fc.property(arbWorld, fc.infiniteStream(fc.nat()), (w, seeds) => {
        const shuffle = <T>(xs: T[]): T[] => {
          const a = [...xs];
          for (let i = a.length - 1; i > 0; i--) {
            const j = seeds.next().value % (i + 1);
            [a[i], a[j]] = [a[j]!, a[i]!];
          }
          return a;
        };
        assert.deepEqual(planBGP(snapshotFor(w, shuffle)), planBGP(snapshotFor(w)));
      }),
      { numRuns: 200 },
    );
  });

  it('advertises only prefixes covering an IP this node may announce, each once, with sorted attributes', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const plan = planBGP(snapshotFor(w));
        const eligible = w.services
          .filter((s) => !(w.excluded) && (s.policy === 'Local' ? (s.ready ?? []).includes(w.node) : (s.ready ?? []).length > 0))
          .flatMap((s) => s.ips.map((t) => parseIP(t)!));
        for (const p of plan.peers) {
          const keys = p.advertisements.map((a) => `${a.prefix}/${a.length}`);
          assert.equal(new Set(keys).size, keys.length, 'one advertisement per prefix');
          for (const a of p.advertisements) {
            const range = prefixRange(parseIP(a.prefix)!, a.length);
            assert.ok(eligible.some((ip) => rangeContains(range, ip)), `${a.prefix}/${a.length} covers an eligible IP`);
            assert.deepEqual([...a.communities], [...a.communities].sort((x, y) => x - y));
            if (p.name === 'r1') assert.equal(a.localPref, undefined, 'no LOCAL_PREF to an eBGP peer');
          }
        }
        if (w.excluded) assert.deepEqual(plan.services, []);
      }),
      { numRuns: 300 },
    );
  });

  it('with host-length advertisements to every peer and node, every eligible IP is advertised as itself', () => {
    fc.assert(
      fc.property(fc.tuple(...[0, 1, 2, 3].map(arbService)), fc.constantFrom(...NODES), (services, node) => {
        const w: World = { services, ads: [bgpAdv('hosts')], zones: ['a', 'a', 'a'], excluded: false, node };
        const plan = planBGP(snapshotFor(w));
        const want = new Set(
          services
            .filter((s) => (s.policy === 'Local' ? (s.ready ?? []).includes(node) : (s.ready ?? []).length > 0))
            .flatMap((s) => s.ips.map((ip) => `${ip}/${ip.includes(':') ? 128 : 32}`)),
        );
        for (const p of plan.peers) assert.deepEqual(new Set(p.advertisements.map((a) => `${a.prefix}/${a.length}`)), want);
        assert.deepEqual(new Set(plan.services.flatMap((s) => s.ips)), new Set([...want].map((k) => k.split('/')[0])));
      }),
      { numRuns: 200 },
    );
  });
});
