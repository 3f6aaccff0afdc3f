// Path attributes (RFC 4271 §4.3, §5): one shared header codec, one decoder and one
// encoder per attribute, and one dispatch each. Error handling follows RFC 7606: each
// decoder either yields the attribute, or says the UPDATE must be treated as a withdraw
// or the attribute discarded; only faults no revised handling covers throw.
import type { Family } from '../../shared/ip/ip.js';
import { mergeAS4Path, parseSegments, writeSegments, type ASPathSegment } from './as-path.js';
import type { CodecContext } from './context.js';
import { BGPEncodeError, BGPProtocolError, ErrorCode, UpdateSubcode } from './errors.js';
import { ipFamilyOf } from './family.js';
import { AS_TRANS } from './open.js';
import { readAddress, readPrefixes, writeAddress, writePrefix, type Prefix } from './prefix.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

export const AttrType = {
  Origin: 1,
  ASPath: 2,
  NextHop: 3,
  MultiExitDisc: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8, // RFC 1997
  OriginatorID: 9, // RFC 4456
  ClusterList: 10, // RFC 4456
  MPReachNLRI: 14, // RFC 4760
  MPUnreachNLRI: 15, // RFC 4760
  AS4Path: 17, // RFC 6793
  AS4Aggregator: 18, // RFC 6793
  LargeCommunities: 32, // RFC 8092
} as const;

export const AttrFlag = { Optional: 0x80, Transitive: 0x40, Partial: 0x20, ExtendedLength: 0x10 } as const;

export type Origin = 'igp' | 'egp' | 'incomplete';
const origins: readonly Origin[] = ['igp', 'egp', 'incomplete'];

/** An RFC 8092 large community: global administrator, local data 1, local data 2. */
export type LargeCommunity = readonly [number, number, number];

/**
 * `flags` is present only when the sender's flags differ from the standard ones for the
 * attribute (a set Partial bit, an Extended Length bit on a short value), so re-encoding
 * a decoded attribute reproduces the sender's octets.
 */
interface Flagged {
  readonly flags?: number;
}

export type PathAttribute =
  | (Flagged & { readonly type: 'origin'; readonly origin: Origin })
  | (Flagged & { readonly type: 'asPath'; readonly segments: readonly ASPathSegment[] })
  | (Flagged & { readonly type: 'nextHop'; readonly nextHop: string })
  | (Flagged & { readonly type: 'med'; readonly med: number })
  | (Flagged & { readonly type: 'localPref'; readonly localPref: number })
  | (Flagged & { readonly type: 'atomicAggregate' })
  | (Flagged & { readonly type: 'aggregator'; readonly asn: number; readonly address: string })
  /** RFC 1997 communities as 32-bit numbers (high 16 bits the AS). */
  | (Flagged & { readonly type: 'communities'; readonly communities: readonly number[] })
  | (Flagged & { readonly type: 'originatorId'; readonly originatorId: string })
  | (Flagged & { readonly type: 'clusterList'; readonly clusterIds: readonly string[] })
  | (Flagged & {
      readonly type: 'mpReach';
      readonly afi: number;
      readonly safi: number;
      /** IPv4 or IPv6 (RFC 8950 allows IPv6 next hops for IPv4 NLRI). */
      readonly nextHop: string;
      /** RFC 2545 §3: the second address of a 32-octet IPv6 next hop. */
      readonly linkLocalNextHop?: string;
      readonly nlri: readonly Prefix[];
    })
  | (Flagged & { readonly type: 'mpUnreach'; readonly afi: number; readonly safi: number; readonly withdrawn: readonly Prefix[] })
  | (Flagged & { readonly type: 'as4Path'; readonly segments: readonly ASPathSegment[] })
  | (Flagged & { readonly type: 'as4Aggregator'; readonly asn: number; readonly address: string })
  | (Flagged & { readonly type: 'largeCommunities'; readonly communities: readonly LargeCommunity[] })
  /** Anything else, including MP_REACH/MP_UNREACH of families herald does not decode. */
  | { readonly type: 'unknown'; readonly typeCode: number; readonly flags: number; readonly value: Buffer };

type Known = Exclude<PathAttribute, { type: 'unknown' }>['type'];

const O = AttrFlag.Optional;
const T = AttrFlag.Transitive;
/** RFC 4271 §5 and each attribute's RFC: well-known (T), optional transitive (O|T), optional non-transitive (O). */
const standard: Record<Known, { code: number; flags: number }> = {
  origin: { code: AttrType.Origin, flags: T },
  asPath: { code: AttrType.ASPath, flags: T },
  nextHop: { code: AttrType.NextHop, flags: T },
  med: { code: AttrType.MultiExitDisc, flags: O },
  localPref: { code: AttrType.LocalPref, flags: T },
  atomicAggregate: { code: AttrType.AtomicAggregate, flags: T },
  aggregator: { code: AttrType.Aggregator, flags: O | T },
  communities: { code: AttrType.Communities, flags: O | T },
  originatorId: { code: AttrType.OriginatorID, flags: O },
  clusterList: { code: AttrType.ClusterList, flags: O },
  mpReach: { code: AttrType.MPReachNLRI, flags: O },
  mpUnreach: { code: AttrType.MPUnreachNLRI, flags: O },
  as4Path: { code: AttrType.AS4Path, flags: O | T },
  as4Aggregator: { code: AttrType.AS4Aggregator, flags: O | T },
  largeCommunities: { code: AttrType.LargeCommunities, flags: O | T },
};
const byCode = new Map<number, Known>(Object.entries(standard).map(([k, v]) => [v.code, k as Known]));

export function attributeTypeCode(a: PathAttribute): number {
  return a.type === 'unknown' ? a.typeCode : standard[a.type].code;
}

/** What decoding one attribute came to, under RFC 7606. */
export type AttributeOutcome =
  | { readonly kind: 'attribute'; readonly attribute: PathAttribute }
  /** RFC 7606 §2 treat-as-withdraw / attribute discard; subcode is what RFC 4271 would have sent. */
  | { readonly kind: 'withdraw' | 'discard'; readonly subcode: number; readonly reason: string };

function withdraw(subcode: number, reason: string): AttributeOutcome {
  return { kind: 'withdraw', subcode, reason };
}
function discard(subcode: number, reason: string): AttributeOutcome {
  return { kind: 'discard', subcode, reason };
}
function updateError(subcode: number, detail: string, data?: Buffer): BGPProtocolError {
  return new BGPProtocolError(ErrorCode.UpdateMessage, subcode, detail, data);
}

function u32s(value: Buffer): number[] {
  const out: number[] = new Array(value.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = value.readUInt32BE(i * 4);
  return out;
}

function ipv4(value: Buffer, at = 0): string {
  return readAddress(new Reader(value, () => updateError(UpdateSubcode.AttributeLengthError, 'address'), at), 4, 'address');
}

/** RFC 4760 §3/§4 payloads of the unicast families herald decodes; others stay raw. */
function decodeMpReach(value: Buffer, raw: Buffer, flags: number | undefined): PathAttribute {
  const fault = (d: string): BGPProtocolError => updateError(UpdateSubcode.OptionalAttributeError, `MP_REACH_NLRI: ${d}`, raw);
  const r = new Reader(value, fault);
  const afi = r.u16('AFI');
  const safi = r.u8('SAFI');
  const family = ipFamilyOf({ afi, safi });
  if (family === undefined) return { type: 'unknown', typeCode: AttrType.MPReachNLRI, flags: flags ?? standard.mpReach.flags, value: Buffer.from(value) };
  const nhLength = r.u8('next hop length');
  // RFC 7606 §7.11: a next hop of unexpected length hides where the NLRI starts: session reset.
  const allowed = family === 4 ? [4, 16, 32] : [16, 32];
  if (!allowed.includes(nhLength)) throw fault(`next hop length ${nhLength} for ${family === 4 ? 'IPv4' : 'IPv6'}`);
  const nh = r.sub(nhLength, 'next hop');
  const nhFamily: Family = nhLength === 4 ? 4 : 6;
  const nextHop = readAddress(nh, nhFamily, 'next hop');
  const linkLocalNextHop = nhLength === 32 ? readAddress(nh, 6, 'link-local next hop') : undefined;
  r.u8('reserved');
  const nlri = readPrefixes(r, family, fault);
  return {
    type: 'mpReach',
    ...(flags !== undefined ? { flags } : {}),
    afi,
    safi,
    nextHop,
    ...(linkLocalNextHop !== undefined ? { linkLocalNextHop } : {}),
    nlri,
  };
}

function decodeMpUnreach(value: Buffer, raw: Buffer, flags: number | undefined): PathAttribute {
  const fault = (d: string): BGPProtocolError => updateError(UpdateSubcode.OptionalAttributeError, `MP_UNREACH_NLRI: ${d}`, raw);
  const r = new Reader(value, fault);
  const afi = r.u16('AFI');
  const safi = r.u8('SAFI');
  const family = ipFamilyOf({ afi, safi });
  if (family === undefined) return { type: 'unknown', typeCode: AttrType.MPUnreachNLRI, flags: flags ?? standard.mpUnreach.flags, value: Buffer.from(value) };
  return { type: 'mpUnreach', ...(flags !== undefined ? { flags } : {}), afi, safi, withdrawn: readPrefixes(r, family, fault) };
}

/**
 * Decodes one attribute's value. `raw` is the whole attribute (header included), the
 * Data of any NOTIFICATION. Throws only where RFC 7606 keeps the session reset.
 */
export function decodeAttribute(flags: number, typeCode: number, value: Buffer, raw: Buffer, ctx: CodecContext): AttributeOutcome {
  const known = byCode.get(typeCode);
  const implicitExt = value.length > 255 ? AttrFlag.ExtendedLength : 0;
  if (!known) {
    // RFC 4271 §6.3: an unrecognized attribute with the Optional bit clear.
    if ((flags & O) === 0) throw updateError(UpdateSubcode.UnrecognizedWellKnownAttribute, `attribute type ${typeCode}`, raw);
    return { kind: 'attribute', attribute: { type: 'unknown', typeCode, flags: flags & ~implicitExt, value: Buffer.from(value) } };
  }
  const std = standard[known];
  const kept = (flags & ~implicitExt) === std.flags ? undefined : flags & ~implicitExt;
  const f = kept !== undefined ? { flags: kept } : {};
  const len = value.length;
  const name = `attribute ${typeCode}`;

  if (known === 'localPref' && ctx.internal === false) return discard(0, 'LOCAL_PREF from an external peer (RFC 7606 §7.5)');
  if (known === 'as4Path' || known === 'as4Aggregator') {
    // RFC 6793 §3: between two 4-octet speakers these attributes mean nothing.
    if (ctx.fourOctetAS) return discard(0, `${known === 'as4Path' ? 'AS4_PATH' : 'AS4_AGGREGATOR'} from a 4-octet AS speaker`);
  }
  if ((flags & (O | T)) !== std.flags) {
    const reason = `${name}: flags 0x${flags.toString(16)} conflict with 0x${std.flags.toString(16)}`;
    if (known === 'mpReach' || known === 'mpUnreach') throw updateError(UpdateSubcode.AttributeFlagsError, reason, raw);
    if (known === 'as4Path' || known === 'as4Aggregator') return discard(UpdateSubcode.AttributeFlagsError, reason); // RFC 6793 §6
    return withdraw(UpdateSubcode.AttributeFlagsError, reason); // RFC 7606 §3(c)
  }

  const lengthFault = (expected: string): string => `${name}: length ${len}, expected ${expected}`;
  switch (known) {
    case 'origin': {
      if (len !== 1) return withdraw(UpdateSubcode.AttributeLengthError, lengthFault('1')); // RFC 7606 §7.1
      const origin = origins[value[0] as number];
      if (!origin) return withdraw(UpdateSubcode.InvalidOrigin, `ORIGIN value ${value[0]}`);
      return { kind: 'attribute', attribute: { type: 'origin', ...f, origin } };
    }
    case 'asPath': {
      const segments = parseSegments(value, ctx.fourOctetAS ? 4 : 2);
      if (typeof segments === 'string') return withdraw(UpdateSubcode.MalformedASPath, `AS_PATH: ${segments}`); // RFC 7606 §7.2
      return { kind: 'attribute', attribute: { type: 'asPath', ...f, segments } };
    }
    case 'as4Path': {
      const segments = parseSegments(value, 4);
      if (typeof segments === 'string') return discard(UpdateSubcode.MalformedASPath, `AS4_PATH: ${segments}`); // RFC 6793 §6
      return { kind: 'attribute', attribute: { type: 'as4Path', ...f, segments } };
    }
    case 'nextHop': {
      if (len !== 4) return withdraw(UpdateSubcode.AttributeLengthError, lengthFault('4')); // RFC 7606 §7.3
      const v = value.readUInt32BE(0);
      // RFC 4271 §6.3: not a valid host address; log and ignore the route, no NOTIFICATION.
      if (v === 0 || v >= 0xe0000000) return withdraw(UpdateSubcode.InvalidNextHop, `NEXT_HOP ${ipv4(value)}`);
      return { kind: 'attribute', attribute: { type: 'nextHop', ...f, nextHop: ipv4(value) } };
    }
    case 'med':
      if (len !== 4) return withdraw(UpdateSubcode.AttributeLengthError, lengthFault('4')); // RFC 7606 §7.4
      return { kind: 'attribute', attribute: { type: 'med', ...f, med: value.readUInt32BE(0) } };
    case 'localPref':
      if (len !== 4) return withdraw(UpdateSubcode.AttributeLengthError, lengthFault('4')); // RFC 7606 §7.5
      return { kind: 'attribute', attribute: { type: 'localPref', ...f, localPref: value.readUInt32BE(0) } };
    case 'atomicAggregate':
      if (len !== 0) return discard(UpdateSubcode.AttributeLengthError, lengthFault('0')); // RFC 7606 §7.6
      return { kind: 'attribute', attribute: { type: 'atomicAggregate', ...f } };
    case 'aggregator': {
      const expected = ctx.fourOctetAS ? 8 : 6;
      if (len !== expected) return discard(UpdateSubcode.AttributeLengthError, lengthFault(String(expected))); // RFC 7606 §7.7
      const asn = ctx.fourOctetAS ? value.readUInt32BE(0) : value.readUInt16BE(0);
      return { kind: 'attribute', attribute: { type: 'aggregator', ...f, asn, address: ipv4(value, expected - 4) } };
    }
    case 'as4Aggregator':
      if (len !== 8) return discard(UpdateSubcode.AttributeLengthError, lengthFault('8')); // RFC 6793 §6
      return { kind: 'attribute', attribute: { type: 'as4Aggregator', ...f, asn: value.readUInt32BE(0), address: ipv4(value, 4) } };
    case 'communities':
      if (len === 0 || len % 4 !== 0) return withdraw(UpdateSubcode.AttributeLengthError, lengthFault('a non-zero multiple of 4')); // RFC 7606 §7.8
      return { kind: 'attribute', attribute: { type: 'communities', ...f, communities: u32s(value) } };
    case 'originatorId':
      if (len !== 4) return withdraw(UpdateSubcode.AttributeLengthError, lengthFault('4')); // RFC 7606 §7.9
      return { kind: 'attribute', attribute: { type: 'originatorId', ...f, originatorId: ipv4(value) } };
    case 'clusterList': {
      if (len === 0 || len % 4 !== 0) return withdraw(UpdateSubcode.AttributeLengthError, lengthFault('a non-zero multiple of 4')); // RFC 7606 §7.10
      const clusterIds: string[] = [];
      for (let i = 0; i < len; i += 4) clusterIds.push(ipv4(value, i));
      return { kind: 'attribute', attribute: { type: 'clusterList', ...f, clusterIds } };
    }
    case 'largeCommunities': {
      if (len === 0 || len % 12 !== 0) return withdraw(UpdateSubcode.AttributeLengthError, lengthFault('a non-zero multiple of 12')); // RFC 8092 §6
      const all = u32s(value);
      const communities: LargeCommunity[] = [];
      for (let i = 0; i < all.length; i += 3) communities.push([all[i] as number, all[i + 1] as number, all[i + 2] as number]);
      return { kind: 'attribute', attribute: { type: 'largeCommunities', ...f, communities } };
    }
    case 'mpReach':
      return { kind: 'attribute', attribute: decodeMpReach(value, raw, kept) };
    case 'mpUnreach':
      return { kind: 'attribute', attribute: decodeMpUnreach(value, raw, kept) };
  }
}

function checkU32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new BGPEncodeError(`${what} ${v} is not a 32-bit unsigned integer`);
  return v;
}

function writeValue(w: Writer, a: PathAttribute, ctx: CodecContext): void {
  switch (a.type) {
    case 'origin':
      w.u8(origins.indexOf(a.origin));
      return;
    case 'asPath':
      writeSegments(w, a.segments, ctx.fourOctetAS ? 4 : 2);
      return;
    case 'as4Path':
      writeSegments(w, a.segments, 4);
      return;
    case 'nextHop':
      writeAddress(w, a.nextHop, 4);
      return;
    case 'med':
      w.u32(checkU32(a.med, 'MED'));
      return;
    case 'localPref':
      w.u32(checkU32(a.localPref, 'LOCAL_PREF'));
      return;
    case 'atomicAggregate':
      return;
    case 'aggregator':
      if (ctx.fourOctetAS) w.u32(checkU32(a.asn, 'AGGREGATOR AS'));
      else if (a.asn > 0xffff) throw new BGPEncodeError(`AGGREGATOR AS ${a.asn} needs 4 octets; send AS_TRANS (${AS_TRANS}) and AS4_AGGREGATOR`);
      else w.u16(a.asn);
      writeAddress(w, a.address, 4);
      return;
    case 'as4Aggregator':
      w.u32(checkU32(a.asn, 'AS4_AGGREGATOR AS'));
      writeAddress(w, a.address, 4);
      return;
    case 'communities':
      for (const c of a.communities) w.u32(checkU32(c, 'community'));
      return;
    case 'originatorId':
      writeAddress(w, a.originatorId, 4);
      return;
    case 'clusterList':
      for (const id of a.clusterIds) writeAddress(w, id, 4);
      return;
    case 'largeCommunities':
      for (const c of a.communities) for (const part of c) w.u32(checkU32(part, 'large community part'));
      return;
    case 'mpReach': {
      const family = ipFamilyOf(a);
      if (family === undefined) throw new BGPEncodeError(`MP_REACH_NLRI for AFI ${a.afi} SAFI ${a.safi}: send it as an unknown attribute`);
      w.u16(a.afi).u8(a.safi);
      const at = w.reserve(1);
      const start = w.length;
      const nhFamily: Family = a.nextHop.includes(':') ? 6 : 4;
      if (family === 6 && nhFamily === 4) throw new BGPEncodeError(`IPv6 NLRI with IPv4 next hop ${a.nextHop}`);
      writeAddress(w, a.nextHop, nhFamily);
      if (a.linkLocalNextHop !== undefined) {
        if (nhFamily !== 6) throw new BGPEncodeError('a link-local next hop needs an IPv6 global next hop');
        writeAddress(w, a.linkLocalNextHop, 6);
      }
      w.patchU8(at, w.length - start);
      w.u8(0); // RFC 4760 §3: reserved
      for (const p of a.nlri) {
        if (p.family !== family) throw new BGPEncodeError(`IPv${p.family} prefix in an IPv${family} MP_REACH_NLRI`);
        writePrefix(w, p);
      }
      return;
    }
    case 'mpUnreach': {
      const family = ipFamilyOf(a);
      if (family === undefined) throw new BGPEncodeError(`MP_UNREACH_NLRI for AFI ${a.afi} SAFI ${a.safi}: send it as an unknown attribute`);
      w.u16(a.afi).u8(a.safi);
      for (const p of a.withdrawn) {
        if (p.family !== family) throw new BGPEncodeError(`IPv${p.family} prefix in an IPv${family} MP_UNREACH_NLRI`);
        writePrefix(w, p);
      }
      return;
    }
    case 'unknown':
      w.bytes(a.value);
      return;
  }
}

/** Writes one attribute: flags, type, 1- or 2-octet length (Extended Length when > 255), value. */
export function writeAttribute(w: Writer, a: PathAttribute, ctx: CodecContext): void {
  const vw = new Writer(64);
  writeValue(vw, a, ctx);
  const value = vw.finish();
  if (value.length > 0xffff) throw new BGPEncodeError(`attribute ${attributeTypeCode(a)} is ${value.length} octets`);
  let flags = a.flags ?? (a.type === 'unknown' ? 0 : standard[a.type].flags);
  if (value.length > 255) flags |= AttrFlag.ExtendedLength;
  w.u8(flags).u8(attributeTypeCode(a));
  if (flags & AttrFlag.ExtendedLength) w.u16(value.length);
  else w.u8(value.length);
  w.bytes(value);
}

export function findAttribute<T extends PathAttribute['type']>(
  attrs: readonly PathAttribute[],
  type: T,
): Extract<PathAttribute, { type: T }> | undefined {
  return attrs.find((a) => a.type === type) as Extract<PathAttribute, { type: T }> | undefined;
}

/**
 * The AS path the route really carries: AS_PATH, or for 2-octet sessions AS_PATH merged
 * with AS4_PATH (RFC 6793 §4.2.3) unless an AGGREGATOR with a real 2-octet AS says the
 * AS4 information is stale.
 */
export function effectiveASPath(attrs: readonly PathAttribute[]): ASPathSegment[] {
  const asPath = findAttribute(attrs, 'asPath')?.segments ?? [];
  const as4Path = findAttribute(attrs, 'as4Path');
  const aggregator = findAttribute(attrs, 'aggregator');
  if (!as4Path || (aggregator && aggregator.asn !== AS_TRANS)) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] }));
  return mergeAS4Path(asPath, as4Path.segments);
}
