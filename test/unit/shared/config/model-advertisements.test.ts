import { strict as assert } from 'node:assert';
import type { BGPAdvertisementModel } from '../../../../shared/config/types.js';
import type { ConfigResult } from '../../../../shared/config/types.js';
import { bgpAdv, build, community, expectErrors, expectNoErrors, l2, peer, pool } from './factories.js';

// The lab's pools (DESIGN.md): L2 v4 and v6, BGP v4 and v6.
const labPools = () => [
  pool('l2-v4', { addresses: ['192.0.2.200-192.0.2.250'] }, { labels: { mode: 'l2' } }),
  pool('l2-v6', { addresses: ['2001:db8:0:2::200-2001:db8:0:2::2ff'] }, { labels: { mode: 'l2' } }),
  pool('bgp', { addresses: ['203.0.113.0/24', '2001:db8:ff::/120'] }, { labels: { mode: 'bgp' } }),
];

function adv(r: ConfigResult, name: string): BGPAdvertisementModel {
  const a = r.model.bgpAdvertisements.find((x) => x.name === name);
  assert.ok(a, `BGPAdvertisement ${name} is in the model`);
  return a;
}

describe('config model: L2Advertisement', () => {
  it('with neither pools nor selectors covers every pool', () => {
    const r = build({ pools: labPools(), l2Advertisements: [l2('all')] });
    expectNoErrors(r);
    assert.deepEqual(r.model.l2Advertisements, [{ name: 'all', pools: ['bgp', 'l2-v4', 'l2-v6'], nodeSelectors: [], interfaces: [] }]);
  });
  it('resolves names and pool selectors together, sorted and once each', () => {
    const r = build({
      pools: labPools(),
      l2Advertisements: [l2('some', { ipAddressPools: ['l2-v6', 'bgp'], ipAddressPoolSelectors: [{ matchLabels: { mode: 'l2' } }] })],
    });
    expectNoErrors(r);
    assert.deepEqual(r.model.l2Advertisements[0]!.pools, ['bgp', 'l2-v4', 'l2-v6']);
  });
  it('a selector that matches nothing covers nothing (not everything)', () => {
    const r = build({ pools: labPools(), l2Advertisements: [l2('none', { ipAddressPoolSelectors: [{ matchLabels: { mode: 'other' } }] })] });
    expectNoErrors(r);
    assert.deepEqual(r.model.l2Advertisements[0]!.pools, []);
  });
  it('keeps nodeSelectors and interfaces (sorted)', () => {
    const sel = [{ matchLabels: { 'kubernetes.io/hostname': 'node1' } }];
    const r = build({ pools: labPools(), l2Advertisements: [l2('a', { nodeSelectors: sel, interfaces: ['eth1', 'bond0'] })] });
    expectNoErrors(r);
    assert.deepEqual(r.model.l2Advertisements[0]!.nodeSelectors, sel);
    assert.deepEqual(r.model.l2Advertisements[0]!.interfaces, ['bond0', 'eth1']);
  });
  it('an unknown pool is a Reference error; the advertisement keeps the known ones', () => {
    const r = build({ pools: labPools(), l2Advertisements: [l2('a', { ipAddressPools: ['l2-v4', 'nope'] })] });
    expectErrors(r, 'L2Advertisement', 'a', [['Reference', 'spec.ipAddressPools[1]', /IPAddressPool "nope" does not exist in namespace herald-system/]]);
    assert.deepEqual(r.model.l2Advertisements[0]!.pools, ['l2-v4']);
  });
  it('only unknown pools: covers nothing (never falls back to every pool)', () => {
    const r = build({ pools: labPools(), l2Advertisements: [l2('a', { ipAddressPools: ['nope'] })] });
    assert.deepEqual(r.model.l2Advertisements[0]!.pools, []);
  });
  it('an invalid pool is still covered by name, so its Services stay announced', () => {
    const r = build({ pools: [pool('broken', { addresses: ['typo'] })], l2Advertisements: [l2('a', { ipAddressPools: ['broken'] })] });
    expectErrors(r, 'L2Advertisement', 'a', []);
    assert.deepEqual(r.model.l2Advertisements[0]!.pools, ['broken']);
    assert.deepEqual(r.model.invalidPools, ['broken']);
  });
  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ['a pool named twice', { ipAddressPools: ['bgp', 'bgp'] }, 'spec.ipAddressPools[1]', /twice/],
    ['a pool name not a string', { ipAddressPools: [7] }, 'spec.ipAddressPools[0]', /non-empty strings/],
    ['a bad pool selector', { ipAddressPoolSelectors: [{ matchExpressions: [{ key: 'mode', operator: 'Is' }] }] }, 'spec.ipAddressPoolSelectors[0].matchExpressions[0].operator', /not one of/],
    ['a bad node selector', { nodeSelectors: [{ matchLabels: { zone: 'a b' } }] }, 'spec.nodeSelectors[0].matchLabels[zone]', /label value/],
    ['an interface name too long', { interfaces: ['a-very-long-ifname'] }, 'spec.interfaces[0]', /1 to 15 bytes/],
    ['an interface name with a colon', { interfaces: ['eth0:1'] }, 'spec.interfaces[0]', /no '\/', ':'/],
    ['interfaces not a list', { interfaces: 'eth0' }, 'spec.interfaces', /list of strings/],
  ];
  for (const [name, spec, field, why] of bad) {
    it(`rejects ${name}`, () => {
      const r = build({ pools: labPools(), l2Advertisements: [l2('a', spec), l2('b')] });
      expectErrors(r, 'L2Advertisement', 'a', [['Invalid', field, why]]);
      assert.deepEqual(r.model.l2Advertisements.map((x) => x.name), ['b']);
    });
  }
});

describe('config model: BGPAdvertisement', () => {
  it('defaults: aggregation 32 / 128, no localPref, no communities, every peer, every pool', () => {
    const r = build({ pools: labPools(), bgpAdvertisements: [bgpAdv('all')] });
    expectNoErrors(r);
    assert.deepEqual(adv(r, 'all'), {
      name: 'all',
      pools: ['bgp', 'l2-v4', 'l2-v6'],
      aggregationLength: 32,
      aggregationLengthV6: 128,
      communities: { standard: [], large: [] },
      nodeSelectors: [],
      peers: [],
    });
  });
  it('takes every field', () => {
    const r = build({
      pools: labPools(),
      peers: [peer('router'), peer('backup', { peerAddress: '192.0.2.2' })],
      communities: [community('aliases', [{ name: 'no-advertise', value: '65535:65282' }])],
      bgpAdvertisements: [
        bgpAdv('full', {
          ipAddressPools: ['bgp'],
          aggregationLength: 24,
          aggregationLengthV6: 120,
          localPref: 150,
          communities: ['65000:100', 'large:64512:1:2', 'no-advertise', '65000:100'.replace('100', '99')],
          peers: ['router', 'backup'],
          nodeSelectors: [{ matchLabels: { rack: '1' } }],
        }),
      ],
    });
    expectNoErrors(r);
    assert.deepEqual(adv(r, 'full'), {
      name: 'full',
      pools: ['bgp'],
      aggregationLength: 24,
      aggregationLengthV6: 120,
      localPref: 150,
      communities: { standard: [65000 * 65536 + 99, 65000 * 65536 + 100, 0xffffff02], large: [[64512, 1, 2]] },
      nodeSelectors: [{ matchLabels: { rack: '1' } }],
      peers: ['backup', 'router'],
    });
  });

  describe('per-object rules', () => {
    const ok: [string, Record<string, unknown>][] = [
      ['aggregationLength 32', { aggregationLength: 32 }],
      ['aggregationLengthV6 128', { aggregationLengthV6: 128 }],
      ['localPref 0', { localPref: 0 }],
      ['localPref 2^32-1', { localPref: 4294967295 }],
      ['the largest community values', { communities: ['65535:65535', 'large:4294967295:4294967295:4294967295'] }],
    ];
    for (const [name, spec] of ok) {
      it(`accepts ${name}`, () => expectNoErrors(build({ pools: [pool('p', { addresses: ['203.0.113.7'] })], bgpAdvertisements: [bgpAdv('a', spec)] })));
    }
    const bad: [string, Record<string, unknown>, string, RegExp][] = [
      ['aggregationLength 33', { aggregationLength: 33 }, 'spec.aggregationLength', /0 to 32/],
      ['aggregationLength -1', { aggregationLength: -1 }, 'spec.aggregationLength', /0 to 32/],
      ['aggregationLengthV6 129', { aggregationLengthV6: 129 }, 'spec.aggregationLengthV6', /0 to 128/],
      ['aggregationLength as text', { aggregationLength: '24' }, 'spec.aggregationLength', /whole number/],
      ['localPref negative', { localPref: -1 }, 'spec.localPref', /0 to 4294967295/],
      ['localPref too large', { localPref: 4294967296 }, 'spec.localPref', /0 to 4294967295/],
      ['a standard community half above 16 bits', { communities: ['65536:1'] }, 'spec.communities[0]', /0\.\.65535/],
      ['a large community part above 32 bits', { communities: ['large:1:2:4294967296'] }, 'spec.communities[0]', /0\.\.4294967295/],
      ['a community with three numbers', { communities: ['1:2:3'] }, 'spec.communities[0]', /not a community/],
      ['a community listed twice', { communities: ['65000:1', '65000:1'] }, 'spec.communities[1]', /twice/],
      ['a peer listed twice', { peers: ['router', 'router'] }, 'spec.peers[1]', /twice/],
      ['a bad node selector', { nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'NotIn', values: [] }] }] }, 'spec.nodeSelectors[0].matchExpressions[0].values', /at least one/],
      ['spec not an object', { __spec: 5 }, 'spec', /object/],
    ];
    for (const [name, spec, field, why] of bad) {
      it(`rejects ${name}`, () => {
        const a = '__spec' in spec ? { ...bgpAdv('a'), spec: spec.__spec as never } : bgpAdv('a', spec);
        const r = build({ pools: [pool('p', { addresses: ['203.0.113.7'] })], peers: [peer('router')], bgpAdvertisements: [a, bgpAdv('b')] });
        expectErrors(r, 'BGPAdvertisement', 'a', [['Invalid', field, why]]);
        assert.deepEqual(r.model.bgpAdvertisements.map((x) => x.name), ['b']);
      });
    }
  });

  describe('references', () => {
    it('an unknown community alias is a Reference error and leaves the advertisement out', () => {
      const r = build({ pools: labPools(), bgpAdvertisements: [bgpAdv('a', { communities: ['no-export'] })] });
      expectErrors(r, 'BGPAdvertisement', 'a', [['Reference', 'spec.communities[0]', /"no-export" is neither a community .* nor a known Community alias in namespace herald-system/]]);
      assert.deepEqual(r.model.bgpAdvertisements, []);
    });
    it('an alias of an invalid Community says so', () => {
      const r = build({
        pools: labPools(),
        communities: [community('c', [{ name: 'no-export', value: '65535:65281' }, { name: 'broken', value: 'x' }])],
        bgpAdvertisements: [bgpAdv('a', { communities: ['no-export'] })],
      });
      expectErrors(r, 'BGPAdvertisement', 'a', [['Reference', 'spec.communities[0]', /defined in Community "c", which is invalid/]]);
    });
    it('an unknown peer is a Reference error; the name is kept so it never means "every peer"', () => {
      const r = build({ pools: labPools(), peers: [peer('router')], bgpAdvertisements: [bgpAdv('a', { peers: ['ghost'] })] });
      expectErrors(r, 'BGPAdvertisement', 'a', [['Reference', 'spec.peers[0]', /BGPPeer "ghost" does not exist/]]);
      assert.deepEqual(adv(r, 'a').peers, ['ghost']);
    });
    it('an existing but invalid peer is not a Reference error', () => {
      const r = build({ pools: labPools(), peers: [peer('router', { holdTime: '1s' })], bgpAdvertisements: [bgpAdv('a', { peers: ['router'] })] });
      expectErrors(r, 'BGPAdvertisement', 'a', []);
      assert.deepEqual(adv(r, 'a').peers, ['router']);
    });
    it('an unknown pool is a Reference error; the advertisement keeps the rest', () => {
      const r = build({ pools: labPools(), bgpAdvertisements: [bgpAdv('a', { ipAddressPools: ['bgp', 'gone'] })] });
      expectErrors(r, 'BGPAdvertisement', 'a', [['Reference', 'spec.ipAddressPools[1]', /IPAddressPool "gone"/]]);
      assert.deepEqual(adv(r, 'a').pools, ['bgp']);
    });
  });

  describe('aggregation length against the pool (MetalLB validateBGPAdvPerPool)', () => {
    const cases: [string, string[], Record<string, number>, boolean, RegExp?][] = [
      ['a /24 with aggregation 24', ['203.0.113.0/24'], { aggregationLength: 24 }, true],
      ['a /24 with aggregation 25', ['203.0.113.0/24'], { aggregationLength: 25 }, true],
      ['a /24 with aggregation 23', ['203.0.113.0/24'], { aggregationLength: 23 }, false, /aggregationLength 23 is shorter than \/24, the widest block of "203\.0\.113\.0\/24" \(spec\.addresses\[0\] of pool "p"\).*Use aggregationLength 24 or more/],
      ['a single IP with aggregation 32', ['203.0.113.7'], { aggregationLength: 32 }, true],
      ['a single IP with aggregation 31', ['203.0.113.7'], { aggregationLength: 31 }, false, /shorter than \/32/],
      // 203.0.113.10-203.0.113.20 = .10/31 .12/30 .16/30 .20/32: the widest block is a /30.
      ['a range with aggregation at its widest block', ['203.0.113.10-203.0.113.20'], { aggregationLength: 30 }, true],
      ['a range with aggregation wider than its widest block', ['203.0.113.10-203.0.113.20'], { aggregationLength: 29 }, false, /shorter than \/30, the widest block of "203\.0\.113\.10-203\.0\.113\.20"/],
      ['a range across octets (two /32s)', ['203.0.113.255-203.0.114.0'], { aggregationLength: 31 }, false, /\/32/],
      ['IPv6 /120 with aggregation 120', ['2001:db8:ff::/120'], { aggregationLengthV6: 120 }, true],
      ['IPv6 /120 with aggregation 64', ['2001:db8:ff::/120'], { aggregationLengthV6: 64 }, false, /aggregationLengthV6 64 is shorter than \/120/],
      ['IPv4 length does not apply to IPv6 entries', ['2001:db8:ff::/120'], { aggregationLength: 0 }, true],
      ['each entry on its own: the strictest decides', ['203.0.113.0/24', '198.51.100.5'], { aggregationLength: 24 }, false, /shorter than \/32, the widest block of "198\.51\.100\.5" \(spec\.addresses\[1\]/],
    ];
    for (const [name, addresses, spec, ok, why] of cases) {
      it(`${ok ? 'accepts' : 'rejects'} ${name}`, () => {
        const r = build({
          pools: [pool('p', { addresses }), pool('other', { addresses: ['192.0.2.0/24', '2001:db8::/64'] })],
          bgpAdvertisements: [bgpAdv('a', { ...spec, ipAddressPools: ['p'] })],
        });
        if (ok) {
          expectNoErrors(r);
          assert.ok(adv(r, 'a').pools.includes('p'));
        } else {
          const field = 'aggregationLengthV6' in spec ? 'spec.aggregationLengthV6' : 'spec.aggregationLength';
          expectErrors(r, 'BGPAdvertisement', 'a', [['Conflict', field, why]]);
          assert.ok(!adv(r, 'a').pools.includes('p'), 'the pool is dropped from the advertisement');
        }
      });
    }
    it('a dual-stack pool can fail on both families at once', () => {
      const r = build({ pools: [pool('bgp', { addresses: ['203.0.113.0/24', '2001:db8:ff::/120'] })], bgpAdvertisements: [bgpAdv('a', { aggregationLength: 16, aggregationLengthV6: 64 })] });
      expectErrors(r, 'BGPAdvertisement', 'a', [['Conflict', 'spec.aggregationLength'], ['Conflict', 'spec.aggregationLengthV6']]);
      assert.deepEqual(adv(r, 'a').pools, []);
    });
  });

  describe('localPref for the same prefix', () => {
    // Both advertisements cover pool "bgp" (203.0.113.0/24 and 2001:db8:ff::/120).
    const base = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      build({
        pools: labPools(),
        peers: [peer('router'), peer('backup', { peerAddress: '192.0.2.2' })],
        bgpAdvertisements: [bgpAdv('first', { ipAddressPools: ['bgp'], ...a }), bgpAdv('second', { ipAddressPools: ['bgp'], ...b })],
      });
    const conflicting: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['different localPref, same everything else', { localPref: 100 }, { localPref: 200 }],
      ['set vs unset', { localPref: 100 }, {}],
      ['one peer list empty (every peer)', { localPref: 100, peers: ['router'] }, { localPref: 200 }],
      ['a shared peer', { localPref: 100, peers: ['router', 'backup'] }, { localPref: 200, peers: ['backup'] }],
      ['node selectors that may both match', { localPref: 100, nodeSelectors: [{ matchLabels: { rack: '1' } }] }, { localPref: 200, nodeSelectors: [{ matchLabels: { zone: 'a' } }] }],
      ['same IPv4 length, different IPv6 length on a dual-stack pool', { localPref: 100, aggregationLengthV6: 124 }, { localPref: 200 }],
    ];
    for (const [name, a, b] of conflicting) {
      it(`conflict: ${name}`, () => {
        const r = base(a, b);
        expectErrors(r, 'BGPAdvertisement', 'first', []);
        expectErrors(r, 'BGPAdvertisement', 'second', [['Conflict', 'spec.localPref', /differs from .* of BGPAdvertisement "first" \(created earlier\).*pool "bgp"/]]);
        assert.deepEqual(adv(r, 'first').pools, ['bgp']);
        assert.deepEqual(adv(r, 'second').pools, [], 'the later advertisement loses the pool');
      });
    }
    const compatible: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['equal localPref', { localPref: 100 }, { localPref: 100 }],
      ['both unset', {}, {}],
      ['different lengths for both families', { localPref: 100, aggregationLength: 24, aggregationLengthV6: 120 }, { localPref: 200 }],
      ['disjoint peers', { localPref: 100, peers: ['router'] }, { localPref: 200, peers: ['backup'] }],
      ['disjoint node selectors', { localPref: 100, nodeSelectors: [{ matchLabels: { rack: '1' } }] }, { localPref: 200, nodeSelectors: [{ matchLabels: { rack: '2' } }] }],
      ['In vs NotIn on the same values', { localPref: 100, nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'In', values: ['1'] }] }] }, { localPref: 200, nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['1'] }] }] }],
    ];
    for (const [name, a, b] of compatible) {
      it(`no conflict: ${name}`, () => {
        const r = base(a, b);
        expectNoErrors(r);
        assert.deepEqual(adv(r, 'second').pools, ['bgp']);
      });
    }
    it('only the families the pool has count: IPv4-only pool, different IPv4 lengths', () => {
      const r = build({
        pools: [pool('v4', { addresses: ['203.0.113.0/24'] })],
        bgpAdvertisements: [bgpAdv('first', { localPref: 100, aggregationLength: 32 }), bgpAdv('second', { localPref: 200, aggregationLength: 28 })],
      });
      expectNoErrors(r);
    });
    it('only the pools they share: the loser keeps its other pools', () => {
      const r = build({
        pools: labPools(),
        bgpAdvertisements: [bgpAdv('first', { ipAddressPools: ['bgp'], localPref: 100 }), bgpAdv('second', { localPref: 200 })],
      });
      expectErrors(r, 'BGPAdvertisement', 'second', [['Conflict', 'spec.localPref', /pool "bgp"/]]);
      assert.deepEqual(adv(r, 'second').pools, ['l2-v4', 'l2-v6']);
    });
    it('creation order decides, not the name', () => {
      const r = build({
        pools: labPools(),
        bgpAdvertisements: [
          bgpAdv('b-old', { ipAddressPools: ['bgp'], localPref: 100 }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
          bgpAdv('a-new', { ipAddressPools: ['bgp'], localPref: 200 }, { creationTimestamp: '2024-02-01T00:00:00Z' }),
        ],
      });
      expectErrors(r, 'BGPAdvertisement', 'a-new', [['Conflict', 'spec.localPref']]);
      assert.deepEqual(adv(r, 'b-old').pools, ['bgp']);
    });
    it('an advertisement that lost a pool does not block a third one with its localPref', () => {
      const r = build({
        pools: labPools(),
        bgpAdvertisements: [
          bgpAdv('one', { ipAddressPools: ['bgp'], localPref: 100 }),
          bgpAdv('two', { ipAddressPools: ['bgp'], localPref: 200 }),
          bgpAdv('three', { ipAddressPools: ['bgp'], localPref: 100 }),
        ],
      });
      expectErrors(r, 'BGPAdvertisement', 'two', [['Conflict', 'spec.localPref']]);
      expectErrors(r, 'BGPAdvertisement', 'three', []);
      assert.deepEqual(adv(r, 'three').pools, ['bgp']);
    });
  });
});

describe('config model: Community', () => {
  it('aliases resolve in advertisements', () => {
    const r = build({
      pools: labPools(),
      communities: [community('wellknown', [{ name: 'no-export', value: '65535:65281' }, { name: 'big', value: 'large:64512:0:1' }])],
      bgpAdvertisements: [bgpAdv('a', { communities: ['no-export', 'big'] })],
    });
    expectNoErrors(r);
    assert.deepEqual(adv(r, 'a').communities, { standard: [0xffffff01], large: [[64512, 0, 1]] });
  });
  const bad: [string, unknown[], string, RegExp][] = [
    ['a bad value', [{ name: 'x', value: '65536:1' }], 'spec.communities[0].value', /0\.\.65535/],
    ['a value that is no community', [{ name: 'x', value: 'no-export' }], 'spec.communities[0].value', /neither a community/],
    ['no value', [{ name: 'x' }], 'spec.communities[0].value', /needs a value/],
    ['no name', [{ value: '1:1' }], 'spec.communities[0].name', /non-empty name/],
    ['a name that looks like a community', [{ name: '65000:1', value: '65000:2' }], 'spec.communities[0].name', /looks like a community value/],
    ['a name twice in one object', [{ name: 'x', value: '1:1' }, { name: 'x', value: '1:2' }], 'spec.communities[1].name', /defined twice/],
  ];
  for (const [name, aliases, field, why] of bad) {
    it(`rejects ${name}`, () => {
      const r = build({ communities: [community('c', aliases)] });
      expectErrors(r, 'Community', 'c', [['Invalid', field, why]]);
    });
  }
  it('the same alias in two objects: the earlier object wins', () => {
    const r = build({
      pools: labPools(),
      communities: [community('first', [{ name: 'tag', value: '65000:1' }]), community('second', [{ name: 'tag', value: '65000:2' }, { name: 'other', value: '65000:3' }])],
      bgpAdvertisements: [bgpAdv('a', { communities: ['tag', 'other'] })],
    });
    expectErrors(r, 'Community', 'second', [['Conflict', 'spec.communities[0].name', /already defined by Community "first"/]]);
    assert.deepEqual(adv(r, 'a').communities.standard, [65000 * 65536 + 1, 65000 * 65536 + 3]);
  });
});
