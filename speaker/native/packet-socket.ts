// A packet socket (packet(7)) on one interface, receiving only what a BPF program lets
// through and sending whole Ethernet frames. Reads are driven by libuv polling inside the
// addon; nothing here blocks.
import { nativeAddon, type PacketHandle } from './addon.js';
import {
  encodeProgram,
  NEIGHBOR_REQUEST_FILTER,
  PACKET_BROADCAST,
  PACKET_HOST,
  PACKET_MULTICAST,
  PACKET_OTHERHOST,
  PACKET_OUTGOING,
  type BpfInstruction,
} from './bpf.js';

/** ETH_P_ALL (linux/if_ether.h): every protocol, left to the filter. */
export const ETH_P_ALL = 0x0003;

export type PacketType = 'host' | 'broadcast' | 'multicast' | 'otherhost' | 'outgoing' | 'other';

const PACKET_TYPES: Record<number, PacketType> = {
  [PACKET_HOST]: 'host',
  [PACKET_BROADCAST]: 'broadcast',
  [PACKET_MULTICAST]: 'multicast',
  [PACKET_OTHERHOST]: 'otherhost',
  [PACKET_OUTGOING]: 'outgoing',
};

export interface ReceivedFrame {
  /** The whole Ethernet frame, from the destination MAC on. */
  readonly frame: Buffer;
  readonly ifindex: number;
  readonly packetType: PacketType;
}

export interface PacketSocketOptions {
  readonly ifindex: number;
  /** Called for each frame the filter accepts. */
  readonly onFrame: (frame: ReceivedFrame) => void;
  /** Called when reading fails; the socket stays open (close it to stop). */
  readonly onError: (err: NodeJS.ErrnoException) => void;
  /** Default: NEIGHBOR_REQUEST_FILTER (ARP requests and neighbor solicitations). */
  readonly filter?: readonly BpfInstruction[];
  /** EtherType to bind to, host order. Default ETH_P_ALL. */
  readonly protocol?: number;
}

export class PacketSocket {
  readonly ifindex: number;
  #handle: PacketHandle | undefined;

  /** Opens, filters and binds the socket; throws a system error (EPERM without CAP_NET_RAW). */
  constructor(options: PacketSocketOptions) {
    const { ifindex, onFrame, onError } = options;
    this.ifindex = ifindex;
    const program = encodeProgram(options.filter ?? NEIGHBOR_REQUEST_FILTER);
    this.#handle = nativeAddon().packetOpen(ifindex, options.protocol ?? ETH_P_ALL, program, (err, frame, idx, type) => {
      if (err) onError(err);
      else if (frame) onFrame({ frame, ifindex: idx ?? ifindex, packetType: PACKET_TYPES[type ?? -1] ?? 'other' });
    });
  }

  get closed(): boolean {
    return this.#handle === undefined;
  }

  /** Sends one Ethernet frame (header included) out of the bound interface. */
  send(frame: Uint8Array): void {
    if (!this.#handle) throw Object.assign(new Error('packet socket is closed'), { code: 'EBADF' });
    nativeAddon().packetSend(this.#handle, frame);
  }

  /** Stops receiving and closes the socket. Idempotent. */
  close(): void {
    if (!this.#handle) return;
    nativeAddon().packetClose(this.#handle);
    this.#handle = undefined;
  }

  /** Lets the process exit while the socket is open (like net.Socket#unref). */
  unref(): this {
    if (this.#handle) nativeAddon().packetRef(this.#handle, false);
    return this;
  }

  ref(): this {
    if (this.#handle) nativeAddon().packetRef(this.#handle, true);
    return this;
  }
}
