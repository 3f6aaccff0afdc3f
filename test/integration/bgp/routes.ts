// What each router daemon holds for a prefix, read through its own CLI and put in one
// shape, so the session tests assert the same things against FRR, BIRD and GoBGP.
import type { BirdRouter, FrrRouter, GobgpRouter, RouterDaemon } from './lab.js';

/** One path to a prefix as the router sees it. */
export interface SeenRoute {
  readonly nextHops: string[];
  readonly asPath: number[];
  /** `64500:100`. */
  readonly communities: string[];
  /** `4200000002:1:2`. */
  readonly largeCommunities: string[];
  readonly localPref?: number;
  /** RFC 4724: kept after its session went down, until End-of-RIB or the restart time. */
  readonly stale: boolean;
}

interface FrrPath {
  aspath?: { segments?: { list?: number[] }[] };
  community?: { list?: string[] };
  largeCommunity?: { list?: string[] };
  locPrf?: number;
  stale?: boolean;
  nexthops?: { ip?: string; scope?: string }[];
}

function frrRoutes(r: FrrRouter, prefix: string): SeenRoute[] {
  const afi = prefix.includes(':') ? 'ipv6' : 'ipv4';
  const doc = JSON.parse(r.vtysh(`show bgp ${afi} unicast ${prefix} json`)) as { prefix?: string; paths?: FrrPath[] };
  if (doc.prefix !== prefix) return [];
  return (doc.paths ?? []).map((p) => ({
    // IPv6 paths list the link-local next hop too when one was sent; herald sends the global one only.
    nextHops: (p.nexthops ?? []).filter((n) => n.scope !== 'link-local').map((n) => n.ip ?? ''),
    asPath: (p.aspath?.segments ?? []).flatMap((s) => s.list ?? []),
    communities: p.community?.list ?? [],
    largeCommunities: p.largeCommunity?.list ?? [],
    ...(p.locPrf !== undefined ? { localPref: p.locPrf } : {}),
    stale: p.stale === true,
  }));
}

/**
 * `birdc show route <prefix> all`: per route a header line
 * (`198.51.100.10/32  unicast [n1v4 …] * (100) [AS4200000002i]`) and `BGP.<attr>: value` lines.
 */
export function parseBirdRoutes(text: string): SeenRoute[] {
  const out: SeenRoute[] = [];
  let cur: Record<string, string> | undefined;
  const flush = (): void => {
    if (!cur) return;
    const pairs = (v: string | undefined): string[][] => [...(v ?? '').matchAll(/\(([^)]*)\)/g)].map((m) => (m[1] ?? '').split(',').map((x) => x.trim()));
    out.push({
      nextHops: (cur['next_hop'] ?? '').split(/\s+/).filter((h) => h && !h.toLowerCase().startsWith('fe80:')),
      asPath: (cur['as_path'] ?? '').split(/\s+/).filter(Boolean).map(Number),
      communities: pairs(cur['community']).map((p) => p.join(':')),
      largeCommunities: pairs(cur['large_community']).map((p) => p.join(':')),
      ...(cur['local_pref'] !== undefined ? { localPref: Number(cur['local_pref']) } : {}),
      stale: (cur['header'] ?? '').includes('stale'),
    });
    cur = undefined;
  };
  for (const line of text.split('\n')) {
    if (/^\S+\s+(unicast|unreachable|blackhole)\s+\[/.test(line) || /^\s+(unicast|unreachable)\s+\[/.test(line)) {
      flush();
      cur = { header: line };
      continue;
    }
    const attr = /^\s+BGP\.(\w+):\s?(.*)$/.exec(line);
    if (attr && cur) cur[attr[1] as string] = (attr[2] ?? '').trim();
  }
  flush();
  return out;
}

interface GobgpAttr {
  type: number;
  value?: number | { ASN: number; LocalData1: number; LocalData2: number }[];
  as_paths?: { asns?: number[] }[];
  nexthop?: string;
  communities?: number[];
}

function gobgpRoutes(r: GobgpRouter, prefix: string): SeenRoute[] {
  const afi = prefix.includes(':') ? 'ipv6' : 'ipv4';
  const doc = JSON.parse(r.gobgp('global', 'rib', '-a', afi, prefix, '-j') || '{}') as Record<string, { attrs?: GobgpAttr[]; stale?: boolean }[]>;
  return (doc[prefix] ?? []).map((p) => {
    const attrs = p.attrs ?? [];
    const find = (t: number): GobgpAttr | undefined => attrs.find((a) => a.type === t);
    const large = find(32)?.value;
    const lp = find(5)?.value;
    return {
      nextHops: [find(3)?.nexthop ?? find(14)?.nexthop ?? ''],
      asPath: (find(2)?.as_paths ?? []).flatMap((s) => s.asns ?? []),
      communities: (find(8)?.communities ?? []).map((c) => `${c >>> 16}:${c & 0xffff}`),
      largeCommunities: Array.isArray(large) ? large.map((l) => `${l.ASN}:${l.LocalData1}:${l.LocalData2}`) : [],
      ...(typeof lp === 'number' ? { localPref: lp } : {}),
      stale: p.stale === true,
    };
  });
}

/** The paths the router holds for `prefix` (empty: it has none). */
export function routesFor(router: RouterDaemon, prefix: string): SeenRoute[] {
  switch (router.kind) {
    case 'frr':
      return frrRoutes(router as FrrRouter, prefix);
    case 'bird':
      return parseBirdRoutes((router as BirdRouter).birdc('show', 'route', prefix, 'all'));
    case 'gobgp':
      return gobgpRoutes(router as GobgpRouter, prefix);
  }
}
