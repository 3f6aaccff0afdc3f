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

function attributesSize(attrs: readonly PathAttribute[], ctx: CodecContext): number {
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

/** Announce `prefixes` (IPv4 and/or IPv6) with `attrs`, in as few UPDATEs as fit. */
export function buildAnnouncements(prefixes: readonly Prefix[], attrs: RouteAttributes, ctx: CodecContext): UpdateMessage[] {
  const { before, after } = commonAttributes(attrs, ctx);
  const out: UpdateMessage[] = [];
  const v4 = prefixes.filter((p) => p.family === 4);
  const v6 = prefixes.filter((p) => p.family === 6);
  if (v4.length > 0) {
    if (!attrs.nextHop) throw new BGPEncodeError('IPv4 prefixes need an IPv4 next hop');
    const all: PathAttribute[] = [...before.slice(0, 2), { type: 'nextHop', nextHop: attrs.nextHop }, ...before.slice(2), ...after];
    const room = ctx.maxMessageSize - EMPTY_UPDATE - attributesSize(all, ctx);
    for (const nlri of chunk(v4, room)) out.push({ type: 'update', withdrawn: [], attributes: all, nlri });
  }
  if (v6.length > 0) {
    if (!attrs.nextHopV6) throw new BGPEncodeError('IPv6 prefixes need an IPv6 next hop');
    const nhLength = attrs.linkLocalNextHop ? 32 : 16;
    const fixed = attributesSize([...before, ...after], ctx) + MP_HEADER + 5 + nhLength;
    const room = ctx.maxMessageSize - EMPTY_UPDATE - fixed;
    for (const nlri of chunk(v6, room)) {
      const mp: PathAttribute = {
        type: 'mpReach',
        afi: AFI.IPv6,
        safi: SAFI.Unicast,
        nextHop: attrs.nextHopV6,
        ...(attrs.linkLocalNextHop ? { linkLocalNextHop: attrs.linkLocalNextHop } : {}),
        nlri,
      };
      // RFC 4271 §5: ascending type codes; MP_REACH_NLRI (14) sits before AS4_PATH and large communities.
      out.push({ type: 'update', withdrawn: [], attributes: [...before, mp, ...after], nlri: [] });
    }
  }
  return out;
}

/** Withdraw `prefixes` (IPv4 and/or IPv6) in as few UPDATEs as fit. */
export function buildWithdrawals(prefixes: readonly Prefix[], ctx: CodecContext): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  const v4 = prefixes.filter((p) => p.family === 4);
  const v6 = prefixes.filter((p) => p.family === 6);
  for (const withdrawn of chunk(v4, ctx.maxMessageSize - EMPTY_UPDATE)) {
    out.push({ type: 'update', withdrawn, attributes: [], nlri: [] });
  }
  for (const withdrawn of chunk(v6, ctx.maxMessageSize - EMPTY_UPDATE - MP_HEADER - 3)) {
    out.push({ type: 'update', withdrawn: [], attributes: [{ type: 'mpUnreach', afi: AFI.IPv6, safi: SAFI.Unicast, withdrawn }], nlri: [] });
  }
  return out;
}
