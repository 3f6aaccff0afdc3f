// IP math for pools and prefixes. Text goes through text.ts; the arithmetic is on bigint so that an IPv6 /64 (2^64 addresses) is sized, compared and
// walked without ever enumerating it.
import { groupsOf, ipv4Text, ipv6Text, parseIPv4Text, parseIPv6Groups, valueOfGroups } from './text.js';

export type Family = 4 | 6;

export interface IP {
  readonly family: Family;
  readonly value: bigint;
}

/** An inclusive range of addresses of one family. */
export interface IPRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function familyBits(family: Family): number {
  return family === 4 ? 32 : 128;
}

export function maxValue(family: Family): bigint {
  return (1n << BigInt(familyBits(family))) - 1n;
}

/** Parses one IPv4 or IPv6 address (no prefix length, no zone; surrounding blanks allowed). */
export function parseIP(text: string): IP | undefined {
  const s = text.trim();
  if (!s.includes(':')) {
    const v = parseIPv4Text(s);
    return v === undefined ? undefined : { family: 4, value: BigInt(v) };
  }
  const groups = parseIPv6Groups(s);
  return groups ? { family: 6, value: valueOfGroups(groups) } : undefined;
}

export function formatIP(ip: IP): string {
  return ip.family === 4 ? ipv4Text(Number(ip.value)) : ipv6Text(groupsOf(ip.value));
}

/** The canonical text of an address, or undefined when it is not one. */
export function canonicalIP(text: string): string | undefined {
  const ip = parseIP(text);
  return ip ? formatIP(ip) : undefined;
}

export function sameIP(a: IP, b: IP): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Parses `a.b.c.d/n` or `x::/n`; host bits must be zero. */
export function parseCIDR(text: string): ParseResult<IPRange & { prefixLength: number }> {
  const s = text.trim();
  const slash = s.indexOf('/');
  if (slash < 0) return { ok: false, error: `"${text}" is not a CIDR (no prefix length)` };
  const ip = parseIP(s.slice(0, slash));
  if (!ip) return { ok: false, error: `"${text}": "${s.slice(0, slash)}" is not an IP address` };
  const lenText = s.slice(slash + 1);
  const bits = familyBits(ip.family);
  // No sign, no leading zeros ("/024"): Go's netip.ParsePrefix and Kubernetes' strict CIDR
  // validation refuse them, and so does herald.
  if (!/^(0|[1-9]\d{0,2})$/.test(lenText) || Number(lenText) > bits) {
    return { ok: false, error: `"${text}": prefix length must be 0..${bits}` };
  }
  const prefixLength = Number(lenText);
  const range = prefixRange(ip, prefixLength);
  if (range.first !== ip.value) {
    return {
      ok: false,
      error: `"${text}" has host bits set; the network is ${formatIP({ family: ip.family, value: range.first })}/${prefixLength}`,
    };
  }
  return { ok: true, value: { ...range, prefixLength } };
}

/** The range covered by the prefix of `ip` of length `prefixLength` (host bits ignored). */
export function prefixRange(ip: IP, prefixLength: number): IPRange {
  const bits = familyBits(ip.family);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bits) {
    throw new RangeError(`prefix length ${prefixLength} is outside 0..${bits} for IPv${ip.family}`);
  }
  const hostBits = BigInt(bits - prefixLength);
  const hostMask = (1n << hostBits) - 1n;
  const first = ip.value & ~hostMask & maxValue(ip.family);
  return { family: ip.family, first, last: first | hostMask };
}

/** `ip` masked to `prefixLength`, as CIDR text (`203.0.113.0/24`). */
export function maskedPrefix(ip: IP, prefixLength: number): string {
  const r = prefixRange(ip, prefixLength);
  return `${formatIP({ family: ip.family, value: r.first })}/${prefixLength}`;
}

/**
 * One entry of IPAddressPool.spec.addresses: a CIDR, a `first-last` range, or a single
 * address. Both ends of a range must be of one family, the first not above the last.
 */
export function parseAddressSpec(text: string): ParseResult<IPRange> {
  const s = text.trim();
  if (s.includes('/')) {
    const c = parseCIDR(s);
    return c.ok ? { ok: true, value: { family: c.value.family, first: c.value.first, last: c.value.last } } : c;
  }
  const dash = s.indexOf('-');
  if (dash >= 0) {
    const a = parseIP(s.slice(0, dash));
    const b = parseIP(s.slice(dash + 1));
    if (!a) return { ok: false, error: `"${text}": "${s.slice(0, dash).trim()}" is not an IP address` };
    if (!b) return { ok: false, error: `"${text}": "${s.slice(dash + 1).trim()}" is not an IP address` };
    if (a.family !== b.family) return { ok: false, error: `"${text}": range mixes IPv4 and IPv6` };
    if (a.value > b.value) return { ok: false, error: `"${text}": range start is after its end` };
    return { ok: true, value: { family: a.family, first: a.value, last: b.value } };
  }
  const ip = parseIP(s);
  if (!ip) return { ok: false, error: `"${text}" is not a CIDR, a range or an IP address` };
  return { ok: true, value: { family: ip.family, first: ip.value, last: ip.value } };
}

export function rangeSize(r: IPRange): bigint {
  return r.last - r.first + 1n;
}

export function rangeContains(r: IPRange, ip: IP): boolean {
  return r.family === ip.family && ip.value >= r.first && ip.value <= r.last;
}

export function rangesOverlap(a: IPRange, b: IPRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/** The overlap of two ranges, or undefined. */
export function rangeIntersection(a: IPRange, b: IPRange): IPRange | undefined {
  if (!rangesOverlap(a, b)) return undefined;
  return { family: a.family, first: a.first > b.first ? a.first : b.first, last: a.last < b.last ? a.last : b.last };
}

export function formatRange(r: IPRange): string {
  const first = formatIP({ family: r.family, value: r.first });
  return r.first === r.last ? first : `${first}-${formatIP({ family: r.family, value: r.last })}`;
}

/** A bigint count as a JSON-safe number, saturating at Number.MAX_SAFE_INTEGER. */
export function saturate(n: bigint): number {
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/** IPv4 addresses ending in .0 or .255 (MetalLB's avoidBuggyIPs). */
export function isBuggyIPv4(ip: IP): boolean {
  if (ip.family !== 4) return false;
  const last = ip.value & 0xffn;
  return last === 0n || last === 0xffn;
}

/** The address after `ip`, or undefined after the family's last address. */
export function nextAddress(ip: IP): IP | undefined {
  return ip.value >= maxValue(ip.family) ? undefined : { family: ip.family, value: ip.value + 1n };
}

/** The address before `ip`, or undefined before the family's first address. */
export function previousAddress(ip: IP): IP | undefined {
  return ip.value <= 0n ? undefined : { family: ip.family, value: ip.value - 1n };
}

/** Orders ranges IPv4 first, then by first address, then by last address. */
export function compareRanges(a: IPRange, b: IPRange): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.first !== b.first) return a.first < b.first ? -1 : 1;
  if (a.last !== b.last) return a.last < b.last ? -1 : 1;
  return 0;
}

/** `a` without the addresses of `b`: zero, one or two ranges, in address order. */
export function subtractRange(a: IPRange, b: IPRange): IPRange[] {
  const overlap = rangeIntersection(a, b);
  if (!overlap) return [a];
  const out: IPRange[] = [];
  if (a.first < overlap.first) out.push({ family: a.family, first: a.first, last: overlap.first - 1n });
  if (overlap.last < a.last) out.push({ family: a.family, first: overlap.last + 1n, last: a.last });
  return out;
}

/** `r` without the addresses of every range in `cut`, in address order. */
export function subtractRanges(r: IPRange, cut: readonly IPRange[]): IPRange[] {
  let pieces: IPRange[] = [r];
  for (const c of cut) {
    if (pieces.length === 0) break;
    pieces = pieces.flatMap((p) => subtractRange(p, c));
  }
  return pieces.sort(compareRanges);
}

export type CIDRBlock = IPRange & { readonly prefixLength: number };

/**
 * The fewest CIDR blocks that together cover exactly `r`, in address order: each block
 * is the largest one aligned at the current address that does not run past the end.
 * At most 2 × (family bits) blocks, so an IPv6 range of any size is cheap.
 */
export function rangeToCIDRs(r: IPRange): CIDRBlock[] {
  const bits = familyBits(r.family);
  const out: CIDRBlock[] = [];
  let cur = r.first;
  for (;;) {
    let hostBits = 0;
    while (hostBits < bits && ((cur >> BigInt(hostBits)) & 1n) === 0n) hostBits++;
    while (cur + (1n << BigInt(hostBits)) - 1n > r.last) hostBits--;
    const last = cur + (1n << BigInt(hostBits)) - 1n;
    out.push({ family: r.family, first: cur, last, prefixLength: bits - hostBits });
    if (last >= r.last) return out;
    cur = last + 1n;
  }
}

/** `192.0.2.0/24` text of a block. */
export function formatCIDR(block: { family: Family; first: bigint; prefixLength: number }): string {
  return `${formatIP({ family: block.family, value: block.first })}/${block.prefixLength}`;
}

/**
 * IPv4-mapped IPv6 addresses, ::ffff:0:0/96 (RFC 4291 §2.5.5.2). They name IPv4 hosts and
 * never appear on an IPv6 wire; Go's net.ParseIP turns them into IPv4 while herald keeps
 * them IPv6, so pools refuse them rather than silently disagree with MetalLB.
 */
export function isIPv4Mapped(ip: IP): boolean {
  return ip.family === 6 && ip.value >> 32n === 0xffffn;
}
