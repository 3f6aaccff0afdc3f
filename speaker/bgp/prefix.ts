// Addresses and NLRI prefixes on the wire (RFC 4271 §4.3, RFC 4760 §5). Text <-> value
// goes through shared/ip (ip-address); this module only moves octets.
import { familyBits, formatIP, parseCIDR, parseIP, type Family, type IP } from '../../shared/ip/ip.js';
import { ipv4Text, ipv6Text, parseIPv4Text, parseIPv6Groups } from '../../shared/ip/text.js';
import { BGPEncodeError } from './errors.js';
import type { Fault, Reader } from './reader.js';
import type { Writer } from './writer.js';

/** An IP prefix in canonical text, host bits zero: `{ family: 6, prefix: '2001:db8::', length: 32 }`. */
export interface Prefix {
  readonly family: Family;
  readonly prefix: string;
  readonly length: number;
}

/** `192.0.2.0/24` -> Prefix; host bits must be zero. Throws BGPEncodeError on bad text. */
export function toPrefix(cidr: string): Prefix {
  const r = parseCIDR(cidr);
  if (!r.ok) throw new BGPEncodeError(r.error);
  return { family: r.value.family, prefix: formatIP({ family: r.value.family, value: r.value.first }), length: r.value.prefixLength };
}

/**
 * The prefix of `ip` masked to `length` (an advertisement's aggregation length). Its
 * value is remembered, so encoding it needs no parse.
 */
export function prefixFromIP(ip: IP, length: number): Prefix {
  const bits = familyBits(ip.family);
  if (!Number.isInteger(length) || length < 0 || length > bits) throw new BGPEncodeError(`prefix length ${length} is not 0..${bits}`);
  const hostBits = BigInt(bits - length);
  const value = (ip.value >> hostBits) << hostBits;
  const prefix = formatIP({ family: ip.family, value });
  remember(prefix, ip.family, value);
  return { family: ip.family, prefix, length };
}

/** `192.0.2.0/24`. */
export function prefixText(p: Prefix): string {
  return `${p.prefix}/${p.length}`;
}

function bytesToBigInt(b: Buffer): bigint {
  let v = 0n;
  for (const octet of b) v = (v << 8n) | BigInt(octet);
  return v;
}

/** Reads a 4- or 16-octet address as canonical text. */
export function readAddress(r: Reader, family: Family, what: string): string {
  if (family === 4) return formatIP({ family: 4, value: BigInt(r.u32(what)) });
  return formatIP({ family: 6, value: bytesToBigInt(r.bytes(16, what)) });
}

/**
 * Parsed address values, so re-announcing the same prefixes (every session, every
 * resync) parses each text once. Bounded: cleared when full.
 */
const parsed = new Map<string, bigint>();
const PARSED_MAX = 200_000;

/** The value of an address of the given family; BGPEncodeError when the text is not one. */
export function addressValue(text: string, family: Family): bigint {
  const key = family === 4 ? text : `6${text}`;
  const hit = parsed.get(key);
  if (hit !== undefined) return hit;
  const ip = parseIP(text);
  if (!ip || ip.family !== family) throw new BGPEncodeError(`"${text}" is not an IPv${family} address`);
  remember(text, family, ip.value);
  return ip.value;
}

function remember(text: string, family: Family, value: bigint): void {
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(family === 4 ? text : `6${text}`, value);
}

/** The address as 4 or 16 big-endian octets. */
function addressOctets(v: bigint, family: Family): Buffer {
  return Buffer.from(v.toString(16).padStart(family === 4 ? 8 : 32, '0'), 'hex');
}

export function writeAddress(w: Writer, text: string, family: Family): void {
  w.bytes(addressOctets(addressValue(text, family), family));
}

/** Octets a prefix takes on the wire: its length octet plus ceil(length / 8). */
export function prefixWireLength(p: Prefix): number {
  return 1 + ((p.length + 7) >> 3);
}

/**
 * Reads prefixes until the cursor is empty. A length beyond the family's width or a
 * prefix running past the field is a syntax error the caller's fault describes
 * (RFC 7606 §5.3: no treat-as-withdraw is possible then). Trailing host bits are
 * ignored, as RFC 4271 §4.3 allows, so the text is canonical.
 */
export function readPrefixes(r: Reader, family: Family, fault: Fault): Prefix[] {
  const bits = familyBits(family);
  const out: Prefix[] = [];
  while (r.remaining > 0) {
    const length = r.u8('prefix length');
    if (length > bits) throw fault(`prefix length ${length} exceeds ${bits}`);
    const n = (length + 7) >> 3;
    if (r.remaining < n) throw fault(`prefix /${length} needs ${n} octets, ${r.remaining} left`);
    const octets = r.bytes(n);
    let value: bigint;
    if (family === 4) {
      let v = 0;
      for (let i = 0; i < 4; i++) v = v * 256 + (i < n ? (octets[i] as number) : 0);
      value = BigInt(v);
    } else {
      value = bytesToBigInt(octets) << BigInt(128 - n * 8);
    }
    const hostBits = BigInt(bits - length);
    value = (value >> hostBits) << hostBits;
    out.push({ family, prefix: formatIP({ family, value }), length });
  }
  return out;
}

/**
 * A prefix as its NLRI encoding (RFC 4271 §4.3: the length octet, then the fewest octets
 * holding the network), one character per octet. A compact, hashable key (an
 * Adj-RIB-Out holds 10,000 of them per family) that is also what goes on the wire: an
 * UPDATE's NLRI field is such strings joined, with no address parsed or formatted.
 */
export type Nlri = string;

const codes: number[] = [];

function nlriOfOctets(octets: readonly number[], length: number): Nlri {
  const n = (length + 7) >> 3;
  codes.length = 0;
  codes.push(length);
  for (let i = 0; i < n; i++) codes.push(octets[i]! & 0xff);
  // Host bits zero, as on the wire (RFC 4271 §4.3 lets a receiver ignore them).
  if ((length & 7) !== 0) codes[n] = codes[n]! & ((0xff << (8 - (length & 7))) & 0xff);
  // One flat string: appending character by character would build a chain of cons strings.
  return String.fromCharCode.apply(null, codes);
}

/** The NLRI of `text`/`length`, or undefined when `text` is not an address of `family` or the length does not fit. */
export function nlriOf(text: string, family: Family, length: number): Nlri | undefined {
  if (!Number.isInteger(length) || length < 0 || length > familyBits(family)) return undefined;
  if (family === 4) {
    const v = text.includes(':') ? undefined : parseIPv4Text(text.trim());
    if (v === undefined) return undefined;
    return nlriOfOctets([v >>> 24, v >>> 16, v >>> 8, v], length);
  }
  const groups = text.includes(':') ? parseIPv6Groups(text.trim()) : undefined;
  if (!groups) return undefined;
  const octets: number[] = [];
  for (const g of groups) octets.push(g >> 8, g);
  return nlriOfOctets(octets, length);
}

/** A Prefix backed by its NLRI: length and text are read from the octets when asked. */
export class NlriPrefix implements Prefix {
  constructor(
    readonly family: Family,
    readonly nlri: Nlri,
  ) {}

  get length(): number {
    return this.nlri.charCodeAt(0);
  }

  get prefix(): string {
    const k = this.nlri;
    const octet = (i: number): number => (i + 1 < k.length ? k.charCodeAt(i + 1) : 0);
    if (this.family === 4) return ipv4Text(((octet(0) << 24) | (octet(1) << 16) | (octet(2) << 8) | octet(3)) >>> 0);
    const groups: number[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((octet(i) << 8) | octet(i + 1));
    return ipv6Text(groups);
  }
}

export function writePrefix(w: Writer, p: Prefix): void {
  if (p instanceof NlriPrefix) {
    w.latin1(p.nlri);
    return;
  }
  const bits = familyBits(p.family);
  if (!Number.isInteger(p.length) || p.length < 0 || p.length > bits) {
    throw new BGPEncodeError(`prefix length ${p.length} is not 0..${bits}`);
  }
  const hostBits = BigInt(bits - p.length);
  const v = (addressValue(p.prefix, p.family) >> hostBits) << hostBits;
  w.u8(p.length);
  w.bytes(addressOctets(v, p.family).subarray(0, (p.length + 7) >> 3));
}
