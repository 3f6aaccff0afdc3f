// Adj-RIB-Out (RFC 4271 §3.2): what a session has told its peer, and what it should tell
// it. The session hands over the whole wanted set each time; sync() returns only the
// difference as UPDATEs: withdrawals, then new or changed routes, with routes sharing
// one set of attributes packed together (update-builder.ts). Pure: no socket, no clock.
import { familyBits, parseIP, type Family } from '../../shared/ip/ip.js';
import type { CodecContext } from './context.js';
import { prefixFromIP, type Prefix } from './prefix.js';
import { buildAnnouncements, buildWithdrawals, type RouteAttributes } from './update-builder.js';
import type { UpdateMessage } from './update.js';

/** One prefix to announce, with its attributes (BGPAdvertisement after aggregation). */
export interface Advertisement {
  readonly family: 4 | 6;
  /** Canonical network address text (host bits zero). */
  readonly prefix: string;
  readonly length: number;
  /** Sent on iBGP only. */
  readonly localPref?: number;
  /** RFC 1997, as 32-bit numbers (high 16 bits the AS). */
  readonly communities: readonly number[];
  /** RFC 8092: global administrator, local data 1, local data 2. */
  readonly largeCommunities: readonly (readonly [number, number, number])[];
}

/**
 * RFC 4271 §5.1.5: LOCAL_PREF goes in every UPDATE to an internal peer. When the
 * advertisement sets none, herald sends 100, the default of FRR, BIRD and GoBGP (and so
 * of MetalLB's FRR modes); MetalLB's native speaker sent 0, making its routes the least
 * preferred of all.
 */
export const DEFAULT_LOCAL_PREF = 100;

/** What the session negotiated that decides how routes are sent. */
export interface PeerContext {
  /** iBGP: empty AS_PATH and LOCAL_PREF; eBGP: our AS in AS_PATH, no LOCAL_PREF. */
  readonly internal: boolean;
  readonly localASN: number;
  /** Families both sides negotiated. */
  readonly families: readonly Family[];
  /** NEXT_HOP for IPv4 routes; IPv4 routes stay unsent without one. */
  readonly nextHop?: string;
  /** MP_REACH_NLRI next hop for IPv6 routes; IPv6 routes stay unsent without one. */
  readonly nextHopV6?: string;
  readonly codec: CodecContext;
}

interface Route {
  readonly prefix: Prefix;
  readonly localPref?: number;
  /** Sorted, no duplicates. */
  readonly communities: readonly number[];
  readonly largeCommunities: readonly (readonly [number, number, number])[];
}

const isU32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

function prefixKey(p: Prefix): string {
  return `${p.prefix}/${p.length}`;
}

function compareLarge(a: readonly number[], b: readonly number[]): number {
  return (a[0]! - b[0]!) || (a[1]! - b[1]!) || (a[2]! - b[2]!);
}

function uniqueLarge(list: readonly (readonly [number, number, number])[]): [number, number, number][] {
  const sorted = [...list].map((c) => [c[0], c[1], c[2]] as [number, number, number]).sort(compareLarge);
  return sorted.filter((c, i) => i === 0 || compareLarge(c, sorted[i - 1]!) !== 0);
}

/** An advertisement as a route, or why it cannot be one. */
function toRoute(ad: Advertisement): Route | string {
  const ip = parseIP(ad.prefix);
  if (!ip || ip.family !== ad.family) return `"${ad.prefix}" is not an IPv${ad.family} address`;
  if (!Number.isInteger(ad.length) || ad.length < 0 || ad.length > familyBits(ad.family)) return `prefix length ${ad.length} for IPv${ad.family}`;
  if (ad.localPref !== undefined && !isU32(ad.localPref)) return `localPref ${ad.localPref}`;
  const badCommunity = ad.communities.find((c) => !isU32(c));
  if (badCommunity !== undefined) return `community ${badCommunity}`;
  if (ad.largeCommunities.some((c) => c.length !== 3 || !c.every(isU32))) return 'large community out of range';
  // Host bits are dropped as on the wire (RFC 4271 §4.3), so the key is the network.
  // prefixFromIP also remembers the parsed value, so encoding does not parse it again.
  return {
    prefix: prefixFromIP(ip, ad.length),
    ...(ad.localPref !== undefined ? { localPref: ad.localPref } : {}),
    communities: [...new Set(ad.communities)].sort((a, b) => a - b),
    largeCommunities: uniqueLarge(ad.largeCommunities),
  };
}

/**
 * Two advertisements of one prefix (two BGPAdvertisements matching one IP) become one
 * route carrying both sets of communities. The config model refuses conflicting
 * localPref for one prefix; should two still arrive, the higher one wins, so the result
 * does not depend on their order.
 */
function merge(a: Route, b: Route): Route {
  const localPref = a.localPref === undefined ? b.localPref : b.localPref === undefined ? a.localPref : Math.max(a.localPref, b.localPref);
  return {
    prefix: a.prefix,
    ...(localPref !== undefined ? { localPref } : {}),
    communities: [...new Set([...a.communities, ...b.communities])].sort((x, y) => x - y),
    largeCommunities: uniqueLarge([...a.largeCommunities, ...b.largeCommunities]),
  };
}

/** The attributes a route is sent with on this session; equal keys mean identical UPDATE attributes. */
function attributeKey(r: Route, peer: PeerContext): string {
  const lp = peer.internal ? String(r.localPref ?? DEFAULT_LOCAL_PREF) : '';
  return `${lp}|${r.communities.join(',')}|${r.largeCommunities.map((c) => c.join(':')).join(',')}`;
}

function attributesFor(r: Route, peer: PeerContext): RouteAttributes {
  return {
    origin: 'igp',
    asPath: peer.internal ? [] : [peer.localASN],
    ...(peer.nextHop ? { nextHop: peer.nextHop } : {}),
    ...(peer.nextHopV6 ? { nextHopV6: peer.nextHopV6 } : {}),
    ...(peer.internal ? { localPref: r.localPref ?? DEFAULT_LOCAL_PREF } : {}),
    communities: r.communities,
    largeCommunities: r.largeCommunities,
  };
}

/** Whether the session can carry the route at all: family negotiated, next hop known. */
function sendable(p: Prefix, peer: PeerContext): boolean {
  if (!peer.families.includes(p.family)) return false;
  return p.family === 4 ? peer.nextHop !== undefined : peer.nextHopV6 !== undefined;
}

export class AdjRibOut {
  private wanted = new Map<string, Route>();
  /** Prefix key -> the route and the attribute key it was last announced with. */
  private readonly sent = new Map<string, { route: Route; key: string }>();

  /** Replaces the wanted set. Returns why any advertisement was refused (a caller's bug). */
  setWanted(ads: readonly Advertisement[]): string[] {
    const wanted = new Map<string, Route>();
    const refused: string[] = [];
    for (const ad of ads) {
      const r = toRoute(ad);
      if (typeof r === 'string') {
        refused.push(r);
        continue;
      }
      const k = prefixKey(r.prefix);
      const prev = wanted.get(k);
      wanted.set(k, prev ? merge(prev, r) : r);
    }
    this.wanted = wanted;
    return refused;
  }

  /** The session went down: the peer has forgotten everything (or keeps it only as stale, RFC 4724). */
  reset(): void {
    this.sent.clear();
  }

  /** Prefixes the peer has from us now. */
  get sentCount(): number {
    return this.sent.size;
  }

  get wantedCount(): number {
    return this.wanted.size;
  }

  /** Wanted prefixes the peer does not have as wanted, plus sent ones it should no longer have. */
  pendingCount(peer?: PeerContext): number {
    if (!peer) return this.wanted.size;
    let n = 0;
    for (const [k, r] of this.wanted) if (this.sent.get(k)?.key !== attributeKey(r, peer)) n++;
    for (const k of this.sent.keys()) if (!this.wanted.has(k)) n++;
    return n;
  }

  /** Wanted prefixes this session cannot carry (family not negotiated, no next hop of that family). */
  unsendable(peer: PeerContext): Prefix[] {
    return [...this.wanted.values()].filter((r) => !sendable(r.prefix, peer)).map((r) => r.prefix);
  }

  /**
   * The UPDATEs that bring the peer from what was sent to what is wanted; records them
   * as sent. Withdrawals come first, so a prefix never briefly has both states.
   */
  sync(peer: PeerContext): UpdateMessage[] {
    const withdraw: Prefix[] = [];
    for (const [k, s] of this.sent) {
      const w = this.wanted.get(k);
      if (!w || !sendable(w.prefix, peer)) {
        withdraw.push(s.route.prefix);
        this.sent.delete(k);
      }
    }
    const groups = new Map<string, { route: Route; prefixes: Prefix[] }>();
    for (const [k, r] of this.wanted) {
      if (!sendable(r.prefix, peer)) continue;
      const key = attributeKey(r, peer);
      if (this.sent.get(k)?.key === key) continue;
      const g = groups.get(key);
      if (g) g.prefixes.push(r.prefix);
      else groups.set(key, { route: r, prefixes: [r.prefix] });
      this.sent.set(k, { route: r, key });
    }
    const out = withdraw.length > 0 ? buildWithdrawals(withdraw, peer.codec) : [];
    const keys = [...groups.keys()].sort();
    for (const key of keys) {
      const g = groups.get(key)!;
      out.push(...buildAnnouncements(g.prefixes, attributesFor(g.route, peer), peer.codec));
    }
    return out;
  }

  /** RFC 2918 §4: the whole Adj-RIB-Out of one family again (after any pending change). */
  refresh(family: Family, peer: PeerContext): UpdateMessage[] {
    const pending = this.sync(peer);
    for (const [k, s] of this.sent) if (s.route.prefix.family === family) this.sent.delete(k);
    return [...pending, ...this.sync(peer)];
  }
}
