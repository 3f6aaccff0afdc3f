// Adj-RIB-Out (RFC 4271 §3.2): what a session has told its peer, and what it should tell
// it. The session hands over the whole wanted set each time; sync() returns only the
// difference as UPDATEs: withdrawals, then new or changed routes, with routes sharing
// one set of attributes packed together (update-builder.ts). Pure: no socket, no clock.
//
// Compact, because a speaker holds 10,000 routes per session: a route is its NLRI key (a
// short string of its wire octets, prefix.ts) mapped to a shared attribute set, so the
// wanted and sent tables are two maps of shared objects, and sending needs no address
// parsed or formatted.
import type { Family } from '../../shared/ip/ip.js';
import type { CodecContext } from './context.js';
import { NlriPrefix, nlriOf, type Nlri, type Prefix } from './prefix.js';
import type { RouteAttributes } from './update-builder.js';
import { packAnnouncements, packWithdrawals } from './update-packer.js';

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

type Large = readonly (readonly [number, number, number])[];

/** One set of route attributes, shared by every route that has it. */
interface Attributes {
  readonly localPref?: number;
  /** Sorted, no duplicates. */
  readonly communities: readonly number[];
  /** Sorted, no duplicates. */
  readonly largeCommunities: Large;
  /** What goes on the wire to an internal peer: equal keys, identical UPDATE attributes. */
  readonly internalKey: string;
  /** The same to an external peer (no LOCAL_PREF). */
  readonly externalKey: string;
}

const isU32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

function compareLarge(a: readonly number[], b: readonly number[]): number {
  return (a[0]! - b[0]!) || (a[1]! - b[1]!) || (a[2]! - b[2]!);
}

function uniqueLarge(list: Large): [number, number, number][] {
  const sorted = [...list].map((c) => [c[0], c[1], c[2]] as [number, number, number]).sort(compareLarge);
  return sorted.filter((c, i) => i === 0 || compareLarge(c, sorted[i - 1]!) !== 0);
}

const uniqueSorted = (xs: readonly number[]): number[] => [...new Set(xs)].sort((a, b) => a - b);

/** Why an advertisement's attributes cannot be sent, if they cannot. */
function badAttributes(ad: Advertisement): string | undefined {
  if (ad.localPref !== undefined && !isU32(ad.localPref)) return `localPref ${ad.localPref}`;
  const badCommunity = ad.communities.find((c) => !isU32(c));
  if (badCommunity !== undefined) return `community ${badCommunity}`;
  if (ad.largeCommunities.some((c) => c.length !== 3 || !c.every(isU32))) return 'large community out of range';
  return undefined;
}

/** Attribute sets by their full text: one object per distinct set, kept across setWanted calls. */
class AttributePool {
  private pool = new Map<string, Attributes>();
  private next = new Map<string, Attributes>();

  get(localPref: number | undefined, communities: readonly number[], large: Large): Attributes {
    const c = uniqueSorted(communities);
    const l = uniqueLarge(large);
    const tail = `${c.join(',')}|${l.map((x) => x.join(':')).join(',')}`;
    const full = `${localPref ?? ''}|${tail}`;
    let a = this.next.get(full) ?? this.pool.get(full);
    if (!a) {
      a = {
        ...(localPref !== undefined ? { localPref } : {}),
        communities: c,
        largeCommunities: l,
        internalKey: `${localPref ?? DEFAULT_LOCAL_PREF}|${tail}`,
        externalKey: `|${tail}`,
      };
    }
    this.next.set(full, a);
    return a;
  }

  /** Two advertisements of one prefix: communities are the union; the higher localPref wins, so order does not matter. */
  merge(a: Attributes, b: Attributes): Attributes {
    if (a === b) return a;
    const lp = a.localPref === undefined ? b.localPref : b.localPref === undefined ? a.localPref : Math.max(a.localPref, b.localPref);
    return this.get(lp, [...a.communities, ...b.communities], [...a.largeCommunities, ...b.largeCommunities]);
  }

  /** Ends a setWanted: sets no longer used are dropped. */
  swap(): void {
    this.pool = this.next;
    this.next = new Map();
  }
}

function attributesFor(a: Attributes, peer: PeerContext): RouteAttributes {
  return {
    origin: 'igp',
    asPath: peer.internal ? [] : [peer.localASN],
    ...(peer.nextHop ? { nextHop: peer.nextHop } : {}),
    ...(peer.nextHopV6 ? { nextHopV6: peer.nextHopV6 } : {}),
    ...(peer.internal ? { localPref: a.localPref ?? DEFAULT_LOCAL_PREF } : {}),
    communities: a.communities,
    largeCommunities: a.largeCommunities,
  };
}

/** Whether the session can carry routes of a family: negotiated, and a next hop known. */
function sendableFamily(family: Family, peer: PeerContext): boolean {
  if (!peer.families.includes(family)) return false;
  return family === 4 ? peer.nextHop !== undefined : peer.nextHopV6 !== undefined;
}

/** One family's routes: NLRI -> attributes. */
interface Table {
  wanted: Map<Nlri, Attributes>;
  /** The attributes each prefix was last announced with. */
  sent: Map<Nlri, Attributes>;
}

const FAMILIES = [4, 6] as const;

export class AdjRibOut {
  private readonly tables: Record<Family, Table> = { 4: { wanted: new Map(), sent: new Map() }, 6: { wanted: new Map(), sent: new Map() } };
  private readonly attributes = new AttributePool();
  /**
   * The last wanted set and its NLRI, index for index: the planner hands the same
   * objects again, in the same order, for unchanged routes, so a new wanted set parses
   * only what is new (a walk in step, not a map: 10,000 routes per session).
   */
  private lastAds: readonly Advertisement[] = [];
  private lastNlri: (Nlri | undefined)[] = [];

  /** Replaces the wanted set. Returns why any advertisement was refused (a caller's bug). */
  setWanted(ads: readonly Advertisement[]): string[] {
    const wanted: Record<Family, Map<Nlri, Attributes>> = { 4: new Map(), 6: new Map() };
    const refused: string[] = [];
    let last: { ad: Advertisement; attrs: Attributes } | undefined;
    const prevAds = this.lastAds;
    const prevNlri = this.lastNlri;
    const nlri: (Nlri | undefined)[] = new Array<Nlri | undefined>(ads.length);
    let j = 0;
    for (let i = 0; i < ads.length; i++) {
      const ad = ads[i]!;
      let k: Nlri | undefined;
      // In step with the last set: the same object here, or one further on (one removed).
      if (prevAds[j] === ad) k = prevNlri[j++];
      else if (prevAds[j + 1] === ad) {
        k = prevNlri[j + 1];
        j += 2;
      }
      k ??= nlriOf(ad.prefix, ad.family, ad.length);
      nlri[i] = k;
      if (k === undefined) {
        refused.push(`"${ad.prefix}/${ad.length}" is not an IPv${ad.family} prefix`);
        continue;
      }
      let attrs: Attributes;
      // Advertisements come with shared community lists: one lookup per run of equal ones.
      if (last && last.ad.localPref === ad.localPref && last.ad.communities === ad.communities && last.ad.largeCommunities === ad.largeCommunities) {
        attrs = last.attrs;
      } else {
        const bad = badAttributes(ad);
        if (bad !== undefined) {
          refused.push(bad);
          continue;
        }
        attrs = this.attributes.get(ad.localPref, ad.communities, ad.largeCommunities);
        last = { ad, attrs };
      }
      const table = wanted[ad.family];
      const prev = table.get(k);
      table.set(k, prev ? this.attributes.merge(prev, attrs) : attrs);
    }
    this.attributes.swap();
    this.lastAds = ads;
    this.lastNlri = nlri;
    this.tables[4].wanted = wanted[4];
    this.tables[6].wanted = wanted[6];
    return refused;
  }

  /** The session went down: the peer has forgotten everything (or keeps it only as stale, RFC 4724). */
  reset(): void {
    for (const f of FAMILIES) this.tables[f].sent = new Map();
  }

  /** Prefixes the peer has from us now. */
  get sentCount(): number {
    return this.tables[4].sent.size + this.tables[6].sent.size;
  }

  get wantedCount(): number {
    return this.tables[4].wanted.size + this.tables[6].wanted.size;
  }

  /** Wanted prefixes the peer does not have as wanted, plus sent ones it should no longer have. */
  pendingCount(peer?: PeerContext): number {
    if (!peer) return this.wantedCount;
    const internal = peer.internal;
    let n = 0;
    for (const f of FAMILIES) {
      const { wanted, sent } = this.tables[f];
      if (sent === wanted) continue;
      wanted.forEach((a, k) => {
        const s = sent.get(k);
        if (s === undefined || (s !== a && (internal ? s.internalKey !== a.internalKey : s.externalKey !== a.externalKey))) n++;
      });
      sent.forEach((_, k) => {
        if (!wanted.has(k)) n++;
      });
    }
    return n;
  }

  /** How many wanted prefixes this session cannot carry (family not negotiated, no next hop of that family), and one of them. */
  unsendable(peer: PeerContext): { count: number; example?: Prefix } {
    let count = 0;
    let example: Prefix | undefined;
    for (const f of FAMILIES) {
      const { wanted } = this.tables[f];
      if (wanted.size === 0 || sendableFamily(f, peer)) continue;
      count += wanted.size;
      example ??= new NlriPrefix(f, wanted.keys().next().value as Nlri);
    }
    return example ? { count, example } : { count };
  }

  /**
   * The UPDATEs, encoded, that bring the peer from what was sent to what is wanted;
   * records them as sent. Withdrawals come first, so a prefix never briefly has both
   * states; announcements go by attribute set, IPv4 before IPv6 within one.
   *
   * Once a family is in step, its sent table is the wanted map itself (setWanted always
   * makes a new map and never changes an old one): a session holding 10,000 routes keeps
   * one table, and a new session's first sync is a single pass over it.
   */
  sync(peer: PeerContext): Buffer[] {
    const internal = peer.internal;
    const out: Buffer[] = [];
    const groups = new Map<string, { attrs: Attributes; nlri: Record<Family, Nlri[]> }>();
    for (const f of FAMILIES) {
      const t = this.tables[f];
      const { sent, wanted } = t;
      if (!sendableFamily(f, peer)) {
        if (sent.size > 0) out.push(...packWithdrawals(f, [...sent.keys()], peer.codec));
        t.sent = new Map();
        continue;
      }
      if (sent === wanted) continue;
      const withdraw: Nlri[] = [];
      sent.forEach((_, k) => {
        if (!wanted.has(k)) withdraw.push(k);
      });
      out.push(...packWithdrawals(f, withdraw, peer.codec));
      const fresh = sent.size === 0;
      wanted.forEach((a, k) => {
        const key = internal ? a.internalKey : a.externalKey;
        if (!fresh) {
          const s = sent.get(k);
          // Equal keys: the peer holds the route as it would be sent now (eBGP ignores localPref).
          if (s !== undefined && (s === a || (internal ? s.internalKey : s.externalKey) === key)) return;
        }
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { attrs: a, nlri: { 4: [], 6: [] } }));
        g.nlri[f].push(k);
      });
      t.sent = wanted;
    }
    for (const key of [...groups.keys()].sort()) {
      const g = groups.get(key)!;
      const attrs = attributesFor(g.attrs, peer);
      for (const f of FAMILIES) out.push(...packAnnouncements(f, g.nlri[f], attrs, peer.codec));
    }
    return out;
  }

  /** RFC 2918 §4: the whole Adj-RIB-Out of one family again (after any pending change). */
  refresh(family: Family, peer: PeerContext): Buffer[] {
    const pending = this.sync(peer);
    this.tables[family].sent = new Map();
    return [...pending, ...this.sync(peer)];
  }
}
