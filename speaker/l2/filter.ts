// The socket filter of the L2 responder: what speaker/native's NEIGHBOR_REQUEST_FILTER
// lets through (ARP requests, neighbor solicitations), plus the announcements other hosts
// broadcast, so that a speaker sees another MAC claim an IP it announces (split brain):
// - ARP replies sent to the broadcast address: the reply form of a gratuitous ARP
//   (RFC 2002 §4.6; herald and MetalLB send both forms, the request form already passes);
// - neighbor advertisements sent to a multicast group: unsolicited NAs (RFC 4861 §7.2.6).
// Unicast replies and solicited advertisements (answers to someone else's question) stay
// out. Pure: no I/O.
import {
  assemble,
  PACKET_BROADCAST,
  PACKET_MULTICAST,
  SKF_AD_OFF,
  SKF_AD_PKTTYPE,
  SKF_AD_VLAN_TAG_PRESENT,
  type BpfInstruction,
} from '../native/bpf.js';

const SNAP = 0xffff;
const PKTTYPE = SKF_AD_OFF + SKF_AD_PKTTYPE;

export const RESPONDER_FILTER: readonly BpfInstruction[] = assemble([
  { op: 'ld', abs: PKTTYPE },
  { op: 'jgt', k: PACKET_MULTICAST, jt: 'drop' }, // other hosts' frames, our own outgoing ones
  { op: 'ld', abs: SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT },
  { op: 'jeq', k: 0, jf: 'drop' }, // tagged frames belong to the VLAN interface
  { op: 'ldh', abs: 12 }, // EtherType
  { op: 'jeq', k: 0x0806, jf: 'ipv6' },
  { op: 'ldh', abs: 14 }, // ARP hardware type
  { op: 'jeq', k: 1, jf: 'drop' },
  { op: 'ldh', abs: 16 }, // ARP protocol type
  { op: 'jeq', k: 0x0800, jf: 'drop' },
  { op: 'ldh', abs: 20 }, // ARP operation
  { op: 'jeq', k: 1, jt: 'accept' },
  { op: 'jeq', k: 2, jf: 'drop' },
  { op: 'ld', abs: PKTTYPE },
  { op: 'jeq', k: PACKET_BROADCAST, jt: 'accept', jf: 'drop' },
  'ipv6',
  { op: 'jeq', k: 0x86dd, jf: 'drop' },
  { op: 'ldb', abs: 20 }, // IPv6 Next Header
  { op: 'jeq', k: 58, jt: 'icmp' },
  { op: 'jeq', k: 0, jt: 'ext' }, // Hop-by-Hop (RFC 8200 §4.3)
  { op: 'jeq', k: 60, jt: 'ext', jf: 'drop' }, // Destination Options (§4.6)
  'icmp',
  { op: 'ldb', abs: 54 }, // ICMPv6 type
  { op: 'jeq', k: 135, jt: 'accept' },
  { op: 'jeq', k: 136, jt: 'na', jf: 'drop' },
  'ext',
  { op: 'ldb', abs: 54 }, // the extension header's Next Header
  { op: 'jeq', k: 58, jf: 'drop' },
  { op: 'ldb', abs: 55 }, // Hdr Ext Len, 8-octet units beyond the first 8
  { op: 'add', k: 1 },
  { op: 'lsh', k: 3 },
  { op: 'tax' },
  { op: 'ldb', ind: 54 }, // ICMPv6 type after the extension header
  { op: 'jeq', k: 135, jt: 'accept' },
  { op: 'jeq', k: 136, jf: 'drop' },
  'na',
  { op: 'ld', abs: PKTTYPE },
  { op: 'jeq', k: PACKET_MULTICAST, jt: 'accept', jf: 'drop' },
  'accept',
  { op: 'ret', k: SNAP },
  'drop',
  { op: 'ret', k: 0 },
]);
