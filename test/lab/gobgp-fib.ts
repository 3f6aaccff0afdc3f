// gobgpd keeps routes in its RIB only; its zebra client does not speak FRR 8.4's ZAPI
// (it panics decoding interface messages). This turns `gobgp global rib -j` into kernel
// routes in hl-router: one route per prefix with a next hop for every equally good path
// (ECMP), as zebra does for FRR and `merge paths` for BIRD. Pure: parsing and diffing.

export interface GobgpAttr {
  type: number;
  value?: number | unknown;
  nexthop?: string;
  as_paths?: { segment_type: number; num: number; asns: number[] }[];
  /** LOCAL_PREF */
  local_pref?: number;
  /** MULTI_EXIT_DISC */
  metric?: number;
}

export interface GobgpPath {
  nlri: { prefix: string };
  best?: boolean;
  stale?: boolean;
  withdrawal?: boolean;
  attrs?: GobgpAttr[];
  'neighbor-ip'?: string;
}

/** `gobgp global rib -j`: prefix → paths. */
export type GobgpRib = Record<string, GobgpPath[]>;

/** prefix → sorted next hops. */
export type Fib = Map<string, string[]>;

const ORIGIN = 1;
const AS_PATH = 2;
const NEXT_HOP = 3;
const MED = 4;
const LOCAL_PREF = 5;
const MP_REACH = 14;

function attr(p: GobgpPath, type: number): GobgpAttr | undefined {
  return p.attrs?.find((a) => a.type === type);
}

function asPathLength(p: GobgpPath): number {
  // RFC 4271 §9.1.2.2: an AS_SET counts as one, whatever its size.
  return (attr(p, AS_PATH)?.as_paths ?? []).reduce((n, s) => n + (s.segment_type === 1 ? 1 : s.num), 0);
}

/** What must match the best path for another path to share its traffic (RFC 4271 §9.1.2.2 a–c). */
function rank(p: GobgpPath): string {
  const lp = attr(p, LOCAL_PREF);
  const med = attr(p, MED);
  return [lp?.local_pref ?? lp?.value ?? 100, asPathLength(p), attr(p, ORIGIN)?.value ?? 0, med?.metric ?? med?.value ?? 0].join('/');
}

function nextHop(p: GobgpPath): string | undefined {
  return attr(p, MP_REACH)?.nexthop ?? attr(p, NEXT_HOP)?.nexthop;
}

export function fibFromRib(rib: GobgpRib): Fib {
  const fib: Fib = new Map();
  for (const [prefix, paths] of Object.entries(rib)) {
    const live = paths.filter((p) => !p.withdrawal);
    const best = live.find((p) => p.best) ?? live[0];
    if (!best) continue;
    const want = rank(best);
    const hops = new Set<string>();
    for (const p of live) {
      const nh = nextHop(p);
      // Stale paths (a peer in graceful restart, RFC 4724 §4.2) keep forwarding.
      if (nh && rank(p) === want && nh !== '0.0.0.0' && nh !== '::') hops.add(nh);
    }
    if (hops.size > 0) fib.set(prefix, [...hops].sort());
  }
  return fib;
}

/** The `ip -batch` lines that turn `have` into `want`. */
export function fibCommands(have: Fib, want: Fib): string[] {
  const out: string[] = [];
  for (const [prefix, hops] of want) {
    const cur = have.get(prefix);
    if (cur && cur.length === hops.length && cur.every((h, i) => h === hops[i])) continue;
    const via = hops.length === 1 ? `via ${hops[0]}` : hops.map((h) => `nexthop via ${h}`).join(' ');
    out.push(`route replace ${prefix} proto bgp metric 20 ${via}`);
  }
  for (const prefix of have.keys()) if (!want.has(prefix)) out.push(`route del ${prefix} proto bgp`);
  return out;
}

interface KernelRoute {
  dst: string;
  gateway?: string;
  nexthops?: { gateway?: string }[];
}

/** `ip -j route show proto bgp` (either family) back into a Fib. */
export function fibFromKernel(json: string, family: 4 | 6): Fib {
  const fib: Fib = new Map();
  const routes = (json.trim() ? JSON.parse(json) : []) as KernelRoute[];
  for (const r of routes) {
    const hops = r.nexthops ? r.nexthops.map((n) => n.gateway ?? '') : [r.gateway ?? ''];
    const dst = r.dst.includes('/') ? r.dst : `${r.dst}/${family === 4 ? 32 : 128}`;
    fib.set(dst, hops.filter(Boolean).sort());
  }
  return fib;
}
