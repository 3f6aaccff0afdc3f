// UPDATE (RFC 4271 §4.3) with RFC 7606 revised error handling: a malformed attribute
// that the revision covers yields an UPDATE marked treat-as-withdraw (or the attribute
// dropped) instead of a NOTIFICATION; faults it leaves fatal throw BGPProtocolError.
import { AttrType, decodeAttribute, findAttribute, writeAttribute, type PathAttribute } from './attributes.js';
import type { CodecContext } from './context.js';
import { BGPEncodeError, BGPProtocolError, ErrorCode, UpdateSubcode } from './errors.js';
import { IPV4_UNICAST, ipFamilyOf, sameFamily, type AddressFamily } from './family.js';
import { readPrefixes, writePrefix, type Prefix } from './prefix.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

/** Why part or all of an UPDATE was not taken at face value. */
export interface UpdateFault {
  /** The UPDATE Message Error subcode RFC 4271 alone would have sent (0: none). */
  readonly subcode: number;
  readonly typeCode?: number;
  readonly reason: string;
}

export interface UpdateMessage {
  readonly type: 'update';
  /** IPv4 prefixes of the Withdrawn Routes field. */
  readonly withdrawn: readonly Prefix[];
  readonly attributes: readonly PathAttribute[];
  /** IPv4 prefixes of the NLRI field. */
  readonly nlri: readonly Prefix[];
  /**
   * RFC 7606 §2 treat-as-withdraw: every prefix this UPDATE announces (NLRI field and
   * MP_REACH_NLRI) must be handled as withdrawn. Absent when the UPDATE is sound.
   */
  readonly treatAsWithdraw?: UpdateFault;
  /** RFC 7606 §2 attribute discard: attributes left out of `attributes`. */
  readonly discarded?: readonly UpdateFault[];
}

function updateError(subcode: number, detail: string, data?: Buffer): BGPProtocolError {
  return new BGPProtocolError(ErrorCode.UpdateMessage, subcode, detail, data);
}

/** Decodes an UPDATE body (the octets after the 19-octet header). */
export function decodeUpdate(body: Buffer, ctx: CodecContext): UpdateMessage {
  const r = new Reader(body, (d) => updateError(UpdateSubcode.MalformedAttributeList, d));
  const networkFault = (d: string): BGPProtocolError => updateError(UpdateSubcode.InvalidNetworkField, d);

  const withdrawnLength = r.u16('withdrawn routes length');
  // RFC 4271 §6.3: the two length fields must fit in the message.
  if (withdrawnLength + 2 > r.remaining) {
    throw updateError(UpdateSubcode.MalformedAttributeList, `withdrawn routes length ${withdrawnLength} exceeds the message`);
  }
  const withdrawn = readPrefixes(r.sub(withdrawnLength, 'withdrawn routes'), 4, networkFault);
  const attributesLength = r.u16('total path attribute length');
  if (attributesLength > r.remaining) {
    throw updateError(UpdateSubcode.MalformedAttributeList, `total path attribute length ${attributesLength} exceeds the message`);
  }
  const ar = r.sub(attributesLength, 'path attributes');
  const nlri = readPrefixes(r, 4, networkFault);

  const attributes: PathAttribute[] = [];
  const discarded: UpdateFault[] = [];
  let treatAsWithdraw: UpdateFault | undefined;
  const markWithdraw = (f: UpdateFault): void => {
    treatAsWithdraw ??= f;
  };
  const seen = new Set<number>();

  while (ar.remaining > 0) {
    const start = ar.offset;
    // RFC 7606 §4: an attribute running past Total Attribute Length, or too few octets
    // for a header, is treat-as-withdraw; the NLRI is still found by that total.
    if (ar.remaining < 3) {
      markWithdraw({ subcode: UpdateSubcode.MalformedAttributeList, reason: `${ar.remaining} stray octets after the last attribute` });
      break;
    }
    const flags = ar.u8();
    const typeCode = ar.u8();
    const extended = (flags & 0x10) !== 0;
    if (extended && ar.remaining < 2) {
      markWithdraw({ subcode: UpdateSubcode.MalformedAttributeList, typeCode, reason: `attribute ${typeCode}: header truncated` });
      break;
    }
    const length = extended ? ar.u16() : ar.u8();
    if (length > ar.remaining) {
      markWithdraw({ subcode: UpdateSubcode.AttributeLengthError, typeCode, reason: `attribute ${typeCode}: length ${length} overruns the attributes by ${length - ar.remaining}` });
      break;
    }
    const value = ar.bytes(length);
    const raw = body.subarray(start, ar.offset);
    if (seen.has(typeCode)) {
      // RFC 7606 §3(g).
      if (typeCode === AttrType.MPReachNLRI || typeCode === AttrType.MPUnreachNLRI) {
        throw updateError(UpdateSubcode.MalformedAttributeList, `attribute ${typeCode} appears twice`);
      }
      discarded.push({ subcode: UpdateSubcode.MalformedAttributeList, typeCode, reason: `attribute ${typeCode} repeated` });
      continue;
    }
    seen.add(typeCode);
    const outcome = decodeAttribute(flags, typeCode, value, raw, ctx);
    if (outcome.kind === 'attribute') attributes.push(outcome.attribute);
    else if (outcome.kind === 'discard') discarded.push({ subcode: outcome.subcode, typeCode, reason: outcome.reason });
    else markWithdraw({ subcode: outcome.subcode, typeCode, reason: outcome.reason });
  }

  // RFC 7606 §3(d): a missing well-known mandatory attribute is treat-as-withdraw.
  // ORIGIN and AS_PATH go with any reachable NLRI, NEXT_HOP with the NLRI field (RFC 4760 §3).
  const mpReach = findAttribute(attributes, 'mpReach');
  if (nlri.length > 0 || (mpReach && mpReach.nlri.length > 0)) {
    for (const [code, name] of [
      [AttrType.Origin, 'ORIGIN'],
      [AttrType.ASPath, 'AS_PATH'],
    ] as const) {
      if (!seen.has(code)) markWithdraw({ subcode: UpdateSubcode.MissingWellKnownAttribute, typeCode: code, reason: `${name} missing` });
    }
  }
  if (nlri.length > 0 && !seen.has(AttrType.NextHop)) {
    markWithdraw({ subcode: UpdateSubcode.MissingWellKnownAttribute, typeCode: AttrType.NextHop, reason: 'NEXT_HOP missing' });
  }

  return {
    type: 'update',
    withdrawn,
    attributes,
    nlri,
    ...(treatAsWithdraw ? { treatAsWithdraw } : {}),
    ...(discarded.length > 0 ? { discarded } : {}),
  };
}

function writeIPv4Prefixes(w: Writer, prefixes: readonly Prefix[], field: string): void {
  for (const p of prefixes) {
    if (p.family !== 4) throw new BGPEncodeError(`IPv6 prefix ${p.prefix}/${p.length} in the ${field} field; use MP_(UN)REACH_NLRI`);
    writePrefix(w, p);
  }
}

/** Writes an UPDATE body. treatAsWithdraw and discarded are receive-side notes, not sent. */
export function writeUpdate(w: Writer, m: UpdateMessage, ctx: CodecContext): void {
  const wAt = w.reserve(2);
  let start = w.length;
  writeIPv4Prefixes(w, m.withdrawn, 'Withdrawn Routes');
  w.patchU16(wAt, w.length - start);
  const aAt = w.reserve(2);
  start = w.length;
  for (const a of m.attributes) writeAttribute(w, a, ctx);
  w.patchU16(aAt, w.length - start);
  writeIPv4Prefixes(w, m.nlri, 'NLRI');
}

/** Prefixes this UPDATE announces, or none when it must be treated as a withdraw. */
export function announcedPrefixes(m: UpdateMessage): Prefix[] {
  if (m.treatAsWithdraw) return [];
  return [...m.nlri, ...(findAttribute(m.attributes, 'mpReach')?.nlri ?? [])];
}

/** Prefixes this UPDATE withdraws, including announced ones under treat-as-withdraw. */
export function withdrawnPrefixes(m: UpdateMessage): Prefix[] {
  const out = [...m.withdrawn, ...(findAttribute(m.attributes, 'mpUnreach')?.withdrawn ?? [])];
  if (m.treatAsWithdraw) out.push(...m.nlri, ...(findAttribute(m.attributes, 'mpReach')?.nlri ?? []));
  return out;
}

/**
 * RFC 4724 §2 End-of-RIB: an UPDATE with nothing in it (IPv4 unicast), or one holding
 * only an empty MP_UNREACH_NLRI (that family). Returns the family, else undefined.
 */
export function endOfRibFamily(m: UpdateMessage): AddressFamily | undefined {
  if (m.withdrawn.length > 0 || m.nlri.length > 0 || m.treatAsWithdraw) return undefined;
  if (m.attributes.length === 0) return IPV4_UNICAST;
  if (m.attributes.length !== 1) return undefined;
  const a = m.attributes[0] as PathAttribute;
  if (a.type === 'mpUnreach' && a.withdrawn.length === 0) return { afi: a.afi, safi: a.safi };
  if (a.type === 'unknown' && a.typeCode === AttrType.MPUnreachNLRI && a.value.length === 3) {
    return { afi: a.value.readUInt16BE(0), safi: a.value[2] as number };
  }
  return undefined;
}

/** The End-of-RIB marker for a family (RFC 4724 §2). */
export function endOfRib(family: AddressFamily): UpdateMessage {
  if (sameFamily(family, IPV4_UNICAST)) return { type: 'update', withdrawn: [], attributes: [], nlri: [] };
  const attribute: PathAttribute =
    ipFamilyOf(family) !== undefined
      ? { type: 'mpUnreach', afi: family.afi, safi: family.safi, withdrawn: [] }
      : { type: 'unknown', typeCode: AttrType.MPUnreachNLRI, flags: 0x80, value: Buffer.from([family.afi >> 8, family.afi & 0xff, family.safi]) };
  return { type: 'update', withdrawn: [], attributes: [attribute], nlri: [] };
}
