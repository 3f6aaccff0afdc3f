// A UDP socket bound to a port on every address of one family that reports each
// datagram's TTL (IPv4) or hop limit (IPv6), which node:dgram does not: BFD checks it
// (RFC 5881 §5, RFC 5883 §5). Reads are driven by libuv polling inside the addon.
import { nativeAddon, type UdpHandle } from './addon.js';

export interface ReceivedDatagram {
  readonly data: Buffer;
  /** The sender's address, as inet_ntop writes it. */
  readonly address: string;
  /** The IP TTL or hop limit it arrived with; undefined if the kernel did not say. */
  readonly ttl: number | undefined;
}

export interface TtlUdpSocketOptions {
  readonly family: 4 | 6;
  readonly port: number;
  readonly onMessage: (d: ReceivedDatagram) => void;
  /** Reading failed; the socket stays open (close it to stop). */
  readonly onError: (err: NodeJS.ErrnoException) => void;
}

export class TtlUdpSocket {
  #handle: UdpHandle | undefined;

  /** Opens and binds the socket; throws a system error (EADDRINUSE …). */
  constructor(o: TtlUdpSocketOptions) {
    this.#handle = nativeAddon().udpOpen(o.family, o.port, (err, data, address, ttl) => {
      if (err) o.onError(err);
      else if (data) o.onMessage({ data, address: address ?? '', ttl: ttl !== undefined && ttl >= 0 ? ttl : undefined });
    });
  }

  get closed(): boolean {
    return this.#handle === undefined;
  }

  /** Stops receiving and closes the socket. Idempotent. */
  close(): void {
    if (!this.#handle) return;
    nativeAddon().udpClose(this.#handle);
    this.#handle = undefined;
  }

  /** Lets the process exit while the socket is open. */
  unref(): this {
    if (this.#handle) nativeAddon().udpRef(this.#handle, false);
    return this;
  }
}
