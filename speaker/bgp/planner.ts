// The BGP advertisement planner: from one speaker snapshot to the sessions this node
// holds and, per session, the whole set of prefixes it should advertise (REFERENCE.md,
// "BGP mode"). Pure: the announcer (announcer.ts) hands the result to the sessions, which
// each work out what to send (STYLE.md, declarative seams).
import { matchesAnySelector } from '../../shared/api/selector.js';
import { advertisesToPeer, bgpAdvertisementsForPool, peersForNode } from '../../shared/config/model.js';
import type { BFDProfileModel, BGPAdvertisementModel, ConfigModel, PeerModel } from '../../shared/config/types.js';
import { formatIP, parseIP, prefixRange, type IP } from '../../shared/ip/ip.js';
import { poolOf, type NodeInfo, type ServiceInfo, type SpeakerSnapshot } from '../snapshot.js';
import type { Advertisement } from './adj-rib-out.js';
import type { SessionConfig } from './session-config.js';

/** One session this node should hold, and what it should advertise on it. */
export interface PeerPlan {
  /** The BGPPeer's name; sessions are keyed by it. */
  readonly name: string;
  readonly config: SessionConfig;
  /** The peer's BFD profile, when it has one (speaker/bfd ties BFD to the session). */
  readonly bfdProfile?: BFDProfileModel;
  /** Sorted by family, address, length; one entry per prefix. */
  readonly advertisements: readonly Advertisement[];
}

/** A Service this node advertises to at least one peer. */
export interface ServicePlan {
  /** `namespace/name` */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  /** Its IPs advertised from this node (canonical text, sorted). */
  readonly ips: readonly string[];
  /** BGPPeer names they are advertised to (sorted). */
  readonly peers: readonly string[];
}

export interface BGPPlan {
  readonly node: string;
  /** Sorted by name. */
  readonly peers: readonly PeerPlan[];
  /** Sorted by key; Services advertised nowhere are absent. */
  readonly services: readonly ServicePlan[];
  /** Peers matching this node that it cannot hold a session to, and why. */
  readonly skipped: readonly { readonly peer: string; readonly reason: string }[];
}

/**
 * Whether this node advertises the Service at all, or why not. Cluster: while a ready
 * endpoint exists anywhere (kube-proxy forwards to it). Local: only with a ready
 * endpoint on this node, since kube-proxy drops traffic on nodes without one.
 */
export function serviceEligibility(svc: ServiceInfo, node: NodeInfo | undefined): { ok: true } | { ok: false; reason: string } {
  if (!node) return { ok: false, reason: 'this node has no Node object' };
  if (!node.mayAnnounce) return { ok: false, reason: 'this node is excluded from load balancers or its network is unavailable' };
  if (svc.externalTrafficPolicy === 'Local') {
    return svc.endpointNodes.has(node.name) ? { ok: true } : { ok: false, reason: 'externalTrafficPolicy Local and no ready endpoint on this node' };
  }
  return svc.hasReadyEndpoints ? { ok: true } : { ok: false, reason: 'no ready endpoint' };
}

/** FNV-1a, 32 bits: a stable number from a node name. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The BGP Identifier (RFC 4271 §4.2) when the BGPPeer sets none: the node's first IPv4
 * InternalIP (what MetalLB's FRR modes use), else its first IPv4 address of any type,
 * else the peer's IPv4 source address, else a non-zero number hashed from the node name
 * (an IPv6-only node: RFC 6286 §2.1 only asks the identifier to be non-zero and unique
 * within the AS, which distinct node names make likely).
 */
export function defaultRouterID(node: NodeInfo | undefined, nodeName: string, peer: PeerModel): string {
  const v4 = (addrs: readonly { type: string; address: string }[]): string | undefined => {
    for (const a of addrs) {
      const ip = parseIP(a.address);
      if (ip && ip.family === 4 && ip.value !== 0n) return formatIP(ip);
    }
    return undefined;
  };
  const addresses = node?.addresses ?? [];
  const id = v4(addresses.filter((a) => a.type === 'InternalIP')) ?? v4(addresses);
  if (id) return id;
  if (peer.sourceAddress?.family === 4 && peer.sourceAddress.value !== 0n) return formatIP(peer.sourceAddress);
  const h = fnv1a(nodeName) || 1;
  return formatIP({ family: 4, value: BigInt(h) });
}

/** Whether the peer is certainly eBGP (LOCAL_PREF is never sent to it, RFC 4271 §5.1.5). */
function certainlyExternal(peer: PeerModel): boolean {
  if (peer.dynamicASN) return peer.dynamicASN === 'external';
  return peer.peerASN !== undefined && peer.peerASN !== peer.myASN;
}

/**
 * The session configuration for one peer. Families: both (RFC 4760 lets one session carry
 * IPv4 and IPv6 prefixes) unless disableMP, which keeps a session to its own address
 * family as MetalLB does.
 */
export function sessionConfigFor(peer: PeerModel, node: NodeInfo | undefined, nodeName: string): SessionConfig {
  return {
    name: peer.name,
    myASN: peer.myASN,
    ...(peer.peerASN !== undefined ? { peerASN: peer.peerASN } : {}),
    ...(peer.dynamicASN ? { dynamicASN: peer.dynamicASN } : {}),
    peerAddress: formatIP(peer.peerAddress),
    peerPort: peer.peerPort,
    ...(peer.sourceAddress ? { sourceAddress: formatIP(peer.sourceAddress) } : {}),
    holdTime: peer.holdTime,
    keepaliveTime: peer.keepaliveTime,
    connectTime: peer.connectTime,
    routerID: peer.routerID ?? defaultRouterID(node, nodeName, peer),
    ...(peer.password ? { password: peer.password } : {}),
    ebgpMultiHop: peer.ebgpMultiHop,
    enableGracefulRestart: peer.enableGracefulRestart,
    families: peer.disableMP ? [peer.peerAddress.family] : [4, 6],
  };
}

interface Building {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly length: number;
  localPref?: number;
  readonly communities: Set<number>;
  readonly large: Map<string, readonly [number, number, number]>;
}

/** Canonical network text, memoized: formatting is the planner's dearest step with 10,000 IPs. */
class NetworkText {
  private readonly memo = new Map<string, string>();
  get(family: 4 | 6, value: bigint): string {
    const k = `${family}:${value}`;
    let t = this.memo.get(k);
    if (t === undefined) {
      t = formatIP({ family, value });
      this.memo.set(k, t);
    }
    return t;
  }
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Plans every session of this node. A node without its Node object holds no session (its
 * labels, which peers select on, are unknown). A node that may not announce keeps its
 * sessions and advertises nothing, as MetalLB withdraws rather than disconnects.
 */
export function planBGP(snapshot: SpeakerSnapshot): BGPPlan {
  const nodeName = snapshot.nodeName;
  const node = snapshot.nodes.get(nodeName);
  const config: ConfigModel = snapshot.config;
  if (!node) return { node: nodeName, peers: [], services: [], skipped: [] };

  const skipped: { peer: string; reason: string }[] = [];
  const peers: PeerModel[] = [];
  for (const p of peersForNode(config, node.labels)) {
    // Binding a session to a VRF needs SO_BINDTODEVICE on the VRF device, which the
    // native helper does not do yet: a session in the default VRF would reach the wrong
    // table, so the peer is left out rather than half-honoured.
    if (p.vrf !== '') skipped.push({ peer: p.name, reason: `VRF "${p.vrf}" is not supported by herald's BGP speaker yet` });
    else peers.push(p);
  }
  const configs = peers.map((p) => ({ peer: p, config: sessionConfigFor(p, node, nodeName) }));
  const routes = new Map<string, Map<string, Building>>(peers.map((p) => [p.name, new Map()]));
  const services: ServicePlan[] = [];
  const text = new NetworkText();

  const nodeAds = (ads: readonly BGPAdvertisementModel[]): BGPAdvertisementModel[] => ads.filter((a) => matchesAnySelector(a.nodeSelectors, node.labels));
  const adsByPool = new Map<string, BGPAdvertisementModel[]>();

  for (const svc of snapshot.services) {
    if (!serviceEligibility(svc, node).ok) continue;
    const svcPeers = new Set<string>();
    const svcIPs = new Set<string>();
    for (const ip of svc.ips) {
      const pool = poolOf(config, ip);
      if (!pool) continue;
      let ads = adsByPool.get(pool.name);
      if (!ads) {
        ads = nodeAds(bgpAdvertisementsForPool(config, pool.name));
        adsByPool.set(pool.name, ads);
      }
      for (const ad of ads) {
        for (const { peer, config: cfg } of configs) {
          if (!advertisesToPeer(ad, peer.name) || !cfg.families.includes(ip.family)) continue;
          addRoute(routes.get(peer.name)!, ip, ad, !certainlyExternal(peer));
          svcPeers.add(peer.name);
          svcIPs.add(formatIP(ip));
        }
      }
    }
    if (svcPeers.size > 0) {
      services.push({ key: svc.key, namespace: svc.namespace, name: svc.name, ips: [...svcIPs].sort(), peers: [...svcPeers].sort() });
    }
  }

  const plans: PeerPlan[] = configs.map(({ peer, config: cfg }) => {
    const built = [...routes.get(peer.name)!.values()].sort(
      (a, b) => a.family - b.family || compareBig(a.network, b.network) || a.length - b.length,
    );
    const advertisements: Advertisement[] = built.map((r) => ({
      family: r.family,
      prefix: text.get(r.family, r.network),
      length: r.length,
      ...(r.localPref !== undefined ? { localPref: r.localPref } : {}),
      communities: [...r.communities].sort((x, y) => x - y),
      largeCommunities: [...r.large.values()].sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]),
    }));
    return { name: peer.name, config: cfg, ...(peer.bfdProfile ? { bfdProfile: peer.bfdProfile } : {}), advertisements };
  });
  services.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { node: nodeName, peers: plans, services, skipped };
}

/**
 * Adds the IP's prefix under one advertisement. Several advertisements (or several IPs
 * aggregated into one prefix) yield one route: communities are the union. The config
 * model leaves at most one localPref per prefix, peer and node (assignPools in
 * shared/config/advertisements.ts); should two differ anyway, the first set one wins
 * (advertisements come sorted by name), so the outcome stays deterministic.
 */
function addRoute(table: Map<string, Building>, ip: IP, ad: BGPAdvertisementModel, internal: boolean): void {
  const length = ip.family === 4 ? ad.aggregationLength : ad.aggregationLengthV6;
  const network = prefixRange(ip, length).first;
  const key = `${ip.family}/${network}/${length}`;
  let r = table.get(key);
  if (!r) {
    r = { family: ip.family, network, length, communities: new Set(), large: new Map() };
    table.set(key, r);
  }
  if (internal && ad.localPref !== undefined && r.localPref === undefined) r.localPref = ad.localPref;
  for (const c of ad.communities.standard) r.communities.add(c);
  for (const c of ad.communities.large) r.large.set(`${c[0]}:${c[1]}:${c[2]}`, c);
}
