// Frames captured with tcpdump on a veth pair between two network namespaces: iputils-free
// `arping` 2.23 (Thomas Habets) and `ndisc6` 1.0.5 asking, the Linux 6.18 kernel answering
// (B = 02:00:00:00:0b:01, 192.0.2.2, fe80::ff:fe00:b01; A = 02:00:00:00:0a:01, 192.0.2.1,
// 2001:db8::1).
import { hex } from './hex.js';

/** arping B -> A: who-has 192.0.2.1 tell 192.0.2.2 (58 bytes: arping pads to 44 + header). */
export const CAPTURED_ARP_REQUEST = hex(`
  ff ff ff ff ff ff   # destination: broadcast
  02 00 00 00 0b 01   # source: B
  08 06               # EtherType: ARP
  00 01               # hardware type: Ethernet
  08 00               # protocol type: IPv4
  06 04               # hardware length 6, protocol length 4
  00 01               # operation: request
  02 00 00 00 0b 01   # sender hardware address: B
  c0 00 02 02         # sender protocol address: 192.0.2.2
  00 00 00 00 00 00   # target hardware address: unknown
  c0 00 02 01         # target protocol address: 192.0.2.1
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00   # padding
`);

/** The kernel on A: 192.0.2.1 is-at 02:00:00:00:0a:01 (42 bytes, unpadded on veth). */
export const CAPTURED_ARP_REPLY = hex(`
  02 00 00 00 0b 01   # destination: B
  02 00 00 00 0a 01   # source: A
  08 06               # EtherType: ARP
  00 01 08 00 06 04   # Ethernet, IPv4, 6, 4
  00 02               # operation: reply
  02 00 00 00 0a 01   # sender hardware address: A
  c0 00 02 01         # sender protocol address: 192.0.2.1
  02 00 00 00 0b 01   # target hardware address: B
  c0 00 02 02         # target protocol address: 192.0.2.2
`);

/** ndisc6 on B: who has 2001:db8::1, to its solicited-node group. */
export const CAPTURED_NS = hex(`
  33 33 ff 00 00 01   # destination: multicast MAC of ff02::1:ff00:1
  02 00 00 00 0b 01   # source: B
  86 dd               # EtherType: IPv6
  60 08 06 2a         # version 6, traffic class 0, flow label 0x8062a
  00 20               # payload length 32
  3a                  # next header: ICMPv6
  ff                  # hop limit 255
  fe 80 00 00 00 00 00 00 00 00 00 ff fe 00 0b 01   # source fe80::ff:fe00:b01
  ff 02 00 00 00 00 00 00 00 00 00 01 ff 00 00 01   # destination ff02::1:ff00:1
  87                  # type 135: neighbor solicitation
  00                  # code 0
  36 61               # checksum
  00 00 00 00         # reserved
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01   # target 2001:db8::1
  01 01               # option: source link-layer address, length 1 (8 octets)
  02 00 00 00 0b 01   # B
`);

/** The kernel on A: 2001:db8::1 is at 02:00:00:00:0a:01, solicited and override. */
export const CAPTURED_NA = hex(`
  02 00 00 00 0b 01   # destination: B (from the NS's source link-layer option)
  02 00 00 00 0a 01   # source: A
  86 dd               # EtherType: IPv6
  60 00 00 00         # version 6, traffic class 0, flow label 0
  00 20               # payload length 32
  3a ff               # ICMPv6, hop limit 255
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01   # source 2001:db8::1 (the target)
  fe 80 00 00 00 00 00 00 00 00 00 ff fe 00 0b 01   # destination: the NS's source
  88 00               # type 136: neighbor advertisement, code 0
  a5 ac               # checksum
  60 00 00 00         # flags: R=0 S=1 O=1, reserved
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01   # target 2001:db8::1
  02 01               # option: target link-layer address, length 1
  02 00 00 00 0a 01   # A
`);

/** B's kernel: a router solicitation (ICMPv6 133), which is not neighbor discovery's NS/NA. */
export const CAPTURED_RS = hex(`
  33 33 00 00 00 02 02 00 00 00 0b 01 86 dd
  60 00 00 00 00 10 3a ff
  fe 80 00 00 00 00 00 00 00 00 00 ff fe 00 0b 01
  ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 02
  85 00 65 2c 00 00 00 00 01 01 02 00 00 00 0b 01
`);
