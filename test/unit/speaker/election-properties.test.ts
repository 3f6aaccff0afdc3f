import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { electL2, rankNodes, winnersByService } from '../../../speaker/election.js';
import type { ServiceInfo, SpeakerSnapshot } from '../../../speaker/snapshot.js';
import { ad, config, node, service, snapshot } from './election-helpers.js';

const NODE_NAMES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];
const IPS = ['192.0.2.200', '192.0.2.201', '192.0.2.202', '2001:db8:0:2::200', '2001:db8:0:2::201', '198.51.100.9'];

const arbNode = (name: string) =>
  fc
    .record({ zone: fc.constantFrom('a', 'b', 'c'), excluded: fc.integer({ min: 0, max: 4 }) })
    .map(({ zone, excluded }) => node(name, { zone }, excluded !== 0));

const arbService = (i: number) =>
  fc
    .record({
      ips: fc.subarray(IPS, { minLength: 1, maxLength: 2 }),
      policy: fc.constantFrom<'Cluster' | 'Local'>('Cluster', 'Local'),
      endpoints: fc.subarray(NODE_NAMES),
      ready: fc.boolean(),
    })
    .map(({ ips, policy, endpoints, ready }) =>
      policy === 'Local' ? service(`s${i}`, ips, { policy, endpoints }) : service(`s${i}`, ips, { ready }),
    );

const arbAds = fc.subarray(
  [
    ad('all', ['l2']),
    ad('zone-a', ['l2'], [{ matchLabels: { zone: 'a' } }], ['eth0']),
    ad('not-c', ['l2'], [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['c'] }] }], ['eth1']),
    ad('bgp-pool', ['bgp']),
  ],
  { minLength: 0 },
);

const arbWorld = fc.record({
  nodes: fc.tuple(...NODE_NAMES.map(arbNode)),
  services: fc.tuple(...[0, 1, 2, 3, 4].map(arbService)),
  ads: arbAds,
  live: fc.subarray(NODE_NAMES),
  seed: fc.integer(),
});

type World = { snap: SpeakerSnapshot; live: string[] };

function build(w: { nodes: ReturnType<typeof node>[]; services: ServiceInfo[]; ads: ReturnType<typeof ad>[]; live: string[] }): World {
  return { snap: snapshot(config(w.ads), w.nodes, w.services), live: w.live };
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('L2 election properties', () => {
  it('is deterministic and independent of the order of nodes, Services and the live set, and of who computes it', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const { snap, live } = build(w);
        const a = electL2(snap, new Set(live));
        const other: SpeakerSnapshot = {
          ...snap,
          nodeName: 'n7',
          services: shuffled(snap.services, w.seed),
          nodes: new Map(shuffled([...snap.nodes], w.seed + 1)),
        };
        const b = electL2(other, new Set(shuffled(live, w.seed + 2)));
        assert.deepEqual(b, a);
      }),
      { numRuns: 200 },
    );
  });

  it('a winner is always a live, announcing node; a shared IP has one winner for all its Services', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const { snap, live } = build(w);
        const elections = electL2(snap, new Set(live));
        for (const e of elections.values()) {
          assert.equal(e.winner, e.candidates[0]);
          for (const c of e.candidates) {
            assert.ok(live.includes(c));
            assert.equal(snap.nodes.get(c)?.mayAnnounce, true);
          }
          if (e.winner) assert.ok(e.services.length > 0 && e.services.every((s) => e.holders.includes(s)));
        }
        for (const [svc, byIP] of winnersByService(elections)) {
          for (const [ip, winner] of byIP) {
            assert.equal(elections.get(ip)?.winner, winner, `${svc} on ${ip}`);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('adding a live node moves an IP only to that node, and only if it sorts first among equals', () => {
    fc.assert(
      fc.property(arbWorld, fc.constantFrom(...NODE_NAMES), (w, added) => {
        const { snap, live } = build(w);
        const without = live.filter((n) => n !== added);
        const before = electL2(snap, new Set(without));
        const after = electL2(snap, new Set([...without, added]));
        for (const [ip, b] of before) {
          const a = after.get(ip);
          assert.ok(a);
          if (a.winner === b.winner) continue;
          assert.equal(a.winner, added, `${ip} moved from ${b.winner} to ${a.winner}`);
          if (b.winner !== undefined && a.reason === 'elected' && b.reason === 'elected') {
            assert.equal(rankNodes([b.winner, added], ip)[0], added);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('removing a node that is not the winner never moves an IP', () => {
    fc.assert(
      fc.property(arbWorld, fc.constantFrom(...NODE_NAMES), (w, removed) => {
        const { snap, live } = build(w);
        const before = electL2(snap, new Set(live));
        const after = electL2(snap, new Set(live.filter((n) => n !== removed)));
        for (const [ip, b] of before) {
          if (b.winner === removed) continue;
          assert.equal(after.get(ip)?.winner, b.winner, ip);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('with agreeing Services, the winner is the first live eligible node in hash order', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const { snap, live } = build(w);
        for (const e of electL2(snap, new Set(live)).values()) {
          if (e.reason !== 'elected') continue;
          assert.deepEqual(rankNodes(e.candidates, e.ipText), e.candidates);
        }
      }),
      { numRuns: 200 },
    );
  });
});
