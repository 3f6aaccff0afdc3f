// The session's view of TCP: a connection that carries bytes, a way to open one to a
// peer, and a registry that hands over connections peers open to us. The Node-backed
// implementations create their sockets through herald-native, because TCP-MD5
// (RFC 2385), the outgoing TTL (eBGP multihop) and the source address must be set
// before connect()/listen(), which `net` cannot do; the descriptor then goes to
// net.Socket / net.Server. Unit tests inject an in-memory Transport instead.
import net from 'node:net';
import type { Logger } from '../../shared/log.js';
import { canonicalIP, parseIP } from '../../shared/ip/ip.js';
import { connectTcp, listenTcp, nativeAvailable, type TcpListener } from '../native/index.js';

/** One TCP connection to a peer. */
export interface Connection {
  /** Canonical text; an IPv4-mapped IPv6 address is given as IPv4. */
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Receives the bytes and the end of the connection; set once, replaced to detach. */
  setHandlers(h: ConnectionHandlers): void;
  write(data: Buffer): void;
  /** Sends what is queued, then closes (FIN). Resolves once the connection is closed. */
  end(): Promise<void>;
  /** Closes at once, dropping anything queued. */
  destroy(): void;
}

export interface ConnectionHandlers {
  data(chunk: Buffer): void;
  /** The connection is gone, by the peer's doing or an error (never after end/destroy by us). */
  close(error?: Error): void;
}

export interface ConnectRequest {
  readonly peerAddress: string;
  readonly peerPort: number;
  /** Bind to this local address (BGPPeer sourceAddress). */
  readonly sourceAddress?: string;
  /** Outgoing TTL / hop limit: 1 for single-hop eBGP, 255 for multihop and iBGP. */
  readonly ttl?: number;
  /** RFC 2385 key shared with the peer. */
  readonly password?: string;
}

export type ConnectResult = { readonly ok: true; readonly connection: Connection } | { readonly ok: false; readonly error: Error };

export interface Transport {
  /**
   * Opens a connection; `done` is called once, asynchronously, unless the attempt is
   * cancelled first. There is no timeout here: the FSM's ConnectRetry timer ends slow
   * attempts (a peer that rejects our MD5 key drops the SYN, so only a timer notices).
   */
  connect(req: ConnectRequest, done: (result: ConnectResult) => void): { cancel(): void };
}

/** Where a session waits for connections its peer opens (RFC 4271 passive open, collisions). */
export interface PassiveRegistry {
  /**
   * Hands connections from `peerAddress` (to `localAddress`, when given) to `accept` and
   * installs the peer's TCP-MD5 key on the listening socket. Returns the unregister function.
   */
  register(peer: { readonly peerAddress: string; readonly localAddress?: string; readonly password?: string }, accept: (c: Connection) => void): () => void;
}

/** `::ffff:192.0.2.1` -> `192.0.2.1`; other addresses in canonical form. */
export function plainAddress(text: string | undefined): string {
  if (!text) return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (mapped?.[1]) return mapped[1];
  return canonicalIP(text) ?? text;
}

class SocketConnection implements Connection {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  private handlers: ConnectionHandlers | undefined;
  private error: Error | undefined;
  private ours = false;
  private readonly closed: Promise<void>;

  constructor(private readonly socket: net.Socket) {
    this.localAddress = plainAddress(socket.localAddress);
    this.localPort = socket.localPort ?? 0;
    this.remoteAddress = plainAddress(socket.remoteAddress);
    this.remotePort = socket.remotePort ?? 0;
    // BGP messages are whole units a peer acts on: no Nagle delay for a lone KEEPALIVE.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.handlers?.data(chunk));
    socket.on('error', (err) => {
      this.error ??= err;
    });
    this.closed = new Promise<void>((resolve) => {
      socket.once('close', () => {
        resolve();
        if (!this.ours) this.handlers?.close(this.error);
      });
    });
  }

  setHandlers(h: ConnectionHandlers): void {
    this.handlers = h;
  }

  write(data: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(data);
  }

  end(): Promise<void> {
    this.ours = true;
    if (!this.socket.destroyed) this.socket.end();
    return this.closed;
  }

  destroy(): void {
    this.ours = true;
    this.socket.destroy();
  }
}

/** Wraps an accepted or connected socket. */
export function socketConnection(socket: net.Socket): Connection {
  return new SocketConnection(socket);
}

/**
 * Real TCP. TTL and TCP-MD5 need herald-native; without it (a platform where it did not
 * build) a session that needs neither still connects with `net`, with the kernel's TTL.
 */
export class NodeTransport implements Transport {
  constructor(private readonly log?: Logger) {}

  connect(req: ConnectRequest, done: (result: ConnectResult) => void): { cancel(): void } {
    let socket: net.Socket;
    let finished = false;
    const finish = (r: ConnectResult): void => {
      if (finished) return;
      finished = true;
      queueMicrotask(() => done(r));
    };
    try {
      const ip = parseIP(req.peerAddress);
      if (!ip) throw new TypeError(`peer address "${req.peerAddress}" is not an IP address`);
      if (nativeAvailable() || req.password !== undefined) {
        socket = connectTcp({
          family: ip.family,
          host: req.peerAddress,
          port: req.peerPort,
          ...(req.sourceAddress ? { localAddress: req.sourceAddress } : {}),
          ...(req.ttl ? { ttl: req.ttl } : {}),
          ...(req.password !== undefined && req.password !== '' ? { md5Key: req.password } : {}),
        });
      } else {
        this.log?.warn({ peer: req.peerAddress }, 'herald-native unavailable: connecting with the kernel default TTL');
        socket = net.connect({ host: req.peerAddress, port: req.peerPort, ...(req.sourceAddress ? { localAddress: req.sourceAddress } : {}) });
      }
    } catch (err) {
      finish({ ok: false, error: err instanceof Error ? err : new Error(String(err)) });
      return { cancel: () => void (finished = true) };
    }
    const onError = (err: Error): void => {
      socket.destroy();
      finish({ ok: false, error: err });
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      if (finished) {
        socket.destroy();
        return;
      }
      finish({ ok: true, connection: new SocketConnection(socket) });
    });
    return {
      cancel: () => {
        finished = true;
        socket.destroy();
      },
    };
  }
}

interface Registration {
  readonly peerAddress: string;
  readonly localAddress?: string;
  readonly password?: string;
  readonly accept: (c: Connection) => void;
}

/**
 * The shared passive side: one listening socket per address family (port 179 unless
 * told otherwise), opened when the first session of that family registers, carrying
 * every registered peer's TCP-MD5 key. An accepted connection goes to the session
 * whose peer address (and source address, when it has one) matches; any other is
 * closed at once. The kernel keys TCP-MD5 by peer address only, so two sessions to one
 * peer address must share its password.
 */
export class BGPListener implements PassiveRegistry {
  private readonly registrations = new Set<Registration>();
  private readonly sockets = new Map<4 | 6, Promise<TcpListener | undefined>>();

  constructor(private readonly opts: { log: Logger; port?: number; addresses?: { 4?: string; 6?: string } }) {}

  register(peer: { peerAddress: string; localAddress?: string; password?: string }, accept: (c: Connection) => void): () => void {
    const ip = parseIP(peer.peerAddress);
    if (!ip) throw new TypeError(`peer address "${peer.peerAddress}" is not an IP address`);
    const reg: Registration = { ...peer, peerAddress: plainAddress(peer.peerAddress), accept };
    this.registrations.add(reg);
    const listener = this.open(ip.family);
    void listener.then((l) => {
      if (l && this.registrations.has(reg)) this.applyKey(l, reg.peerAddress);
    });
    return () => {
      if (!this.registrations.delete(reg)) return;
      void listener.then((l) => {
        if (l) this.applyKey(l, reg.peerAddress);
      });
    };
  }

  /** The port listened on for a family (the port given may be 0), once open; undefined when it could not open. */
  async localPort(family: 4 | 6): Promise<number | undefined> {
    const l = await this.sockets.get(family);
    const a = l?.server.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  /** Closes the listening sockets; registered sessions keep connecting out. */
  async close(): Promise<void> {
    const all = [...this.sockets.values()];
    this.sockets.clear();
    for (const p of all) await (await p)?.close();
  }

  /** The key of the newest registration for the address, or none once none is left. */
  private applyKey(l: TcpListener, peerAddress: string): void {
    const regs = [...this.registrations].filter((r) => r.peerAddress === peerAddress);
    const password = regs.at(-1)?.password;
    try {
      l.setMD5(peerAddress, password === undefined || password === '' ? undefined : password);
    } catch (err) {
      // Removing a key that was never set fails with ENOENT: nothing to undo.
      if (password !== undefined && password !== '') this.opts.log.error({ err, peer: peerAddress }, 'cannot set the TCP-MD5 key on the BGP listener');
    }
  }

  private open(family: 4 | 6): Promise<TcpListener | undefined> {
    const existing = this.sockets.get(family);
    if (existing) return existing;
    const port = this.opts.port ?? 179;
    const localAddress = this.opts.addresses?.[family] ?? (family === 4 ? '0.0.0.0' : '::');
    const p = listenTcp({ family, localAddress, localPort: port, ...(family === 6 ? { v6Only: true } : {}) }, (s) => this.accepted(s)).then(
      (l) => {
        this.opts.log.info({ address: localAddress, port }, 'listening for BGP connections');
        // An error after listen() must not take the speaker down with it.
        l.server.on('error', (err) => this.opts.log.error({ err, address: localAddress, port }, 'BGP listener error'));
        return l;
      },
      (err: unknown) => {
        // Another BGP daemon on the node may own the port: sessions still connect out.
        this.opts.log.warn({ err, address: localAddress, port }, 'cannot listen for BGP connections; sessions only connect out');
        return undefined;
      },
    );
    this.sockets.set(family, p);
    return p;
  }

  private accepted(socket: net.Socket): void {
    const remote = plainAddress(socket.remoteAddress);
    const local = plainAddress(socket.localAddress);
    const candidates = [...this.registrations].filter((r) => r.peerAddress === remote);
    const reg = candidates.find((r) => r.localAddress !== undefined && plainAddress(r.localAddress) === local) ?? candidates.find((r) => r.localAddress === undefined);
    if (!reg) {
      this.opts.log.debug({ peer: remote, local }, 'BGP connection from an unknown peer refused');
      socket.destroy();
      return;
    }
    reg.accept(new SocketConnection(socket));
  }
}
