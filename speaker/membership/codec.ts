// The membership wire format: one UDP datagram per message, authenticated with
// HMAC-SHA256 (RFC 2104, FIPS 180-4) under the key of the `herald-memberlist` Secret.
// Pure: bytes in, a message or a typed drop reason out. decode never throws; encode
// throws only MembershipError, for a message no speaker should ever build.
//
//   offset  size  field
//        0     2  magic "HM" (0x48 0x4d)
//        2     1  version (1)
//        3     1  type: 1 alive, 2 leave
//        4     2  interval: ms until the sender's next alive to this receiver, at most
//                 (the receiver's detection time is a multiple of it, as BFD's
//                 Detection Time is of the remote's transmit interval, RFC 5880 §6.8.4)
//        6     2  hold (leave only): ms the receivers keep the sender's node in every
//                 election while its node stays up, for the speaker's next boot to come
//                 back to (0: take over at once); zero in an alive, ignored there.
//                 Speakers built before the field existed read it as reserved and take
//                 over at once: a cluster mid-upgrade still fails over.
//        8     8  boot time: the sender's wall clock (ms since the epoch) when it started
//       16     4  boot nonce: random per process start
//       20     8  sequence number: strictly increasing per boot, over all destinations
//       28     8  sent at: the sender's wall clock (ms since the epoch)
//       36     1  node name length n (1..253)
//       37     n  node name (a DNS-1123 subdomain, ASCII)
//     37+n    32  HMAC-SHA256 over bytes 0 .. 37+n
//
// All integers are big-endian; 64-bit fields hold non-negative safe integers (< 2^53).
// A message is 70 + n bytes: ~90 bytes for a typical node name, one small datagram.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const MAGIC = 0x484d;
export const WIRE_VERSION = 1;
export const HEADER_BYTES = 37;
export const MAC_BYTES = 32;
export const MAX_NAME_BYTES = 253;
export const MIN_INTERVAL_MS = 10;
export const MAX_INTERVAL_MS = 60_000;
/** The longest hold a leave can ask for (16 bits of ms). */
export const MAX_HOLD_MS = 0xffff;

export type MessageType = 'alive' | 'leave';

/** One process lifetime of a speaker; a restart is a new boot. */
export interface BootId {
  /** Wall clock (ms since the epoch) at process start: orders boots of one node. */
  readonly time: number;
  /** Random, so two boots in the same millisecond still differ. */
  readonly nonce: number;
}

export interface Message {
  readonly type: MessageType;
  /** The sender's node name. */
  readonly node: string;
  readonly boot: BootId;
  readonly seq: number;
  /** The sender's wall clock at sending, ms since the epoch. */
  readonly sentAt: number;
  /** The longest the sender waits before its next alive, ms. */
  readonly interval: number;
  /**
   * `leave` only: how long the receivers keep the sender's node in the elections while
   * its node stays up (a speaker restart; core.ts, "Restarts"), ms. Absent or 0: take
   * its IPs over at once (make-before-break).
   */
  readonly hold?: number;
}

/** Why a datagram was dropped before it reached the membership state machine. */
export type CodecDropReason = 'truncated' | 'badMagic' | 'badVersion' | 'badLength' | 'badMac' | 'malformed';

export type DecodeResult =
  | { ok: true; message: Message; /** index into the keys passed to decode */ keyIndex: number }
  | { ok: false; reason: CodecDropReason };

/** The one error type of the membership package; `code` is stable. */
export class MembershipError extends Error {
  constructor(
    readonly code: 'badMessage' | 'badKey' | 'badOptions' | 'socket',
    message: string,
  ) {
    super(message);
    this.name = 'MembershipError';
  }
}

const TYPE_CODES: Record<MessageType, number> = { alive: 1, leave: 2 };
const TYPE_NAMES: Record<number, MessageType> = { 1: 'alive', 2: 'leave' };
const TWO_32 = 0x1_0000_0000;
const NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

export function validNodeName(name: string): boolean {
  return name.length <= MAX_NAME_BYTES && NAME.test(name);
}

function writeU64(buf: Buffer, offset: number, v: number): void {
  buf.writeUInt32BE(Math.floor(v / TWO_32), offset);
  buf.writeUInt32BE(v % TWO_32, offset + 4);
}

/** The value, or -1 when it is not a safe integer. */
function readU64(buf: Buffer, offset: number): number {
  const hi = buf.readUInt32BE(offset);
  if (hi >= 1 << 21) return -1;
  return hi * TWO_32 + buf.readUInt32BE(offset + 4);
}

function mac(key: Uint8Array, bytes: Uint8Array): Buffer {
  return createHmac('sha256', key).update(bytes).digest();
}

const safeUint = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

export function encode(m: Message, key: Uint8Array): Buffer {
  if (key.length === 0) throw new MembershipError('badKey', 'empty membership key');
  if (!validNodeName(m.node)) throw new MembershipError('badMessage', `invalid node name ${JSON.stringify(m.node)}`);
  if (!(m.type in TYPE_CODES)) throw new MembershipError('badMessage', `unknown message type ${String(m.type)}`);
  if (!Number.isInteger(m.interval) || m.interval < MIN_INTERVAL_MS || m.interval > MAX_INTERVAL_MS) {
    throw new MembershipError('badMessage', `interval ${m.interval} ms out of ${MIN_INTERVAL_MS}..${MAX_INTERVAL_MS}`);
  }
  const hold = m.hold ?? 0;
  if (!Number.isInteger(hold) || hold < 0 || hold > MAX_HOLD_MS || (hold > 0 && m.type !== 'leave')) {
    throw new MembershipError('badMessage', `hold ${hold} ms: an integer in 0..${MAX_HOLD_MS}, on a leave only`);
  }
  for (const [field, v] of [['boot.time', m.boot.time], ['seq', m.seq], ['sentAt', m.sentAt]] as const) {
    if (!safeUint(v)) throw new MembershipError('badMessage', `${field} ${v} is not a non-negative safe integer`);
  }
  if (!Number.isInteger(m.boot.nonce) || m.boot.nonce < 0 || m.boot.nonce >= TWO_32) {
    throw new MembershipError('badMessage', `boot nonce ${m.boot.nonce} is not a 32-bit unsigned integer`);
  }
  const n = m.node.length;
  const buf = Buffer.alloc(HEADER_BYTES + n + MAC_BYTES);
  buf.writeUInt16BE(MAGIC, 0);
  buf.writeUInt8(WIRE_VERSION, 2);
  buf.writeUInt8(TYPE_CODES[m.type], 3);
  buf.writeUInt16BE(m.interval, 4);
  buf.writeUInt16BE(hold, 6);
  writeU64(buf, 8, m.boot.time);
  buf.writeUInt32BE(m.boot.nonce, 16);
  writeU64(buf, 20, m.seq);
  writeU64(buf, 28, m.sentAt);
  buf.writeUInt8(n, 36);
  buf.write(m.node, HEADER_BYTES, 'ascii');
  mac(key, buf.subarray(0, HEADER_BYTES + n)).copy(buf, HEADER_BYTES + n);
  return buf;
}

/**
 * Decodes and authenticates one datagram. `keys` are tried in order (the signing key
 * first, then keys still accepted during a rotation). The MAC is checked before any
 * field is trusted; nothing here throws.
 */
export function decode(data: Uint8Array, keys: readonly Uint8Array[]): DecodeResult {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < HEADER_BYTES + 1 + MAC_BYTES) return { ok: false, reason: 'truncated' };
  if (buf.readUInt16BE(0) !== MAGIC) return { ok: false, reason: 'badMagic' };
  if (buf.readUInt8(2) !== WIRE_VERSION) return { ok: false, reason: 'badVersion' };
  const n = buf.readUInt8(36);
  if (buf.length !== HEADER_BYTES + n + MAC_BYTES) return { ok: false, reason: 'badLength' };
  const signed = buf.subarray(0, HEADER_BYTES + n);
  const got = buf.subarray(HEADER_BYTES + n);
  const keyIndex = keys.findIndex((k) => k.length > 0 && timingSafeEqual(mac(k, signed), got));
  if (keyIndex < 0) return { ok: false, reason: 'badMac' };

  const type = TYPE_NAMES[buf.readUInt8(3)];
  const interval = buf.readUInt16BE(4);
  const hold = type === 'leave' ? buf.readUInt16BE(6) : 0;
  const bootTime = readU64(buf, 8);
  const seq = readU64(buf, 20);
  const sentAt = readU64(buf, 28);
  const node = buf.toString('latin1', HEADER_BYTES, HEADER_BYTES + n);
  if (
    type === undefined ||
    interval < MIN_INTERVAL_MS ||
    interval > MAX_INTERVAL_MS ||
    bootTime < 0 ||
    seq < 0 ||
    sentAt < 0 ||
    !validNodeName(node)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  return {
    ok: true,
    keyIndex,
    message: { type, node, boot: { time: bootTime, nonce: buf.readUInt32BE(16) }, seq, sentAt, interval, ...(hold > 0 ? { hold } : {}) },
  };
}
