// The IP allocator: decides which addresses each LoadBalancer Service holds, with
// MetalLB's semantics (REFERENCE.md "Pools", "Services") and herald's improvements
// (deterministic pool order, cost independent of pool size, no double allocation after
// a restart). Pure: no Kubernetes client, no clock, no I/O. The reconciler feeds it the
// config model's pools and plain Service descriptions and writes out what it returns.
//
// Use:
//   const a = new Allocator(model.pools, model.invalidPools);
//   on start, for every Service that shows IPs in its status: a.claim(desc, statusIPs)
//     (all of them before any assign(), MetalLB #1774/#2443: otherwise a pending Service
//     can be handed an address a not-yet-seen Service still holds);
//   then for every Service, and on every change to it: a.assign(desc, statusIPs);
//   Service deleted, or no longer ours: a.release(key);
//   config changed: a.setPools(model.pools, model.invalidPools), then assign() again for
//     every Service (serviceAllocation or autoAssign may have changed);
//   namespace labels changed: assign() again for the Services of that namespace.
import type { Pool } from '../shared/config/types.js';
import { formatIP, type Family, type IP, type IPRange } from '../shared/ip/ip.js';
import { candidateTiers, poolServes, whyPoolRefuses } from './allocator-pools.js';
import { RangeCursor } from './allocator-range.js';
import { sharingRefusal, type Holder } from './allocator-sharing.js';
import type {
  AllocationFailure,
  AssignResult,
  ClaimResult,
  DroppedIP,
  PoolUsage,
  ServiceDesc,
  SetPoolsResult,
} from './allocator-types.js';

export type * from './allocator-types.js';

interface PoolState {
  pool: Pool;
  /** An invalid pool kept from an earlier config: its IPs stay held, none is handed out. */
  frozen: boolean;
  /** Per family, sorted by first address. */
  cursors: Record<Family, RangeCursor[]>;
  capacity: Record<Family, bigint>;
  assigned: Record<Family, bigint>;
  /** Service key → how many of its IPs come from this pool. */
  services: Map<string, number>;
}

/** One address in use, by one Service or by several sharing it. */
interface IPUse {
  ip: IP;
  pool: string;
  holders: Map<string, Holder>;
}

/** A decision: the addresses to hold, or why there are none. */
type Outcome = { ips: IP[]; pool: string } | { failure: AllocationFailure };

interface Holding {
  holder: Holder;
  ips: IP[];
}

const otherFamily = (f: Family): Family => (f === 4 ? 6 : 4);
const familyName = (f: Family): string => (f === 4 ? 'IPv4' : 'IPv6');

function newPoolState(pool: Pool, frozen: boolean): PoolState {
  const cursors: Record<Family, RangeCursor[]> = { 4: [], 6: [] };
  const capacity: Record<Family, bigint> = { 4: 0n, 6: 0n };
  const ranges = [...pool.ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  for (const r of ranges) {
    const c = new RangeCursor(r, pool.avoidBuggyIPs);
    cursors[r.family].push(c);
    capacity[r.family] += c.capacity();
  }
  return { pool, frozen, cursors, capacity, assigned: { 4: 0n, 6: 0n }, services: new Map() };
}

function toHolder(desc: ServiceDesc): Holder {
  return { key: desc.key, ports: desc.ports, sharingKey: desc.sharingKey ?? '', backendKey: desc.backendKey };
}

function refuse(reason: AllocationFailure['reason'], message: string): { failure: AllocationFailure } {
  return { failure: { reason, message } };
}

function listed(dropped: readonly DroppedIP[], ip: IP): boolean {
  return dropped.some((d) => d.ip.family === ip.family && d.ip.value === ip.value);
}

function sameSet(a: readonly IP[], b: readonly IP[]): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => y.family === x.family && y.value === x.value));
}

/** Puts a pair in the order of the Service's families (primary first). */
function orderByFamilies(ips: IP[], families: readonly Family[]): IP[] {
  const [a, b] = ips;
  if (a && b && families.indexOf(a.family) !== 0 && families.indexOf(b.family) === 0) ips.reverse();
  return ips;
}

function list(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}

export class Allocator {
  private pools = new Map<string, PoolState>();
  /** Valid pools, in config order, for candidate selection. */
  private validPools: Pool[] = [];
  private readonly uses: Record<Family, Map<bigint, IPUse>> = { 4: new Map(), 6: new Map() };
  private readonly holdings = new Map<string, Holding>();
  /** Sharing key → addresses held under it, to find a shareable address without a scan. */
  private readonly shared = new Map<string, Set<IPUse>>();
  private readonly inUse: Record<Family, (v: bigint) => boolean> = {
    4: (v) => this.uses[4].has(v),
    6: (v) => this.uses[6].has(v),
  };

  /**
   * @param pools the config model's valid pools (ranges without overlaps).
   * @param invalidPools names of pools that exist but are invalid right now (ConfigModel.invalidPools).
   */
  constructor(pools: readonly Pool[] = [], invalidPools: readonly string[] = []) {
    this.setPools(pools, invalidPools);
  }

  /**
   * Replaces the pools. Held IPs that are in no pool any more are released and returned
   * (the reconciler emits an event and calls assign() for those Services). IPs of a pool
   * named in `invalidPools` stay held under that pool's last valid definition, since an
   * invalid edit must not move assigned IPs; no new address is handed out from it.
   */
  setPools(pools: readonly Pool[], invalidPools: readonly string[] = []): SetPoolsResult {
    const next = new Map<string, PoolState>();
    for (const p of pools) next.set(p.name, newPoolState(p, false));
    for (const name of invalidPools) {
      if (next.has(name)) continue;
      const prev = this.pools.get(name);
      const pool: Pool = prev?.pool ?? { name, labels: {}, ranges: [], autoAssign: false, avoidBuggyIPs: false };
      next.set(name, newPoolState(pool, true));
    }
    this.pools = next;
    this.validPools = [...pools];

    const released: SetPoolsResult['released'] = [];
    const repooledFrom = new Map<string, { from: string; to: string }>();
    for (const family of [4, 6] as const) {
      for (const [value, use] of [...this.uses[family]]) {
        const ps = this.locate(use.ip);
        if (!ps) {
          for (const key of use.holders.keys()) {
            released.push({ key, ip: use.ip, pool: use.pool });
            const h = this.holdings.get(key);
            if (h) {
              h.ips = h.ips.filter((x) => !(x.family === family && x.value === value));
              if (h.ips.length === 0) this.holdings.delete(key);
            }
          }
          this.uses[family].delete(value);
          this.unindexShared(use);
          continue;
        }
        if (ps.pool.name !== use.pool) {
          for (const key of use.holders.keys()) {
            if (!repooledFrom.has(key)) repooledFrom.set(key, { from: use.pool, to: ps.pool.name });
          }
          use.pool = ps.pool.name;
        }
        ps.assigned[family]++;
      }
    }
    for (const [key, h] of this.holdings) {
      for (const ip of h.ips) {
        const use = this.useOf(ip);
        const ps = use && this.pools.get(use.pool);
        if (ps) ps.services.set(key, (ps.services.get(key) ?? 0) + 1);
      }
    }
    const repooled = [...repooledFrom].map(([key, r]) => ({ key, ...r }));
    return { released, repooled };
  }

  /**
   * Re-takes the IPs a Service shows in its status, without allocating anything new.
   * Call it for every such Service on start, before any assign(). Each IP is kept if it
   * is still valid for the Service (in a pool that serves it, matching its request and
   * families, and shareable with whoever claimed it first); the rest are dropped.
   * `fromPool` (the ip-allocated-from-pool annotation) lets an IP of a pool that is
   * invalid right now stay held although the allocator never saw that pool valid.
   */
  claim(desc: ServiceDesc, ips: readonly IP[], fromPool?: string): ClaimResult {
    this.releaseKey(desc.key);
    const holder = toHolder(desc);
    const wanted = this.wantedFamilies(desc);
    const families = 'failure' in wanted ? desc.families : wanted.families;
    const dropped: DroppedIP[] = [];
    const kept: IP[] = [];
    let pool: string | undefined;
    for (const ip of ips) {
      if (kept.some((k) => k.family === ip.family)) {
        dropped.push({ ip, reason: 'RequestChanged', message: `${desc.key} shows two ${familyName(ip.family)} addresses; keeping the first` });
        continue;
      }
      let check = this.checkKeep(desc, holder, ip, families);
      if ('failure' in check && check.failure.reason === 'IPNotInPool' && fromPool !== undefined) {
        const ps = this.pools.get(fromPool);
        if (ps?.frozen && (desc.requestedPool === undefined || desc.requestedPool === fromPool)) {
          this.addPlaceholder(ps, ip);
          check = this.checkKeep(desc, holder, ip, families);
        }
      }
      if ('failure' in check) {
        dropped.push({ ip, ...check.failure });
        continue;
      }
      if (pool !== undefined && check.pool !== pool) {
        dropped.push({ ip, reason: 'IPsInDifferentPools', message: `${formatIP(ip)} is in pool "${check.pool}", ${formatIP(kept[0] as IP)} in "${pool}"; keeping the latter` });
        continue;
      }
      pool = check.pool;
      kept.push(ip);
    }
    orderByFamilies(kept, desc.families);
    if (pool !== undefined) this.hold(holder, kept, pool);
    return pool === undefined ? { kept, dropped } : { kept, pool, dropped };
  }

  /**
   * Gives the Service the addresses it should hold, keeping every IP it holds that is
   * still valid (an IP never moves while valid, even if a better pool appears) and
   * topping up a missing family under PreferDualStack. `current` is what the Service's
   * status shows; where the allocator's own record disagrees for a family, the record
   * wins (a status write may not have come back through the watch yet). On failure the
   * Service holds nothing.
   */
  assign(desc: ServiceDesc, current: readonly IP[] = []): AssignResult {
    const holder = toHolder(desc);
    const candidates: IP[] = [...(this.holdings.get(desc.key)?.ips ?? [])];
    for (const ip of current) {
      if (!candidates.some((c) => c.family === ip.family)) candidates.push(ip);
    }
    this.releaseKey(desc.key);
    const dropped: DroppedIP[] = [];
    const outcome = this.decide(desc, holder, candidates, dropped);
    if ('failure' in outcome) {
      for (const ip of candidates) if (!listed(dropped, ip)) dropped.push({ ip, ...outcome.failure });
      return { ok: false, ...outcome.failure, dropped };
    }
    const ips = orderByFamilies(outcome.ips, desc.families);
    for (const ip of candidates) {
      if (ips.some((x) => x.family === ip.family && x.value === ip.value) || listed(dropped, ip)) continue;
      dropped.push({ ip, reason: 'RequestChanged', message: `${desc.key} now holds ${ips.map(formatIP).join(', ')}` });
    }
    this.hold(holder, ips, outcome.pool);
    return { ok: true, ips, pool: outcome.pool, changed: !sameSet(ips, current), dropped };
  }

  /**
   * The addresses the Service should hold, given what it held (`candidates`); records
   * in `dropped` each candidate it may not keep and why.
   */
  private decide(desc: ServiceDesc, holder: Holder, candidates: readonly IP[], dropped: DroppedIP[]): Outcome {
    const wanted = this.wantedFamilies(desc);
    if ('failure' in wanted) return wanted;

    const kept: IP[] = [];
    let pool: string | undefined;
    for (const ip of candidates) {
      const check = this.checkKeep(desc, holder, ip, wanted.families);
      if ('failure' in check) dropped.push({ ip, ...check.failure });
      else if (pool !== undefined && check.pool !== pool) {
        dropped.push({ ip, reason: 'IPsInDifferentPools', message: `${formatIP(ip)} is in pool "${check.pool}", ${formatIP(kept[0] as IP)} in "${pool}"` });
      } else {
        pool = check.pool;
        kept.push(ip);
      }
    }
    const missing = wanted.families.filter((f) => !kept.some((k) => k.family === f));
    if (pool !== undefined && missing.length === 0) return { ips: kept, pool };

    if (desc.requestedIPs.length > 0) {
      const r = this.takeRequested(desc, holder, missing, pool);
      return 'failure' in r ? r : { ips: [...kept, ...r.ips], pool: r.pool };
    }
    if (pool === undefined) return this.allocateFresh(desc, holder, wanted.families);

    // Top-up: the missing family from the pool of the address already held.
    const ps = this.pools.get(pool) as PoolState;
    const gap = missing[0] as Family;
    const extra = ps.frozen ? undefined : this.pick(ps, gap, holder);
    if (extra !== undefined) return { ips: [...kept, extra], pool };
    if (desc.familyPolicy !== 'RequireDualStack') return { ips: kept, pool };
    // RequireDualStack: a lone address is no valid state; take a pair elsewhere.
    const fresh = this.allocateFresh(desc, holder, wanted.families);
    if ('failure' in fresh) return fresh;
    for (const ip of kept) {
      dropped.push({
        ip,
        reason: 'DualStackUnavailable',
        message: `pool "${pool}" has no free ${familyName(gap)} address to pair with ${formatIP(ip)} (RequireDualStack)`,
      });
    }
    return fresh;
  }

  /** Frees everything the Service holds; returns the IPs it held. */
  release(key: string): IP[] {
    const ips = this.holdings.get(key)?.ips ?? [];
    this.releaseKey(key);
    return ips;
  }

  /** What the allocator holds for a Service. */
  holding(key: string): { ips: IP[]; pool: string } | undefined {
    const h = this.holdings.get(key);
    const first = h?.ips[0];
    const use = first && this.useOf(first);
    return h && use ? { ips: [...h.ips], pool: use.pool } : undefined;
  }

  /** The pool an address belongs to under the current config, if any. */
  poolOf(ip: IP): string | undefined {
    return this.locate(ip)?.pool.name;
  }

  /** The Services holding an address (several when it is shared). */
  holdersOf(ip: IP): string[] {
    return [...(this.useOf(ip)?.holders.keys() ?? [])];
  }

  /** Assigned and available counts per family (bigint: a /64 does not fit a number). */
  poolUsage(name: string): PoolUsage | undefined {
    const ps = this.pools.get(name);
    if (!ps) return undefined;
    const avail = (f: Family): bigint => (ps.capacity[f] > ps.assigned[f] ? ps.capacity[f] - ps.assigned[f] : 0n);
    return {
      assignedIPv4: ps.assigned[4],
      assignedIPv6: ps.assigned[6],
      availableIPv4: avail(4),
      availableIPv6: avail(6),
      services: ps.services.size,
    };
  }

  // ---- rules ----

  /** The families the Service should end up with, or why its request cannot be met. */
  private wantedFamilies(desc: ServiceDesc): { families: Family[] } | { failure: AllocationFailure } {
    const primary: Family = desc.families[0] ?? 4;
    if (desc.requestedIPs.length > 0) {
      const fams = desc.requestedIPs.map((ip) => ip.family);
      if (new Set(fams).size !== fams.length) {
        return { failure: { reason: 'FamilyMismatch', message: `${desc.key} requests two addresses of one family; at most one IPv4 and one IPv6` } };
      }
      const stray = desc.requestedIPs.find((ip) => !desc.families.includes(ip.family));
      if (stray) {
        return {
          failure: {
            reason: 'FamilyMismatch',
            message: `${desc.key} requests ${formatIP(stray)}, but its ipFamilies are ${desc.families.map(familyName).join(', ') || 'unset'}`,
          },
        };
      }
      if (desc.familyPolicy === 'RequireDualStack' && fams.length < 2) {
        return {
          failure: {
            reason: 'DualStackUnavailable',
            message: `${desc.key} is RequireDualStack but requests only ${desc.requestedIPs.map(formatIP).join(', ')}; request one IPv4 and one IPv6 address`,
          },
        };
      }
      return { families: desc.families.filter((f) => fams.includes(f)) };
    }
    switch (desc.familyPolicy) {
      case 'SingleStack':
        return { families: [primary] };
      case 'PreferDualStack':
        return { families: desc.families.length > 0 ? [...new Set(desc.families)] : [primary] };
      case 'RequireDualStack':
        return { families: [primary, otherFamily(primary)] };
    }
  }

  /** Whether the Service may keep an IP it holds or shows in its status. */
  private checkKeep(
    desc: ServiceDesc,
    holder: Holder,
    ip: IP,
    families: readonly Family[],
  ): { pool: string } | { failure: AllocationFailure } {
    if (!families.includes(ip.family)) {
      return refuse('RequestChanged', `${desc.key} no longer asks for an ${familyName(ip.family)} address (ipFamilies/ipFamilyPolicy)`);
    }
    if (desc.requestedIPs.length > 0 && !desc.requestedIPs.some((r) => r.family === ip.family && r.value === ip.value)) {
      return refuse('RequestChanged', `${desc.key} now requests ${desc.requestedIPs.map(formatIP).join(', ')} instead of ${formatIP(ip)}`);
    }
    const ps = this.locate(ip);
    if (!ps) return refuse('IPNotInPool', `${formatIP(ip)} is no longer in any IPAddressPool`);
    if (desc.requestedPool !== undefined && ps.pool.name !== desc.requestedPool) {
      return refuse('RequestChanged', `${desc.key} now asks for pool "${desc.requestedPool}"; ${formatIP(ip)} is in pool "${ps.pool.name}"`);
    }
    if (!poolServes(ps.pool, desc)) return refuse('PoolNotAllowed', whyPoolRefuses(ps.pool, desc));
    const use = this.useOf(ip);
    const refusal = use && use.holders.size > 0 ? sharingRefusal(ip, use.holders.values(), holder) : undefined;
    if (refusal) return { failure: refusal };
    return { pool: ps.pool.name };
  }

  /** Takes the requested IPs of the missing families (all in one pool with `heldPool`). */
  private takeRequested(
    desc: ServiceDesc,
    holder: Holder,
    missing: readonly Family[],
    heldPool: string | undefined,
  ): { ips: IP[]; pool: string } | { failure: AllocationFailure } {
    let pool = heldPool;
    const ips: IP[] = [];
    for (const family of missing) {
      const ip = desc.requestedIPs.find((r) => r.family === family) as IP;
      const text = formatIP(ip);
      const ps = this.locate(ip);
      if (!ps) {
        const buggy = this.validPools.find((p) => p.avoidBuggyIPs && p.ranges.some((r) => r.family === 4 && ip.family === 4 && ip.value >= r.first && ip.value <= r.last));
        const message = buggy
          ? `${text} ends in .0 or .255 and pool "${buggy.name}" has avoidBuggyIPs: true`
          : `${text} is not in any IPAddressPool`;
        return { failure: { reason: 'IPNotInPool', message } };
      }
      const name = ps.pool.name;
      if (ps.frozen) {
        return { failure: { reason: 'UnknownPool', message: `${text} is in pool "${name}", which is invalid right now (see its conditions)` } };
      }
      if (desc.requestedPool !== undefined && name !== desc.requestedPool) {
        return { failure: { reason: 'WrongPool', message: `${text} is in pool "${name}", not in the requested pool "${desc.requestedPool}"` } };
      }
      if (!poolServes(ps.pool, desc)) return { failure: { reason: 'PoolNotAllowed', message: whyPoolRefuses(ps.pool, desc) } };
      if (pool !== undefined && pool !== name) {
        return {
          failure: {
            reason: 'IPsInDifferentPools',
            message: `the requested addresses are in different pools ("${pool}" and "${name}"); both must come from one pool`,
          },
        };
      }
      const use = this.useOf(ip);
      const refusal = use && sharingRefusal(ip, use.holders.values(), holder);
      if (refusal) return { failure: refusal };
      pool = name;
      ips.push(ip);
    }
    return { ips, pool: pool as string };
  }

  /** A new allocation: the first pool, tier by tier, that can give the wanted families. */
  private allocateFresh(
    desc: ServiceDesc,
    holder: Holder,
    families: readonly Family[],
  ): { ips: IP[]; pool: string } | { failure: AllocationFailure } {
    let tiers: PoolState[][];
    if (desc.requestedPool !== undefined) {
      const ps = this.pools.get(desc.requestedPool);
      if (!ps) return { failure: { reason: 'UnknownPool', message: `pool "${desc.requestedPool}" does not exist` } };
      if (ps.frozen) {
        return { failure: { reason: 'UnknownPool', message: `pool "${desc.requestedPool}" is invalid right now (see its conditions)` } };
      }
      if (!poolServes(ps.pool, desc)) return { failure: { reason: 'PoolNotAllowed', message: whyPoolRefuses(ps.pool, desc) } };
      tiers = [[ps]];
    } else {
      tiers = candidateTiers(this.validPools, desc).map((t) => t.map((p) => this.pools.get(p.name) as PoolState));
    }
    const [first, second] = families as [Family, Family | undefined];
    for (const tier of tiers) {
      let primary: { ps: PoolState; ip: IP } | undefined;
      let secondary: { ps: PoolState; ip: IP } | undefined;
      for (const ps of tier) {
        const a = this.pick(ps, first, holder);
        if (second === undefined) {
          if (a) return { ips: [a], pool: ps.pool.name };
          continue;
        }
        const b = this.pick(ps, second, holder);
        if (a && b) return { ips: [a, b], pool: ps.pool.name };
        if (a && !primary) primary = { ps, ip: a };
        if (b && !secondary) secondary = { ps, ip: b };
      }
      if (desc.familyPolicy === 'PreferDualStack') {
        const one = primary ?? secondary;
        if (one) return { ips: [one.ip], pool: one.ps.pool.name };
      }
    }
    return { failure: this.explainNoAddress(desc, tiers.flat(), families) };
  }

  private explainNoAddress(desc: ServiceDesc, tried: PoolState[], families: readonly Family[]): AllocationFailure {
    const fams = families.map(familyName).join(desc.familyPolicy === 'RequireDualStack' ? ' and ' : ' or ');
    const has = (ps: PoolState, f: Family): boolean => ps.cursors[f].length > 0;
    if (tried.length === 0 || !tried.some((ps) => families.some((f) => has(ps, f)))) {
      const skipped: string[] = [];
      for (const p of this.validPools) {
        if (!p.autoAssign) skipped.push(`"${p.name}" has autoAssign: false`);
        else if (!poolServes(p, desc)) skipped.push(`"${p.name}" does not serve this Service (serviceAllocation)`);
      }
      const hint = skipped.length > 0 ? ` (${skipped.slice(0, 3).join('; ')}${skipped.length > 3 ? '; …' : ''})` : '';
      const scope = desc.requestedPool !== undefined ? `pool "${desc.requestedPool}" has` : `no pool that may serve ${desc.key} has`;
      const what = desc.requestedPool !== undefined ? `no ${fams} addresses` : `${fams} addresses`;
      return { reason: 'NoPool', message: `${scope} ${what}${hint}` };
    }
    if (families.length === 2 && desc.familyPolicy === 'RequireDualStack' && !tried.some((ps) => has(ps, 4) && has(ps, 6))) {
      return {
        reason: 'DualStackUnavailable',
        message: `${desc.key} is RequireDualStack but no pool that may serve it has both IPv4 and IPv6 addresses (tried ${list(tried.map((p) => p.pool.name))})`,
      };
    }
    const sharing = desc.sharingKey ? ` that ${desc.key} can share (key "${desc.sharingKey}")` : '';
    return {
      reason: 'PoolExhausted',
      message: `no free ${fams} address${sharing} in pool${tried.length > 1 ? 's' : ''} ${list(tried.map((p) => p.pool.name))}`,
    };
  }

  /**
   * The lowest address of one family in a pool that the Service may take: either unused,
   * or held under the Service's sharing key and compatible with its holders.
   */
  private pick(ps: PoolState, family: Family, holder: Holder): IP | undefined {
    let best: bigint | undefined;
    for (const c of ps.cursors[family]) {
      best = c.lowestFree(this.inUse[family]);
      if (best !== undefined) break;
    }
    if (holder.sharingKey !== '') {
      for (const use of this.shared.get(holder.sharingKey) ?? []) {
        if (use.pool !== ps.pool.name || use.ip.family !== family) continue;
        if (best !== undefined && use.ip.value >= best) continue;
        if (!sharingRefusal(use.ip, use.holders.values(), holder)) best = use.ip.value;
      }
    }
    return best === undefined ? undefined : { family, value: best };
  }

  // ---- bookkeeping ----

  private useOf(ip: IP): IPUse | undefined {
    return this.uses[ip.family].get(ip.value);
  }

  /** The pool holding an address: a valid pool first, else a frozen (invalid) one. */
  private locate(ip: IP): PoolState | undefined {
    let frozen: PoolState | undefined;
    for (const ps of this.pools.values()) {
      if (!ps.cursors[ip.family].some((c) => c.allows(ip.value))) continue;
      if (!ps.frozen) return ps;
      frozen ??= ps;
    }
    return frozen;
  }

  private cursorOf(ps: PoolState, ip: IP): RangeCursor | undefined {
    return ps.cursors[ip.family].find((c) => c.allows(ip.value));
  }

  private addPlaceholder(ps: PoolState, ip: IP): void {
    const range: IPRange = { family: ip.family, first: ip.value, last: ip.value };
    const c = new RangeCursor(range, false);
    ps.cursors[ip.family].push(c);
    ps.capacity[ip.family] += 1n;
    ps.pool = { ...ps.pool, ranges: [...ps.pool.ranges, range] };
  }

  private hold(holder: Holder, ips: IP[], pool: string): void {
    if (ips.length === 0) return;
    for (const ip of ips) {
      let use = this.useOf(ip);
      if (!use) {
        use = { ip, pool, holders: new Map() };
        this.uses[ip.family].set(ip.value, use);
        const ps = this.pools.get(pool);
        if (ps) ps.assigned[ip.family]++;
      }
      use.holders.set(holder.key, holder);
      if (holder.sharingKey !== '') {
        let set = this.shared.get(holder.sharingKey);
        if (!set) this.shared.set(holder.sharingKey, (set = new Set()));
        set.add(use);
      }
      const ps = this.pools.get(use.pool);
      if (ps) ps.services.set(holder.key, (ps.services.get(holder.key) ?? 0) + 1);
    }
    this.holdings.set(holder.key, { holder, ips: [...ips] });
  }

  private releaseKey(key: string): void {
    const h = this.holdings.get(key);
    if (!h) return;
    this.holdings.delete(key);
    for (const ip of h.ips) {
      const use = this.useOf(ip);
      if (!use) continue;
      use.holders.delete(key);
      const ps = this.pools.get(use.pool);
      if (ps) {
        const n = (ps.services.get(key) ?? 1) - 1;
        if (n > 0) ps.services.set(key, n);
        else ps.services.delete(key);
      }
      if (use.holders.size > 0) {
        // The key the address is indexed under goes with its last holder of that key.
        if (h.holder.sharingKey !== '' && ![...use.holders.values()].some((x) => x.sharingKey === h.holder.sharingKey)) {
          this.unshare(h.holder.sharingKey, use);
        }
        continue;
      }
      this.uses[ip.family].delete(ip.value);
      this.unindexShared(use, h.holder.sharingKey);
      if (ps) {
        ps.assigned[ip.family]--;
        this.cursorOf(ps, ip)?.freed(ip.value);
      }
    }
  }

  /** Drops an address from the sharing index under every key its holders (and `key`) use. */
  private unindexShared(use: IPUse, key?: string): void {
    const keys = new Set<string>([...use.holders.values()].map((h) => h.sharingKey));
    if (key !== undefined) keys.add(key);
    for (const k of keys) this.unshare(k, use);
  }

  private unshare(key: string, use: IPUse): void {
    const set = this.shared.get(key);
    if (!set) return;
    set.delete(use);
    if (set.size === 0) this.shared.delete(key);
  }
}
