import { strict as assert } from 'node:assert';
import { defaultRouterID, planBGP, serviceEligibility, sessionConfigFor, type BGPPlan } from '../../../../speaker/bgp/planner.js';
import { nodeInfo } from '../../../../speaker/snapshot.js';
import type { PeerModel } from '../../../../shared/config/types.js';
import { parseIP } from '../../../../shared/ip/ip.js';
import { bgpAdv, community, peer, pool, rawNode, secret, snapshotOf, type SvcSpec } from './planner-helpers.js';

const POOLS = [pool('bgp', { addresses: ['203.0.113.0/24', '2001:db8:ff::/120'] })];

/** `prefix/len` per peer: the shape most rows assert on. */
function prefixes(plan: BGPPlan): Record<string, string[]> {
  return Object.fromEntries(plan.peers.map((p) => [p.name, p.advertisements.map((a) => `${a.prefix}/${a.length}`)]));
}

function adOf(plan: BGPPlan, peerName: string, prefix: string) {
  const ad = plan.peers.find((p) => p.name === peerName)?.advertisements.find((a) => `${a.prefix}/${a.length}` === prefix);
  assert.ok(ad, `${prefix} to ${peerName}`);
  return ad;
}

describe('BGP planner', () => {
  describe('advertisements', () => {
    interface Row {
      name: string;
      node?: string;
      config: Parameters<typeof snapshotOf>[0]['config'];
      services: SvcSpec[];
      want: Record<string, string[]>;
    }
    const web: SvcSpec = { name: 'web', ips: ['203.0.113.5'] };
    const rows: Row[] = [
      {
        name: 'a /32 per IPv4 address by default, to every peer',
        config: { pools: POOLS, peers: [peer('r1'), peer('r2', { peerAddress: '192.0.2.2' })], bgpAdvertisements: [bgpAdv('all')] },
        services: [web],
        want: { r1: ['203.0.113.5/32'], r2: ['203.0.113.5/32'] },
      },
      {
        name: 'aggregationLength masks the IP; two IPs in one aggregate give one prefix',
        config: { pools: POOLS, peers: [peer('r1')], bgpAdvertisements: [bgpAdv('agg', { aggregationLength: 24 })] },
        services: [web, { name: 'api', ips: ['203.0.113.77'] }],
        want: { r1: ['203.0.113.0/24'] },
      },
      {
        name: 'IPv6 with the default /128 and with aggregationLengthV6, over one session',
        config: {
          pools: POOLS,
          peers: [peer('r1')],
          bgpAdvertisements: [bgpAdv('host'), bgpAdv('agg6', { aggregationLengthV6: 120, aggregationLength: 32, communities: ['65000:1'] })],
        },
        services: [{ name: 'dual', ips: ['203.0.113.9', '2001:db8:ff::42'] }],
        want: { r1: ['203.0.113.9/32', '2001:db8:ff::/120', '2001:db8:ff::42/128'] },
      },
      {
        name: 'peers restricts to the named peers',
        config: {
          pools: POOLS,
          peers: [peer('r1'), peer('r2', { peerAddress: '192.0.2.2' })],
          bgpAdvertisements: [bgpAdv('only-r2', { peers: ['r2'] })],
        },
        services: [web],
        want: { r1: [], r2: ['203.0.113.5/32'] },
      },
      {
        name: 'an advertisement whose nodeSelectors miss this node advertises nothing from it',
        config: { pools: POOLS, peers: [peer('r1')], bgpAdvertisements: [bgpAdv('zone-b', { nodeSelectors: [{ matchLabels: { zone: 'b' } }] })] },
        services: [web],
        want: { r1: [] },
      },
      {
        name: 'an advertisement whose nodeSelectors match this node',
        node: 'n2',
        config: { pools: POOLS, peers: [peer('r1')], bgpAdvertisements: [bgpAdv('zone-b', { nodeSelectors: [{ matchLabels: { zone: 'b' } }] })] },
        services: [web],
        want: { r1: ['203.0.113.5/32'] },
      },
      {
        name: 'a pool no advertisement covers is not advertised',
        config: { pools: [...POOLS, pool('other', { addresses: ['198.51.100.0/24'] })], peers: [peer('r1')], bgpAdvertisements: [bgpAdv('a', { ipAddressPools: ['bgp'] })] },
        services: [web, { name: 'elsewhere', ips: ['198.51.100.10'] }],
        want: { r1: ['203.0.113.5/32'] },
      },
      {
        name: 'an IP outside every pool is not advertised',
        config: { pools: POOLS, peers: [peer('r1')], bgpAdvertisements: [bgpAdv('a')] },
        services: [{ name: 'stray', ips: ['192.0.2.250'] }],
        want: { r1: [] },
      },
      {
        name: 'Cluster: advertised from every node while a ready endpoint exists anywhere',
        config: { pools: POOLS, peers: [peer('r1')], bgpAdvertisements: [bgpAdv('a')] },
        services: [{ name: 'c', ips: ['203.0.113.5'], policy: 'Cluster', ready: ['n3'] }],
        want: { r1: ['203.0.113.5/32'] },
      },
      {
        name: 'Cluster: withdrawn when the last ready endpoint goes',
        config: { pools: POOLS, peers: [peer('r1')], bgpAdvertisements: [bgpAdv('a')] },
        services: [{ name: 'c', ips: ['203.0.113.5'], policy: 'Cluster', ready: [], notReady: ['n1', 'n2'] }],
        want: { r1: [] },
      },
      {
        name: 'Local: only from a node with a ready endpoint of its own',
        config: { pools: POOLS, peers: [peer('r1')], bgpAdvertisements: [bgpAdv('a')] },
        services: [
          { name: 'here', ips: ['203.0.113.5'], policy: 'Local', ready: ['n1'] },
          { name: 'there', ips: ['203.0.113.6'], policy: 'Local', ready: ['n2'] },
          { name: 'not-ready-here', ips: ['203.0.113.7'], policy: 'Local', ready: ['n2'], notReady: ['n1'] },
        ],
        want: { r1: ['203.0.113.5/32'] },
      },
      {
        name: 'a shared IP is one prefix',
        config: { pools: POOLS, peers: [peer('r1')], bgpAdvertisements: [bgpAdv('a')] },
        services: [
          { name: 'dns-tcp', ips: ['203.0.113.53'] },
          { name: 'dns-udp', ips: ['203.0.113.53'] },
        ],
        want: { r1: ['203.0.113.53/32'] },
      },
      {
        name: 'disableMP keeps a session to its own family',
        config: { pools: POOLS, peers: [peer('r1', { disableMP: true })], bgpAdvertisements: [bgpAdv('a')] },
        services: [{ name: 'dual', ips: ['203.0.113.9', '2001:db8:ff::42'] }],
        want: { r1: ['203.0.113.9/32'] },
      },
      {
        name: 'a peer whose nodeSelectors miss this node has no session',
        config: { pools: POOLS, peers: [peer('r1'), peer('far', { peerAddress: '192.0.2.3', nodeSelectors: [{ matchLabels: { zone: 'b' } }] })], bgpAdvertisements: [bgpAdv('a')] },
        services: [web],
        want: { r1: ['203.0.113.5/32'] },
      },
    ];
    for (const row of rows) {
      it(row.name, () => {
        const plan = planBGP(snapshotOf({ ...(row.node ? { node: row.node } : {}), config: row.config, services: row.services }));
        assert.deepEqual(prefixes(plan), row.want);
      });
    }
  });

  describe('attributes', () => {
    it('localPref goes to iBGP peers only', () => {
      const plan = planBGP(
        snapshotOf({
          config: {
            pools: POOLS,
            peers: [
              peer('ebgp'),
              peer('ibgp', { peerAddress: '192.0.2.2', peerASN: 64512 }),
              peer('dyn-int', { peerAddress: '192.0.2.3', peerASN: undefined, dynamicASN: 'internal' }),
              peer('dyn-ext', { peerAddress: '192.0.2.4', peerASN: undefined, dynamicASN: 'external' }),
            ],
            bgpAdvertisements: [bgpAdv('pref', { localPref: 200 })],
          },
          services: [{ name: 'web', ips: ['203.0.113.5'] }],
        }),
      );
      assert.equal(adOf(plan, 'ebgp', '203.0.113.5/32').localPref, undefined);
      assert.equal(adOf(plan, 'dyn-ext', '203.0.113.5/32').localPref, undefined);
      assert.equal(adOf(plan, 'ibgp', '203.0.113.5/32').localPref, 200);
      assert.equal(adOf(plan, 'dyn-int', '203.0.113.5/32').localPref, 200);
    });

    it('communities: standard, large and aliases resolved to numbers', () => {
      const plan = planBGP(
        snapshotOf({
          config: {
            pools: POOLS,
            peers: [peer('r1')],
            communities: [community('aliases', [{ name: 'no-advertise', value: '65535:65282' }, { name: 'big', value: 'large:64512:7:8' }])],
            bgpAdvertisements: [bgpAdv('c', { communities: ['65000:100', 'no-advertise', 'large:1:2:3', 'big'] })],
          },
          services: [{ name: 'web', ips: ['203.0.113.5'] }],
        }),
      );
      const ad = adOf(plan, 'r1', '203.0.113.5/32');
      assert.deepEqual(ad.communities, [65000 * 65536 + 100, 0xffffff02].sort((a, b) => a - b));
      assert.deepEqual(ad.largeCommunities, [[1, 2, 3], [64512, 7, 8]]);
    });

    it('several advertisements on one prefix: one route with the union of communities and the one localPref', () => {
      const plan = planBGP(
        snapshotOf({
          config: {
            pools: POOLS,
            peers: [peer('r1', { peerASN: 64512 })],
            bgpAdvertisements: [
              bgpAdv('a', { communities: ['65000:2', '65000:1'], localPref: 150 }),
              bgpAdv('b', { communities: ['65000:1', '65000:3', 'large:9:9:9'], localPref: 150 }),
              bgpAdv('agg', { aggregationLength: 24, aggregationLengthV6: 120, communities: ['65000:24'], localPref: 50 }),
            ],
          },
          services: [{ name: 'web', ips: ['203.0.113.5'] }],
        }),
      );
      const host = adOf(plan, 'r1', '203.0.113.5/32');
      assert.deepEqual(host.communities, [65000 * 65536 + 1, 65000 * 65536 + 2, 65000 * 65536 + 3]);
      assert.deepEqual(host.largeCommunities, [[9, 9, 9]]);
      assert.equal(host.localPref, 150);
      const agg = adOf(plan, 'r1', '203.0.113.0/24');
      assert.deepEqual(agg.communities, [65000 * 65536 + 24]);
      assert.equal(agg.localPref, 50);
      assert.equal(plan.peers[0]!.advertisements.length, 2);
    });
  });

  describe('nodes', () => {
    it('a node that may not announce keeps its sessions and advertises nothing', () => {
      const plan = planBGP(
        snapshotOf({
          config: { pools: POOLS, peers: [peer('r1')], bgpAdvertisements: [bgpAdv('a')] },
          services: [{ name: 'web', ips: ['203.0.113.5'] }],
          nodes: [rawNode('n1', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' }), rawNode('n2')],
        }),
      );
      assert.deepEqual(prefixes(plan), { r1: [] });
      assert.deepEqual(plan.services, []);
      const unavailable = planBGP(
        snapshotOf({
          config: { pools: POOLS, peers: [peer('r1')], bgpAdvertisements: [bgpAdv('a')] },
          services: [{ name: 'web', ips: ['203.0.113.5'] }],
          nodes: [rawNode('n1', {}, { status: { conditions: [{ type: 'NetworkUnavailable', status: 'True' }] } }), rawNode('n2')],
        }),
      );
      assert.deepEqual(prefixes(unavailable), { r1: [] });
    });

    it('a node without its Node object holds no session', () => {
      const plan = planBGP(
        snapshotOf({ config: { pools: POOLS, peers: [peer('r1')], bgpAdvertisements: [bgpAdv('a')] }, services: [{ name: 'web', ips: ['203.0.113.5'] }], nodes: [rawNode('n2')] }),
      );
      assert.deepEqual(plan.peers, []);
    });

    it('a VRF peer is skipped with a reason', () => {
      const plan = planBGP(
        snapshotOf({ config: { pools: POOLS, peers: [peer('r1'), peer('red', { peerAddress: '192.0.2.9', vrf: 'red' })], bgpAdvertisements: [bgpAdv('a')] }, services: [] }),
      );
      assert.deepEqual(plan.peers.map((p) => p.name), ['r1']);
      assert.equal(plan.skipped[0]?.peer, 'red');
      assert.match(plan.skipped[0]?.reason ?? '', /VRF "red"/);
    });

    it('reads node addresses into the snapshot', () => {
      const info = nodeInfo({ metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }, { type: 'Hostname' }, { address: 'x' }] } });
      assert.deepEqual(info?.addresses, [{ type: 'InternalIP', address: '192.0.2.11' }]);
      assert.deepEqual(nodeInfo({ metadata: { name: 'n1' } })?.addresses, []);
    });
  });

  describe('services', () => {
    it('lists per Service the IPs and peers it is advertised with, sorted', () => {
      const plan = planBGP(
        snapshotOf({
          config: {
            pools: POOLS,
            peers: [peer('r1'), peer('r2', { peerAddress: '192.0.2.2' })],
            bgpAdvertisements: [bgpAdv('v4-r2', { peers: ['r2'] }), bgpAdv('v6-all', { ipAddressPools: ['bgp'], aggregationLength: 32, communities: ['65000:6'] })],
          },
          services: [
            { name: 'zeta', ips: ['2001:db8:ff::1', '203.0.113.1'] },
            { name: 'alpha', namespace: 'apps', ips: ['203.0.113.2'] },
            { name: 'down', ips: ['203.0.113.3'], ready: [] },
          ],
        }),
      );
      assert.deepEqual(plan.services, [
        { key: 'apps/alpha', namespace: 'apps', name: 'alpha', ips: ['203.0.113.2'], peers: ['r1', 'r2'] },
        { key: 'default/zeta', namespace: 'default', name: 'zeta', ips: ['2001:db8:ff::1', '203.0.113.1'], peers: ['r1', 'r2'] },
      ]);
    });

    it('says why a Service is not advertised', () => {
      const n1 = nodeInfo(rawNode('n1'))!;
      const svc = (o: Partial<{ policy: 'Cluster' | 'Local'; nodes: string[]; any: boolean }>) => ({
        key: 'd/s', namespace: 'd', name: 's', ips: [], externalTrafficPolicy: o.policy ?? 'Cluster', endpointNodes: new Set(o.nodes ?? []), hasReadyEndpoints: o.any ?? true,
      }) as const;
      assert.deepEqual(serviceEligibility(svc({}), n1), { ok: true });
      assert.match((serviceEligibility(svc({ any: false }), n1) as { reason: string }).reason, /no ready endpoint/);
      assert.match((serviceEligibility(svc({ policy: 'Local', nodes: ['n2'] }), n1) as { reason: string }).reason, /Local/);
      assert.deepEqual(serviceEligibility(svc({ policy: 'Local', nodes: ['n1'] }), n1), { ok: true });
      assert.equal(serviceEligibility(svc({}), undefined).ok, false);
    });
  });

  describe('session configuration', () => {
    const base: PeerModel = {
      name: 'r1', myASN: 64512, peerASN: 64500, peerAddress: parseIP('192.0.2.1')!, peerPort: 179, holdTime: 90, keepaliveTime: 30, connectTime: 120,
      nodeSelectors: [], enableGracefulRestart: false, ebgpMultiHop: false, vrf: '', disableMP: false,
    };

    it('carries every BGPPeer field the session uses', () => {
      const snap = snapshotOf({
        config: {
          pools: POOLS,
          peers: [peer('r1', { peerPort: 1179, sourceAddress: '192.0.2.11', holdTime: '9s', keepaliveTime: '3s', connectTime: '5s', passwordSecret: { name: 'pw' }, ebgpMultiHop: true, enableGracefulRestart: true, routerID: '10.0.0.1' })],
          secrets: [secret('pw', { password: 's3cret' })],
          bgpAdvertisements: [bgpAdv('a')],
        },
        services: [],
      });
      assert.deepEqual(planBGP(snap).peers[0]?.config, {
        name: 'r1', myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.1', peerPort: 1179, sourceAddress: '192.0.2.11', holdTime: 9, keepaliveTime: 3,
        connectTime: 5, routerID: '10.0.0.1', password: 's3cret', ebgpMultiHop: true, enableGracefulRestart: true, families: [4, 6],
      });
    });

    it('router ID: the BGPPeer\'s, else the node\'s IPv4 InternalIP, else another IPv4 address, else the source address, else a hash', () => {
      const node = (addresses: { type: string; address: string }[]) => ({ name: 'n1', labels: {}, mayAnnounce: true, addresses });
      assert.equal(sessionConfigFor({ ...base, routerID: '10.9.9.9' }, node([{ type: 'InternalIP', address: '192.0.2.11' }]), 'n1').routerID, '10.9.9.9');
      assert.equal(defaultRouterID(node([{ type: 'ExternalIP', address: '198.51.100.7' }, { type: 'InternalIP', address: '2001:db8::1' }, { type: 'InternalIP', address: '192.0.2.11' }]), 'n1', base), '192.0.2.11');
      assert.equal(defaultRouterID(node([{ type: 'ExternalIP', address: '198.51.100.7' }]), 'n1', base), '198.51.100.7');
      assert.equal(defaultRouterID(node([]), 'n1', { ...base, sourceAddress: parseIP('192.0.2.11')! }), '192.0.2.11');
      const hashed = defaultRouterID(node([{ type: 'InternalIP', address: '2001:db8::1' }]), 'n1', base);
      assert.match(hashed, /^\d+\.\d+\.\d+\.\d+$/);
      assert.notEqual(hashed, '0.0.0.0');
      assert.equal(defaultRouterID(undefined, 'n1', base), hashed, 'stable for a node name');
      assert.notEqual(defaultRouterID(undefined, 'n2', base), hashed);
    });

    it('families: both unless disableMP, then the peer address family', () => {
      assert.deepEqual(sessionConfigFor(base, undefined, 'n1').families, [4, 6]);
      assert.deepEqual(sessionConfigFor({ ...base, disableMP: true }, undefined, 'n1').families, [4]);
      assert.deepEqual(sessionConfigFor({ ...base, disableMP: true, peerAddress: parseIP('2001:db8::1')! }, undefined, 'n1').families, [6]);
    });
  });
});
