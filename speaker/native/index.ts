// herald-native: the Linux socket operations Node cannot do itself, typed.
// - PacketSocket: AF_PACKET socket on one interface with a BPF filter (ARP requests and
//   neighbor solicitations by default), frames in and out as Buffers.
// - MulticastMemberships: IPv6 solicited-node group joins per interface.
// - listInterfaces: interface facts for choosing where to answer.
// - openTcpSocket / connectTcp / listenTcp / setMD5: BGP's TCP with TCP-MD5, TTL, GTSM.
// - TtlUdpSocket: UDP with each datagram's received TTL / hop limit (BFD's GTSM check).
export { nativeAddon, nativeAvailable, NativeUnavailableError, type NativeAddon } from './addon.js';
export {
  assemble,
  encodeProgram,
  NEIGHBOR_REQUEST_FILTER,
  PACKET_BROADCAST,
  PACKET_HOST,
  PACKET_MULTICAST,
  PACKET_OTHERHOST,
  PACKET_OUTGOING,
  type AsmLine,
  type BpfInstruction,
} from './bpf.js';
export { ETH_P_ALL, PacketSocket, type PacketSocketOptions, type PacketType, type ReceivedFrame } from './packet-socket.js';
export { MulticastMemberships } from './multicast.js';
export {
  ARPHRD_ETHER,
  interfaceByName,
  listInterfaces,
  type InterfaceInfo,
  type ListInterfacesOptions,
} from './interfaces.js';
export {
  closeFd,
  connectTcp,
  listenTcp,
  MD5_MAX_KEY_BYTES,
  md5KeyBytes,
  openTcpSocket,
  setMD5,
  type ConnectOptions,
  type ListenOptions,
  type Md5Key,
  type TcpListener,
  type TcpSocketOptions,
} from './tcp.js';
export { TtlUdpSocket, type ReceivedDatagram, type TtlUdpSocketOptions } from './udp.js';
