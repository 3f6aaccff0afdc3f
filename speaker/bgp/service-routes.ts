// What one Service contributes to this node's BGP plan: per peer, the routes its IPs make
// under the BGPAdvertisements that match them (aggregation length, localPref, communities),
// and its ServicePlan. Pure. The planner (planner.ts) keeps these per Service and works
// one out again only when that Service's inputs change, so a rebuild with 10,000
// Services costs little more than a map lookup for each unchanged one.
import { advertisesToPeer } from '../../shared/config/model.js';
import type { BGPAdvertisementModel, ConfigModel, PeerModel } from '../../shared/config/types.js';
import { formatIP, prefixRange, type IP } from '../../shared/ip/ip.js';
import { poolOf, type NodeInfo, type ServiceInfo } from '../snapshot.js';
import type { Advertisement } from './adj-rib-out.js';
import type { SessionConfig } from './session-config.js';

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

/** A session of this node, as the Services' routes see it. */
export interface PlanPeer {
  readonly peer: PeerModel;
  readonly config: SessionConfig;
  /** LOCAL_PREF is sent unless the peer is certainly external (RFC 4271 §5.1.5). */
  readonly internal: boolean;
}

/** Everything a Service's routes depend on besides the Service itself: one per plan. */
export interface PlanContext {
  readonly config: ConfigModel;
  readonly node: NodeInfo;
  readonly peers: readonly PlanPeer[];
  /** The BGPAdvertisements of a pool that select this node. */
  adsFor(pool: string): readonly BGPAdvertisementModel[];
  readonly shared: SharedLists;
}

/** One route of a Service to one peer. */
export interface RouteContribution {
  /** Index into PlanContext.peers. */
  readonly peer: number;
  /** Sorts routes by family, network, length as plain strings do; unique per route. */
  readonly order: string;
  readonly ad: Advertisement;
}

export interface ServiceRoutes {
  /** Absent when the Service is advertised to no peer from this node. */
  readonly plan?: ServicePlan;
  readonly routes: readonly RouteContribution[];
}

type Large = readonly [number, number, number];

/**
 * One array per distinct list (communities, large communities, peer names): 10,000
 * routes with the same communities share one, which also lets the Adj-RIB-Out see at a
 * glance that their attributes are equal.
 */
export class SharedLists {
  private readonly numbers = new Map<string, readonly number[]>();
  private readonly large = new Map<string, readonly Large[]>();
  private readonly names = new Map<string, readonly string[]>();
  private readonly byAdvertisement = new Map<BGPAdvertisementModel, { communities: readonly number[]; large: readonly Large[] }>();

  communities(values: Iterable<number>): readonly number[] {
    const list = [...new Set(values)].sort((a, b) => a - b);
    const k = list.join(',');
    return this.numbers.get(k) ?? (this.numbers.set(k, list), list);
  }

  largeCommunities(values: Iterable<Large>): readonly Large[] {
    const byText = new Map<string, Large>();
    for (const c of values) byText.set(`${c[0]}:${c[1]}:${c[2]}`, c);
    const list = [...byText.values()].sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
    const k = list.map((c) => c.join(':')).join(',');
    return this.large.get(k) ?? (this.large.set(k, list), list);
  }

  /** The lists of one advertisement, worked out once: most routes come from a single one. */
  ofAdvertisement(ad: BGPAdvertisementModel): { communities: readonly number[]; large: readonly Large[] } {
    let hit = this.byAdvertisement.get(ad);
    if (!hit) this.byAdvertisement.set(ad, (hit = { communities: this.communities(ad.communities.standard), large: this.largeCommunities(ad.communities.large) }));
    return hit;
  }

  peerNames(names: readonly string[]): readonly string[] {
    const k = names.length === 1 ? names[0]! : [...new Set(names)].sort().join('\n');
    let list = this.names.get(k);
    if (!list) this.names.set(k, (list = names.length === 1 ? [k] : k.split('\n')));
    return list;
  }
}

/** `order` of a route: family, network octets, length, one character each. */
function orderKey(family: 4 | 6, network: bigint, length: number): string {
  if (family === 4) {
    const v = Number(network);
    return String.fromCharCode(4, v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255, length);
  }
  const codes: number[] = [6];
  for (let shift = 96n; shift >= 0n; shift -= 32n) {
    const v = Number((network >> shift) & 0xffffffffn);
    codes.push(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  }
  codes.push(length);
  return String.fromCharCode(...codes);
}

interface Building {
  readonly peer: number;
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly length: number;
  readonly order: string;
  readonly internal: boolean;
  /** The advertisements that make this route, in order. */
  readonly ads: BGPAdvertisementModel[];
}

/**
 * The routes of one Service, given that it is eligible on this node (planner.ts
 * serviceEligibility). Several advertisements (or several of its IPs aggregated into one
 * prefix) yield one route: communities are the union. The config model leaves at most
 * one localPref per prefix, peer and node (assignPools in shared/config/advertisements.ts);
 * should two differ anyway, the first set one wins (advertisements come sorted by name),
 * so the outcome stays deterministic. Written to allocate little beyond what it returns:
 * it runs for each of 10,000 Services when a speaker starts.
 */
export function serviceRoutes(svc: ServiceInfo, ctx: PlanContext): ServiceRoutes {
  const building: Building[] = [];
  const peers: string[] = [];
  const ips: IP[] = [];
  for (const ip of svc.ips) {
    const pool = poolOf(ctx.config, ip);
    if (!pool) continue;
    for (const ad of ctx.adsFor(pool.name)) {
      for (let i = 0; i < ctx.peers.length; i++) {
        const { peer, config, internal } = ctx.peers[i]!;
        if (!advertisesToPeer(ad, peer.name) || !config.families.includes(ip.family)) continue;
        const length = ip.family === 4 ? ad.aggregationLength : ad.aggregationLengthV6;
        const network = prefixRange(ip, length).first;
        const r = building.find((b) => b.peer === i && b.family === ip.family && b.network === network && b.length === length);
        if (r) r.ads.push(ad);
        else building.push({ peer: i, family: ip.family, network, length, order: orderKey(ip.family, network, length), internal, ads: [ad] });
        if (!peers.includes(peer.name)) peers.push(peer.name);
        if (!ips.includes(ip)) ips.push(ip);
      }
    }
  }
  if (building.length === 0) return { routes: [] };
  const texts = ips.map((ip) => formatIP(ip));
  const routes: RouteContribution[] = [];
  for (const r of building) {
    // A host route's text is its IP's, already made.
    const at = ips.findIndex((ip) => ip.family === r.family && ip.value === r.network);
    const prefix = at >= 0 ? texts[at]! : formatIP({ family: r.family, value: r.network });
    const first = r.ads[0]!;
    let localPref: number | undefined;
    if (r.internal) for (const ad of r.ads) localPref ??= ad.localPref;
    let communities: readonly number[];
    let large: readonly Large[];
    if (r.ads.length === 1) ({ communities, large } = ctx.shared.ofAdvertisement(first));
    else {
      communities = ctx.shared.communities(r.ads.flatMap((ad) => ad.communities.standard));
      large = ctx.shared.largeCommunities(r.ads.flatMap((ad) => ad.communities.large));
    }
    const ad: Advertisement = localPref !== undefined
      ? { family: r.family, prefix, length: r.length, localPref, communities, largeCommunities: large }
      : { family: r.family, prefix, length: r.length, communities, largeCommunities: large };
    routes.push({ peer: r.peer, order: r.order, ad });
  }
  const plan: ServicePlan = {
    key: svc.key,
    namespace: svc.namespace,
    name: svc.name,
    ips: texts.length === 1 ? texts : [...new Set(texts)].sort(),
    peers: ctx.shared.peerNames(peers),
  };
  return { plan, routes };
}

/** One route that several Services make (aggregation): communities joined, the first localPref kept. */
export function mergeRoutes(first: Advertisement, next: Advertisement, shared: SharedLists): Advertisement {
  const localPref = first.localPref ?? next.localPref;
  return {
    family: first.family,
    prefix: first.prefix,
    length: first.length,
    ...(localPref !== undefined ? { localPref } : {}),
    communities: shared.communities([...first.communities, ...next.communities]),
    largeCommunities: shared.largeCommunities([...first.largeCommunities, ...next.largeCommunities]),
  };
}
