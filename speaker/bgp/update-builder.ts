// UPDATEs for a set of prefixes sharing one set of attributes, packed into as few
// messages as the negotiated size allows (MetalLB's native speaker sent one per prefix).
// IPv4 goes in the NLRI field with NEXT_HOP; IPv6 in MP_REACH_NLRI (RFC 4760, RFC 2545).
import { sequence, toTwoOctetPath } from './as-path.js';
import { writeAttribute, type LargeCommunity, type Origin, type PathAttribute } from './attributes.js';
import type { CodecContext } from './context.js';
import { HEADER_LENGTH } from './context.js';
import { BGPEncodeError } from './errors.js';
import { AFI, SAFI } from './family.js';
import { prefixWireLength, type Prefix } from './prefix.js';
import type { UpdateMessage } from './update.js';
import { Writer } from './writer.js';

export interface RouteAttributes {
  /** Default 'igp' (what MetalLB sends). */
  readonly origin?: Origin;
  /** AS_SEQUENCE, leftmost first: empty for iBGP, our AS for eBGP. */
  readonly asPath: readonly number[];
  /** IPv4 next hop for IPv4 prefixes. */
  readonly nextHop?: string;
  /** IPv6 next hop for IPv6 prefixes (an IPv4-mapped address when the session is IPv4-only). */
  readonly nextHopV6?: string;
  readonly linkLocalNextHop?: string;
  readonly med?: number;
  /** iBGP only. */
  readonly localPref?: number;
  readonly communities?: readonly number[];
  readonly largeCommunities?: readonly LargeCommunity[];
}

/** ORIGIN, AS_PATH (+ AS4_PATH for 2-octet peers, RFC 6793 §4.2.2), MED, LOCAL_PREF, communities; ascending type order (RFC 4271 §5). */
function commonAttributes(a: RouteAttributes, ctx: CodecContext): { before: PathAttribute[]; after: PathAttribute[] } {
  const segments = sequence(a.asPath);
  const before: PathAttribute[] = [{ type: 'origin', origin: a.origin ?? 'igp' }];
  let as4: PathAttribute | undefined;
  if (ctx.fourOctetAS) {
    before.push({ type: 'asPath', segments });
  } else {
    const two = toTwoOctetPath(segments);
    before.push({ type: 'asPath', segments: two.asPath });
    if (two.as4Path) as4 = { type: 'as4Path', segments: two.as4Path };
  }
  const tail: PathAttribute[] = [];
  if (a.med !== undefined) tail.push({ type: 'med', med: a.med });
  if (a.localPref !== undefined) tail.push({ type: 'localPref', localPref: a.localPref });
  if (a.communities && a.communities.length > 0) tail.push({ type: 'communities', communities: [...a.communities] });
  const after: PathAttribute[] = [];
  if (as4) after.push(as4);
  if (a.largeCommunities && a.largeCommunities.length > 0) after.push({ type: 'largeCommunities', communities: a.largeCommunities.map((c) => [...c] as const) });
  return { before: [...before, ...tail], after };
}

export function attributesSize(attrs: readonly PathAttribute[], ctx: CodecContext): number {
  const w = new Writer(128);
  for (const a of attrs) writeAttribute(w, a, ctx);
  return w.length;
}

/** Splits prefixes into runs whose wire size stays within `room` octets. */
function chunk(prefixes: readonly Prefix[], room: number): Prefix[][] {
  if (room <= 0) throw new BGPEncodeError('attributes leave no room for prefixes');
  const out: Prefix[][] = [];
  let current: Prefix[] = [];
  let used = 0;
  for (const p of prefixes) {
    const n = prefixWireLength(p);
    if (used + n > room && current.length > 0) {
      out.push(current);
      current = [];
      used = 0;
    }
    current.push(p);
    used += n;
  }
  if (current.length > 0) out.push(current);
  return out;
}

const EMPTY_UPDATE = HEADER_LENGTH + 4;
/** Flags, type, 2-octet length: MP attributes are sized as if extended, one octet of slack. */
const MP_HEADER = 4;

/** The attributes of IPv4 announcements: NEXT_HOP after AS_PATH (ascending type codes, RFC 4271 §5). */
export function ipv4Attributes(attrs: RouteAttributes, ctx: CodecContext): PathAttribute[] {
  if (!attrs.nextHop) throw new BGPEncodeError('IPv4 prefixes need an IPv4 next hop');
  const { before, after } = commonAttributes(attrs, ctx);
  return [...before.slice(0, 2), { type: 'nextHop', nextHop: attrs.nextHop }, ...before.slice(2), ...after];
}

/**
 * The attributes of IPv6 announcements around MP_REACH_NLRI (14), which sits before
 * AS4_PATH and large communities in ascending type order (RFC 4271 §5), and that
 * attribute without its NLRI.
 */
export function ipv6Attributes(attrs: RouteAttributes, ctx: CodecContext): { before: PathAttribute[]; mpReach: Extract<PathAttribute, { type: 'mpReach' }>; after: PathAttribute[] } {
  if (!attrs.nextHopV6) throw new BGPEncodeError('IPv6 prefixes need an IPv6 next hop');
  const { before, after } = commonAttributes(attrs, ctx);
  const mpReach = {
    type: 'mpReach' as const,
    afi: AFI.IPv6,
    safi: SAFI.Unicast,
    nextHop: attrs.nextHopV6,
    ...(attrs.linkLocalNextHop ? { linkLocalNextHop: attrs.linkLocalNextHop } : {}),
    nlri: [],
  };
  return { before, mpReach, after };
}

/** Octets left for IPv4 NLRI next to these attributes. */
export function ipv4Room(attributes: readonly PathAttribute[], ctx: CodecContext): number {
  return ctx.maxMessageSize - EMPTY_UPDATE - attributesSize(attributes, ctx);
}

/** Octets left for IPv6 NLRI in MP_REACH_NLRI next to these attributes. */
export function ipv6Room(a: ReturnType<typeof ipv6Attributes>, ctx: CodecContext): number {
  const nhLength = a.mpReach.linkLocalNextHop ? 32 : 16;
  return ctx.maxMessageSize - EMPTY_UPDATE - (attributesSize([...a.before, ...a.after], ctx) + MP_HEADER + 5 + nhLength);
}

/** Octets left for withdrawn IPv4 prefixes, or for IPv6 ones in MP_UNREACH_NLRI. */
export function withdrawRoom(family: 4 | 6, ctx: CodecContext): number {
  return family === 4 ? ctx.maxMessageSize - EMPTY_UPDATE : ctx.maxMessageSize - EMPTY_UPDATE - MP_HEADER - 3;
}

/** Announce `prefixes` (IPv4 and/or IPv6) with `attrs`, in as few UPDATEs as fit. */
export function buildAnnouncements(prefixes: readonly Prefix[], attrs: RouteAttributes, ctx: CodecContext): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  const v4 = prefixes.filter((p) => p.family === 4);
  const v6 = prefixes.filter((p) => p.family === 6);
  if (v4.length > 0) {
    const all = ipv4Attributes(attrs, ctx);
    for (const nlri of chunk(v4, ipv4Room(all, ctx))) out.push({ type: 'update', withdrawn: [], attributes: all, nlri });
  }
  if (v6.length > 0) {
    const a = ipv6Attributes(attrs, ctx);
    for (const nlri of chunk(v6, ipv6Room(a, ctx))) {
      out.push({ type: 'update', withdrawn: [], attributes: [...a.before, { ...a.mpReach, nlri }, ...a.after], nlri: [] });
    }
  }
  return out;
}

/** Withdraw `prefixes` (IPv4 and/or IPv6) in as few UPDATEs as fit. */
export function buildWithdrawals(prefixes: readonly Prefix[], ctx: CodecContext): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  const v4 = prefixes.filter((p) => p.family === 4);
  const v6 = prefixes.filter((p) => p.family === 6);
  for (const withdrawn of chunk(v4, withdrawRoom(4, ctx))) {
    out.push({ type: 'update', withdrawn, attributes: [], nlri: [] });
  }
  for (const withdrawn of chunk(v6, withdrawRoom(6, ctx))) {
    out.push({ type: 'update', withdrawn: [], attributes: [{ type: 'mpUnreach', afi: AFI.IPv6, safi: SAFI.Unicast, withdrawn }], nlri: [] });
  }
  return out;
}
