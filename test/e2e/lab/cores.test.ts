// The lab's pure parts: address plan, link commands, router configuration rendering, the
// parsers of router CLIs and probes, GoBGP's RIB → kernel FIB, VIPs and EndpointSlices.
// Needs neither root nor namespaces; lives with the lab's tests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { standInConfig } from '../../lab/bgp-stand-in.js';
import { fibCommands, fibFromKernel, fibFromRib, type GobgpPath } from '../../lab/gobgp-fib.js';
import { labPaths } from '../../lab/paths.js';
import { hostByMac, labPlan, namespacesOf } from '../../lab/plan.js';
import { parseArpingRaw, parseNdisc6 } from '../../lab/probes.js';
import { parseBirdProtocols } from '../../lab/router-bird.js';
import { parseFrrSummary } from '../../lab/router-frr.js';
import { parseGobgpNeighbors, passwordNeighbors } from '../../lab/router-gobgp.js';
import { configSource, withPassword } from '../../lab/router.js';
import { slicesFor, vipCommands, wantedVips, type ServiceLike } from '../../lab/services.js';
import { hostBatch, routerBatch } from '../../lab/topology.js';

const plan = labPlan(3);

describe('lab cores', function () {
  describe('address plan', function () {
    it('follows DESIGN.md', function () {
      assert.deepEqual(namespacesOf(plan), ['hl-router', 'hl-node1', 'hl-node2', 'hl-node3', 'hl-client', 'hl-ext']);
      assert.deepEqual(
        plan.nodes.map((n) => [n.name, n.ipv4, n.ipv6]),
        [
          ['hl-node1', '192.0.2.11', '2001:db8:0:2::11'],
          ['hl-node2', '192.0.2.12', '2001:db8:0:2::12'],
          ['hl-node3', '192.0.2.13', '2001:db8:0:2::13'],
        ],
      );
      assert.deepEqual([plan.client.ipv4, plan.client.ipv6, plan.ext.ipv4, plan.ext.ipv6], ['192.0.2.100', '2001:db8:0:2::100', '198.51.100.2', '2001:db8:0:3::2']);
      assert.deepEqual([plan.router.lan.ipv4, plan.router.ext.ipv6], ['192.0.2.1', '2001:db8:0:3::1']);
      assert.equal(hostByMac(plan, '02:68:6C:00:02:0D'), 'hl-node3');
      assert.equal(hostByMac(plan, '02:00:00:00:00:01'), undefined);
      assert.throws(() => labPlan(0), RangeError);
      assert.throws(() => labPlan(51), RangeError);
      assert.equal(labPlan(50).nodes.at(-1)?.ipv4, '192.0.2.60');
    });

    it('creates every veth with its peer placed in a lab namespace, never in the host', function () {
      const lines = routerBatch(plan);
      const veths = lines.filter((l) => / type veth /.test(l));
      assert.equal(veths.length, 5, 'three nodes, the client, ext');
      for (const l of veths) assert.match(l, / peer name eth0 address \S+ netns hl-[a-z0-9]+$/);
      assert.ok(lines.includes('link set lan-node2 master br0 up'));
      assert.ok(lines.some((l) => /^addr add 2001:db8:0:2::1\/64 dev br0 nodad$/.test(l)), 'IPv6 without DAD');
      assert.deepEqual(hostBatch(plan.client, plan.router.lan).slice(-2), ['route add default via 192.0.2.1', 'route add default via 2001:db8:0:2::1']);
    });
  });

  describe('router configuration', function () {
    const paths = labPaths();

    it('fills the password placeholder of the BIRD and GoBGP files in the repository', function () {
      const bird = readFileSync(configSource(paths, { kind: 'bird', ibgp: false }), 'utf8');
      assert.match(withPassword(bird, 'bird', 'k1'), /^\s+password "k1";$/m);
      assert.equal(withPassword(bird, 'bird', undefined), bird);
      for (const ibgp of [false, true]) {
        const gobgp = readFileSync(configSource(paths, { kind: 'gobgp', ibgp }), 'utf8');
        assert.match(withPassword(gobgp, 'gobgp', 'k2'), /^\s+auth-password = "k2"$/m);
        assert.match(readFileSync(configSource(paths, { kind: 'bird', ibgp }), 'utf8'), /#password "";/);
      }
      assert.throws(() => withPassword(bird, 'bird', 'a"b'), /quotes/);
      assert.throws(() => withPassword('router id 1.1.1.1;', 'bird', 'k'), /placeholder/);
    });

    it('uses the FRR files of kind/routers as they are, eBGP and iBGP', function () {
      assert.equal(configSource(paths, { kind: 'frr', ibgp: false }), join(paths.repo, 'kind/routers/frr/frr.conf'));
      const ebgp = readFileSync(configSource(paths, { kind: 'frr', ibgp: false }), 'utf8');
      const ibgp = readFileSync(configSource(paths, { kind: 'frr', ibgp: true }), 'utf8');
      assert.match(ebgp, /^router bgp 64500$/m);
      assert.match(ebgp, /^ no bgp ebgp-requires-policy$/m);
      assert.match(ibgp, /^router bgp 64512$/m);
      assert.match(ibgp, /maximum-paths ibgp 64/);
      for (const c of [ebgp, ibgp]) {
        assert.match(c, /bgp listen range 192\.0\.2\.0\/24 peer-group NODES$/m);
        assert.match(c, /bgp listen range 2001:db8:0:2::\/64 peer-group NODES6$/m);
      }
    });

    it('lists every node by address for GoBGP when there is a key', function () {
      assert.equal(passwordNeighbors(plan, undefined), '');
      const text = passwordNeighbors(plan, 'k');
      assert.equal(text.match(/\[\[neighbors\]\]/g)?.length, 6);
      assert.match(text, /neighbor-address = "2001:db8:0:2::13"\n {4}peer-group = "nodes"\n {4}auth-password = "k"/);
    });

    it('writes a stand-in that connects over both families', function () {
      const node = plan.nodes[1];
      assert.ok(node);
      const c = standInConfig(node, plan, { localAsn: 64512, routerAsn: 64500, password: 'p' });
      assert.match(c, /neighbor-address = "192\.0\.2\.1"[\s\S]*local-address = "192\.0\.2\.12"[\s\S]*"ipv4-unicast"/);
      assert.match(c, /neighbor-address = "2001:db8:0:2::1"[\s\S]*local-address = "2001:db8:0:2::12"[\s\S]*"ipv6-unicast"/);
      assert.equal(c.match(/auth-password = "p"/g)?.length, 2);
      assert.match(c, /port = -1/);
    });
  });

  describe('router CLI parsers', function () {
    it('reads FRR `show bgp summary json`, a peer once across families', function () {
      const json = JSON.stringify({
        ipv4Unicast: { peers: { '192.0.2.11': { state: 'Established', pfxRcd: 2 }, '2001:db8:0:2::11': { state: 'Established', pfxRcd: 1 } } },
        ipv6Unicast: { peers: { '192.0.2.11': { state: 'Established', pfxRcd: 1 }, '192.0.2.12': { state: 'Active' } } },
      });
      assert.deepEqual(parseFrrSummary(json), [
        { peer: '192.0.2.11', state: 'Established', established: true, prefixes: 3 },
        { peer: '192.0.2.12', state: 'Active', established: false, prefixes: 0 },
        { peer: '2001:db8:0:2::11', state: 'Established', established: true, prefixes: 1 },
      ]);
      assert.deepEqual(parseFrrSummary('{}'), []);
    });

    it('reads `birdc show protocols all`, skipping the dynamic templates', function () {
      const text = [
        'BIRD 2.0.12 ready.',
        'Name       Proto      Table      State  Since         Info',
        'device1    Device     ---        up     08:16:39.620  ',
        '',
        'nodes4     BGP        ---        start  08:16:39.620  Passive       ',
        '  BGP state:          Passive',
        '    Neighbor range:   192.0.2.0/24',
        '',
        'node4_1    BGP        ---        up     08:16:54.952  Established   ',
        '  BGP state:          Established',
        '    Neighbor address: 192.0.2.11',
        '  Channel ipv4',
        '    Routes:         2 imported, 0 exported, 2 preferred',
        '  Channel ipv6',
        '    Routes:         1 imported, 0 exported, 1 preferred',
        '',
        'node6_1    BGP        ---        start  08:16:55.001  Connect       ',
        '  BGP state:          Connect',
        '    Neighbor address: 2001:db8:0:2::12',
        '',
      ].join('\n');
      assert.deepEqual(parseBirdProtocols(text), [
        { peer: '192.0.2.11', state: 'Established', established: true, prefixes: 3 },
        { peer: '2001:db8:0:2::12', state: 'Connect', established: false, prefixes: 0 },
      ]);
    });

    it('reads `gobgp neighbor -j`', function () {
      const json = JSON.stringify([
        { state: { neighbor_address: '192.0.2.12', session_state: 6 }, afi_safis: [{ state: { received: 2, accepted: 2 } }, { state: {} }] },
        { state: { neighbor_address: '192.0.2.11', session_state: 3 } },
      ]);
      assert.deepEqual(parseGobgpNeighbors(json), [
        { peer: '192.0.2.11', state: 'Active', established: false, prefixes: 0 },
        { peer: '192.0.2.12', state: 'Established', established: true, prefixes: 2 },
      ]);
    });

    it('reads arping and ndisc6 answers', function () {
      assert.deepEqual(parseArpingRaw('02:68:6c:00:02:0c\n02:68:6C:00:02:0C\n02:68:6c:00:02:0b\n\nTimeout\n'), ['02:68:6c:00:02:0c', '02:68:6c:00:02:0b']);
      assert.deepEqual(parseArpingRaw('Timeout\n'), []);
      const nd = 'Soliciting 2001:db8:0:2::12 (2001:db8:0:2::12) on eth0...\nTarget link-layer address: 02:68:6C:00:02:0C\n from 2001:db8:0:2::12\n';
      assert.deepEqual(parseNdisc6(nd), ['02:68:6c:00:02:0c']);
      assert.deepEqual(parseNdisc6('Timed out.\nNo response.\n'), []);
    });
  });

  describe("GoBGP's RIB into the kernel", function () {
    const path = (nh: string, o: { asns?: number[]; best?: boolean; stale?: boolean; withdrawal?: boolean; v6?: boolean } = {}): GobgpPath => ({
      nlri: { prefix: o.v6 ? '2001:db8:ff::1/128' : '203.0.113.1/32' },
      best: o.best ?? false,
      stale: o.stale ?? false,
      ...(o.withdrawal ? { withdrawal: true } : {}),
      attrs: [
        { type: 1, value: 0 },
        { type: 2, as_paths: [{ segment_type: 2, num: (o.asns ?? [64512]).length, asns: o.asns ?? [64512] }] },
        o.v6 ? { type: 14, nexthop: nh } : { type: 3, nexthop: nh },
      ],
    });

    it('keeps a next hop for every path as good as the best, stale ones included', function () {
      const fib = fibFromRib({
        '203.0.113.1/32': [path('192.0.2.12', { best: true }), path('192.0.2.11', { stale: true }), path('192.0.2.13', { asns: [64512, 64513] })],
        '2001:db8:ff::1/128': [path('2001:db8:0:2::11', { best: true, v6: true })],
        '203.0.113.2/32': [path('192.0.2.11', { withdrawal: true })],
      });
      assert.deepEqual([...fib], [
        ['203.0.113.1/32', ['192.0.2.11', '192.0.2.12']],
        ['2001:db8:ff::1/128', ['2001:db8:0:2::11']],
      ]);
    });

    it('changes only what differs', function () {
      const have = new Map([
        ['203.0.113.1/32', ['192.0.2.11']],
        ['203.0.113.9/32', ['192.0.2.11']],
        ['2001:db8:ff::1/128', ['2001:db8:0:2::11']],
      ]);
      const want = new Map([
        ['203.0.113.1/32', ['192.0.2.11', '192.0.2.12']],
        ['2001:db8:ff::1/128', ['2001:db8:0:2::11']],
      ]);
      assert.deepEqual(fibCommands(have, want), [
        'route replace 203.0.113.1/32 proto bgp metric 20 nexthop via 192.0.2.11 nexthop via 192.0.2.12',
        'route del 203.0.113.9/32 proto bgp',
      ]);
      assert.deepEqual(fibCommands(want, want), []);
    });

    it('reads the kernel back, single and multipath', function () {
      const json = JSON.stringify([
        { dst: '203.0.113.1', nexthops: [{ gateway: '192.0.2.12' }, { gateway: '192.0.2.11' }] },
        { dst: '203.0.113.0/28', gateway: '192.0.2.13' },
      ]);
      assert.deepEqual([...fibFromKernel(json, 4)], [
        ['203.0.113.1/32', ['192.0.2.11', '192.0.2.12']],
        ['203.0.113.0/28', ['192.0.2.13']],
      ]);
      assert.equal(fibFromKernel('', 6).size, 0);
    });
  });

  describe('service IPs and EndpointSlices', function () {
    const svc: ServiceLike = {
      metadata: { name: 'web', namespace: 'shop', uid: 'u1' },
      spec: { type: 'LoadBalancer', ipFamilies: ['IPv6', 'IPv4'], ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }, { port: 53, targetPort: 'dns', protocol: 'UDP' }] },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.200' }, { ip: '2001:DB8:0:2::200' }] } },
    };

    it('holds every LoadBalancer ingress IP, and only those', function () {
      const other: ServiceLike = { spec: { type: 'ClusterIP' }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.201' }] } } };
      const gone: ServiceLike = { ...svc, metadata: { ...svc.metadata, deletionTimestamp: 'now' } };
      assert.deepEqual([...wantedVips([svc, other])], ['192.0.2.200', '2001:db8:0:2::200']);
      assert.deepEqual([...wantedVips([gone])], []);
      assert.deepEqual(vipCommands('kube-ipvs0', new Set(['192.0.2.9', '192.0.2.200']), wantedVips([svc])), [
        'addr add 2001:db8:0:2::200/128 dev kube-ipvs0 nodad',
        'addr del 192.0.2.9/32 dev kube-ipvs0',
      ]);
    });

    it('writes one slice per family, ready where asked, with node names and node addresses', function () {
      const slices = slicesFor(svc, plan.nodes, { ready: ['hl-node3', 'hl-node1'], notReady: ['hl-node2', 'hl-node1', 'hl-node7'] });
      assert.deepEqual(slices.map((s) => [s.metadata.name, s.addressType]), [['web-lab6', 'IPv6'], ['web-lab4', 'IPv4']]);
      const v4 = slices[1];
      assert.equal(v4?.metadata.labels['kubernetes.io/service-name'], 'web');
      assert.equal(v4?.metadata.ownerReferences?.[0]?.uid, 'u1');
      assert.deepEqual(v4?.endpoints.map((e) => [e.nodeName, e.addresses[0], e.conditions.ready]), [
        ['hl-node3', '192.0.2.13', true],
        ['hl-node1', '192.0.2.11', true],
        ['hl-node2', '192.0.2.12', false],
      ]);
      assert.deepEqual(v4?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }]);
      assert.equal(slices[0]?.endpoints[0]?.addresses[0], '2001:db8:0:2::13');
      assert.deepEqual(slicesFor({ metadata: { name: 'a' }, spec: { type: 'LoadBalancer' } }, plan.nodes, { ready: [] }).map((s) => s.addressType), ['IPv4']);
    });
  });
});
