// Ethernet II framing (IEEE 802.3 clause 3.2.6 type field) with one optional IEEE 802.1Q
// tag, MAC address text, and what every L2 codec shares: the one error class for bytes
// that cannot be parsed, and the result shape for packets that parse but are not for us.
// Pure: no I/O.

/**
 * Bytes that do not parse as the layer's structure (truncated headers, lengths pointing
 * past the end). The only error the L2 decoders throw; anything well-formed that a
 * receiver must ignore is returned as a drop reason instead.
 */
export class L2DecodeError extends Error {
  readonly code = 'L2_MALFORMED';
  constructor(
    readonly layer: 'ethernet' | 'arp' | 'ipv6' | 'icmpv6',
    message: string,
  ) {
    super(`${layer}: ${message}`);
    this.name = 'L2DecodeError';
  }
}

/** A decoded packet, or the reason a receiver silently ignores it. */
export type DecodeResult<T, Reason extends string> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly drop: Reason };

export function dropped<Reason extends string>(drop: Reason): { readonly ok: false; readonly drop: Reason } {
  return { ok: false, drop };
}

/** A MAC address as lowercase colon-separated hex, `02:00:5e:00:53:01`. */
export type MAC = string;

export const BROADCAST_MAC: MAC = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC: MAC = '00:00:00:00:00:00';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;

const HEADER_BYTES = 14;
const TAG_BYTES = 4;
/** IEEE 802.3 minimum frame, 64 bytes less the 4-byte FCS the NIC appends. */
export const MIN_FRAME_BYTES = 60;

const MAC_TEXT = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function isMAC(text: string): boolean {
  return MAC_TEXT.test(text);
}

/** The six bytes of a MAC in canonical text; throws TypeError on anything else. */
export function macBytes(mac: MAC): Uint8Array {
  if (!MAC_TEXT.test(mac)) throw new TypeError(`"${mac}" is not a MAC address (aa:bb:cc:dd:ee:ff, lowercase)`);
  return Uint8Array.from(mac.split(':'), (h) => Number.parseInt(h, 16));
}

/** Six bytes at `offset` as MAC text; the caller has checked the length. */
export function formatMAC(bytes: Uint8Array, offset = 0): MAC {
  let s = '';
  for (let i = 0; i < 6; i++) {
    const b = bytes[offset + i] ?? 0;
    s += (i === 0 ? '' : ':') + (b < 16 ? '0' : '') + b.toString(16);
  }
  return s;
}

/** IEEE 802.1Q tag control information. */
export interface VlanTag {
  /** Priority code point, 0..7. */
  readonly priority: number;
  readonly dropEligible: boolean;
  /** VLAN identifier, 0..4095. */
  readonly id: number;
}

export interface EthernetHeader {
  readonly destination: MAC;
  readonly source: MAC;
  readonly vlan?: VlanTag;
  /** The type field after any tag; values below 0x0600 are 802.3 lengths. */
  readonly etherType: number;
}

export interface EthernetFrame extends EthernetHeader {
  /** Everything after the header, padding included: the upper layer knows its length. */
  readonly payload: Uint8Array;
}

/** Splits a frame (without FCS, as packet sockets deliver it) into header and payload. */
export function decodeEthernet(frame: Uint8Array): EthernetFrame {
  if (frame.length < HEADER_BYTES) throw new L2DecodeError('ethernet', `frame of ${frame.length} bytes is shorter than a header`);
  const destination = formatMAC(frame, 0);
  const source = formatMAC(frame, 6);
  let etherType = u16(frame, 12);
  if (etherType !== ETHERTYPE_VLAN) return { destination, source, etherType, payload: frame.subarray(HEADER_BYTES) };
  if (frame.length < HEADER_BYTES + TAG_BYTES) throw new L2DecodeError('ethernet', 'frame ends inside its 802.1Q tag');
  const tci = u16(frame, 14);
  etherType = u16(frame, 16);
  return {
    destination,
    source,
    vlan: { priority: tci >> 13, dropEligible: (tci & 0x1000) !== 0, id: tci & 0x0fff },
    etherType,
    payload: frame.subarray(HEADER_BYTES + TAG_BYTES),
  };
}

/** A whole frame, padded with zeros to the 60-byte minimum. */
export function encodeEthernet(header: EthernetHeader, payload: Uint8Array): Uint8Array {
  const headerBytes = header.vlan ? HEADER_BYTES + TAG_BYTES : HEADER_BYTES;
  const out = new Uint8Array(Math.max(MIN_FRAME_BYTES, headerBytes + payload.length));
  out.set(macBytes(header.destination), 0);
  out.set(macBytes(header.source), 6);
  if (header.vlan) {
    const { priority, dropEligible, id } = header.vlan;
    if (!(Number.isInteger(priority) && priority >= 0 && priority <= 7 && Number.isInteger(id) && id >= 0 && id <= 4095)) {
      throw new RangeError('VLAN priority must be 0..7 and id 0..4095');
    }
    putU16(out, 12, ETHERTYPE_VLAN);
    putU16(out, 14, (priority << 13) | (dropEligible ? 0x1000 : 0) | id);
  }
  putU16(out, headerBytes - 2, header.etherType);
  out.set(payload, headerBytes);
  return out;
}

export function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

export function putU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

/** `n` bytes at `o` as an unsigned big-endian integer (IPv4 n=4, IPv6 n=16). */
export function readAddress(b: Uint8Array, o: number, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i += 4) {
    const word = (((b[o + i] ?? 0) << 24) | ((b[o + i + 1] ?? 0) << 16) | ((b[o + i + 2] ?? 0) << 8) | (b[o + i + 3] ?? 0)) >>> 0;
    v = (v << 32n) | BigInt(word);
  }
  return v;
}

/** Writes `v` as `n` big-endian bytes at `o`; throws RangeError when it does not fit. */
export function writeAddress(b: Uint8Array, o: number, n: number, v: bigint): void {
  if (v < 0n || v >> BigInt(n * 8) !== 0n) throw new RangeError(`address ${v} does not fit in ${n} bytes`);
  for (let i = n - 1; i >= 0; i--) {
    b[o + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}
