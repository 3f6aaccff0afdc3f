// BFD over UDP (RFC 5881 single-hop, RFC 5883 multihop): one listening socket per family
// and port, shared by every session, and one sending socket per session (node:dgram),
// bound to its own source port in 49152–65535 (RFC 5881 §4: fixed for the session, and
// unique, so the peer can tell sessions apart) and sending with TTL / hop limit 255
// (RFC 5881 §5, GTSM).
//
// The listening sockets are the native addon's (speaker/native/udp.ts), which report
// each datagram's TTL / hop limit for the sessions to check (session.ts); node:dgram
// cannot read it. Without the addon they fall back to node:dgram, say so once, and the
// TTL goes unchecked: a forged packet from off the link then reaches the state machine,
// where it must still name our discriminator (or come from the peer's address with Your
// Discriminator 0) to have any effect.
import dgram from 'node:dgram';
import type { Logger } from '../../shared/log.js';
import { canonicalIP, parseIP } from '../../shared/ip/ip.js';
import { nativeAvailable } from '../native/addon.js';
import { TtlUdpSocket } from '../native/udp.js';
import { SEND_TTL, SOURCE_PORT_MAX, SOURCE_PORT_MIN } from './protocol.js';

export type Family = 4 | 6;

export interface BFDListener {
  close(): void;
}

export interface BFDSender {
  /** Sends one datagram to the peer; failures go to the sender's onError. */
  send(data: Buffer): void;
  close(): void;
}

export interface SenderOptions {
  readonly family: Family;
  readonly peerAddress: string;
  readonly port: number;
  readonly localAddress?: string;
  /** A send or bind failure (the link is down, the address is gone). */
  readonly onError: (err: Error) => void;
}

export interface BFDTransport {
  /**
   * Delivers every datagram arriving on `port` of `family` to onPacket with its source
   * address (canonical, no zone) and the TTL / hop limit it arrived with (undefined when
   * it cannot be read).
   */
  listen(family: Family, port: number, onPacket: (data: Buffer, from: string, ttl?: number) => void): Promise<BFDListener>;
  sender(opts: SenderOptions): BFDSender;
}

export function familyOf(address: string): Family {
  const ip = parseIP(stripZone(address));
  if (!ip) throw new TypeError(`not an IP address: ${address}`);
  return ip.family;
}

/** The address as sessions are keyed by: canonical text, zone dropped. */
export function addressKey(address: string): string {
  const plain = stripZone(address);
  return canonicalIP(plain) ?? plain;
}

function stripZone(address: string): string {
  const i = address.indexOf('%');
  return i < 0 ? address : address.slice(0, i);
}

function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

/** Source ports tried before giving up on a session's socket. */
const BIND_ATTEMPTS = 16;
/** Datagrams kept while the sending socket binds. */
const QUEUE_LIMIT = 4;

class DgramSender implements BFDSender {
  private socket: dgram.Socket | undefined;
  private ready = false;
  private closed = false;
  private queue: Buffer[] = [];
  /** Sends not yet completed: close() lets them finish (the last AdminDown must leave). */
  private inFlight = 0;

  constructor(
    private readonly opts: SenderOptions,
    private readonly rand: () => number,
  ) {
    this.bind(0);
  }

  send(data: Buffer): void {
    if (this.closed) return;
    if (!this.ready) {
      if (this.queue.length >= QUEUE_LIMIT) this.queue.shift();
      this.queue.push(data);
      return;
    }
    const socket = this.socket;
    if (!socket) return;
    this.inFlight++;
    socket.send(data, this.opts.port, this.opts.peerAddress, (err) => {
      this.inFlight--;
      if (err && !this.closed) this.opts.onError(err);
      if (this.closed && this.inFlight === 0) closeQuietly(socket);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    // While binding, the bind callback closes the socket.
    if (this.ready && this.inFlight === 0 && this.socket) closeQuietly(this.socket);
  }

  private bind(attempt: number): void {
    const socket = dgram.createSocket({ type: this.opts.family === 4 ? 'udp4' : 'udp6' });
    this.socket = socket;
    const port = SOURCE_PORT_MIN + Math.floor(this.rand() * (SOURCE_PORT_MAX - SOURCE_PORT_MIN + 1));
    const onBindError = (err: NodeJS.ErrnoException): void => {
      closeQuietly(socket);
      if (this.closed) return;
      if (err.code === 'EADDRINUSE' && attempt + 1 < BIND_ATTEMPTS) return this.bind(attempt + 1);
      this.opts.onError(err);
    };
    socket.once('error', onBindError);
    socket.bind({ port, exclusive: true, ...(this.opts.localAddress ? { address: this.opts.localAddress } : {}) }, () => {
      socket.off('error', onBindError);
      socket.on('error', (err) => {
        if (!this.closed) this.opts.onError(err);
      });
      if (this.closed) {
        closeQuietly(socket);
        return;
      }
      // RFC 5881 §5: sent with TTL / hop limit 255; IP_TTL / IPV6_UNICAST_HOPS on this socket.
      socket.setTTL(SEND_TTL);
      this.ready = true;
      const queued = this.queue;
      this.queue = [];
      for (const b of queued) this.send(b);
    });
  }
}

/** The addon's listening sockets (node:dgram without it) and node:dgram senders. `rand` picks source ports. */
export class NodeBFDTransport implements BFDTransport {
  private warned = false;

  constructor(
    private readonly log: Logger,
    private readonly rand: () => number = Math.random,
    /** Listen with the addon's TTL-reporting sockets; default: when the addon loads. */
    private readonly native: boolean = nativeAvailable(),
  ) {}

  listen(family: Family, port: number, onPacket: (data: Buffer, from: string, ttl?: number) => void): Promise<BFDListener> {
    if (this.native) {
      try {
        const socket = new TtlUdpSocket({
          family,
          port,
          onMessage: (d) => onPacket(d.data, addressKey(d.address), d.ttl),
          onError: (err) => this.log.warn({ err, port, family }, 'BFD listening socket error'),
        });
        return Promise.resolve({ close: () => socket.close() });
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    if (!this.warned) {
      this.warned = true;
      this.log.warn('BFD: herald-native unavailable; the TTL of received packets is not checked (RFC 5881 §5)');
    }
    const socket = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6', ...(family === 6 ? { ipv6Only: true } : {}) });
    return new Promise((resolve, reject) => {
      const onBindError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onBindError);
      socket.bind({ port, address: family === 4 ? '0.0.0.0' : '::', exclusive: true }, () => {
        socket.off('error', onBindError);
        socket.on('error', (err) => this.log.warn({ err, port, family }, 'BFD listening socket error'));
        socket.on('message', (msg, rinfo) => onPacket(msg, addressKey(rinfo.address), undefined));
        let closed = false;
        resolve({
          close: () => {
            if (closed) return;
            closed = true;
            socket.close();
          },
        });
      });
    });
  }

  sender(opts: SenderOptions): BFDSender {
    return new DgramSender(opts, this.rand);
  }
}
