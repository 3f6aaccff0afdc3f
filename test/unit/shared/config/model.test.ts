import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  advertisesToPeer,
  bgpAdvertisementsForPool,
  buildConfig,
  errorsFor,
  l2AdvertisementsForPool,
  peersForNode,
  poolByName,
  poolContaining,
  type ConfigInput,
} from '../../../../shared/config/model.js';
import { formatIP, parseIP } from '../../../../shared/ip/ip.js';
import { bfd, bgpAdv, brief, build, community, expectErrors, expectNoErrors, l2, NS, peer, pool, secret } from './factories.js';

/** The lab's configuration (DESIGN.md, "The lab"), written as a user would. */
function labInput(): ConfigInput {
  return {
    namespace: NS,
    pools: [
      pool('l2', { addresses: ['192.0.2.200-192.0.2.250', '2001:db8:0:2::200-2001:db8:0:2::2ff'] }, { labels: { mode: 'l2' } }),
      pool('bgp', { addresses: ['203.0.113.0/24', '2001:db8:ff::/120'], avoidBuggyIPs: true }, { labels: { mode: 'bgp' } }),
      pool('reserved', { addresses: ['198.51.100.64/26'], autoAssign: false, serviceAllocation: { priority: 1, namespaces: ['ops'] } }),
    ],
    l2Advertisements: [l2('l2', { ipAddressPoolSelectors: [{ matchLabels: { mode: 'l2' } }] })],
    bgpAdvertisements: [
      bgpAdv('bgp', { ipAddressPools: ['bgp'], communities: ['no-export'], peers: ['router'] }),
      bgpAdv('bgp-aggregate', { ipAddressPools: ['bgp'], aggregationLength: 24, aggregationLengthV6: 120, peers: ['router'] }),
    ],
    peers: [
      peer('router', { holdTime: '9s', bfdProfile: 'fast', passwordSecret: { name: 'router-md5' } }),
      peer('router-v6', { peerAddress: '2001:db8:0:2::1', routerID: '192.0.2.11' }),
    ],
    communities: [community('well-known', [{ name: 'no-export', value: '65535:65281' }])],
    bfdProfiles: [bfd('fast', { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 })],
    secrets: [secret('router-md5', { username: 'herald', password: 'lab-secret' })],
  };
}

describe('config model: the whole config', () => {
  it('the lab config builds without errors', () => {
    const r = buildConfig(labInput());
    expectNoErrors(r);
    assert.deepEqual(r.model.pools.map((p) => p.name), ['bgp', 'l2', 'reserved']);
    assert.deepEqual(r.model.l2Advertisements.map((a) => [a.name, a.pools]), [['l2', ['l2']]]);
    assert.deepEqual(r.model.bgpAdvertisements.map((a) => [a.name, a.pools, a.aggregationLength]), [
      ['bgp', ['bgp'], 32],
      ['bgp-aggregate', ['bgp'], 24],
    ]);
    assert.deepEqual(r.model.peers.map((p) => [p.name, p.holdTime, p.keepaliveTime, p.password, p.bfdProfile?.name]), [
      ['router', 9, 3, 'lab-secret', 'fast'],
      ['router-v6', 90, 30, undefined, undefined],
    ]);
    assert.deepEqual(r.model.invalidPools, []);
  });

  it('one broken object of each kind leaves the rest working', () => {
    const input = labInput();
    input.pools.push(pool('broken', { addresses: ['192.0.2.300'] }));
    input.l2Advertisements.push(l2('broken', { interfaces: ['eth0:0'] }));
    input.bgpAdvertisements.push(bgpAdv('broken', { localPref: -5 }));
    input.peers.push(peer('broken', { holdTime: '2s', peerAddress: '192.0.2.9' }));
    input.communities.push(community('broken', [{ name: 'x', value: 'large:1' }]));
    input.bfdProfiles.push(bfd('broken', { minimumTtl: 0 }));
    const r = buildConfig(input);
    assert.deepEqual(brief(r.errors), [
      'IPAddressPool/broken Invalid spec.addresses[0]',
      'L2Advertisement/broken Invalid spec.interfaces[0]',
      'BGPAdvertisement/broken Invalid spec.localPref',
      'BGPPeer/broken Invalid spec.holdTime',
      'Community/broken Invalid spec.communities[0].value',
      'BFDProfile/broken Invalid spec.minimumTtl',
    ]);
    const clean = buildConfig(labInput());
    assert.deepEqual(r.model.pools, clean.model.pools);
    assert.deepEqual(r.model.invalidPools, ['broken']);
    assert.deepEqual(r.model.peers, clean.model.peers);
    assert.deepEqual(r.model.bfdProfiles, clean.model.bfdProfiles);
    assert.deepEqual(r.model.l2Advertisements, clean.model.l2Advertisements);
    // The BGP advertisements with no pool list would cover "broken" too; these name theirs.
    assert.deepEqual(r.model.bgpAdvertisements, clean.model.bgpAdvertisements);
  });

  it('every error names kind, name, field, reason and a message', () => {
    const input = labInput();
    input.peers[0] = peer('router', { passwordSecret: { name: 'missing' } });
    input.pools.push(pool('overlap', { addresses: ['203.0.113.128/25'] }));
    const r = buildConfig(input);
    assert.ok(r.errors.length >= 2);
    for (const e of r.errors) {
      assert.ok(e.kind && e.name && e.field && e.message.length > 20, JSON.stringify(e));
      assert.ok(['Invalid', 'Conflict', 'Reference'].includes(e.reason));
    }
  });

  it('ignores objects of other namespaces; objects without a namespace are taken', () => {
    const r = build({
      pools: [pool('elsewhere', { addresses: ['192.0.2.0/24'] }, { namespace: 'default' }), pool('here', { addresses: ['192.0.2.0/24'] }, { namespace: undefined })],
    });
    expectNoErrors(r);
    assert.deepEqual(r.model.pools.map((p) => p.name), ['here']);
  });

  it('honours a custom install namespace', () => {
    const r = buildConfig({ ...labInput(), namespace: 'lb' });
    assert.deepEqual(r.model.pools, []);
    assert.deepEqual(r.errors, []);
  });

  it('a second object of the same name is ignored with a Conflict', () => {
    const r = build({ pools: [pool('p', { addresses: ['192.0.2.0/24'] }), pool('p', { addresses: ['198.51.100.0/24'] })] });
    expectErrors(r, 'IPAddressPool', 'p', [['Conflict', 'metadata.name', /two IPAddressPool objects are named "p"/]]);
    assert.deepEqual(r.model.pools.length, 1);
    assert.equal(formatIP({ family: 4, value: r.model.pools[0]!.ranges[0]!.first }), '192.0.2.0');
  });

  it('an object without a name is ignored with an error', () => {
    const r = build({ peers: [peer('')] });
    assert.deepEqual(brief(r.errors), ['BGPPeer/ Invalid metadata.name']);
  });

  it('tolerates junk entries in the lists', () => {
    const r = build({ pools: [null as never, 'x' as never, pool('p', { addresses: ['192.0.2.0/24'] })] });
    expectNoErrors(r);
    assert.equal(r.model.pools.length, 1);
  });

  it('is deterministic: any input order gives the same result', () => {
    const input = labInput();
    input.pools.push(pool('late-overlap', { addresses: ['192.0.2.240-192.0.2.255'] }));
    input.bgpAdvertisements.push(bgpAdv('late-pref', { ipAddressPools: ['bgp'], localPref: 300, peers: ['router'] }));
    const want = buildConfig(input);
    assert.ok(want.errors.length === 2, brief(want.errors).join('\n'));
    const shuffle = <T>(xs: T[], seed: number[]): T[] => xs.map((x, i) => [seed[i % seed.length]!, i, x] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((t) => t[2]);
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 1, maxLength: 8 }), (seed) => {
        const got = buildConfig({
          ...input,
          pools: shuffle(input.pools, seed),
          bgpAdvertisements: shuffle(input.bgpAdvertisements, seed),
          peers: shuffle(input.peers, seed),
          communities: shuffle(input.communities, seed),
        });
        assert.deepEqual(got, want);
      }),
      { numRuns: 50 },
    );
  });

  it('does not modify its input', () => {
    const input = labInput();
    const before = JSON.stringify(input);
    buildConfig(input);
    assert.equal(JSON.stringify(input), before);
  });

  it('never throws, whatever the specs hold, and every error is well formed', () => {
    const junk = fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom('addresses', 'peerAddress', 'myASN', 'holdTime', 'communities', 'ipAddressPools', 'nodeSelectors', 'aggregationLength', 'serviceAllocation', 'passwordSecret'), fc.anything()));
    fc.assert(
      fc.property(fc.array(junk, { maxLength: 6 }), (specs) => {
        const [a, b, c, d, e, f] = specs;
        const r = build({
          pools: [pool('p', a as never)],
          l2Advertisements: [l2('l', b as never)],
          bgpAdvertisements: [bgpAdv('g', c as never)],
          peers: [peer('r', d as never)],
          communities: [{ ...community('c', []), spec: e as never }],
          bfdProfiles: [bfd('f', f as never)],
        });
        for (const err of r.errors) assert.ok(err.kind && typeof err.field === 'string' && typeof err.message === 'string');
      }),
      { numRuns: 200 },
    );
  });
});

describe('config model: lookups', () => {
  const r = buildConfig(labInput());
  it('poolByName', () => {
    assert.equal(poolByName(r.model, 'bgp')?.avoidBuggyIPs, true);
    assert.equal(poolByName(r.model, 'nope'), undefined);
  });
  it('poolContaining finds the pool of an IP', () => {
    assert.equal(poolContaining(r.model, parseIP('203.0.113.9')!)?.name, 'bgp');
    assert.equal(poolContaining(r.model, parseIP('2001:db8:0:2::2aa')!)?.name, 'l2');
    assert.equal(poolContaining(r.model, parseIP('192.0.2.199')!), undefined);
  });
  it('advertisements for a pool', () => {
    assert.deepEqual(l2AdvertisementsForPool(r.model, 'l2').map((a) => a.name), ['l2']);
    assert.deepEqual(l2AdvertisementsForPool(r.model, 'bgp'), []);
    assert.deepEqual(bgpAdvertisementsForPool(r.model, 'bgp').map((a) => a.name), ['bgp', 'bgp-aggregate']);
  });
  it('peers for a node and advertisement targets', () => {
    const rr = build({
      peers: [peer('all'), peer('rack1', { peerAddress: '192.0.2.2', nodeSelectors: [{ matchLabels: { rack: '1' } }] })],
    });
    assert.deepEqual(peersForNode(rr.model, { rack: '1' }).map((p) => p.name), ['all', 'rack1']);
    assert.deepEqual(peersForNode(rr.model, { rack: '2' }).map((p) => p.name), ['all']);
    const [a, b] = r.model.bgpAdvertisements;
    assert.equal(advertisesToPeer(a!, 'router'), true);
    assert.equal(advertisesToPeer(b!, 'router-v6'), false);
    assert.equal(advertisesToPeer({ ...b!, peers: [] }, 'router-v6'), true);
  });
  it('errorsFor picks one object', () => {
    const rr = build({ pools: [pool('a', { addresses: [] }), pool('b', { addresses: [] })] });
    assert.deepEqual(errorsFor(rr.errors, 'IPAddressPool', 'b').map((e) => e.name), ['b']);
  });
});
