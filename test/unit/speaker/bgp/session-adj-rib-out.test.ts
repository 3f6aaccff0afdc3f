// The Adj-RIB-Out: whatever sequence of wanted sets it is given, the peer that applies
// the UPDATEs ends up holding exactly the wanted routes with their attributes, and no
// UPDATE says anything the peer already knew.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { AdjRibOut, DEFAULT_LOCAL_PREF, type Advertisement, type PeerContext } from '../../../../speaker/bgp/adj-rib-out.js';
import { findAttribute } from '../../../../speaker/bgp/attributes.js';
import { decodeMessage } from '../../../../speaker/bgp/messages.js';
import { prefixText } from '../../../../speaker/bgp/prefix.js';
import { announcedPrefixes, withdrawnPrefixes, type UpdateMessage } from '../../../../speaker/bgp/update.js';

const ebgp: PeerContext = { internal: false, localASN: 4200000002, families: [4, 6], nextHop: '192.0.2.2', nextHopV6: '2001:db8::2', codec: { fourOctetAS: true, maxMessageSize: 4096, internal: false } };
const ibgp: PeerContext = { ...ebgp, internal: true, codec: { ...ebgp.codec, internal: true } };
const twoOctet: PeerContext = { ...ebgp, codec: { fourOctetAS: false, maxMessageSize: 4096, internal: false } };

/** What the peer holds for one prefix, as it would compare routes. */
function summary(u: UpdateMessage): string {
  const lp = findAttribute(u.attributes, 'localPref')?.localPref;
  const c = findAttribute(u.attributes, 'communities')?.communities ?? [];
  const l = findAttribute(u.attributes, 'largeCommunities')?.communities ?? [];
  return `${lp ?? '-'}|${[...c].sort((a, b) => a - b).join(',')}|${l.map((x) => x.join(':')).sort().join(',')}`;
}

function expected(ads: readonly Advertisement[], peer: PeerContext): Map<string, string> {
  const m = new Map<string, { lp?: number; c: Set<number>; l: Set<string> }>();
  for (const a of ads) {
    const k = `${a.prefix}/${a.length}`;
    const e = m.get(k) ?? { c: new Set<number>(), l: new Set<string>() };
    if (a.localPref !== undefined) e.lp = Math.max(e.lp ?? 0, a.localPref);
    for (const x of a.communities) e.c.add(x);
    for (const x of a.largeCommunities) e.l.add(x.join(':'));
    m.set(k, e);
  }
  const out = new Map<string, string>();
  for (const [k, e] of m) {
    const lp = peer.internal ? String(e.lp ?? DEFAULT_LOCAL_PREF) : '-';
    out.set(k, `${lp}|${[...e.c].sort((a, b) => a - b).join(',')}|${[...e.l].sort().join(',')}`);
  }
  return out;
}

/** The peer's reading of encoded UPDATEs. */
function decoded(updates: readonly Buffer[], peer: PeerContext = ebgp): UpdateMessage[] {
  return updates.map((wire) => {
    assert.ok(wire.length <= peer.codec.maxMessageSize);
    const m = decodeMessage(wire, peer.codec);
    assert.equal(m.type, 'update');
    return m as UpdateMessage;
  });
}

/** Applies encoded UPDATEs to the peer's table; returns what each changed. */
function apply(rib: Map<string, string>, updates: readonly Buffer[], peer: PeerContext): { announced: string[]; withdrawn: string[] } {
  const announced: string[] = [];
  const withdrawn: string[] = [];
  for (const m of decoded(updates, peer)) {
    for (const p of withdrawnPrefixes(m)) {
      withdrawn.push(prefixText(p));
      rib.delete(prefixText(p));
    }
    for (const p of announcedPrefixes(m)) {
      announced.push(prefixText(p));
      rib.set(prefixText(p), summary(m));
      if (p.family === 4) assert.equal(findAttribute(m.attributes, 'nextHop')?.nextHop, peer.nextHop);
      else assert.equal(findAttribute(m.attributes, 'mpReach')?.nextHop, peer.nextHopV6);
      const path = findAttribute(m.attributes, 'asPath')?.segments.flatMap((s) => s.asns) ?? [];
      assert.deepEqual(path, peer.internal ? [] : [peer.codec.fourOctetAS ? peer.localASN : 23456]);
    }
  }
  return { announced, withdrawn };
}

const prefixes = ['198.51.100.1/32', '198.51.100.2/32', '198.51.100.0/24', '203.0.113.7/32', '2001:db8:ff::1/128', '2001:db8:ff::/64'];
const adArb: fc.Arbitrary<Advertisement> = fc.record({
  cidr: fc.constantFrom(...prefixes),
  localPref: fc.option(fc.constantFrom(50, 100, 200), { nil: undefined }),
  communities: fc.subarray([0xfc000001, 0xfc000002, 0xfde80064]),
  largeCommunities: fc.subarray([[4200000002, 1, 2] as const, [1, 2, 3] as const]),
}).map(({ cidr, localPref, communities, largeCommunities }) => {
  const [p, l] = cidr.split('/') as [string, string];
  return { family: p.includes(':') ? 6 : 4, prefix: p, length: Number(l), communities, largeCommunities, ...(localPref !== undefined ? { localPref } : {}) } as Advertisement;
});

describe('speaker/bgp Adj-RIB-Out', () => {
  it('leaves the peer holding exactly the wanted set, saying only what changed (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(ebgp, ibgp, twoOctet), fc.array(fc.array(adArb, { maxLength: 8 }), { minLength: 1, maxLength: 8 }), (peer, sets) => {
        const out = new AdjRibOut();
        const rib = new Map<string, string>();
        for (const ads of sets) {
          const before = new Map(rib);
          assert.deepEqual(out.setWanted(ads), []);
          const { announced, withdrawn } = apply(rib, out.sync(peer), peer);
          const want = expected(ads, peer);
          assert.deepEqual(new Map([...rib].sort()), new Map([...want].sort()));
          // Minimal: announce only new or changed routes, withdraw only routes no longer wanted.
          for (const k of announced) assert.notEqual(before.get(k), want.get(k), `${k} re-announced unchanged`);
          for (const k of withdrawn) assert.ok(before.has(k) && !want.has(k), `${k} withdrawn needlessly`);
          assert.equal(new Set(announced).size, announced.length, 'each prefix once');
          assert.equal(out.sentCount, want.size);
          assert.equal(out.pendingCount(peer), 0);
          assert.deepEqual(out.sync(peer), [], 'nothing left to say');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the same advertisement objects again, some added, removed or moved: the peer still ends up with the wanted set (property)', () => {
    // The Adj-RIB-Out reuses what it parsed for objects it saw at the same place before.
    const pool = fc.sample(adArb, { numRuns: 12, seed: 7 });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.subarray(pool), fc.boolean()), { minLength: 1, maxLength: 8 }), (steps) => {
        const out = new AdjRibOut();
        const rib = new Map<string, string>();
        for (const [ads, reverse] of steps) {
          const set = reverse ? [...ads].reverse() : ads;
          assert.deepEqual(out.setWanted(set), []);
          apply(rib, out.sync(ebgp), ebgp);
          assert.deepEqual(new Map([...rib].sort()), new Map([...expected(set, ebgp)].sort()));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('withholds routes of a family without next hop or not negotiated, and counts them pending', () => {
    const out = new AdjRibOut();
    out.setWanted([
      { family: 4, prefix: '198.51.100.1', length: 32, communities: [], largeCommunities: [] },
      { family: 6, prefix: '2001:db8:ff::1', length: 128, communities: [], largeCommunities: [] },
    ]);
    const v4only: PeerContext = { ...ebgp, nextHopV6: undefined };
    const rib = new Map<string, string>();
    apply(rib, out.sync(v4only), v4only);
    assert.deepEqual([...rib.keys()], ['198.51.100.1/32']);
    assert.equal(out.pendingCount(v4only), 1);
    const left = out.unsendable(v4only);
    assert.equal(left.count, 1);
    assert.equal(left.example && prefixText(left.example), '2001:db8:ff::1/128');
    assert.deepEqual(out.unsendable(ebgp), { count: 0 });
    // The same session later knows its IPv6 next hop (not in practice, but the diff must cope).
    apply(rib, out.sync(ebgp), ebgp);
    assert.deepEqual([...rib.keys()].sort(), ['198.51.100.1/32', '2001:db8:ff::1/128']);
    // A family the peer did not negotiate: withdrawn if it was sent.
    const { withdrawn } = apply(rib, out.sync({ ...ebgp, families: [4] }), ebgp);
    assert.deepEqual(withdrawn, ['2001:db8:ff::1/128']);
  });

  it('refuses malformed advertisements with a reason and masks host bits', () => {
    const out = new AdjRibOut();
    const refused = out.setWanted([
      { family: 4, prefix: '2001:db8::1', length: 32, communities: [], largeCommunities: [] },
      { family: 4, prefix: '198.51.100.1', length: 33, communities: [], largeCommunities: [] },
      { family: 4, prefix: '198.51.100.1', length: 32, communities: [2 ** 32], largeCommunities: [] },
      { family: 4, prefix: '198.51.100.1', length: 32, communities: [], largeCommunities: [[1, 2, -1]] },
      { family: 4, prefix: '198.51.100.77', length: 24, communities: [], largeCommunities: [] },
    ]);
    assert.equal(refused.length, 4);
    const rib = new Map<string, string>();
    apply(rib, out.sync(ebgp), ebgp);
    assert.deepEqual([...rib.keys()], ['198.51.100.0/24']);
  });

  it('answers a route refresh with every route of the family, and only that family', () => {
    const out = new AdjRibOut();
    out.setWanted(prefixes.map((c) => ({ family: c.includes(':') ? 6 : 4, prefix: c.split('/')[0]!, length: Number(c.split('/')[1]), communities: [], largeCommunities: [] })));
    out.sync(ebgp);
    const again = decoded(out.refresh(6, ebgp)).flatMap(announcedPrefixes).map(prefixText).sort();
    assert.deepEqual(again, ['2001:db8:ff::/64', '2001:db8:ff::1/128']);
    assert.deepEqual(out.sync(ebgp), []);
  });

  it('forgets what was sent on reset, so the next session gets everything', () => {
    const out = new AdjRibOut();
    out.setWanted([{ family: 4, prefix: '198.51.100.1', length: 32, communities: [], largeCommunities: [] }]);
    assert.equal(out.sync(ebgp).length, 1);
    assert.equal(out.sync(ebgp).length, 0);
    out.reset();
    assert.equal(out.sentCount, 0);
    assert.equal(out.pendingCount(ebgp), 1);
    assert.deepEqual(decoded(out.sync(ebgp)).flatMap(announcedPrefixes).map(prefixText), ['198.51.100.1/32']);
  });
});
