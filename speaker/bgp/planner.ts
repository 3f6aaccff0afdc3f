// The BGP advertisement planner: from one speaker snapshot to the sessions this node
// holds and, per session, the whole set of prefixes it should advertise (REFERENCE.md,
// "BGP mode"). Pure: the announcer (announcer.ts) hands the result to the sessions, which
// each work out what to send (STYLE.md, declarative seams).
import { matchesAnySelector } from '../../shared/api/selector.js';
import { bgpAdvertisementsForPool, peersForNode } from '../../shared/config/model.js';
import type { BFDProfileModel, BGPAdvertisementModel, ConfigModel, PeerModel } from '../../shared/config/types.js';
import { formatIP, parseIP } from '../../shared/ip/ip.js';
import type { NodeInfo, ServiceInfo, SpeakerSnapshot } from '../snapshot.js';
import type { Advertisement } from './adj-rib-out.js';
import { mergeRoutes, serviceRoutes, SharedLists, type PlanContext, type PlanPeer, type RouteContribution, type ServicePlan, type ServiceRoutes } from './service-routes.js';
import type { SessionConfig } from './session-config.js';

export type { ServicePlan } from './service-routes.js';

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

/** A Service's routes, and what they were worked out from. */
interface Entry {
  svc: ServiceInfo;
  readonly eligible: boolean;
  readonly plan: ServicePlan | undefined;
  /** One route held as itself, more in an array: most Services make one. */
  readonly routes: RouteContribution | readonly RouteContribution[] | undefined;
}

function entry(svc: ServiceInfo, eligible: boolean, r: ServiceRoutes | undefined): Entry {
  const routes = r?.routes;
  return { svc, eligible, plan: r?.plan, routes: !routes || routes.length === 0 ? undefined : routes.length === 1 ? routes[0] : routes };
}

const sameIPs = (a: ServiceInfo['ips'], b: ServiceInfo['ips']): boolean =>
  a === b || (a.length === b.length && a.every((ip, i) => ip.family === b[i]!.family && ip.value === b[i]!.value));

/**
 * Plans every session of this node, remembering each Service's routes between calls.
 * A Service's routes depend on the Service (its IPs, and whether it is eligible here) and
 * on the plan context: the config model, this node's name, labels and whether it may
 * announce. A new context (a config change, a relabelled node) forgets every Service; a
 * changed Service is worked out again; an unchanged one is a lookup. When no Service
 * changed, the previous advertisement lists are handed out again, the same arrays, so
 * the announcer and the sessions see at once that nothing is to be sent.
 *
 * A node without its Node object holds no session (its labels, which peers select on,
 * are unknown). A node that may not announce keeps its sessions and advertises nothing,
 * as MetalLB withdraws rather than disconnects.
 */
export class BGPPlanner {
  private context: { config: ConfigModel; node: string; labels: string; mayAnnounce: boolean } | undefined;
  /** The Services of the last plan, in snapshot order (sorted by key): walked in step with the next snapshot's, no map needed. */
  private entries: readonly Entry[] = [];
  private shared = new SharedLists();
  private last: Assembled | undefined;

  plan(snapshot: SpeakerSnapshot): BGPPlan {
    const nodeName = snapshot.nodeName;
    const node = snapshot.nodes.get(nodeName);
    const config: ConfigModel = snapshot.config;
    if (!node) {
      this.forget();
      return { node: nodeName, peers: [], services: [], skipped: [] };
    }

    const skipped: { peer: string; reason: string }[] = [];
    const models: PeerModel[] = [];
    for (const p of peersForNode(config, node.labels)) {
      // Binding a session to a VRF needs SO_BINDTODEVICE on the VRF device, which the
      // native helper does not do yet: a session in the default VRF would reach the wrong
      // table, so the peer is left out rather than half-honoured.
      if (p.vrf !== '') skipped.push({ peer: p.name, reason: `VRF "${p.vrf}" is not supported by herald's BGP speaker yet` });
      else models.push(p);
    }
    const peers: PlanPeer[] = models.map((p) => ({ peer: p, config: sessionConfigFor(p, node, nodeName), internal: !certainlyExternal(p) }));

    const labels = JSON.stringify(Object.entries(node.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const c = this.context;
    if (!c || c.config !== config || c.node !== nodeName || c.labels !== labels || c.mayAnnounce !== node.mayAnnounce) {
      this.forget();
      this.context = { config, node: nodeName, labels, mayAnnounce: node.mayAnnounce };
    }
    const adsByPool = new Map<string, BGPAdvertisementModel[]>();
    const ctx: PlanContext = {
      config,
      node,
      peers,
      shared: this.shared,
      adsFor: (pool) => {
        let ads = adsByPool.get(pool);
        if (!ads) adsByPool.set(pool, (ads = bgpAdvertisementsForPool(config, pool).filter((a) => matchesAnySelector(a.nodeSelectors, node.labels))));
        return ads;
      },
    };

    const previous = this.entries;
    let changed = this.last === undefined;
    const current: Entry[] = new Array<Entry>(snapshot.services.length);
    let j = 0;
    let n = 0;
    for (const svc of snapshot.services) {
      while (j < previous.length && previous[j]!.svc.key < svc.key) j++;
      let e = j < previous.length && previous[j]!.svc.key === svc.key ? previous[j++] : undefined;
      if (e && e.svc !== svc) {
        // A new ServiceInfo with the same IPs and eligibility makes the same routes.
        if (e.eligible === serviceEligibility(svc, node).ok && sameIPs(e.svc.ips, svc.ips)) e.svc = svc;
        else e = undefined;
      }
      if (!e) {
        const eligible = serviceEligibility(svc, node).ok;
        e = entry(svc, eligible, eligible ? serviceRoutes(svc, ctx) : undefined);
        changed = true;
      }
      current[n++] = e;
    }
    // Every Service found as it was, and none gone.
    if (current.length !== previous.length) changed = true;
    this.entries = current;

    if (changed || !this.last) this.last = this.assemble(current, peers.length);
    const { advertisements, services } = this.last;
    const plans: PeerPlan[] = peers.map(({ peer, config: cfg }, i) => ({
      name: peer.name,
      config: cfg,
      ...(peer.bfdProfile ? { bfdProfile: peer.bfdProfile } : {}),
      advertisements: advertisements[i]!,
    }));
    return { node: nodeName, peers: plans, services, skipped };
  }

  private forget(): void {
    this.context = undefined;
    this.entries = [];
    this.shared = new SharedLists();
    this.last = undefined;
  }

  /** Every peer's advertisements, sorted by family, network, length, and the Services' plans, sorted by key. */
  private assemble(entries: readonly Entry[], peerCount: number): Assembled {
    const tables = Array.from({ length: peerCount }, () => new Map<string, Advertisement>());
    const services: ServicePlan[] = [];
    const add = (r: RouteContribution): void => {
      const table = tables[r.peer]!;
      const prev = table.get(r.order);
      table.set(r.order, prev ? mergeRoutes(prev, r.ad, this.shared) : r.ad);
    };
    for (const e of entries) {
      if (e.plan) services.push(e.plan);
      if (Array.isArray(e.routes)) for (const r of e.routes as readonly RouteContribution[]) add(r);
      else if (e.routes) add(e.routes as RouteContribution);
    }
    // Plain string order is the route order (service-routes.ts orderKey): no comparator call per pair.
    const advertisements = tables.map((t) => [...t.keys()].sort().map((k) => t.get(k)!));
    services.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { advertisements, services };
  }
}

interface Assembled {
  /** By index into the plan's peers. */
  readonly advertisements: readonly (readonly Advertisement[])[];
  readonly services: readonly ServicePlan[];
}

/** The plan of a snapshot, worked out from nothing (tests; the announcer keeps a BGPPlanner). */
export function planBGP(snapshot: SpeakerSnapshot): BGPPlan {
  return new BGPPlanner().plan(snapshot);
}
