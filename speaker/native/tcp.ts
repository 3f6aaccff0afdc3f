// TCP sockets for BGP sessions with the options `net` cannot set (src/tcp.c): TCP-MD5
// (RFC 2385), TTL / hop limit for eBGP multihop, GTSM minimum TTL (RFC 5082), source
// address and port. The addon returns an unconnected non-blocking descriptor; Node's own
// `net.Socket` / `net.Server` then connect, listen, read and write it.
import net from 'node:net';
import { parseIP } from '../../shared/ip/ip.js';
import { nativeAddon } from './addon.js';

/** RFC 2385 keys live in struct tcp_md5sig, at most TCP_MD5SIG_MAXKEYLEN (80) bytes. */
export const MD5_MAX_KEY_BYTES = 80;

export interface Md5Key {
  readonly peerAddress: string;
  /** A string is used as its UTF-8 bytes (a Kubernetes Secret's `password`). */
  readonly key: string | Uint8Array;
}

export interface TcpSocketOptions {
  readonly family: 4 | 6;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly reuseAddress?: boolean;
  /** Outgoing TTL / hop limit (eBGP multihop; 255 for GTSM). Default: the kernel's. */
  readonly ttl?: number;
  /** Drop segments arriving with a lower TTL (RFC 5082 GTSM). */
  readonly minTtl?: number;
  /** IPV6_V6ONLY on IPv6 sockets. Default: the kernel's (dual-stack). */
  readonly v6Only?: boolean;
  readonly md5?: readonly Md5Key[];
}

/** Bytes of a key, checked against the kernel's limit. */
export function md5KeyBytes(key: string | Uint8Array): Uint8Array {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  if (bytes.length === 0) throw new RangeError('TCP-MD5 key is empty');
  if (bytes.length > MD5_MAX_KEY_BYTES) throw new RangeError(`TCP-MD5 key is longer than ${MD5_MAX_KEY_BYTES} bytes`);
  return bytes;
}

/**
 * Creates a non-blocking TCP socket with every option applied and, when asked, bound.
 * Returns its descriptor; the caller owns it (hand it to net, or closeFd it).
 */
export function openTcpSocket(options: TcpSocketOptions): number {
  const native = nativeAddon();
  const fd = native.tcpSocket(
    options.family,
    options.localAddress ?? null,
    options.localPort ?? 0,
    options.reuseAddress ?? false,
    options.ttl ?? 0,
    options.minTtl ?? 0,
    options.v6Only === undefined ? -1 : options.v6Only ? 1 : 0,
  );
  try {
    for (const k of options.md5 ?? []) native.tcpSetMD5(fd, k.peerAddress, md5KeyBytes(k.key));
  } catch (err) {
    native.closeFd(fd);
    throw err;
  }
  return fd;
}

/** Installs (key given) or removes (undefined) the TCP-MD5 key for one peer on a socket. */
export function setMD5(fd: number, peerAddress: string, key: string | Uint8Array | undefined): void {
  nativeAddon().tcpSetMD5(fd, peerAddress, key === undefined ? null : md5KeyBytes(key));
}

/** Closes a descriptor that was never handed to net. */
export function closeFd(fd: number): void {
  nativeAddon().closeFd(fd);
}

export interface ConnectOptions extends Omit<TcpSocketOptions, 'md5'> {
  readonly host: string;
  readonly port: number;
  /** The RFC 2385 key shared with `host`. */
  readonly md5Key?: string | Uint8Array;
}

/**
 * Starts a connection from a socket prepared as above; listen for 'connect' and 'error'
 * on the returned socket as for net.connect. A peer that does not accept our MD5 key
 * drops the SYN, so the connect only times out: the caller's connect timer ends it.
 */
export function connectTcp(options: ConnectOptions): net.Socket {
  const ip = parseIP(options.host);
  if (!ip || ip.family !== options.family) throw new TypeError(`host "${options.host}" is not an IPv${options.family} address`);
  const fd = openTcpSocket({
    ...options,
    md5: options.md5Key === undefined ? [] : [{ peerAddress: options.host, key: options.md5Key }],
  });
  let socket: net.Socket;
  try {
    socket = new net.Socket({ fd });
  } catch (err) {
    closeFd(fd);
    throw err;
  }
  return socket.connect({ port: options.port, host: options.host });
}

export interface ListenOptions extends TcpSocketOptions {
  readonly localPort: number;
  readonly backlog?: number;
}

export interface TcpListener {
  readonly server: net.Server;
  /** Changes a peer's key on the listening socket; later accepted connections use it. */
  setMD5(peerAddress: string, key: string | Uint8Array | undefined): void;
  close(): Promise<void>;
}

/** Opens a listening socket (bound, SO_REUSEADDR by default) and hands it to a net.Server. */
export async function listenTcp(
  options: ListenOptions,
  onConnection: (socket: net.Socket) => void,
): Promise<TcpListener> {
  const fd = openTcpSocket({ reuseAddress: true, ...options });
  const server = net.createServer(onConnection);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ fd, backlog: options.backlog ?? 511 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // Node closes the handle, and with it the descriptor, when listen() fails.
    server.close();
    throw err;
  }
  return {
    server,
    setMD5: (peerAddress, key) => setMD5(fd, peerAddress, key),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
