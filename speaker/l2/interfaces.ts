// Which interfaces the L2 responder answers on. Pure: the adapter reads the interface facts
// (speaker/native listInterfaces, plus which interfaces carry an address) and passes them in.
//
// With an L2Advertisement naming interfaces, exactly those (MetalLB's `interfaces`, from
// its design "Configuring announcing interfaces", #277). Otherwise every interface that
// is a node's own link to the LAN, skipping by default:
// - loopback and non-Ethernet links (ARP/NDP over Ethernet only), and NOARP links
//   (kube-ipvs0, dummy, tunnels): nobody resolves addresses there;
// - bridge ports and bond members: the bridge or bond answers with its own MAC, and an
//   answer from a port would teach the LAN a MAC that the bridge may not forward for
//   (MetalLB answered on every slave: its interfaces design, "complex interfaces");
// - veth links without an address: the host ends of pod veths. A veth that carries an
//   address is the node's uplink itself (kind nodes, containers, network-namespace labs);
// - CNI and container-runtime interfaces by name (DEFAULT_EXCLUDED_INTERFACES), whatever
//   their driver: pods and overlays live behind them, never the clients of a service IP.
import type { InterfaceInfo } from '../native/interfaces.js';

/** ARPHRD_ETHER (include/uapi/linux/if_arp.h). */
const ARPHRD_ETHER = 1;

/**
 * Interface names skipped unless an L2Advertisement names them: glob patterns (`*` at the
 * end matches any suffix). CNI plugins, overlays, IPVS and container runtimes.
 */
export const DEFAULT_EXCLUDED_INTERFACES: readonly string[] = [
  'lo',
  'cni*', // bridge plugin (flannel, kubenet)
  'flannel*', // flannel.1 VXLAN
  'cali*', // Calico pod veths
  'vxlan*', // Calico vxlan.calico, Cilium
  'cilium_*', // cilium_host, cilium_net, cilium_vxlan
  'lxc*', // Cilium pod veths
  'genev_sys_*', // Geneve (OVN, Cilium)
  'kube-ipvs*', // kube-proxy IPVS (NOARP already)
  'kube-bridge', // kube-router
  'nodelocaldns',
  'docker*',
  'podman*',
  'tunl*', // Calico IP-in-IP
  'weave',
  'vethwe*', // Weave Net
  'datapath', // Weave Net
  'ovs-system',
  'antrea-*',
  'virbr*', // libvirt
  'veth*',
];

export type SkipReason =
  /** An L2Advertisement names interfaces, and not this one. */
  | 'notNamed'
  | 'loopback'
  /** Not Ethernet (ARPHRD_ETHER), or no MAC address. */
  | 'notEthernet'
  | 'noArp'
  | 'bridgePort'
  | 'bondMember'
  /** A veth without an address: the host end of a pod's veth. */
  | 'podVeth'
  /** Matches the excluded names (DEFAULT_EXCLUDED_INTERFACES or the speaker's option). */
  | 'excludedName';

export type InterfaceDecision =
  | { readonly name: string; readonly index: number; readonly eligible: true; readonly mac: string; readonly reason: 'named' | 'default' }
  | { readonly name: string; readonly index: number; readonly eligible: false; readonly reason: SkipReason };

export type EligibleInterface = Extract<InterfaceDecision, { eligible: true }>;

/** The facts this filter reads (a subset of speaker/native InterfaceInfo). */
export type InterfaceFacts = Pick<
  InterfaceInfo,
  'index' | 'name' | 'mac' | 'linkType' | 'loopback' | 'noArp' | 'bridgePort' | 'bondMember' | 'veth'
>;

export interface InterfacePolicy {
  /** Names skipped by default (globs); default DEFAULT_EXCLUDED_INTERFACES. */
  readonly exclude?: readonly string[];
  /** Names of interfaces that carry an IPv4 or a non-link-local IPv6 address. */
  readonly addressed?: ReadonlySet<string>;
}

/** A glob with `*` as "any run of characters" (interface names never contain `*`). */
export function globMatch(pattern: string, name: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === name;
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (!name.startsWith(first) || name.length < first.length + last.length || !name.endsWith(last)) return false;
  let at = first.length;
  for (const mid of parts.slice(1, -1)) {
    const found = name.indexOf(mid, at);
    if (found < 0 || found + mid.length > name.length - last.length) return false;
    at = found + mid.length;
  }
  return true;
}

function structural(i: InterfaceFacts): SkipReason | undefined {
  if (i.loopback) return 'loopback';
  if (i.linkType !== ARPHRD_ETHER || i.mac === undefined) return 'notEthernet';
  if (i.noArp) return 'noArp';
  return undefined;
}

/**
 * One decision per interface, in the input's order. `named` is the union of the
 * `interfaces` of the L2Advertisements that apply (empty: the default rules). Named
 * interfaces still must be Ethernet links that do ARP; the name and kind exclusions do
 * not apply to them (naming one is the user's explicit choice). An interface that is
 * down stays eligible: its packet socket survives down/up, and answers resume the moment
 * the link does.
 */
export function eligibleInterfaces(
  infos: readonly InterfaceFacts[],
  named: readonly string[],
  policy: InterfacePolicy = {},
): InterfaceDecision[] {
  const exclude = policy.exclude ?? DEFAULT_EXCLUDED_INTERFACES;
  const wanted = new Set(named);
  return infos.map((i): InterfaceDecision => {
    const skip = (reason: SkipReason): InterfaceDecision => ({ name: i.name, index: i.index, eligible: false, reason });
    if (wanted.size > 0 && !wanted.has(i.name)) return skip('notNamed');
    const bad = structural(i);
    if (bad) return skip(bad);
    const mac = i.mac as string;
    if (wanted.size > 0) return { name: i.name, index: i.index, eligible: true, mac, reason: 'named' };
    if (i.bridgePort) return skip('bridgePort');
    if (i.bondMember) return skip('bondMember');
    if (i.veth && !(policy.addressed?.has(i.name) ?? false)) return skip('podVeth');
    // A veth with an address is the node's uplink even when its name matches (veth*).
    if (!i.veth && exclude.some((p) => globMatch(p, i.name))) return skip('excludedName');
    return { name: i.name, index: i.index, eligible: true, mac, reason: 'default' };
  });
}

/** The eligible ones only. */
export function eligibleOnly(decisions: readonly InterfaceDecision[]): EligibleInterface[] {
  return decisions.filter((d): d is EligibleInterface => d.eligible);
}

/**
 * Interface names that carry an IPv4 or a non-link-local IPv6 address, from
 * os.networkInterfaces()' shape.
 */
export function addressedInterfaces(
  byName: Readonly<Record<string, readonly { family: string | number; address: string; internal?: boolean }[] | undefined>>,
): Set<string> {
  const out = new Set<string>();
  for (const [name, addrs] of Object.entries(byName)) {
    for (const a of addrs ?? []) {
      const v6 = a.family === 'IPv6' || a.family === 6;
      if (v6 && /^fe[89ab]/i.test(a.address)) continue;
      out.add(name);
      break;
    }
  }
  return out;
}
