// IPv6 Neighbor Discovery (RFC 4861) as the L2 responder needs it: the IPv6 header, the
// Neighbor Solicitation (§4.3) and Neighbor Advertisement (§4.4) with link-layer address
// options (§4.6.1, RFC 2464 §6 for Ethernet), receive validation (§7.1.1, §7.1.2), the
// ICMPv6 checksum (RFC 4443 §2.3) and solicited-node addressing. Pure: no I/O.
import {
  decodeEthernet,
  dropped,
  encodeEthernet,
  ETHERTYPE_IPV6,
  formatMAC,
  L2DecodeError,
  macBytes,
  putU16,
  readAddress,
  u16,
  writeAddress,
  type DecodeResult,
  type EthernetHeader,
  type MAC,
} from './ethernet.js';

export const IPV6_HEADER_BYTES = 40;
export const NEXT_HEADER_HOP_BY_HOP = 0;
export const NEXT_HEADER_ICMPV6 = 58;
export const NEXT_HEADER_DESTINATION_OPTIONS = 60;
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
export const OPTION_SOURCE_LINK_LAYER = 1;
export const OPTION_TARGET_LINK_LAYER = 2;
/** RFC 4861 §7.1: ND messages are sent, and must arrive, with hop limit 255. */
export const ND_HOP_LIMIT = 255;
/** ff02::1, RFC 4291 §2.7.1. */
export const ALL_NODES = (0xff02n << 112n) | 1n;
const SOLICITED_NODE_PREFIX = 0xff020000000000000000000000000000n | 0x1ff000000n; // ff02::1:ff00:0/104
const ND_MESSAGE_BYTES = 24; // type, code, checksum, 4 bytes flags/reserved, target

export interface IPv6Header {
  readonly trafficClass: number;
  readonly flowLabel: number;
  readonly hopLimit: number;
  /** 128-bit bigint (shared/ip/ip.ts `IP.value`). */
  readonly source: bigint;
  readonly destination: bigint;
}

export interface NeighborSolicitation {
  readonly type: 'neighbor-solicitation';
  readonly target: bigint;
  readonly sourceLinkLayerAddress?: MAC;
}

export interface NeighborAdvertisement {
  readonly type: 'neighbor-advertisement';
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  readonly target: bigint;
  readonly targetLinkLayerAddress?: MAC;
}

export type NdpMessage = NeighborSolicitation | NeighborAdvertisement;

export interface NdpPacket {
  readonly ip: IPv6Header;
  readonly message: NdpMessage;
}

export interface NdpFrame extends NdpPacket {
  readonly ethernet: EthernetHeader;
}

export type NdpDropReason =
  | 'not-ipv6'
  /** Upper layer is not ICMPv6 (or is behind a header other than Hop-by-Hop/Destination Options). */
  | 'not-icmpv6'
  /** ICMPv6, but neither NS nor NA. */
  | 'not-neighbor-discovery'
  /** §7.1.1/§7.1.2: IP Hop Limit is not 255, so the packet crossed a router. */
  | 'hop-limit'
  | 'bad-checksum'
  | 'bad-code'
  /** §7.1.1: ICMP length (derived from the IP length) is less than 24 octets. */
  | 'too-short'
  | 'target-multicast'
  | 'option-length-zero'
  /** §4.6.1 / RFC 2464 §6: an Ethernet link-layer address option is 8 octets. */
  | 'bad-link-layer-option'
  /** §7.1.1: an NS from :: (DAD) goes to a solicited-node group and carries no SLLA. */
  | 'unspecified-source-not-solicited-node'
  | 'unspecified-source-with-slla'
  /** §7.1.2: an NA to a multicast destination has the Solicited flag clear. */
  | 'solicited-to-multicast';

export function isMulticast(ip: bigint): boolean {
  return ip >> 120n === 0xffn;
}

/** ff02::1:ffXX:XXXX from the low 24 bits of `ip` (RFC 4291 §2.7.1). */
export function solicitedNodeAddress(ip: bigint): bigint {
  return SOLICITED_NODE_PREFIX | (ip & 0xffffffn);
}

export function isSolicitedNodeAddress(ip: bigint): boolean {
  return ip >> 24n === SOLICITED_NODE_PREFIX >> 24n;
}

/** 33:33 and the low 32 bits of an IPv6 multicast address (RFC 2464 §7). */
export function multicastMAC(group: bigint): MAC {
  const b = new Uint8Array(6);
  b[0] = 0x33;
  b[1] = 0x33;
  writeAddress(b, 2, 4, group & 0xffffffffn);
  return formatMAC(b);
}

/** RFC 4443 §2.3: one's complement sum over the RFC 8200 §8.1 pseudo-header and `icmp`. */
export function icmpv6Checksum(source: bigint, destination: bigint, icmp: Uint8Array): number {
  const pseudo = new Uint8Array(40);
  writeAddress(pseudo, 0, 16, source);
  writeAddress(pseudo, 16, 16, destination);
  let sum = sum16(pseudo) + (icmp.length >>> 16) + (icmp.length & 0xffff) + NEXT_HEADER_ICMPV6 + sum16(icmp);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function sum16(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  if (b.length % 2 === 1) sum += (b[b.length - 1] ?? 0) << 8;
  return sum;
}

/** Decodes an IPv6 packet carrying NS or NA, applying RFC 4861's receive validation. */
export function decodeNdp(packet: Uint8Array): DecodeResult<NdpPacket, NdpDropReason> {
  if (packet.length < IPV6_HEADER_BYTES) throw new L2DecodeError('ipv6', `${packet.length} bytes is shorter than the header`);
  const word0 = readAddress(packet, 0, 4);
  if (word0 >> 28n !== 6n) throw new L2DecodeError('ipv6', `version ${word0 >> 28n} is not 6`);
  const payloadLength = u16(packet, 4);
  if (IPV6_HEADER_BYTES + payloadLength > packet.length) {
    throw new L2DecodeError('ipv6', `payload length ${payloadLength} runs past the end of ${packet.length} bytes`);
  }
  const ip: IPv6Header = {
    trafficClass: Number((word0 >> 20n) & 0xffn),
    flowLabel: Number(word0 & 0xfffffn),
    hopLimit: packet[7] ?? 0,
    source: readAddress(packet, 8, 16),
    destination: readAddress(packet, 24, 16),
  };
  const end = IPV6_HEADER_BYTES + payloadLength;
  let next = packet[6] ?? 0;
  let at = IPV6_HEADER_BYTES;
  // RFC 8200 §4: skip the option headers that may precede the upper layer.
  while (next === NEXT_HEADER_HOP_BY_HOP || next === NEXT_HEADER_DESTINATION_OPTIONS) {
    if (at + 2 > end) throw new L2DecodeError('ipv6', 'payload ends inside an extension header');
    const length = ((packet[at + 1] ?? 0) + 1) * 8;
    if (at + length > end) throw new L2DecodeError('ipv6', 'extension header runs past the payload');
    next = packet[at] ?? 0;
    at += length;
  }
  if (next !== NEXT_HEADER_ICMPV6) return dropped('not-icmpv6');
  const icmp = packet.subarray(at, end);
  if (icmp.length < 4) throw new L2DecodeError('icmpv6', `${icmp.length} bytes is shorter than the ICMPv6 header`);
  const type = icmp[0] ?? 0;
  if (type !== ICMPV6_NEIGHBOR_SOLICITATION && type !== ICMPV6_NEIGHBOR_ADVERTISEMENT) return dropped('not-neighbor-discovery');
  // §7.1.1 / §7.1.2, in the RFC's order.
  if (ip.hopLimit !== ND_HOP_LIMIT) return dropped('hop-limit');
  if (icmpv6Checksum(ip.source, ip.destination, icmp) !== 0) return dropped('bad-checksum');
  if (icmp[1] !== 0) return dropped('bad-code');
  if (icmp.length < ND_MESSAGE_BYTES) return dropped('too-short');
  const target = readAddress(icmp, 8, 16);
  if (isMulticast(target)) return dropped('target-multicast');
  const options = decodeOptions(icmp.subarray(ND_MESSAGE_BYTES));
  if (!options.ok) return options;
  const { sourceLinkLayer, targetLinkLayer } = options.value;
  if (type === ICMPV6_NEIGHBOR_SOLICITATION) {
    if (ip.source === 0n) {
      if (!isSolicitedNodeAddress(ip.destination)) return dropped('unspecified-source-not-solicited-node');
      if (sourceLinkLayer !== undefined) return dropped('unspecified-source-with-slla');
    }
    const message: NeighborSolicitation = {
      type: 'neighbor-solicitation',
      target,
      ...(sourceLinkLayer !== undefined ? { sourceLinkLayerAddress: sourceLinkLayer } : {}),
    };
    return { ok: true, value: { ip, message } };
  }
  const flags = icmp[4] ?? 0;
  const solicited = (flags & 0x40) !== 0;
  if (solicited && isMulticast(ip.destination)) return dropped('solicited-to-multicast');
  const message: NeighborAdvertisement = {
    type: 'neighbor-advertisement',
    router: (flags & 0x80) !== 0,
    solicited,
    override: (flags & 0x20) !== 0,
    target,
    ...(targetLinkLayer !== undefined ? { targetLinkLayerAddress: targetLinkLayer } : {}),
  };
  return { ok: true, value: { ip, message } };
}

/**
 * Type-length-value options (§4.6). The first source and target link-layer options are
 * kept; unknown options are skipped, as §4.6 requires.
 */
function decodeOptions(b: Uint8Array): DecodeResult<{ sourceLinkLayer?: MAC; targetLinkLayer?: MAC }, NdpDropReason> {
  let sourceLinkLayer: MAC | undefined;
  let targetLinkLayer: MAC | undefined;
  for (let at = 0; at < b.length; ) {
    if (at + 2 > b.length) throw new L2DecodeError('icmpv6', 'message ends inside an option header');
    const type = b[at] ?? 0;
    const length = (b[at + 1] ?? 0) * 8;
    if (length === 0) return dropped('option-length-zero');
    if (at + length > b.length) throw new L2DecodeError('icmpv6', `option ${type} runs past the end of the message`);
    if (type === OPTION_SOURCE_LINK_LAYER || type === OPTION_TARGET_LINK_LAYER) {
      if (length !== 8) return dropped('bad-link-layer-option');
      const mac = formatMAC(b, at + 2);
      if (type === OPTION_SOURCE_LINK_LAYER) sourceLinkLayer ??= mac;
      else targetLinkLayer ??= mac;
    }
    at += length;
  }
  return { ok: true, value: { sourceLinkLayer, targetLinkLayer } };
}

/** The IPv6 packet (header, ICMPv6 message with its checksum, options). */
export function encodeNdp(p: NdpPacket): Uint8Array {
  const { ip, message } = p;
  const mac = message.type === 'neighbor-solicitation' ? message.sourceLinkLayerAddress : message.targetLinkLayerAddress;
  const icmpLength = ND_MESSAGE_BYTES + (mac === undefined ? 0 : 8);
  const out = new Uint8Array(IPV6_HEADER_BYTES + icmpLength);
  if (!(ip.trafficClass >= 0 && ip.trafficClass <= 0xff && ip.flowLabel >= 0 && ip.flowLabel <= 0xfffff)) {
    throw new RangeError('traffic class must be 0..255 and flow label 0..0xfffff');
  }
  writeAddress(out, 0, 4, (6n << 28n) | (BigInt(ip.trafficClass) << 20n) | BigInt(ip.flowLabel));
  putU16(out, 4, icmpLength);
  out[6] = NEXT_HEADER_ICMPV6;
  out[7] = ip.hopLimit;
  writeAddress(out, 8, 16, ip.source);
  writeAddress(out, 24, 16, ip.destination);
  const icmp = out.subarray(IPV6_HEADER_BYTES);
  if (message.type === 'neighbor-solicitation') {
    icmp[0] = ICMPV6_NEIGHBOR_SOLICITATION;
  } else {
    icmp[0] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
    icmp[4] = (message.router ? 0x80 : 0) | (message.solicited ? 0x40 : 0) | (message.override ? 0x20 : 0);
  }
  writeAddress(icmp, 8, 16, message.target);
  if (mac !== undefined) {
    icmp[24] = message.type === 'neighbor-solicitation' ? OPTION_SOURCE_LINK_LAYER : OPTION_TARGET_LINK_LAYER;
    icmp[25] = 1;
    icmp.set(macBytes(mac), 26);
  }
  putU16(icmp, 2, icmpv6Checksum(ip.source, ip.destination, icmp));
  return out;
}

/** Decodes a whole Ethernet frame carrying NS or NA. */
export function decodeNdpFrame(frame: Uint8Array): DecodeResult<NdpFrame, NdpDropReason> {
  const { payload, ...ethernet } = decodeEthernet(frame);
  if (ethernet.etherType !== ETHERTYPE_IPV6) return dropped('not-ipv6');
  const ndp = decodeNdp(payload);
  return ndp.ok ? { ok: true, value: { ethernet, ...ndp.value } } : ndp;
}

export function encodeNdpFrame(frame: { ethernet: Omit<EthernetHeader, 'etherType'> } & NdpPacket): Uint8Array {
  return encodeEthernet({ ...frame.ethernet, etherType: ETHERTYPE_IPV6 }, encodeNdp(frame));
}

/**
 * The advertisement answering `solicitation` for its target, from `mac` (§7.2.4): to the
 * solicitation's source with Solicited set, or to all-nodes with Solicited clear when the
 * source is :: (DAD). Override is set, so a takeover replaces stale cache entries; the
 * target link-layer option is always included, with `answerMAC` (another node's, when
 * answering for it; `mac` by default). The IPv6 source is the target itself unless
 * `source` names an address of the interface.
 */
export function neighborAdvertisementFrame(solicitation: NdpFrame, mac: MAC, answerMAC: MAC = mac, source?: bigint): Uint8Array {
  if (solicitation.message.type !== 'neighbor-solicitation') throw new TypeError('not a neighbor solicitation');
  const { target } = solicitation.message;
  const dad = solicitation.ip.source === 0n;
  const destination = dad ? ALL_NODES : solicitation.ip.source;
  const destinationMAC = dad
    ? multicastMAC(ALL_NODES)
    : (solicitation.message.sourceLinkLayerAddress ?? solicitation.ethernet.source);
  return encodeNdpFrame({
    ethernet: { destination: destinationMAC, source: mac, ...(solicitation.ethernet.vlan ? { vlan: solicitation.ethernet.vlan } : {}) },
    ip: { trafficClass: 0, flowLabel: 0, hopLimit: ND_HOP_LIMIT, source: source ?? target, destination },
    message: { type: 'neighbor-advertisement', router: false, solicited: !dad, override: true, target, targetLinkLayerAddress: answerMAC },
  });
}

/**
 * An unsolicited advertisement that `ip` is at `mac` (§7.2.6), to all-nodes with
 * Override set so neighbors replace their entries at once (MetalLB's IPv6 takeover).
 */
export function unsolicitedNeighborAdvertisementFrame(ip: bigint, mac: MAC): Uint8Array {
  return encodeNdpFrame({
    ethernet: { destination: multicastMAC(ALL_NODES), source: mac },
    ip: { trafficClass: 0, flowLabel: 0, hopLimit: ND_HOP_LIMIT, source: ip, destination: ALL_NODES },
    message: { type: 'neighbor-advertisement', router: false, solicited: false, override: true, target: ip, targetLinkLayerAddress: mac },
  });
}
