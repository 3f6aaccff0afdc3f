// UPDATEs straight to octets, for the Adj-RIB-Out: its prefixes are held as their NLRI
// octets (prefix.ts Nlri), so a message is the header, the attributes encoded once per
// set, and a run of NLRI strings joined; no object per prefix, no address parsed or
// formatted. 10,000 prefixes go out within a few milliseconds of Established, a cold
// process included. The octets are exactly those encodeMessage gives for the messages of
// update-builder.ts (its tests compare the two).
import { AttrFlag, AttrType, writeAttribute, type PathAttribute } from './attributes.js';
import type { CodecContext } from './context.js';
import { HEADER_LENGTH } from './context.js';
import { BGPEncodeError } from './errors.js';
import { AFI, SAFI } from './family.js';
import type { Nlri } from './prefix.js';
import { ipv4Attributes, ipv4Room, ipv6Attributes, ipv6Room, withdrawRoom, type RouteAttributes } from './update-builder.js';
import { Writer } from './writer.js';

const UPDATE = 2;

function encodeAttributes(attrs: readonly PathAttribute[], ctx: CodecContext): Buffer {
  const w = new Writer(128);
  for (const a of attrs) writeAttribute(w, a, ctx);
  return w.finish();
}

/** Consecutive runs of `nlri` whose octets fit in `room`: [start, end, octets]. */
function runs(nlri: readonly Nlri[], room: number): [number, number, number][] {
  if (room <= 0) throw new BGPEncodeError('attributes leave no room for prefixes');
  const out: [number, number, number][] = [];
  let start = 0;
  let used = 0;
  for (let i = 0; i < nlri.length; i++) {
    const n = nlri[i]!.length;
    if (used + n > room && i > start) {
      out.push([start, i, used]);
      start = i;
      used = 0;
    }
    used += n;
  }
  if (nlri.length > start) out.push([start, nlri.length, used]);
  return out;
}

/** An UPDATE of `bodyLength` octets after the header, with the header written; `at` is where the body starts. */
function message(bodyLength: number, ctx: CodecContext): Buffer {
  const total = HEADER_LENGTH + bodyLength;
  if (total > ctx.maxMessageSize) throw new BGPEncodeError(`update message of ${total} octets exceeds ${ctx.maxMessageSize}`);
  const b = Buffer.allocUnsafe(total);
  b.fill(0xff, 0, 16);
  b.writeUInt16BE(total, 16);
  b[18] = UPDATE;
  return b;
}

/** Writes an MP_(UN)REACH_NLRI header for a value of `length` octets at `at`; returns the offset after it. */
function mpHeader(b: Buffer, at: number, type: number, length: number): number {
  if (length > 0xffff) throw new BGPEncodeError(`attribute ${type} is ${length} octets`);
  const extended = length > 255;
  b[at] = AttrFlag.Optional | (extended ? AttrFlag.ExtendedLength : 0);
  b[at + 1] = type;
  if (extended) {
    b.writeUInt16BE(length, at + 2);
    return at + 4;
  }
  b[at + 2] = length;
  return at + 3;
}

/** Announce `nlri` of one family with `attrs`, in as few UPDATEs as fit. */
export function packAnnouncements(family: 4 | 6, nlri: readonly Nlri[], attrs: RouteAttributes, ctx: CodecContext): Buffer[] {
  if (nlri.length === 0) return [];
  const out: Buffer[] = [];
  if (family === 4) {
    const list = ipv4Attributes(attrs, ctx);
    const encoded = encodeAttributes(list, ctx);
    for (const [start, end, octets] of runs(nlri, ipv4Room(list, ctx))) {
      const b = message(4 + encoded.length + octets, ctx);
      b.writeUInt16BE(0, 19);
      b.writeUInt16BE(encoded.length, 21);
      encoded.copy(b, 23);
      b.write(nlri.slice(start, end).join(''), 23 + encoded.length, 'latin1');
      out.push(b);
    }
    return out;
  }
  const a = ipv6Attributes(attrs, ctx);
  const before = encodeAttributes(a.before, ctx);
  const after = encodeAttributes(a.after, ctx);
  // MP_REACH_NLRI without prefixes: a short value, so a 3-octet header to strip.
  const fixed = encodeAttributes([a.mpReach], ctx).subarray(3);
  for (const [start, end, octets] of runs(nlri, ipv6Room(a, ctx))) {
    const mpLength = fixed.length + octets;
    const attrsLength = before.length + (mpLength > 255 ? 4 : 3) + mpLength + after.length;
    const b = message(4 + attrsLength, ctx);
    b.writeUInt16BE(0, 19);
    b.writeUInt16BE(attrsLength, 21);
    let at = 23 + before.copy(b, 23);
    at = mpHeader(b, at, AttrType.MPReachNLRI, mpLength);
    at += fixed.copy(b, at);
    at += b.write(nlri.slice(start, end).join(''), at, 'latin1');
    after.copy(b, at);
    out.push(b);
  }
  return out;
}

/** Withdraw `nlri` of one family, in as few UPDATEs as fit. */
export function packWithdrawals(family: 4 | 6, nlri: readonly Nlri[], ctx: CodecContext): Buffer[] {
  if (nlri.length === 0) return [];
  const out: Buffer[] = [];
  for (const [start, end, octets] of runs(nlri, withdrawRoom(family, ctx))) {
    const text = nlri.slice(start, end).join('');
    if (family === 4) {
      const b = message(4 + octets, ctx);
      b.writeUInt16BE(octets, 19);
      b.write(text, 21, 'latin1');
      b.writeUInt16BE(0, 21 + octets);
      out.push(b);
      continue;
    }
    const mpLength = 3 + octets;
    const attrsLength = (mpLength > 255 ? 4 : 3) + mpLength;
    const b = message(4 + attrsLength, ctx);
    b.writeUInt16BE(0, 19);
    b.writeUInt16BE(attrsLength, 21);
    let at = mpHeader(b, 23, AttrType.MPUnreachNLRI, mpLength);
    b.writeUInt16BE(AFI.IPv6, at);
    b[at + 2] = SAFI.Unicast;
    at += 3;
    b.write(text, at, 'latin1');
    out.push(b);
  }
  return out;
}
