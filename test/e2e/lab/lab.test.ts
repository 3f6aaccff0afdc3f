// The lab as DESIGN.md describes it, brought up once (FRR, eBGP, three nodes, no herald
// components so that nothing but the kernel could answer ARP) and looked at from every
// side. Root only; creates the real hl-* namespaces, so lab tests never run in parallel.
import assert from 'node:assert/strict';
import { ENDPOINT_SLICES, NODES, SERVICES, collectionPath, objectPath } from '../../../shared/k8s/resources.js';
import { startStandIn, type StandIn } from '../../lab/bgp-stand-in.js';
import { run } from '../../lab/exec.js';
import { labDown } from '../../lab/lab-down.js';
import { formatStatus, labStatus, routerNextHops } from '../../lab/lab-status.js';
import { labUp } from '../../lab/lab-up.js';
import { labPaths } from '../../lab/paths.js';
import { NODE_ASN, ROUTER_ASN, VIP_IF, namespacesOf, type LabPlan } from '../../lab/plan.js';
import { httpGet, whoAnswers } from '../../lab/probes.js';
import { readRecords } from '../../lab/processes.js';
import { vtysh } from '../../lab/router-frr.js';
import { createRouter } from '../../lab/routers.js';
import type { EndpointSlice } from '../../lab/services.js';
import {
  addressesOn,
  apiGet,
  apiPatch,
  createServiceWithIps,
  deleteService,
  hostLabFootprint,
  isRoot,
  leftovers,
  sysctl,
  waitFor,
} from './helpers.js';

const paths = labPaths();

(isRoot ? describe : describe.skip)('lab (FRR, eBGP, 3 nodes)', function () {
  this.timeout(120_000);
  let plan: LabPlan;
  let hostBefore: string[];
  const standIns: StandIn[] = [];

  before(async function () {
    await labDown(paths);
    hostBefore = await hostLabFootprint();
    const t0 = Date.now();
    ({ plan } = await labUp(paths, { nodes: 3, router: { kind: 'frr', ibgp: false }, components: false }));
    assert.ok(Date.now() - t0 < 30_000, `lab up took ${Date.now() - t0} ms`);
  });

  after(async function () {
    for (const s of standIns) await s.stop().catch(() => {});
    const t0 = Date.now();
    const r = await labDown(paths);
    assert.deepEqual(r.problems, []);
    assert.ok(Date.now() - t0 < 30_000, `lab down took ${Date.now() - t0} ms`);
    assert.deepEqual(await leftovers(paths), [], 'lab down leaves nothing running');
    assert.deepEqual(await hostLabFootprint(), hostBefore, 'the host namespace is as before');
  });

  it('builds the namespaces of DESIGN.md and touches nothing in the host namespace', async function () {
    const out = (await run('ip', ['netns', 'list'])).stdout;
    for (const ns of namespacesOf(plan)) assert.match(out, new RegExp(`^${ns}\\b`, 'm'));
    assert.deepEqual(await hostLabFootprint(), hostBefore, 'no lab link or route in the host namespace');
  });

  it('gives every host its IPv4 and IPv6 address, usable at once, and the router as gateway', async function () {
    assert.deepEqual(await addressesOn('hl-router', 'br0'), ['192.0.2.1', '2001:db8:0:2::1']);
    assert.deepEqual(await addressesOn('hl-router', 'ext0'), ['198.51.100.1', '2001:db8:0:3::1']);
    assert.deepEqual(await addressesOn('hl-node1', 'eth0'), ['192.0.2.11', '2001:db8:0:2::11']);
    assert.deepEqual(await addressesOn('hl-node3', 'eth0'), ['192.0.2.13', '2001:db8:0:2::13']);
    assert.deepEqual(await addressesOn('hl-client', 'eth0'), ['192.0.2.100', '2001:db8:0:2::100']);
    assert.deepEqual(await addressesOn('hl-ext', 'eth0'), ['198.51.100.2', '2001:db8:0:3::2']);
    for (const ns of ['hl-node2', 'hl-client', 'hl-ext']) {
      const v6 = (await run('ip', ['-n', ns, '-6', 'addr', 'show'])).stdout;
      assert.doesNotMatch(v6, /tentative/, `${ns}: no address waits for DAD`);
      const gw = (await run('ip', ['-n', ns, 'route', 'show', 'default'])).stdout;
      assert.match(gw, ns === 'hl-ext' ? /via 198\.51\.100\.1/ : /via 192\.0\.2\.1/);
      const gw6 = (await run('ip', ['-n', ns, '-6', 'route', 'show', 'default'])).stdout;
      assert.match(gw6, ns === 'hl-ext' ? /via 2001:db8:0:3::1/ : /via 2001:db8:0:2::1/);
    }
    // Across the router, both families: ext reaches a node's own address.
    assert.equal(await httpGet('hl-ext', '192.0.2.12'), 'hl-node2\n');
    assert.equal(await httpGet('hl-ext', '2001:db8:0:2::12'), 'hl-node2\n');
  });

  it('forwards in the router only, and holds strict ARP in the nodes', async function () {
    assert.equal(await sysctl('hl-router', 'net.ipv4.ip_forward'), '1');
    assert.equal(await sysctl('hl-router', 'net.ipv6.conf.all.forwarding'), '1');
    for (const ns of ['hl-node1', 'hl-node2', 'hl-node3', 'hl-client', 'hl-ext']) {
      assert.equal(await sysctl(ns, 'net.ipv4.ip_forward'), '0', ns);
      assert.equal(await sysctl(ns, 'net.ipv6.conf.all.forwarding'), '0', ns);
    }
    assert.equal(await sysctl('hl-node1', 'net.ipv4.conf.all.arp_ignore'), '1');
    assert.equal(await sysctl('hl-node1', 'net.ipv4.conf.all.arp_announce'), '2');
  });

  it('registers a Ready Node per node namespace with both InternalIPs', async function () {
    type Node = { metadata: { name: string; labels?: Record<string, string> }; status?: { addresses?: { type: string; address: string }[]; conditions?: { type: string; status: string }[] } };
    const list = await apiGet<{ items: Node[] }>(paths, collectionPath(NODES));
    assert.deepEqual(list.items.map((n) => n.metadata.name).sort(), ['hl-node1', 'hl-node2', 'hl-node3']);
    const n2 = list.items.find((n) => n.metadata.name === 'hl-node2');
    assert.equal(n2?.metadata.labels?.['kubernetes.io/hostname'], 'hl-node2');
    assert.equal(n2?.metadata.labels?.['kubernetes.io/os'], 'linux');
    const internal = (n2?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
    assert.deepEqual(internal.sort(), ['192.0.2.12', '2001:db8:0:2::12']);
    assert.equal(n2?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });

  it('holds service IPs on kube-ipvs0 in every node, answering only inside the node, with no kernel ARP/NDP answer', async function () {
    await createServiceWithIps(paths, { name: 'l2', ips: ['192.0.2.200', '2001:db8:0:2::200'], families: ['IPv4', 'IPv6'] });
    for (const n of plan.nodes) {
      await waitFor(`VIPs on ${n.ns}`, async () => ((await addressesOn(n.ns, VIP_IF)).length === 2 ? true : undefined), 10_000);
      assert.deepEqual(await addressesOn(n.ns, VIP_IF), ['192.0.2.200', '2001:db8:0:2::200']);
      assert.equal(await httpGet(n.ns, '192.0.2.200'), `${n.name}\n`);
      assert.equal(await httpGet(n.ns, '2001:db8:0:2::200'), `${n.name}\n`);
    }
    // The probes do see answers where they should (the nodes' own addresses)…
    assert.deepEqual(await whoAnswers('hl-client', '192.0.2.12'), [plan.nodes[1]?.mac]);
    assert.deepEqual(await whoAnswers('hl-client', '2001:db8:0:2::12'), [plan.nodes[1]?.mac]);
    // …and no kernel answers for a service IP: with no speaker, nobody does.
    const [arp, nd] = await Promise.all([whoAnswers('hl-client', '192.0.2.200'), whoAnswers('hl-client', '2001:db8:0:2::200')]);
    assert.deepEqual(arp, [], 'no ARP answer for an IPv4 service IP');
    assert.deepEqual(nd, [], 'no neighbor advertisement for an IPv6 service IP');
    assert.equal(await httpGet('hl-client', '192.0.2.200', 1), undefined, 'the client cannot reach it');
  });

  it('writes EndpointSlices on every node, moves them with `lab endpoints`, and keeps them moved', async function () {
    const slicesOf = async (svc: string): Promise<EndpointSlice[]> =>
      (await apiGet<{ items: EndpointSlice[] }>(paths, `${collectionPath(ENDPOINT_SLICES, 'default')}?labelSelector=kubernetes.io/service-name=${svc}`)).items;
    const ready = (s: EndpointSlice | undefined): string[] =>
      (s?.endpoints ?? []).filter((e) => e.conditions.ready).map((e) => e.nodeName).sort();
    await waitFor('slices for l2', async () => ((await slicesOf('l2')).length === 2 ? true : undefined), 10_000);
    const slices = await slicesOf('l2');
    assert.deepEqual(slices.map((s) => s.addressType).sort(), ['IPv4', 'IPv6']);
    const v4 = slices.find((s) => s.addressType === 'IPv4');
    assert.deepEqual(ready(v4), ['hl-node1', 'hl-node2', 'hl-node3']);
    assert.deepEqual(v4?.endpoints.map((e) => e.addresses[0]).sort(), ['192.0.2.11', '192.0.2.12', '192.0.2.13']);

    const { main } = await import('../../lab/main.js');
    assert.equal(await main(['endpoints', 'default/l2', '--nodes', 'hl-node1,hl-node3', '--not-ready', 'hl-node2']), 0);
    // A change to the Service must not make the lab put them back.
    await apiPatch(paths, objectPath(SERVICES, 'default', 'l2'), { metadata: { labels: { touched: 'yes' } } });
    await new Promise((r) => setTimeout(r, 300));
    for (const s of await slicesOf('l2')) {
      assert.deepEqual(ready(s), ['hl-node1', 'hl-node3'], s.addressType);
      assert.deepEqual(s.endpoints.filter((e) => !e.conditions.ready).map((e) => e.nodeName), ['hl-node2']);
    }
    assert.equal(await main(['endpoints', 'default/l2', '--nodes', 'hl-node9']), 2, 'an unknown node is refused');
  });

  it('removes service IPs and slices when the Service goes', async function () {
    await deleteService(paths, 'l2');
    for (const n of plan.nodes) {
      await waitFor(`VIPs gone from ${n.ns}`, async () => ((await addressesOn(n.ns, VIP_IF)).length === 0 ? true : undefined), 10_000);
    }
    const left = await apiGet<{ items: unknown[] }>(paths, `${collectionPath(ENDPOINT_SLICES, 'default')}?labelSelector=kubernetes.io/service-name=l2`);
    assert.equal(left.items.length, 0);
  });

  it('FRR takes routes from a BGP peer in two nodes into its kernel table with ECMP, and ext reaches them', async function () {
    const router = createRouter({ paths, plan, opts: { kind: 'frr', ibgp: false } });
    await createServiceWithIps(paths, { name: 'bgp', ips: ['203.0.113.10', '2001:db8:ff::10'], families: ['IPv4', 'IPv6'] });
    for (const n of plan.nodes.slice(0, 2)) {
      const s = await startStandIn(paths, plan, n, { localAsn: NODE_ASN, routerAsn: ROUTER_ASN });
      standIns.push(s);
      await s.announce('203.0.113.10/32');
      await s.announce('2001:db8:ff::10/128');
    }
    await waitFor(
      'ECMP routes in hl-router',
      async () => {
        const [a, b] = await Promise.all([routerNextHops(plan, '203.0.113.10'), routerNextHops(plan, '2001:db8:ff::10')]);
        return a.length === 2 && b.length === 2 ? true : undefined;
      },
      30_000,
      200,
    );
    assert.deepEqual(await routerNextHops(plan, '203.0.113.10'), ['hl-node1', 'hl-node2']);
    assert.deepEqual(await routerNextHops(plan, '2001:db8:ff::10'), ['hl-node1', 'hl-node2']);
    const sessions = await router.sessions();
    assert.deepEqual(
      sessions.filter((s) => s.established).map((s) => s.peer),
      ['192.0.2.11', '192.0.2.12', '2001:db8:0:2::11', '2001:db8:0:2::12'],
    );
    assert.match(await router.showRoute('203.0.113.10/32'), /192\.0\.2\.11[\s\S]*192\.0\.2\.12/);
    // Graceful restart: FRR helps a restarting speaker (RFC 4724 §4.2).
    const nb = JSON.parse(await vtysh({ paths }, ['show bgp neighbors 192.0.2.11 json'])) as Record<string, { gracefulRestartInfo?: { localGrMode?: string } }>;
    assert.match(nb['192.0.2.11']?.gracefulRestartInfo?.localGrMode ?? '', /^Helper/);
    for (const ip of ['203.0.113.10', '2001:db8:ff::10']) {
      const body = await httpGet('hl-ext', ip);
      assert.ok(body === 'hl-node1\n' || body === 'hl-node2\n', `ext reached ${ip}: ${String(body)}`);
    }
    // Withdrawn from one node: the route narrows to the other.
    await standIns[0]?.withdraw('203.0.113.10/32');
    await waitFor('route narrowed', async () => ((await routerNextHops(plan, '203.0.113.10')).length === 1 ? true : undefined), 10_000);
    assert.deepEqual(await routerNextHops(plan, '203.0.113.10'), ['hl-node2']);
  });

  it('lab status shows processes, sessions and service IPs, quickly', async function () {
    const t0 = Date.now();
    const r = await labStatus(paths);
    assert.ok(Date.now() - t0 < 30_000);
    assert.ok(r.namespaces.every((n) => n.present));
    const names = r.processes.map((p) => p.name);
    for (const want of ['apiserver', 'lab-agent', 'router-bgpd', 'router-zebra', 'node-proxy-hl-node1']) assert.ok(names.includes(want), want);
    assert.ok(r.processes.every((p) => p.alive), JSON.stringify(r.processes));
    assert.equal(r.sessions?.filter((s) => s.established).length, 4);
    const row = r.services?.find((s) => s.ip === '2001:db8:ff::10');
    assert.deepEqual(row?.routedTo, ['hl-node1', 'hl-node2']);
    assert.deepEqual(row?.answeredBy, []);
    assert.match(formatStatus(r), /default\/bgp\s+203\.0\.113\.10\s+no ARP\/NDP answer; routed to hl-node2/);
    assert.equal(readRecords(paths).length, r.processes.length);
  });
});
