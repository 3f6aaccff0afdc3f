// L2Advertisements and BGPAdvertisements: which pools each covers (by name, by label
// selector, or every pool), and the rules that tie a BGPAdvertisement to its pools:
// aggregation lengths and local preference (MetalLB internal/config validateBGPAdvPerPool).
import type { BGPAdvertisement, L2Advertisement, LabelSelector } from '../api/types.js';
import { matchesAnySelector } from '../api/selector.js';
import type { BGPAdvertisementModel, ConfigError, L2AdvertisementModel } from './types.js';
import { formatCommunity, parseCommunity, type CommunityValue } from './community.js';
import type { CommunityAliases } from './community-aliases.js';
import type { PoolInfo } from './pools.js';
import { selectorsMayOverlap } from './selector-rules.js';
import { byCreation, interfaceNameProblem, intake, isRecord, optionalInt, Reporter, selectorList, sortNames, stringList } from './checks.js';

export interface AdvertisementContext {
  namespace: string;
  /** Every pool, valid or not, by name. */
  pools: ReadonlyMap<string, PoolInfo>;
  /** Every BGPPeer name, valid or not. */
  peerNames: ReadonlySet<string>;
  communities: CommunityAliases;
}

/**
 * The pools an advertisement covers: those named in ipAddressPools plus those whose
 * labels match an ipAddressPoolSelector; with neither field, every pool. Names of
 * invalid pools are kept (the pool may hold Services' IPs that must stay announced);
 * names of pools that do not exist are Reference errors and cover nothing.
 */
function resolvePools(r: Reporter, spec: Record<string, unknown>, pools: ReadonlyMap<string, PoolInfo>, namespace: string): string[] {
  const names = stringList(r, 'spec.ipAddressPools', spec.ipAddressPools, 'ipAddressPools');
  const selectors = selectorList(r, 'spec.ipAddressPoolSelectors', spec.ipAddressPoolSelectors);
  if (names.length === 0 && selectors.length === 0) return sortNames(pools.keys());
  const out = new Set<string>();
  names.forEach((n, i) => {
    if (pools.has(n)) out.add(n);
    else r.reference(`spec.ipAddressPools[${i}]`, `IPAddressPool "${n}" does not exist in namespace ${namespace}; create it or remove it from this list`);
  });
  if (selectors.length > 0 && r.invalidCount === 0) {
    for (const p of pools.values()) if (matchesAnySelector(selectors, p.labels)) out.add(p.name);
  }
  return sortNames(out);
}

function specOf(r: Reporter, o: { spec?: unknown }): Record<string, unknown> {
  if (o.spec === undefined || o.spec === null) return {};
  if (!isRecord(o.spec)) {
    r.invalid('spec', 'spec must be an object');
    return {};
  }
  return o.spec;
}

export function buildL2Advertisements(raw: readonly L2Advertisement[], ctx: AdvertisementContext, sink: ConfigError[]): L2AdvertisementModel[] {
  const out: L2AdvertisementModel[] = [];
  for (const a of intake(raw, 'L2Advertisement', ctx.namespace, sink)) {
    const r = new Reporter(sink, 'L2Advertisement', a.metadata.name as string);
    const spec = specOf(r, a);
    const pools = resolvePools(r, spec, ctx.pools, ctx.namespace);
    const nodeSelectors = selectorList(r, 'spec.nodeSelectors', spec.nodeSelectors);
    const interfaces = stringList(r, 'spec.interfaces', spec.interfaces, 'interfaces');
    interfaces.forEach((name, i) => {
      const why = interfaceNameProblem(name);
      if (why) r.invalid(`spec.interfaces[${i}]`, why);
    });
    if (r.invalidCount === 0) out.push({ name: a.metadata.name as string, pools, nodeSelectors, interfaces: sortNames(interfaces) });
  }
  return out;
}

interface Candidate {
  raw: BGPAdvertisement;
  r: Reporter;
  model: BGPAdvertisementModel;
}

export function buildBGPAdvertisements(raw: readonly BGPAdvertisement[], ctx: AdvertisementContext, sink: ConfigError[]): BGPAdvertisementModel[] {
  const candidates: Candidate[] = [];
  for (const a of intake(raw, 'BGPAdvertisement', ctx.namespace, sink)) {
    const c = checkBGPAdvertisement(a, ctx, sink);
    if (c) candidates.push(c);
  }
  return assignPools(candidates, ctx.pools).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function checkBGPAdvertisement(a: BGPAdvertisement, ctx: AdvertisementContext, sink: ConfigError[]): Candidate | undefined {
  const name = a.metadata.name as string;
  const r = new Reporter(sink, 'BGPAdvertisement', name);
  const spec = specOf(r, a);
  const aggregationLength = optionalInt(r, 'spec.aggregationLength', spec.aggregationLength, 0, 32, 'aggregationLength (IPv4 prefix length)') ?? 32;
  const aggregationLengthV6 = optionalInt(r, 'spec.aggregationLengthV6', spec.aggregationLengthV6, 0, 128, 'aggregationLengthV6 (IPv6 prefix length)') ?? 128;
  const localPref = optionalInt(r, 'spec.localPref', spec.localPref, 0, 4294967295, 'localPref');
  const communities = resolveCommunities(r, spec.communities, ctx);
  const peers = stringList(r, 'spec.peers', spec.peers, 'peers');
  peers.forEach((p, i) => {
    // Kept in the model: an unknown name matches no session, whereas dropping it could
    // leave an empty list, which would mean every peer.
    if (!ctx.peerNames.has(p)) r.reference(`spec.peers[${i}]`, `BGPPeer "${p}" does not exist in namespace ${ctx.namespace}; until it does, nothing is advertised to it`);
  });
  const nodeSelectors: LabelSelector[] = selectorList(r, 'spec.nodeSelectors', spec.nodeSelectors);
  const pools = resolvePools(r, spec, ctx.pools, ctx.namespace);
  if (r.invalidCount > 0 || !communities) return undefined;
  return {
    raw: a,
    r,
    model: {
      name,
      pools,
      aggregationLength,
      aggregationLengthV6,
      ...(localPref !== undefined ? { localPref } : {}),
      communities,
      nodeSelectors,
      peers: sortNames(peers),
    },
  };
}

/**
 * Community strings to values: an alias first (as MetalLB looks aliases up first), then
 * the literal syntax. Undefined when one cannot be resolved: advertising without a
 * community the user asked for (say, no-export) could leak routes, so the advertisement
 * is left out until the alias exists.
 */
function resolveCommunities(r: Reporter, value: unknown, ctx: AdvertisementContext): BGPAdvertisementModel['communities'] | undefined {
  const texts = stringList(r, 'spec.communities', value, 'communities');
  const values: CommunityValue[] = [];
  let missing = false;
  texts.forEach((t, i) => {
    const field = `spec.communities[${i}]`;
    const alias = ctx.communities.values.get(t);
    if (alias) {
      values.push(alias);
      return;
    }
    const parsed = parseCommunity(t);
    if (parsed.ok) values.push(parsed.value);
    else if (parsed.shape) r.invalid(field, parsed.error);
    else {
      missing = true;
      const owner = ctx.communities.invalid.get(t);
      r.reference(field, owner
        ? `community alias "${t}" is defined in Community "${owner}", which is invalid; fix it (see its errors)`
        : `${parsed.error} in namespace ${ctx.namespace}; define it in a Community object or write the value`);
    }
  });
  if (missing) return undefined;
  const standard = [...new Set(values.filter((v) => v.kind === 'standard').map((v) => v.value))].sort((a, b) => a - b);
  const large = [...new Map(values.filter((v) => v.kind === 'large').map((v) => [formatCommunity(v), v.value] as const)).values()].sort(
    (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2],
  );
  return { standard, large };
}

/**
 * Ties each advertisement to its pools, in creation order (then name), dropping a pool
 * from an advertisement when:
 *
 * 1. Aggregation (MetalLB validateBGPAdvPerPool): for every spec.addresses entry of the
 *    pool, the advertisement's aggregation length for that family must be at least the
 *    shortest prefix length among the CIDR blocks that make up the entry (a CIDR is one
 *    block; a range is split into the fewest blocks). An aggregate may not be wider than
 *    the pool's own blocks.
 *
 * 2. Local preference: an IP gets one route per prefix and a route has one LOCAL_PREF, so
 *    advertisement B (later) conflicts with advertisement A (earlier, already covering the
 *    pool) when all of these hold:
 *      - their localPref differ (unset counts as its own value, distinct from any number);
 *      - for some family the pool has addresses of, their aggregation lengths are equal,
 *        so both would emit the same prefix for the same IP;
 *      - their peers overlap (an empty list means every peer);
 *      - their nodeSelectors may select a common node (decided on the selectors alone,
 *        see selectorsMayOverlap, so validity does not change as nodes come and go).
 *    MetalLB applies the same test (BGPAdvertisementsHaveCompatibleLocalPref) but on the
 *    nodes that exist at the time.
 *
 * The loser keeps its other pools; the error is a Conflict on the advertisement.
 */
function assignPools(candidates: readonly Candidate[], pools: ReadonlyMap<string, PoolInfo>): BGPAdvertisementModel[] {
  const byPool = new Map<string, BGPAdvertisementModel[]>();
  const out: BGPAdvertisementModel[] = [];
  for (const c of [...candidates].sort((x, y) => byCreation(x.raw, y.raw))) {
    const kept: string[] = [];
    for (const poolName of c.model.pools) {
      const pool = pools.get(poolName);
      if (!pool || !aggregationFits(c, pool)) continue;
      const holders = byPool.get(poolName) ?? [];
      const rival = holders.find((h) => localPrefClash(h, c.model, pool));
      if (rival) {
        c.r.conflict(
          'spec.localPref',
          `localPref ${c.model.localPref ?? '(unset)'} differs from ${rival.localPref ?? '(unset)'} of BGPAdvertisement "${rival.name}" (created earlier), ` +
            `which advertises the same prefixes of pool "${poolName}" to the same peers from the same nodes; ` +
            `a route has one local preference, so this advertisement does not cover "${poolName}". ` +
            'Use the same localPref, a different aggregation length, or disjoint peers or nodeSelectors.',
        );
        continue;
      }
      holders.push(c.model);
      byPool.set(poolName, holders);
      kept.push(poolName);
    }
    out.push({ ...c.model, pools: kept });
  }
  return out;
}

function aggregationFits(c: Candidate, pool: PoolInfo): boolean {
  let fits = true;
  for (const family of [4, 6] as const) {
    const length = family === 4 ? c.model.aggregationLength : c.model.aggregationLengthV6;
    const tooWide = pool.entries.filter((e) => e.range.family === family && length < e.widestPrefix);
    const worst = tooWide.sort((a, b) => b.widestPrefix - a.widestPrefix)[0];
    if (!worst) continue;
    fits = false;
    const field = family === 4 ? 'spec.aggregationLength' : 'spec.aggregationLengthV6';
    c.r.conflict(
      field,
      `${field.slice(5)} ${length} is shorter than /${worst.widestPrefix}, the widest block of "${worst.text}" ` +
        `(spec.addresses[${worst.index}] of pool "${pool.name}"): an aggregate may not be wider than the pool's own blocks, ` +
        `so this advertisement does not cover "${pool.name}". Use ${field.slice(5)} ${worst.widestPrefix} or more, or name only other pools.`,
    );
  }
  return fits;
}

function localPrefClash(a: BGPAdvertisementModel, b: BGPAdvertisementModel, pool: PoolInfo): boolean {
  if (a.localPref === b.localPref) return false;
  const families = new Set(pool.entries.map((e) => e.range.family));
  const samePrefix = (families.has(4) && a.aggregationLength === b.aggregationLength) || (families.has(6) && a.aggregationLengthV6 === b.aggregationLengthV6);
  if (!samePrefix) return false;
  const peersOverlap = a.peers.length === 0 || b.peers.length === 0 || a.peers.some((p) => b.peers.includes(p));
  return peersOverlap && selectorsMayOverlap(a.nodeSelectors, b.nodeSelectors);
}
