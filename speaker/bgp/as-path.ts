// AS_PATH and AS4_PATH (RFC 4271 §4.3, RFC 5065 confederation segments, RFC 6793 for
// 4-octet AS numbers across 2-octet sessions).
import { BGPEncodeError } from './errors.js';
import { AS_TRANS } from './open.js';
import type { Writer } from './writer.js';

export type SegmentType = 'set' | 'sequence' | 'confedSequence' | 'confedSet';

export interface ASPathSegment {
  readonly type: SegmentType;
  readonly asns: readonly number[];
}

const segmentCodes: Record<SegmentType, number> = { set: 1, sequence: 2, confedSequence: 3, confedSet: 4 };
const segmentTypes: Record<number, SegmentType> = { 1: 'set', 2: 'sequence', 3: 'confedSequence', 4: 'confedSet' };

/**
 * Parses AS_PATH segments, or returns why they are malformed (RFC 7606 §7.2: unknown
 * segment type, zero segment length, overrun, or a lone trailing octet).
 */
export function parseSegments(value: Buffer, asSize: 2 | 4): ASPathSegment[] | string {
  const segments: ASPathSegment[] = [];
  let pos = 0;
  while (pos < value.length) {
    if (value.length - pos < 2) return 'segment header truncated';
    const type = segmentTypes[value[pos] as number];
    const count = value[pos + 1] as number;
    pos += 2;
    if (!type) return `unknown segment type ${value[pos - 2]}`;
    if (count === 0) return 'segment of length zero';
    if (value.length - pos < count * asSize) return `segment of ${count} AS numbers overruns the attribute`;
    const asns: number[] = new Array(count);
    for (let i = 0; i < count; i++) {
      asns[i] = asSize === 4 ? value.readUInt32BE(pos) : value.readUInt16BE(pos);
      pos += asSize;
    }
    segments.push({ type, asns });
  }
  return segments;
}

export function writeSegments(w: Writer, segments: readonly ASPathSegment[], asSize: 2 | 4): void {
  for (const s of segments) {
    if (s.asns.length === 0 || s.asns.length > 255) {
      throw new BGPEncodeError(`AS_PATH segment of ${s.asns.length} AS numbers (must be 1..255)`);
    }
    w.u8(segmentCodes[s.type]).u8(s.asns.length);
    for (const asn of s.asns) {
      if (asSize === 2) {
        if (asn > 0xffff) throw new BGPEncodeError(`AS ${asn} needs 4 octets; send AS_TRANS with AS4_PATH (RFC 6793 §4.2.2)`);
        w.u16(asn);
      } else {
        w.u32(asn);
      }
    }
  }
}

/** An AS_SEQUENCE path from a list of AS numbers, split into segments of at most 255. */
export function sequence(asns: readonly number[]): ASPathSegment[] {
  const out: ASPathSegment[] = [];
  for (let i = 0; i < asns.length; i += 255) out.push({ type: 'sequence', asns: asns.slice(i, i + 255) });
  return out;
}

/** RFC 4271 §9.1.2.2 path length: a set counts one, confederation segments nothing. */
export function pathLength(segments: readonly ASPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === 'sequence') n += s.asns.length;
    else if (s.type === 'set') n += 1;
  }
  return n;
}

function needsFourOctets(segments: readonly ASPathSegment[]): boolean {
  return segments.some((s) => s.asns.some((a) => a > 0xffff));
}

/**
 * RFC 6793 §4.2.2: the AS_PATH a 4-octet speaker sends to a 2-octet peer (large AS
 * numbers replaced by AS_TRANS) and the AS4_PATH carrying the real path, which is
 * omitted when every AS fits in 2 octets and never holds confederation segments.
 */
export function toTwoOctetPath(segments: readonly ASPathSegment[]): {
  asPath: ASPathSegment[];
  as4Path?: ASPathSegment[];
} {
  const asPath = segments.map((s) => ({ type: s.type, asns: s.asns.map((a) => (a > 0xffff ? AS_TRANS : a)) }));
  if (!needsFourOctets(segments)) return { asPath };
  const as4Path = segments.filter((s) => s.type === 'set' || s.type === 'sequence').map((s) => ({ type: s.type, asns: [...s.asns] }));
  return { asPath, as4Path };
}

/**
 * RFC 6793 §4.2.3: the real AS path received from a 2-octet speaker. AS4_PATH is ignored
 * when it is longer than AS_PATH; otherwise the leading part of AS_PATH that AS4_PATH
 * lacks (added by 2-octet speakers on the way) is prepended to it.
 */
export function mergeAS4Path(asPath: readonly ASPathSegment[], as4Path: readonly ASPathSegment[]): ASPathSegment[] {
  const as4 = as4Path.filter((s) => s.type === 'set' || s.type === 'sequence');
  let keep = pathLength(asPath) - pathLength(as4);
  if (keep < 0) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] }));
  const out: ASPathSegment[] = [];
  for (const s of asPath) {
    if (keep === 0) break;
    if (s.type === 'confedSequence' || s.type === 'confedSet') {
      out.push({ type: s.type, asns: [...s.asns] });
    } else if (s.type === 'set') {
      out.push({ type: s.type, asns: [...s.asns] });
      keep -= 1;
    } else {
      const take = Math.min(keep, s.asns.length);
      out.push({ type: 'sequence', asns: s.asns.slice(0, take) });
      keep -= take;
    }
  }
  return [...out, ...as4.map((s) => ({ type: s.type, asns: [...s.asns] }))];
}
