// The CEL environment CRD validation rules run in: @marcbachmann/cel-js plus the
// Kubernetes extension functions herald's rules use, with Kubernetes' semantics
// (k8s.io/apiserver/pkg/cel/library ip.go and cidr.go, Kubernetes 1.31+):
//   isIP(string) bool, ip(string) net.IP, <IP>.family() int, <IP>.isUnspecified(),
//   .isLoopback(), .isLinkLocalMulticast(), .isLinkLocalUnicast(), .isGlobalUnicast(),
//   isCIDR(string) bool, cidr(string) net.CIDR, <CIDR>.ip(), .masked(), .prefixLength(),
//   .containsIP(string|IP), .containsCIDR(string|CIDR), string(IP|CIDR), == on both;
// and, from cel-go's strings extension, `replace` (cel-js lacks it).
// Addresses are parsed through shared/ip, never here.
import { Environment } from '@marcbachmann/cel-js';
import { familyBits, formatIP, isIPv4Mapped, parseIP, prefixRange, type Family, type IP } from '../../shared/ip/ip.js';

/** A Kubernetes CEL `net.IP`. */
export class CELIP {
  constructor(readonly ip: IP) {}
  toString(): string {
    return formatIP(this.ip);
  }
}

/** A Kubernetes CEL `net.CIDR`: the address as written plus a prefix length. */
export class CELCIDR {
  constructor(
    readonly ip: IP,
    readonly prefixLength: number,
  ) {}
  toString(): string {
    return `${formatIP(this.ip)}/${this.prefixLength}`;
  }
}

/**
 * netip.ParseAddr minus zones and IPv4-mapped IPv6 (::ffff:0:0/96), as Kubernetes' ip()
 * parses.
 */
export function parseKubernetesIP(text: string): IP | undefined {
  if (text !== text.trim()) return undefined;
  const ip = parseIP(text);
  if (!ip || isIPv4Mapped(ip)) return undefined;
  return ip;
}

/** netip.ParsePrefix minus zones and IPv4-mapped IPv6, as Kubernetes' cidr() parses. */
export function parseKubernetesCIDR(text: string): CELCIDR | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseKubernetesIP(text.slice(0, slash));
  const bits = text.slice(slash + 1);
  // Go's ParsePrefix takes a plain decimal without sign or leading zeros.
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(bits) || Number(bits) > familyBits(ip.family)) return undefined;
  return new CELCIDR(ip, Number(bits));
}

function mustIP(text: string): CELIP {
  const ip = parseKubernetesIP(text);
  if (!ip) throw new Error(`IP Address ${JSON.stringify(text)} parse error during conversion from string`);
  return new CELIP(ip);
}

function mustCIDR(text: string): CELCIDR {
  const c = parseKubernetesCIDR(text);
  if (!c) throw new Error(`network address parse error during conversion from string: ${JSON.stringify(text)}`);
  return c;
}

function inPrefix(ip: IP, family: Family, prefix: bigint, len: number): boolean {
  if (ip.family !== family) return false;
  const r = prefixRange({ family, value: prefix }, len);
  return ip.value >= r.first && ip.value <= r.last;
}

const isLoopback = (ip: IP): boolean => (ip.family === 4 ? inPrefix(ip, 4, 0x7f000000n, 8) : ip.value === 1n);
const isMulticast = (ip: IP): boolean =>
  ip.family === 4 ? inPrefix(ip, 4, 0xe0000000n, 4) : inPrefix(ip, 6, 0xffn << 120n, 8);
const isLinkLocalUnicast = (ip: IP): boolean =>
  ip.family === 4 ? inPrefix(ip, 4, 0xa9fe0000n, 16) : inPrefix(ip, 6, 0xfe80n << 112n, 10);
const isLinkLocalMulticast = (ip: IP): boolean =>
  ip.family === 4 ? inPrefix(ip, 4, 0xe0000000n, 24) : inPrefix(ip, 6, 0xff02n << 112n, 16);

function maskedCIDR(c: CELCIDR): CELCIDR {
  return new CELCIDR({ family: c.ip.family, value: prefixRange(c.ip, c.prefixLength).first }, c.prefixLength);
}

function cidrContainsIP(c: CELCIDR, ip: IP): boolean {
  return ip.family === c.ip.family && inPrefix(ip, c.ip.family, c.ip.value, c.prefixLength);
}

function cidrContainsCIDR(c: CELCIDR, other: CELCIDR): boolean {
  return cidrContainsIP(c, other.ip) && c.prefixLength <= other.prefixLength;
}

/** Registers the Kubernetes IP and CIDR libraries and the missing string functions. */
export function registerKubernetesLibrary(env: Environment): Environment {
  return env
    .registerType('net.IP', CELIP)
    .registerType('net.CIDR', CELCIDR)
    .registerFunction('isIP(string): bool', (s: string) => parseKubernetesIP(s) !== undefined)
    .registerFunction('ip(string): net.IP', mustIP)
    .registerFunction('net.IP.family(): int', (a: CELIP) => BigInt(a.ip.family))
    .registerFunction('net.IP.isUnspecified(): bool', (a: CELIP) => a.ip.value === 0n)
    .registerFunction('net.IP.isLoopback(): bool', (a: CELIP) => isLoopback(a.ip))
    .registerFunction('net.IP.isLinkLocalMulticast(): bool', (a: CELIP) => isLinkLocalMulticast(a.ip))
    .registerFunction('net.IP.isLinkLocalUnicast(): bool', (a: CELIP) => isLinkLocalUnicast(a.ip))
    .registerFunction(
      'net.IP.isGlobalUnicast(): bool',
      // Go's netip.Addr.IsGlobalUnicast.
      (a: CELIP) =>
        a.ip.value !== 0n &&
        !(a.ip.family === 4 && a.ip.value === 0xffffffffn) &&
        !isLoopback(a.ip) &&
        !isMulticast(a.ip) &&
        !isLinkLocalUnicast(a.ip),
    )
    .registerFunction('string(net.IP): string', (a: CELIP) => a.toString())
    .registerOperator('net.IP == net.IP', (a: CELIP, b: CELIP) => a.ip.family === b.ip.family && a.ip.value === b.ip.value)
    .registerFunction('isCIDR(string): bool', (s: string) => parseKubernetesCIDR(s) !== undefined)
    .registerFunction('cidr(string): net.CIDR', mustCIDR)
    .registerFunction('net.CIDR.ip(): net.IP', (c: CELCIDR) => new CELIP(c.ip))
    .registerFunction('net.CIDR.masked(): net.CIDR', maskedCIDR)
    .registerFunction('net.CIDR.prefixLength(): int', (c: CELCIDR) => BigInt(c.prefixLength))
    .registerFunction('net.CIDR.containsIP(string): bool', (c: CELCIDR, s: string) => cidrContainsIP(c, mustIP(s).ip))
    .registerFunction('net.CIDR.containsIP(net.IP): bool', (c: CELCIDR, a: CELIP) => cidrContainsIP(c, a.ip))
    .registerFunction('net.CIDR.containsCIDR(string): bool', (c: CELCIDR, s: string) => cidrContainsCIDR(c, mustCIDR(s)))
    .registerFunction('net.CIDR.containsCIDR(net.CIDR): bool', cidrContainsCIDR)
    .registerFunction('string(net.CIDR): string', (c: CELCIDR) => c.toString())
    .registerOperator(
      'net.CIDR == net.CIDR',
      (a: CELCIDR, b: CELCIDR) =>
        a.ip.family === b.ip.family && a.ip.value === b.ip.value && a.prefixLength === b.prefixLength,
    )
    .registerFunction('string.replace(string, string): string', (s: string, from: string, to: string) =>
      replaceN(s, from, to, -1),
    )
    .registerFunction('string.replace(string, string, int): string', (s: string, from: string, to: string, n: bigint) =>
      replaceN(s, from, to, Number(n)),
    );
}

/** cel-go strings.replace with a limit: n < 0 replaces all, n == 0 none. */
function replaceN(s: string, from: string, to: string, n: number): string {
  if (n < 0) return from === '' ? to + [...s].map((c) => c + to).join('') : s.split(from).join(to);
  let out = '';
  let rest = s;
  for (let i = 0; i < n; i++) {
    const at = rest.indexOf(from);
    if (at < 0) break;
    out += rest.slice(0, at) + to;
    rest = rest.slice(at + from.length);
    if (from === '') {
      out += rest.slice(0, 1);
      rest = rest.slice(1);
    }
  }
  return out + rest;
}

/**
 * A fresh environment with `self` dynamic, as rules see it, and `oldSelf` dynamic, or
 * `optional<dyn>` for rules with optionalOldSelf (declaring it dyn there breaks
 * cel-js's overload resolution on `oldSelf.value()`).
 */
export function newRuleEnvironment(optionalOldSelf = false): Environment {
  const env = new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false });
  registerKubernetesLibrary(env);
  return env.registerVariable('self', 'dyn').registerVariable('oldSelf', optionalOldSelf ? 'optional<dyn>' : 'dyn');
}
