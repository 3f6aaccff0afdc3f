// Loads the compiled Node-API addon (src/*.c, built by node-gyp when `npm ci` installs the
// `herald-native` dependency) and describes its raw functions. Everything else in this
// folder wraps these in typed, checked APIs; nothing outside it should call them directly.
import { createRequire } from 'node:module';

/** The addon's exports, exactly as src/*.c defines them. */
export interface NativeAddon {
  packetOpen(
    ifindex: number,
    protocol: number,
    filter: Uint8Array,
    callback: (err: NodeJS.ErrnoException | null, frame?: Buffer, ifindex?: number, pkttype?: number) => void,
  ): PacketHandle;
  packetSend(handle: PacketHandle, frame: Uint8Array): number;
  packetClose(handle: PacketHandle): void;
  packetRef(handle: PacketHandle, ref: boolean): void;
  mcastOpen(): number;
  mcastJoin(fd: number, ifindex: number, group: string): void;
  mcastLeave(fd: number, ifindex: number, group: string): void;
  driverName(ifname: string): string | null;
  tcpSocket(
    family: 4 | 6,
    localAddress: string | null,
    localPort: number,
    reuseAddress: boolean,
    ttl: number,
    minTtl: number,
    v6Only: number,
  ): number;
  tcpSetMD5(fd: number, peerAddress: string, key: Uint8Array | null): void;
  closeFd(fd: number): void;
  udpOpen(
    family: 4 | 6,
    port: number,
    callback: (err: NodeJS.ErrnoException | null, data?: Buffer, address?: string, ttl?: number) => void,
  ): UdpHandle;
  udpClose(handle: UdpHandle): void;
  udpRef(handle: UdpHandle, ref: boolean): void;
}

/** An open packet socket inside the addon (a Node-API external). */
export type PacketHandle = { readonly __packetHandle: unique symbol };

/** An open UDP socket inside the addon (a Node-API external). */
export type UdpHandle = { readonly __udpHandle: unique symbol };

/** The addon is not built or cannot be loaded on this platform. */
export class NativeUnavailableError extends Error {
  readonly code = 'HERALD_NATIVE_UNAVAILABLE';
  constructor(cause: unknown) {
    super(
      `herald-native addon not available (${cause instanceof Error ? cause.message : String(cause)}); ` +
        'it is built by `npm ci`, or by hand with `cd speaker/native && npx node-gyp rebuild`',
      { cause },
    );
    this.name = 'NativeUnavailableError';
  }
}

let loaded: NativeAddon | undefined;

/** The addon, loaded on first use; throws NativeUnavailableError when it cannot be. */
export function nativeAddon(): NativeAddon {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('herald-native') as NativeAddon;
  } catch (err) {
    throw new NativeUnavailableError(err);
  }
  return loaded;
}

/** Whether the addon loads here (tests skip native suites when it does not). */
export function nativeAvailable(): boolean {
  try {
    nativeAddon();
    return true;
  } catch {
    return false;
  }
}
