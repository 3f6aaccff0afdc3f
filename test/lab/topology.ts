// The lab's wires: namespaces, the LAN bridge inside hl-router, veth pairs, addresses,
// routes and sysctls. Every link is created inside a lab namespace with its peer placed
// straight into another one, so nothing ever appears in the host namespace.
import { ipBatch, run, tryRun } from './exec.js';
import { HOST_IF, LAN_BRIDGE, NS_PREFIX, VIP_IF, namespacesOf, type Endpoint, type LabPlan, type LanHost } from './plan.js';

/** How service IPs are held: a dummy as kube-proxy does, or ifb where the kernel lacks dummy. */
export type VipKind = 'dummy' | 'ifb';

/**
 * Sysctls every lab namespace gets before its links exist, so that new interfaces
 * inherit them: IPv6 addresses usable at once (no DAD, RFC 4862 §5.4), and no
 * autoconfiguration from stray router advertisements.
 */
const COMMON_SYSCTLS = [
  'net.ipv6.conf.all.accept_dad=0',
  'net.ipv6.conf.default.accept_dad=0',
  'net.ipv6.conf.all.accept_ra=0',
  'net.ipv6.conf.default.accept_ra=0',
];

/** The router forwards; its ECMP hash includes ports so one client's flows spread (RFC 2992). */
const ROUTER_SYSCTLS = [
  'net.ipv4.ip_forward=1',
  'net.ipv6.conf.all.forwarding=1',
  'net.ipv4.fib_multipath_hash_policy=1',
  'net.ipv6.fib_multipath_hash_policy=1',
];

/**
 * kube-proxy's strict ARP (IPVS mode): the node's kernel answers ARP only for addresses
 * on the receiving interface, and picks a source on that interface for its own requests,
 * so the service IPs on kube-ipvs0 are never announced by the kernel (MetalLB #153).
 */
const NODE_SYSCTLS = ['net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2'];

export function sysctlsFor(plan: LabPlan, ns: string): string[] {
  if (ns === plan.router.ns) return [...COMMON_SYSCTLS, ...ROUTER_SYSCTLS];
  if (plan.nodes.some((n) => n.ns === ns)) return [...COMMON_SYSCTLS, ...NODE_SYSCTLS];
  return COMMON_SYSCTLS;
}

function addrLines(e: Endpoint, prefix4: number, prefix6: number): string[] {
  return [`addr add ${e.ipv4}/${prefix4} dev ${e.ifname}`, `addr add ${e.ipv6}/${prefix6} dev ${e.ifname} nodad`];
}

/** hl-router: the bridge, one port per LAN host (peer straight into the host), the ext link. */
export function routerBatch(plan: LabPlan): string[] {
  const r = plan.router;
  const lanHosts: LanHost[] = [...plan.nodes, plan.client];
  return [
    'link set lo up',
    // A dumb switch: no STP delay, no multicast snooping (NDP's solicited-node multicast
    // must reach every port whether or not MLD reports were seen).
    `link add ${LAN_BRIDGE} address ${r.lan.mac} type bridge stp_state 0 forward_delay 0 mcast_snooping 0`,
    ...lanHosts.map((h) => `link add ${h.port} type veth peer name ${HOST_IF} address ${h.mac} netns ${h.ns}`),
    ...lanHosts.map((h) => `link set ${h.port} master ${LAN_BRIDGE} up`),
    `link add ${r.ext.ifname} address ${r.ext.mac} type veth peer name ${HOST_IF} address ${plan.ext.mac} netns ${plan.ext.ns}`,
    ...addrLines(r.lan, 24, 64),
    ...addrLines(r.ext, 24, 64),
    `link set ${LAN_BRIDGE} up`,
    `link set ${r.ext.ifname} up`,
  ];
}

/** A host on a link: its address, and the router as default gateway for both families. */
export function hostBatch(host: Endpoint, gateway: Endpoint): string[] {
  return [
    'link set lo up',
    ...addrLines(host, 24, 64),
    `link set ${host.ifname} up`,
    `route add default via ${gateway.ipv4}`,
    `route add default via ${gateway.ipv6}`,
  ];
}

async function sysctl(ns: string, settings: string[]): Promise<void> {
  await run('sysctl', ['-q', '-w', ...settings], { netns: ns });
}

/** Builds every namespace and link of the plan; returns how VIPs are held. */
export async function buildTopology(plan: LabPlan): Promise<VipKind> {
  const all = namespacesOf(plan);
  for (const ns of all) await run('ip', ['netns', 'add', ns]);
  await Promise.all(all.map((ns) => sysctl(ns, sysctlsFor(plan, ns))));
  await ipBatch(plan.router.ns, routerBatch(plan));
  // Bridge ports are layer 2 only; without this each gets an IPv6 link-local address.
  await sysctl(plan.router.ns, [...plan.nodes, plan.client].map((h) => `net.ipv6.conf.${h.port}.disable_ipv6=1`));
  await Promise.all([
    ...plan.nodes.map((n) => ipBatch(n.ns, hostBatch(n, plan.router.lan))),
    ipBatch(plan.client.ns, hostBatch(plan.client, plan.router.lan)),
    ipBatch(plan.ext.ns, hostBatch(plan.ext, plan.router.ext)),
  ]);
  const kind = await vipKind(plan.nodes[0]?.ns ?? plan.router.ns);
  await Promise.all(plan.nodes.map((n) => addVipInterface(n.ns, kind)));
  return kind;
}

/** Prefers a dummy interface like kube-proxy; some kernels are built without it. */
async function vipKind(probeNs: string): Promise<VipKind> {
  const r = await tryRun('ip', ['-n', probeNs, 'link', 'add', 'hl-probe0', 'type', 'dummy']);
  if (r.code !== 0) return 'ifb';
  await tryRun('ip', ['-n', probeNs, 'link', 'del', 'hl-probe0']);
  return 'dummy';
}

async function addVipInterface(ns: string, kind: VipKind): Promise<void> {
  // Up (IPv6 addresses need it) and NOARP (dummy and ifb both are): the kernel answers
  // neither ARP nor NS on it, and NS for its addresses arriving on eth0 are not answered
  // either, since Linux matches an NS target only against the receiving interface.
  // No link-local address either: a second fe80::/64 route would make link-local traffic
  // ambiguous.
  await ipBatch(ns, [`link add ${VIP_IF} type ${kind}`, `link set ${VIP_IF} addrgenmode none`, `link set ${VIP_IF} up`]);
}

/** The lab namespaces that exist now, from `ip netns list`. */
export async function labNamespaces(): Promise<string[]> {
  const r = await tryRun('ip', ['netns', 'list']);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(NS_PREFIX));
}

/** PIDs of every process inside a namespace. */
export async function netnsPids(ns: string): Promise<number[]> {
  const r = await tryRun('ip', ['netns', 'pids', ns]);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * Deletes namespaces; their veths and the bridge go with them. A namespace lives on
 * while a process is inside it, so callers stop processes first.
 */
export async function deleteNamespaces(names: string[]): Promise<string[]> {
  const failed: string[] = [];
  for (const ns of names) {
    const r = await tryRun('ip', ['netns', 'del', ns]);
    if (r.code !== 0 && !/No such file/.test(r.stderr)) failed.push(`${ns}: ${r.stderr.trim()}`);
  }
  return failed;
}
