// IPAddressPools: each pool checked on its own, then the pools laid side by side so that
// no address is in two of them. MetalLB refuses an overlapping pool in its webhook;
// herald has no webhook, so the pool created later keeps what does not overlap and the
// overlap is reported as a Conflict on it (REFERENCE.md, Pools).
import type { IPAddressPool } from '../api/types.js';
import {
  formatRange,
  isIPv4Mapped,
  parseAddressSpec,
  rangeIntersection,
  rangesOverlap,
  rangeToCIDRs,
  subtractRanges,
  compareRanges,
  type IPRange,
} from '../ip/ip.js';
import type { ConfigError, Pool, PoolServiceAllocation } from './types.js';
import { byCreation, intake, isRecord, optionalBool, optionalInt, Reporter, selectorList, sortNames, stringList } from './checks.js';

/** One parsed entry of spec.addresses. */
export interface PoolEntry {
  readonly index: number;
  readonly text: string;
  readonly range: IPRange;
  /**
   * The shortest prefix length among the CIDR blocks that make up the entry (MetalLB's
   * lowestMask): a CIDR entry is one block, a range several.
   */
  readonly widestPrefix: number;
}

/** What the advertisement rules need to know about a pool, valid or not. */
export interface PoolInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The entries that parsed, even when the pool as a whole is invalid. */
  readonly entries: readonly PoolEntry[];
  readonly valid: boolean;
}

export interface PoolsResult {
  pools: Pool[];
  invalidPools: string[];
  /** Every pool by name, valid or not, in name order. */
  infos: Map<string, PoolInfo>;
}

const KIND = 'IPAddressPool';
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface Checked {
  raw: IPAddressPool;
  info: PoolInfo;
  pool?: Omit<Pool, 'ranges'>;
  reporter: Reporter;
}

export function buildPools(raw: readonly IPAddressPool[], namespace: string, sink: ConfigError[]): PoolsResult {
  const checked = intake(raw, KIND, namespace, sink).map((p) => checkPool(p, sink));
  const ranges = assignRanges(checked);
  const pools: Pool[] = [];
  const invalidPools: string[] = [];
  const infos = new Map<string, PoolInfo>();
  for (const c of checked) {
    infos.set(c.info.name, c.info);
    if (c.pool) pools.push({ ...c.pool, ranges: ranges.get(c.info.name) ?? [] });
    else invalidPools.push(c.info.name);
  }
  return { pools, invalidPools: sortNames(invalidPools), infos };
}

function checkPool(p: IPAddressPool, sink: ConfigError[]): Checked {
  const name = p.metadata.name as string;
  const r = new Reporter(sink, KIND, name);
  const labels = labelsOf(p.metadata.labels);
  const spec: Record<string, unknown> = isRecord(p.spec) ? p.spec : {};
  if (!isRecord(p.spec)) r.invalid('spec', 'an IPAddressPool needs a spec with addresses');

  const entries = checkAddresses(r, spec.addresses);
  const autoAssign = optionalBool(r, 'spec.autoAssign', spec.autoAssign) ?? true;
  const avoidBuggyIPs = optionalBool(r, 'spec.avoidBuggyIPs', spec.avoidBuggyIPs) ?? false;
  const serviceAllocation = checkServiceAllocation(r, spec.serviceAllocation);

  const valid = r.invalidCount === 0;
  const info: PoolInfo = { name, labels, entries, valid };
  if (!valid) return { raw: p, info, reporter: r };
  const pool: Omit<Pool, 'ranges'> = { name, labels, autoAssign, avoidBuggyIPs, ...(serviceAllocation ? { serviceAllocation } : {}) };
  return { raw: p, info, pool, reporter: r };
}

function labelsOf(labels: unknown): Record<string, string> {
  if (!isRecord(labels)) return {};
  return Object.fromEntries(Object.entries(labels).filter((kv): kv is [string, string] => typeof kv[1] === 'string'));
}

function checkAddresses(r: Reporter, addresses: unknown): PoolEntry[] {
  if (!Array.isArray(addresses) || addresses.length === 0) {
    r.invalid('spec.addresses', 'a pool needs at least one address: a CIDR (192.0.2.0/24), a range (192.0.2.10-192.0.2.20) or an IP');
    return [];
  }
  const entries: PoolEntry[] = [];
  addresses.forEach((text: unknown, index) => {
    const field = `spec.addresses[${index}]`;
    if (typeof text !== 'string') {
      r.invalid(field, `must be a string such as 192.0.2.0/24, not ${JSON.stringify(text)}`);
      return;
    }
    const parsed = parseAddressSpec(text);
    if (!parsed.ok) {
      r.invalid(field, `${parsed.error}; write a CIDR (192.0.2.0/24), a range (192.0.2.10-192.0.2.20) or a single IP`);
      return;
    }
    const range = parsed.value;
    if (isIPv4Mapped({ family: range.family, value: range.first }) || isIPv4Mapped({ family: range.family, value: range.last })) {
      r.invalid(field, `"${text}" uses IPv4-mapped IPv6 addresses (::ffff:0:0/96, RFC 4291 §2.5.5.2), which no network routes; write the IPv4 addresses instead`);
      return;
    }
    const clash = entries.find((e) => rangesOverlap(e.range, range));
    if (clash) {
      r.invalid(field, `"${text}" overlaps spec.addresses[${clash.index}] ("${clash.text}") of the same pool; list each address once`);
      return;
    }
    const widestPrefix = Math.min(...rangeToCIDRs(range).map((b) => b.prefixLength));
    entries.push({ index, text, range, widestPrefix });
  });
  return entries;
}

function checkServiceAllocation(r: Reporter, value: unknown): PoolServiceAllocation | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) {
    r.invalid('spec.serviceAllocation', 'must be an object with priority, namespaces, namespaceSelectors and/or serviceSelectors');
    return undefined;
  }
  const priority = optionalInt(r, 'spec.serviceAllocation.priority', value.priority, -(2 ** 31), 2 ** 31 - 1, 'priority');
  const namespaces = stringList(r, 'spec.serviceAllocation.namespaces', value.namespaces, 'namespaces');
  namespaces.forEach((ns, i) => {
    if (ns.length > 63 || !DNS1123_LABEL.test(ns)) {
      r.invalid(`spec.serviceAllocation.namespaces[${i}]`, `"${ns}" is not a namespace name (lowercase letters, digits and '-', at most 63)`);
    }
  });
  return {
    ...(priority !== undefined ? { priority } : {}),
    namespaces,
    namespaceSelectors: selectorList(r, 'spec.serviceAllocation.namespaceSelectors', value.namespaceSelectors),
    serviceSelectors: selectorList(r, 'spec.serviceAllocation.serviceSelectors', value.serviceSelectors),
  };
}

interface Claim {
  pool: string;
  valid: boolean;
  index: number;
  range: IPRange;
}

/**
 * Gives every address to the earliest pool (creation time, then name) that lists it.
 * Invalid pools keep claiming the entries they could parse: a typo in an older pool must
 * not hand its addresses, some of them held by Services, to a newer pool.
 */
function assignRanges(checked: readonly Checked[]): Map<string, IPRange[]> {
  const claims: Claim[] = [];
  const out = new Map<string, IPRange[]>();
  for (const c of [...checked].sort((a, b) => byCreation(a.raw, b.raw))) {
    const mine: IPRange[] = [];
    for (const e of c.info.entries) {
      const earlier = claims.filter((cl) => rangesOverlap(cl.range, e.range));
      for (const cl of earlier) {
        const both = rangeIntersection(cl.range, e.range) as IPRange;
        c.reporter.conflict(
          `spec.addresses[${e.index}]`,
          `${formatRange(both)} (from "${e.text}") is already in pool "${cl.pool}" (its spec.addresses[${cl.index}]), which was created earlier` +
            `${cl.valid ? '' : ' and is invalid right now but keeps its addresses'}; ` +
            `herald will not allocate those addresses from this pool. Remove them from one of the two pools.`,
        );
      }
      for (const piece of subtractRanges(e.range, earlier.map((cl) => cl.range))) {
        mine.push(piece);
        claims.push({ pool: c.info.name, valid: c.info.valid, index: e.index, range: piece });
      }
    }
    out.set(c.info.name, mine.sort(compareRanges));
  }
  return out;
}
