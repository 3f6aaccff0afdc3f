// ARP (RFC 826) for IPv4 over Ethernet: request/reply packets, the frames around them,
// and the answer and gratuitous forms the L2 responder sends. Pure: no I/O.
import {
  BROADCAST_MAC,
  decodeEthernet,
  dropped,
  encodeEthernet,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  formatMAC,
  L2DecodeError,
  macBytes,
  putU16,
  readAddress,
  u16,
  writeAddress,
  ZERO_MAC,
  type DecodeResult,
  type EthernetHeader,
  type MAC,
} from './ethernet.js';

/** ar$hrd for Ethernet (RFC 826; IANA ARP Hardware Types). */
export const ARP_HTYPE_ETHERNET = 1;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;
/** The fixed header (hrd, pro, hln, pln, op) and the Ethernet/IPv4 packet. */
const FIXED_BYTES = 8;
export const ARP_PACKET_BYTES = 28;

export interface ArpPacket {
  readonly operation: 'request' | 'reply';
  readonly senderMAC: MAC;
  /** IPv4 address as a 32-bit bigint (shared/ip/ip.ts `IP.value`). */
  readonly senderIP: bigint;
  readonly targetMAC: MAC;
  readonly targetIP: bigint;
}

export interface ArpFrame {
  readonly ethernet: EthernetHeader;
  readonly arp: ArpPacket;
}

export type ArpDropReason =
  /** EtherType is not ARP. */
  | 'not-arp'
  /** Valid ARP for another hardware or protocol type (RFC 826 allows many). */
  | 'not-ethernet-ipv4'
  /** Neither request nor reply (RFC 5494 lists others, e.g. InARP). */
  | 'unknown-operation';

/** Decodes an ARP packet (the Ethernet payload; trailing padding is ignored). */
export function decodeArp(bytes: Uint8Array): DecodeResult<ArpPacket, ArpDropReason> {
  if (bytes.length < FIXED_BYTES) throw new L2DecodeError('arp', `${bytes.length} bytes is shorter than the ARP header`);
  const htype = u16(bytes, 0);
  const ptype = u16(bytes, 2);
  const hlen = bytes[4] ?? 0;
  const plen = bytes[5] ?? 0;
  const op = u16(bytes, 6);
  if (bytes.length < FIXED_BYTES + 2 * (hlen + plen)) {
    throw new L2DecodeError('arp', `addresses (hln ${hlen}, pln ${plen}) run past the end of ${bytes.length} bytes`);
  }
  if (htype !== ARP_HTYPE_ETHERNET || ptype !== ETHERTYPE_IPV4 || hlen !== 6 || plen !== 4) {
    return dropped('not-ethernet-ipv4');
  }
  if (op !== ARP_OP_REQUEST && op !== ARP_OP_REPLY) return dropped('unknown-operation');
  return {
    ok: true,
    value: {
      operation: op === ARP_OP_REQUEST ? 'request' : 'reply',
      senderMAC: formatMAC(bytes, 8),
      senderIP: readAddress(bytes, 14, 4),
      targetMAC: formatMAC(bytes, 18),
      targetIP: readAddress(bytes, 24, 4),
    },
  };
}

/** The 28 bytes of an Ethernet/IPv4 ARP packet. */
export function encodeArp(p: ArpPacket): Uint8Array {
  const out = new Uint8Array(ARP_PACKET_BYTES);
  putU16(out, 0, ARP_HTYPE_ETHERNET);
  putU16(out, 2, ETHERTYPE_IPV4);
  out[4] = 6;
  out[5] = 4;
  putU16(out, 6, p.operation === 'request' ? ARP_OP_REQUEST : ARP_OP_REPLY);
  out.set(macBytes(p.senderMAC), 8);
  writeAddress(out, 14, 4, p.senderIP);
  out.set(macBytes(p.targetMAC), 18);
  writeAddress(out, 24, 4, p.targetIP);
  return out;
}

/** Decodes a whole Ethernet frame carrying ARP. */
export function decodeArpFrame(frame: Uint8Array): DecodeResult<ArpFrame, ArpDropReason> {
  const { payload, ...ethernet } = decodeEthernet(frame);
  if (ethernet.etherType !== ETHERTYPE_ARP) return dropped('not-arp');
  const arp = decodeArp(payload);
  return arp.ok ? { ok: true, value: { ethernet, arp: arp.value } } : arp;
}

export function encodeArpFrame(frame: { ethernet: Omit<EthernetHeader, 'etherType'>; arp: ArpPacket }): Uint8Array {
  return encodeEthernet({ ...frame.ethernet, etherType: ETHERTYPE_ARP }, encodeArp(frame.arp));
}

/**
 * The reply to `request` from the owner of its target IP, `mac` (RFC 826 "Packet
 * reception": swap sender and target, fill in our hardware address, opcode reply), sent
 * unicast to the requester on the request's VLAN. `answerMAC`, when answering for another
 * node, is the hardware address the answer carries; the frame still comes from `mac`.
 */
export function arpReplyFrame(request: ArpFrame, mac: MAC, answerMAC: MAC = mac): Uint8Array {
  const { arp } = request;
  return encodeArpFrame({
    ethernet: { destination: arp.senderMAC, source: mac, ...(request.ethernet.vlan ? { vlan: request.ethernet.vlan } : {}) },
    arp: { operation: 'reply', senderMAC: answerMAC, senderIP: arp.targetIP, targetMAC: arp.senderMAC, targetIP: arp.senderIP },
  });
}

/**
 * A gratuitous ARP announcing that `ip` is at `mac`, broadcast, with sender IP = target IP
 * (RFC 5227 §3 "ARP Announcement"; RFC 2002 §4.6). The request form zeroes the target
 * hardware address (RFC 5227 §2.1.1); the reply form sets it to `mac` (RFC 2002 §4.6).
 * MetalLB sends both, since some hosts update their caches only from one of them.
 */
export function gratuitousArpFrame(ip: bigint, mac: MAC, form: 'request' | 'reply'): Uint8Array {
  return encodeArpFrame({
    ethernet: { destination: BROADCAST_MAC, source: mac },
    arp: { operation: form, senderMAC: mac, senderIP: ip, targetMAC: form === 'request' ? ZERO_MAC : mac, targetIP: ip },
  });
}

/** Sender IP equals target IP: an announcement, not a question (RFC 5227 §3). */
export function isGratuitous(p: ArpPacket): boolean {
  return p.senderIP === p.targetIP;
}

/** Sender IP 0.0.0.0: an address-conflict probe (RFC 5227 §2.1.1). */
export function isProbe(p: ArpPacket): boolean {
  return p.operation === 'request' && p.senderIP === 0n;
}
