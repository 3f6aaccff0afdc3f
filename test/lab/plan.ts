// The lab's address plan (DESIGN.md, "The lab"): namespace names, interfaces, addresses
// and ASNs. Tests, benchmarks and users rely on these names, so they live in one place.
// Every address comes from the documentation ranges (RFC 5737, RFC 3849).

export const NS_PREFIX = 'hl-';
export const ROUTER_NS = 'hl-router';
export const CLIENT_NS = 'hl-client';
export const EXT_NS = 'hl-ext';
export const NODE_NS_PREFIX = 'hl-node';

export const ROUTER_ASN = 64500;
export const NODE_ASN = 64512;

export const LAN_V4 = '192.0.2.0/24';
export const LAN_V6 = '2001:db8:0:2::/64';
export const EXT_V4 = '198.51.100.0/24';
export const EXT_V6 = '2001:db8:0:3::/64';

/** Default pools (DESIGN.md): L2 inside the LAN, BGP outside it. */
export const POOLS = {
  l2v4: '192.0.2.200-192.0.2.250',
  l2v6: '2001:db8:0:2::200-2001:db8:0:2::2ff',
  bgpv4: '203.0.113.0/24',
  bgpv6: '2001:db8:ff::/120',
} as const;

/** The bridge in hl-router that is the LAN segment. */
export const LAN_BRIDGE = 'br0';
/** hl-router's side of the link to hl-ext. */
export const EXT_LINK = 'ext0';
/** The interface name in every host namespace (nodes, client, ext). */
export const HOST_IF = 'eth0';
/** Where service IPs are held in a node, as kube-proxy's IPVS mode does. */
export const VIP_IF = 'kube-ipvs0';

/** Node numbers stop before the client's .100. */
export const MAX_NODES = 50;

export interface Endpoint {
  ns: string;
  ifname: string;
  ipv4: string;
  ipv6: string;
  mac: string;
}

export interface LanHost extends Endpoint {
  /** The host's port on the LAN bridge, in hl-router. */
  port: string;
}

export interface LabNode extends LanHost {
  /** The Node object's name; the same as the namespace. */
  name: string;
  index: number;
}

export interface LabPlan {
  router: { ns: string; lan: Endpoint; ext: Endpoint };
  nodes: LabNode[];
  client: LanHost;
  ext: Endpoint;
}

/** Locally administered MACs that name the host: 02:68:6c ("hl"), then subnet and host. */
function mac(subnet: number, host: number): string {
  const h = (n: number): string => n.toString(16).padStart(2, '0');
  return `02:68:6c:00:${h(subnet)}:${h(host)}`;
}

export function nodeName(i: number): string {
  return `${NODE_NS_PREFIX}${i}`;
}

export function labPlan(nodeCount: number): LabPlan {
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > MAX_NODES) {
    throw new RangeError(`nodes must be an integer from 1 to ${MAX_NODES}, not ${nodeCount}`);
  }
  const nodes: LabNode[] = [];
  for (let i = 1; i <= nodeCount; i++) {
    const host = 10 + i;
    nodes.push({
      name: nodeName(i),
      index: i,
      ns: nodeName(i),
      ifname: HOST_IF,
      port: `lan-node${i}`,
      ipv4: `192.0.2.${host}`,
      // DESIGN.md writes the node addresses as ::11, ::12 …: the same digits as IPv4.
      ipv6: `2001:db8:0:2::${host}`,
      mac: mac(2, host),
    });
  }
  return {
    router: {
      ns: ROUTER_NS,
      lan: { ns: ROUTER_NS, ifname: LAN_BRIDGE, ipv4: '192.0.2.1', ipv6: '2001:db8:0:2::1', mac: mac(2, 1) },
      ext: { ns: ROUTER_NS, ifname: EXT_LINK, ipv4: '198.51.100.1', ipv6: '2001:db8:0:3::1', mac: mac(3, 1) },
    },
    nodes,
    client: { ns: CLIENT_NS, ifname: HOST_IF, port: 'lan-client', ipv4: '192.0.2.100', ipv6: '2001:db8:0:2::100', mac: mac(2, 100) },
    ext: { ns: EXT_NS, ifname: HOST_IF, ipv4: '198.51.100.2', ipv6: '2001:db8:0:3::2', mac: mac(3, 2) },
  };
}

/** Every namespace of the plan, router first (it holds the bridge the others hang on). */
export function namespacesOf(plan: LabPlan): string[] {
  return [plan.router.ns, ...plan.nodes.map((n) => n.ns), plan.client.ns, plan.ext.ns];
}

/** Which lab host owns a MAC address, for `lab status`' "who answers ARP". */
export function hostByMac(plan: LabPlan, macAddr: string): string | undefined {
  const m = macAddr.toLowerCase();
  const all: Endpoint[] = [plan.router.lan, plan.router.ext, ...plan.nodes, plan.client, plan.ext];
  return all.find((e) => e.mac === m)?.ns;
}
