// Address text ⇄ number, without a library: the controller parses and formats an address
// for every Service it reconciles and the speaker for every prefix it announces, and
// ip-address's object-per-address parsing was a tenth of the controller's cold-start CPU.
//
// What is accepted is what Kubernetes accepts for a Service IP: IPv4 as four decimal
// octets without leading zeros (Go's netip refuses "010.0.0.1", which some parsers read
// as octal), IPv6 per RFC 4291 §2.2 (hex groups, one "::", a trailing dotted quad); no
// zones, no prefix lengths. IPv6 text out is RFC 5952's canonical form: lower case, no
// leading zeros, the longest run of two or more zero groups (the first of equals)
// compressed; a trailing dotted quad is never produced (::ffff:102:304, not
// ::ffff:1.2.3.4), which keeps the text herald has always written.

/** The value of an IPv4 address's text, or undefined when it is not one. */
export function parseIPv4Text(s: string): number | undefined {
  let value = 0;
  let octets = 0;
  let i = 0;
  const n = s.length;
  while (octets < 4) {
    const start = i;
    let octet = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      octet = octet * 10 + (c - 48);
      i++;
    }
    const len = i - start;
    // 1–3 digits, no leading zero, at most 255.
    if (len === 0 || len > 3 || (len > 1 && s.charCodeAt(start) === 48) || octet > 255) return undefined;
    value = value * 256 + octet;
    octets++;
    if (octets < 4) {
      if (i >= n || s.charCodeAt(i) !== 46) return undefined;
      i++;
    }
  }
  return i === n ? value : undefined;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** The eight 16-bit groups of an IPv6 address's text, or undefined when it is not one. */
export function parseIPv6Groups(s: string): number[] | undefined {
  const n = s.length;
  if (n < 2) return undefined;
  const head: number[] = [];
  const tail: number[] = [];
  let groups = head;
  let compressed = false;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    // A leading colon only as the start of "::".
    if (s.charCodeAt(1) !== 58) return undefined;
    compressed = true;
    groups = tail;
    i = 2;
    if (i === n) return [0, 0, 0, 0, 0, 0, 0, 0];
  }
  for (;;) {
    const start = i;
    let g = 0;
    while (i < n && i - start < 5) {
      const d = hexDigit(s.charCodeAt(i));
      if (d < 0) break;
      g = g * 16 + d;
      i++;
    }
    if (i < n && s.charCodeAt(i) === 46) {
      // A dotted quad: only as the last 32 bits.
      const v4 = parseIPv4Text(s.slice(start));
      if (v4 === undefined) return undefined;
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
      i = n;
      break;
    }
    const len = i - start;
    if (len === 0 || len > 4) return undefined;
    groups.push(g);
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return undefined;
    i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (compressed) return undefined;
      compressed = true;
      groups = tail;
      i++;
      if (i === n) break;
    } else if (i === n) return undefined; // a trailing single colon
  }
  const count = head.length + tail.length;
  if (compressed ? count > 7 : count !== 8) return undefined;
  const out = head.slice();
  for (let k = count; k < 8; k++) out.push(0);
  for (const g of tail) out.push(g);
  return out;
}

export function ipv4Text(value: number): string {
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** RFC 5952 §4 text of eight 16-bit groups. */
export function ipv6Text(groups: readonly number[]): string {
  // The longest run of zero groups, two or more long; the first of equal runs.
  let bestStart = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (groups[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && groups[e] === 0) e++;
    if (e - k > bestLen) {
      bestStart = k;
      bestLen = e - k;
    }
    k = e;
  }
  const hex = (from: number, to: number): string => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** The groups of a 128-bit value, most significant first. */
export function groupsOf(value: bigint): number[] {
  // 32-bit words: a Number holds 53 bits exactly, not 64.
  const hiHi = Number(value >> 96n);
  const hiLo = Number((value >> 64n) & 0xffffffffn);
  const loHi = Number((value >> 32n) & 0xffffffffn);
  const loLo = Number(value & 0xffffffffn);
  return [hiHi >>> 16, hiHi & 0xffff, hiLo >>> 16, hiLo & 0xffff, loHi >>> 16, loHi & 0xffff, loLo >>> 16, loLo & 0xffff];
}

export function valueOfGroups(groups: readonly number[]): bigint {
  const w = (a: number, b: number): bigint => BigInt((groups[a] ?? 0) * 65536 + (groups[b] ?? 0));
  return (w(0, 1) << 96n) | (w(2, 3) << 64n) | (w(4, 5) << 32n) | w(6, 7);
}
