// The L2 election: which node answers ARP/NDP for a service IP. Per IP, not per Service,
// so that Services sharing an IP can never be announced from two nodes (kube-vip and
// Cilium elect per Service and split shared IPs). Every speaker runs the same pure
// function over the same snapshot and live set and gets the same answer without talking
// to the others (REFERENCE.md, "L2 mode").
//
// Candidates are live nodes that may announce (not NetworkUnavailable, not excluded by
// label), matched by the nodeSelectors of at least one L2Advertisement of the IP's pool,
// and able to serve the Services on the IP. As in MetalLB's layer2 ShouldAnnounce, a
// Service without a ready endpoint anywhere is not announced at all, whatever its
// externalTrafficPolicy; with `Local` only nodes holding a ready endpoint qualify.
// MetalLB orders by a Service's first IP, so a dual-stack Service's two IPs share a node;
// here each IP has its own order (a shared IPv4 need not follow any one Service's IPv6).
//
// Order: rendezvous (highest-random-weight) hashing of node name and IP. Each node and
// each IP gets a 64-bit key from SHA-256 of its name / canonical text; a node's score for
// an IP mixes the two keys (murmur3's 32-bit finalizer on each half). The lowest score
// wins. Any total order on (node, IP) makes "adding a node moves an IP only if the new
// node sorts first" true; this one costs one SHA-256 per node and per IP instead of one
// per pair (100 nodes × 1,000 IPs would be 100,000 digests, about 0.3 s in Node).
// Changing the score changes which node owns which IP across versions: keep it fixed
// (test/unit/speaker/election.test.ts pins it).
import { createHash } from 'node:crypto';
import { matchesAnySelector } from '../shared/api/selector.js';
import { l2AdvertisementsForPool } from '../shared/config/model.js';
import type { L2AdvertisementModel } from '../shared/config/types.js';
import { formatIP, type IP } from '../shared/ip/ip.js';
import { poolOf, type NodeInfo, type ServiceInfo, type SpeakerSnapshot } from './snapshot.js';

/**
 * Why an IP has the winner it has, or none:
 * - `elected`: a winner exists and serves every announced Service on the IP;
 * - `partial`: Services on the IP (Local, mid-rollout) have no node in common; the winner
 *   is the first of the nodes that serve the most of them, and `services` lists those;
 * - `noPool`: the IP is in no (valid) pool;
 * - `noL2Advertisement`: its pool has no L2Advertisement;
 * - `noEndpoints`: no Service on the IP has a ready endpoint;
 * - `noEligibleNode`: no node may announce it (nodeSelectors, NetworkUnavailable, the
 *   exclusion label, or Local endpoints only on such nodes), live or not;
 * - `noLiveCandidate`: eligible nodes exist but none is live.
 */
export type ElectionReason =
  | 'elected'
  | 'partial'
  | 'noPool'
  | 'noL2Advertisement'
  | 'noEndpoints'
  | 'noEligibleNode'
  | 'noLiveCandidate';

export interface IPElection {
  ip: IP;
  /** Canonical text (RFC 5952 for IPv6): the key of `electL2`'s map. */
  ipText: string;
  pool?: string;
  /** The node that announces the IP; `candidates[0]`. */
  winner?: string;
  /** Live eligible nodes, best first. */
  candidates: readonly string[];
  reason: ElectionReason;
  /** Every Service holding the IP (`namespace/name`), sorted. */
  holders: readonly string[];
  /** The Services announced through the IP: those with ready endpoints the winner serves. */
  services: readonly string[];
  /** Interfaces the winner announces on, from its matching L2Advertisements; empty = all eligible. */
  interfaces: readonly string[];
}

// ---------------------------------------------------------------- ordering

/** Two 32-bit words of SHA-256(text): the per-name / per-IP half of a score. */
function key64(text: string): readonly [number, number] {
  const d = createHash('sha256').update(text).digest();
  return [d.readUInt32BE(0), d.readUInt32BE(4)];
}

// Keys never change, and every snapshot (a new one per burst of cluster changes) needs
// the key of every node and IP again: they are kept from one preparation to the next, so
// a burst of 1,000 Services costs no hashing beyond the new IPs. Two generations: a key
// unused by the last preparation is dropped by the next, so removed IPs do not pile up.
let keysNow = new Map<string, readonly [number, number]>();
let keysBefore = new Map<string, readonly [number, number]>();

function cachedKey64(text: string): readonly [number, number] {
  let k = keysNow.get(text);
  if (k) return k;
  k = keysBefore.get(text) ?? key64(text);
  keysNow.set(text, k);
  return k;
}

/** Starts a new generation of cached keys (once per snapshot prepared). */
function rotateKeys(): void {
  keysBefore = keysNow;
  keysNow = new Map();
}

/** murmur3's fmix32: a bijection on 32-bit words with full avalanche. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

interface Scored {
  node: string;
  hi: number;
  lo: number;
}

function compareScored(a: Scored, b: Scored): number {
  return a.hi - b.hi || a.lo - b.lo || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
}

/**
 * Orders nodes for one IP, best first. Deterministic and independent of the input order;
 * duplicates are kept once.
 */
export function rankNodes(nodes: Iterable<string>, ipText: string): string[] {
  const [i0, i1] = key64(ipText);
  const scored: Scored[] = [];
  for (const node of new Set(nodes)) {
    const [n0, n1] = key64(node);
    scored.push({ node, hi: fmix32(n0 ^ i0), lo: fmix32(n1 ^ i1) });
  }
  return scored.sort(compareScored).map((s) => s.node);
}

// ---------------------------------------------------------------- election

/**
 * Everything about one IP that does not depend on liveness, worked out once per snapshot.
 * Built by one constructor-like function with every field present, so that all of them
 * share one hidden class: object spreads gave each of 10,000 IPs a map of its own
 * (~400 bytes each in V8).
 */
interface PreparedIP {
  ip: IP;
  ipText: string;
  pool: string | undefined;
  holders: readonly string[];
  /** Set when the IP has no winner whoever is live. */
  fixed: ElectionReason | undefined;
  ads: readonly L2AdvertisementModel[];
  active: readonly ServiceInfo[];
  /** Eligible nodes (liveness aside), best first. */
  ranked: readonly NodeInfo[];
  /** How many active Services `ranked[i]` serves. */
  coverage: readonly number[];
}

interface Prepared {
  ips: Map<string, PreparedIP>;
  prepare(ip: IP, ipText: string, holding: readonly ServiceInfo[]): PreparedIP;
}

// Elections are memoized per snapshot object: the failover path (same snapshot, another
// live set) then costs a walk over each IP's ranked nodes, with no hashing or sorting.
// Snapshots are immutable; a changed cluster is a new snapshot.
const memo = new WeakMap<SpeakerSnapshot, Prepared>();

function sortedKeys(services: readonly ServiceInfo[]): string[] {
  return services.map((s) => s.key).sort();
}

/** Whether `node` can serve `svc`: any node for Cluster, a node with a ready endpoint for Local. */
function serves(svc: ServiceInfo, node: string): boolean {
  return svc.externalTrafficPolicy === 'Cluster' || svc.endpointNodes.has(node);
}

/**
 * Interfaces of the advertisements that cover the pool and select the winner: empty (all)
 * if any of them names none, else the union (as MetalLB's ipAdvertisementFor).
 */
function interfacesFor(ads: readonly L2AdvertisementModel[], node: NodeInfo): string[] {
  const out = new Set<string>();
  for (const ad of ads) {
    if (!matchesAnySelector(ad.nodeSelectors, node.labels)) continue;
    if (ad.interfaces.length === 0) return [];
    for (const i of ad.interfaces) out.add(i);
  }
  return [...out].sort();
}

/**
 * The nodes some L2Advertisement selects: the members of the L2 membership. A node no
 * L2Advertisement selects never wins an election, so it neither runs the membership (a
 * BGP-only speaker saves its thread, ~10 MB) nor is probed by the nodes that do.
 */
export function l2Members(snapshot: SpeakerSnapshot): Set<string> {
  const out = new Set<string>();
  const ads = snapshot.config.l2Advertisements;
  if (ads.length === 0) return out;
  for (const node of snapshot.nodes.values()) {
    if (ads.some((ad) => matchesAnySelector(ad.nodeSelectors, node.labels))) out.add(node.name);
  }
  return out;
}

function preparer(snapshot: SpeakerSnapshot): Prepared {
  // Hot when a snapshot changes (1,000 IPs × 100 nodes): typed arrays and index sorts,
  // no object per (node, IP) pair.
  const infos = [...snapshot.nodes.values()];
  const n0 = new Uint32Array(infos.length);
  const n1 = new Uint32Array(infos.length);
  infos.forEach((info, i) => ([n0[i], n1[i]] = cachedKey64(info.name)));
  const hi = new Uint32Array(infos.length);
  const lo = new Uint32Array(infos.length);
  const byScore = (a: number, b: number): number => {
    const d = (hi[a] as number) - (hi[b] as number) || (lo[a] as number) - (lo[b] as number);
    if (d !== 0) return d;
    const x = (infos[a] as NodeInfo).name;
    const y = (infos[b] as NodeInfo).name;
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const pools = new Map<string, { ads: L2AdvertisementModel[]; allowed: number[] }>();
  const poolInfo = (name: string) => {
    let p = pools.get(name);
    if (!p) {
      const ads = l2AdvertisementsForPool(snapshot.config, name);
      const allowed: number[] = [];
      infos.forEach((node, i) => {
        if (node.mayAnnounce && ads.some((ad) => matchesAnySelector(ad.nodeSelectors, node.labels))) allowed.push(i);
      });
      pools.set(name, (p = { ads, allowed }));
    }
    return p;
  };
  return {
    ips: new Map(),
    prepare(ip, ipText, holding) {
      const holders = sortedKeys(holding);
      const fixed = (pool: string | undefined, reason: ElectionReason): PreparedIP => preparedIP(ip, ipText, pool, holders, reason, [], [], [], []);
      const pool = poolOf(snapshot.config, ip);
      if (!pool) return fixed(undefined, 'noPool');
      const { ads, allowed } = poolInfo(pool.name);
      if (ads.length === 0) return fixed(pool.name, 'noL2Advertisement');
      const active = holding.filter((s) => s.hasReadyEndpoints);
      if (active.length === 0) return fixed(pool.name, 'noEndpoints');
      const local = active.filter((s) => s.externalTrafficPolicy === 'Local');
      const cover = new Uint16Array(infos.length);
      const order: number[] = [];
      for (const i of allowed) {
        let c = active.length - local.length;
        for (const s of local) if (s.endpointNodes.has((infos[i] as NodeInfo).name)) c++;
        if (c === 0) continue;
        cover[i] = c;
        order.push(i);
      }
      if (order.length === 0) return fixed(pool.name, 'noEligibleNode');
      const [i0, i1] = cachedKey64(ipText);
      for (const i of order) {
        hi[i] = fmix32((n0[i] as number) ^ i0);
        lo[i] = fmix32((n1[i] as number) ^ i1);
      }
      order.sort(byScore);
      return preparedIP(
        ip,
        ipText,
        pool.name,
        holders,
        undefined,
        ads,
        active,
        order.map((i) => infos[i] as NodeInfo),
        order.map((i) => cover[i] as number),
      );
    },
  };
}

function preparedIP(
  ip: IP,
  ipText: string,
  pool: string | undefined,
  holders: readonly string[],
  fixed: ElectionReason | undefined,
  ads: readonly L2AdvertisementModel[],
  active: readonly ServiceInfo[],
  ranked: readonly NodeInfo[],
  coverage: readonly number[],
): PreparedIP {
  return { ip, ipText, pool, holders, fixed, ads, active, ranked, coverage };
}

/** Whether some L2Advertisement could ever announce the IP: the others are left out of `electL2`. */
function inL2(p: PreparedIP): boolean {
  return p.fixed !== 'noPool' && p.fixed !== 'noL2Advertisement';
}

function prepared(snapshot: SpeakerSnapshot): Prepared {
  let p = memo.get(snapshot);
  if (!p) {
    rotateKeys();
    p = preparer(snapshot);
    const byIP = new Map<string, { ip: IP; services: ServiceInfo[] }>();
    for (const svc of snapshot.services) {
      for (const ip of svc.ips) {
        const text = formatIP(ip);
        const entry = byIP.get(text);
        if (!entry) byIP.set(text, { ip, services: [svc] });
        else if (!entry.services.includes(svc)) entry.services.push(svc);
      }
    }
    for (const text of [...byIP.keys()].sort()) {
      const { ip, services } = byIP.get(text) as { ip: IP; services: ServiceInfo[] };
      const prep = p.prepare(ip, text, services);
      // IPs of BGP-only pools (10,000 of them at scale) are not kept: L2 never announces them.
      if (inL2(prep)) p.ips.set(text, prep);
    }
    memo.set(snapshot, p);
  }
  return p;
}

function election(p: PreparedIP, reason: ElectionReason, winner: string | undefined, candidates: readonly string[], services: readonly string[], interfaces: readonly string[]): IPElection {
  const e: IPElection = { ip: p.ip, ipText: p.ipText, candidates, reason, holders: p.holders, services, interfaces };
  if (p.pool !== undefined) e.pool = p.pool;
  if (winner !== undefined) e.winner = winner;
  return e;
}

function decide(p: PreparedIP, live: ReadonlySet<string>): IPElection {
  if (p.fixed) return election(p, p.fixed, undefined, [], [], []);
  let best = 0;
  p.ranked.forEach((node, i) => {
    const c = p.coverage[i] as number;
    if (c > best && live.has(node.name)) best = c;
  });
  if (best === 0) return election(p, 'noLiveCandidate', undefined, [], [], []);
  // Only the best-covered live nodes run: with agreeing Services that is every live
  // eligible node, and the IP is never split between two winners either way.
  const candidates = p.ranked.filter((node, i) => p.coverage[i] === best && live.has(node.name));
  const winner = candidates[0] as NodeInfo;
  const all = best === p.active.length;
  return election(
    p,
    all ? 'elected' : 'partial',
    winner.name,
    candidates.map((n) => n.name),
    sortedKeys(all ? p.active : p.active.filter((s) => serves(s, winner.name))),
    interfacesFor(p.ads, winner),
  );
}

/**
 * The election for one IP. `live` holds the names of the speakers currently alive
 * (membership), the local one included while it runs.
 */
export function electIP(snapshot: SpeakerSnapshot, live: ReadonlySet<string>, ip: IP): IPElection {
  const p = prepared(snapshot);
  const text = formatIP(ip);
  const kept = p.ips.get(text);
  if (kept) return decide(kept, live);
  const holding = snapshot.services.filter((svc) => svc.ips.some((x) => x.family === ip.family && x.value === ip.value));
  return decide(p.prepare(ip, text, holding), live);
}

/**
 * The election for every IP held by a Service in the snapshot that an L2Advertisement
 * could announce (its pool has one), keyed by canonical IP text, sorted. IPs of pools
 * without one are left out (`electIP` still says why they have no winner).
 */
export function electL2(snapshot: SpeakerSnapshot, live: ReadonlySet<string>): Map<string, IPElection> {
  const out = new Map<string, IPElection>();
  for (const [text, p] of prepared(snapshot).ips) out.set(text, decide(p, live));
  return out;
}

/** The elections `node` wins, in the map's order: the IPs it must answer for. */
export function announcedBy(elections: ReadonlyMap<string, IPElection>, node: string): IPElection[] {
  return [...elections.values()].filter((e) => e.winner === node);
}

/**
 * The winner for each Service on each IP: `namespace/name` → (IP text → node). Services on
 * an IP they are not announced through (no ready endpoint) are absent. For status writers
 * and `nodeAssigned` events.
 */
export function winnersByService(elections: ReadonlyMap<string, IPElection>): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const e of elections.values()) {
    if (e.winner === undefined) continue;
    for (const svc of e.services) {
      let m = out.get(svc);
      if (!m) out.set(svc, (m = new Map()));
      m.set(e.ipText, e.winner);
    }
  }
  return out;
}
