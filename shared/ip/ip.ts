// IP math for pools and prefixes. Parsing and formatting go through ip-address; the
// arithmetic is on bigint so that an IPv6 /64 (2^64 addresses) is sized, compared and
// walked without ever enumerating it.
import { Address4, Address6 } from 'ip-address';

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

/** Parses one IPv4 or IPv6 address (no prefix length, no zone). */
export function parseIP(text: string): IP | undefined {
  const s = text.trim();
  if (s === '' || s.includes('/') || s.includes('%')) return undefined;
  if (!s.includes(':')) {
    if (!Address4.isValid(s)) return undefined;
    const a = new Address4(s);
    // ip-address accepts leading zeros ("010.0.0.1"); Kubernetes does not.
    if (a.correctForm() !== s) return undefined;
    return { family: 4, value: a.bigInt() };
  }
  if (!Address6.isValid(s)) return undefined;
  const a = new Address6(s);
  return { family: 6, value: a.bigInt() };
}

export function formatIP(ip: IP): string {
  return ip.family === 4 ? Address4.fromBigInt(ip.value).correctForm() : Address6.fromBigInt(ip.value).correctForm();
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
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > bits) {
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
