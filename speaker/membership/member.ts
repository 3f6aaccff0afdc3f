// The membership adapter: owns the UDP sockets (IPv4 and IPv6, port 7946 by default) and
// the timers, feeds the pure core (core.ts) and reports the live set. Decisions live in
// the core; this file only moves bytes and time.
//
// Traffic. Each speaker sends one `alive` datagram (~90 bytes of payload, ~130 bytes on
// the wire over IPv4/Ethernet) to every other speaker every interval (100 ms, minus up to
// 10% jitter so that speakers do not fall into step; never later than promised). With N
// speakers each one sends and receives (N−1)/interval datagrams: at 100 nodes, 990
// packets per second out and 990 in per node (≈1 Mbit/s each way), 99,000 pps over the
// whole segment, and ~2,000 HMAC-SHA256 computations per second per node (one per
// datagram received, one per round sent: the same signed datagram goes to every peer).
// Measured here (30 in-process speakers on loopback, loaded 2-core machine): ~40 µs of CPU
// per datagram sent and received, so ~4% of one core per node at 100 nodes.
// That is the price of a sub-second, API-independent detection on every node; for much
// larger clusters raise `intervalMs` (the detection time scales with it: receivers use
// the interval each sender announces).
//
// Usage: `start()` once the speaker can announce (caches synced, responder open); feed
// `setPeers()` from the Node informer and `setKey()` from the Secret. Heartbeats start at
// once; after one detection time of listening the first `onChange` reports the live set
// (then announce what the election gives this node), and every change after that. On SIGTERM call `leave()`: it tells the peers at once
// (they drop this node and the next one takes over) and resolves after `leaveGraceMs`,
// during which the caller keeps answering for the IPs it holds (make-before-break);
// then `stop()`.
//
// Restart holds (core.ts, "Restarts"). `leave()` asks the peers to keep this node live for
// `restartHoldMs` while its node stays up. A peer holding a node checks that it is up
// every interval by opening a TCP connection to the node's address on the membership
// port: nothing listens there, so a node that is up answers at once with a reset (or
// accepts), and either proves its kernel runs and its link works. No answer for one
// detection time ends the hold, and the node's IPs fail over as for a cut link. A
// firewall dropping TCP on that port only makes restarts fail over like that (after
// ~350 ms) instead of holding.
import { connect as tcpConnect } from 'node:net';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Logger } from '../../shared/log.js';
import { decode, encode, MAX_HOLD_MS, MembershipError, MIN_INTERVAL_MS, MAX_INTERVAL_MS, validNodeName, type CodecDropReason } from './codec.js';
import {
  DEFAULT_CORE_OPTIONS,
  DEFAULT_RESTART_HOLD_MS,
  initialState,
  liveNodes,
  newSender,
  nextDeadline,
  heldPeers,
  nextMessage,
  onMessage,
  onNodeSeen,
  onTick,
  type CoreDropReason,
  type MembershipEvent,
  type MembershipState,
  type Sender,
  type Step,
} from './core.js';
import { acceptedKeys, keyring, pruneKeyring, rotateKey, signingKey, type Keyring, type RotationOptions } from './keyring.js';
import { NO_METRICS, type MembershipMetrics } from './metrics.js';
import type { MemberPeer } from './peers.js';

/** The logger calls the adapter makes (a pino Logger, or the relay of the membership thread). */
export type MemberLog = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

const SILENT: MemberLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } as unknown as MemberLog;

export const MEMBERSHIP_PORT = 7946;
export const DEFAULT_LEAVE_GRACE_MS = 1000;

/** Whether the host at `address` is up: resolves true on any answer (a TCP reset or accept). */
export type NodeProbe = (address: string, port: number, timeoutMs: number) => Promise<boolean>;

/** A TCP connection attempt: a reset (ECONNREFUSED) or an accept proves the host's kernel answers. */
export const tcpNodeProbe: NodeProbe = (address, port, timeoutMs) =>
  new Promise((resolve) => {
    const s = tcpConnect({ host: address, port });
    let done = false;
    const finish = (up: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(up);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.once('connect', () => finish(true));
    s.once('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNREFUSED'));
  });

export interface MembershipConfig {
  /** This node's name, as in its Node object. */
  node: string;
  /** The shared key (the `herald-memberlist` Secret), at least 16 bytes. */
  key: Uint8Array;
  /** UDP port, the same on every speaker. */
  port?: number;
  /** Local address to bind; default the IPv4 and IPv6 wildcard addresses. */
  bindAddress?: string;
  intervalMs?: number;
  /** Detection time = this × the interval a peer announces (default 3.5: 350 ms). */
  detectMultiplier?: number;
  /**
   * A new boot of a peer counts as live once heard this long without a break (default
   * 500 ms). Must exceed a joiner's listening time (detectMultiplier × intervalMs) so that
   * the joiner announces before the others let go.
   */
  joinDelayMs?: number;
  /** A peer that timed out counts as live again once heard this long without a break (default 0). */
  holdDownMs?: number;
  /** How far a new boot's clock may be from ours (default 60 s; 0 turns the check off). */
  maxClockSkewMs?: number;
  /** How long after `leave()` the caller keeps answering (default 1 s). */
  leaveGraceMs?: number;
  /**
   * How long `leave()` asks the peers to keep this node live while its node stays up
   * (default 10 s; 0: they take over at once, make-before-break). At most 65,535.
   */
  restartHoldMs?: number;
  /** How held peers' nodes are checked (default: tcpNodeProbe); for tests. */
  probeNode?: NodeProbe;
  /** How many `leave` datagrams to send, `leaveSpacingMs` apart (default 3, 20 ms). */
  leaveRepeats?: number;
  leaveSpacingMs?: number;
  rotation?: RotationOptions;
  logger?: MemberLog;
  /** Counters (metrics.ts); default: none. */
  metrics?: MembershipMetrics;
  /** Time sources, for tests: a monotonic ms clock and the wall clock (ms since the epoch). */
  clock?: { mono(): number; wall(): number };
}

export type ChangeListener = (live: ReadonlySet<string>, events: readonly MembershipEvent[]) => void;

type DropReason = CodecDropReason | CoreDropReason;

const realClock = { mono: () => performance.now(), wall: () => Date.now() };
/** Do not warn about the same kind of bad datagram more often than this. */
const WARN_EVERY_MS = 10_000;

export class Membership {
  private readonly cfg: Required<Omit<MembershipConfig, 'bindAddress' | 'rotation' | 'logger' | 'metrics' | 'clock' | 'key' | 'probeNode'>>;
  private readonly probeNode: NodeProbe;
  /** Held peers with a probe under way. */
  private readonly probing = new Set<string>();
  private readonly log: MemberLog;
  private readonly clock: { mono(): number; wall(): number };
  private readonly m: MembershipMetrics;
  private ring: Keyring;
  private state: MembershipState | undefined;
  private sender: Sender | undefined;
  private sockets: { v4?: Socket; v6?: Socket } = {};
  private peers: readonly MemberPeer[] = [];
  private listeners = new Set<ChangeListener>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private nextSendAt = Number.POSITIVE_INFINITY;
  private nextProbeAt = 0;
  private leaving = false;
  private paused = false;
  private stopped = false;
  private lastWarn = new Map<string, number>();

  constructor(private readonly config: MembershipConfig) {
    if (!validNodeName(config.node)) throw new MembershipError('badOptions', `invalid node name ${JSON.stringify(config.node)}`);
    this.cfg = {
      node: config.node,
      port: config.port ?? MEMBERSHIP_PORT,
      intervalMs: config.intervalMs ?? DEFAULT_CORE_OPTIONS.intervalMs,
      detectMultiplier: config.detectMultiplier ?? DEFAULT_CORE_OPTIONS.detectMultiplier,
      joinDelayMs: config.joinDelayMs ?? DEFAULT_CORE_OPTIONS.joinDelayMs,
      holdDownMs: config.holdDownMs ?? DEFAULT_CORE_OPTIONS.holdDownMs,
      maxClockSkewMs: config.maxClockSkewMs ?? DEFAULT_CORE_OPTIONS.maxClockSkewMs,
      leaveGraceMs: config.leaveGraceMs ?? DEFAULT_LEAVE_GRACE_MS,
      restartHoldMs: config.restartHoldMs ?? DEFAULT_RESTART_HOLD_MS,
      leaveRepeats: config.leaveRepeats ?? 3,
      leaveSpacingMs: config.leaveSpacingMs ?? 20,
    };
    const { intervalMs, detectMultiplier, port } = this.cfg;
    if (!Number.isInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
      throw new MembershipError('badOptions', `intervalMs must be an integer in ${MIN_INTERVAL_MS}..${MAX_INTERVAL_MS}`);
    }
    if (!(detectMultiplier > 1)) throw new MembershipError('badOptions', 'detectMultiplier must be more than 1');
    if (this.cfg.joinDelayMs <= intervalMs * detectMultiplier) {
      throw new MembershipError('badOptions', `joinDelayMs must exceed the listening time (${intervalMs * detectMultiplier} ms) for make-before-break`);
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new MembershipError('badOptions', `bad port ${port}`);
    const hold = this.cfg.restartHoldMs;
    if (!Number.isInteger(hold) || hold < 0 || hold > MAX_HOLD_MS) throw new MembershipError('badOptions', `restartHoldMs must be an integer in 0..${MAX_HOLD_MS}`);
    this.probeNode = config.probeNode ?? tcpNodeProbe;
    if (config.bindAddress !== undefined && !isIPv4(config.bindAddress) && !isIPv6(config.bindAddress)) {
      throw new MembershipError('badOptions', `bindAddress ${config.bindAddress} is not an IP address`);
    }
    this.log = config.logger ?? SILENT;
    this.clock = config.clock ?? realClock;
    this.m = config.metrics ?? NO_METRICS;
    this.ring = keyring(config.key);
  }

  /** Binds the sockets and starts listening; the first onChange comes one detection time later. */
  async start(): Promise<void> {
    if (this.state) throw new MembershipError('badOptions', 'membership already started');
    const mono = this.clock.mono();
    this.state = initialState(
      {
        self: this.cfg.node,
        intervalMs: this.cfg.intervalMs,
        detectMultiplier: this.cfg.detectMultiplier,
        joinDelayMs: this.cfg.joinDelayMs,
        holdDownMs: this.cfg.holdDownMs,
        maxClockSkewMs: this.cfg.maxClockSkewMs,
      },
      mono,
    );
    this.sender = newSender(this.cfg.node, this.clock.wall(), randomBytes(4).readUInt32BE(0));
    const bind = this.config.bindAddress;
    const wanted: ('v4' | 'v6')[] = bind === undefined ? ['v4', 'v6'] : [isIPv4(bind) ? 'v4' : 'v6'];
    const errors: Error[] = [];
    for (const family of wanted) {
      try {
        this.sockets[family] = await this.open(family, bind ?? (family === 'v4' ? '0.0.0.0' : '::'));
      } catch (err) {
        errors.push(err as Error);
        this.log.warn({ err, family }, 'membership: cannot bind');
      }
    }
    if (!this.sockets.v4 && !this.sockets.v6) {
      this.state = undefined;
      throw new MembershipError('socket', `membership: no socket could be bound: ${errors.map((e) => e.message).join('; ')}`);
    }
    this.log.info({ port: this.port(), interval: this.cfg.intervalMs, peers: this.peers.length }, 'membership: listening');
    this.nextSendAt = this.clock.mono();
    this.schedule();
  }

  /** The other speakers to send heartbeats to (the local node is ignored if present). */
  setPeers(peers: readonly MemberPeer[]): void {
    this.peers = peers.filter((p) => p.name !== this.cfg.node);
  }

  /** A changed key starts a rotation (keyring.ts); the same key changes nothing. */
  setKey(key: Uint8Array): void {
    const before = this.ring;
    this.ring = rotateKey(this.ring, key, this.clock.mono(), this.config.rotation);
    if (this.ring !== before) this.log.info('membership: key rotation started');
  }

  get ready(): boolean {
    return this.state?.ready === true;
  }

  /** The live speakers (this one included), or undefined until the listening phase is over. */
  live(): ReadonlySet<string> | undefined {
    return this.state?.ready ? liveNodes(this.state) : undefined;
  }

  /** Calls `listener` with the whole live set on every change once ready; returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The bound port (useful with port 0). */
  port(): number | undefined {
    const s = this.sockets.v4 ?? this.sockets.v6;
    return s?.address().port;
  }

  /**
   * Tells the peers this speaker is leaving, stops heartbeats and change reports, and
   * resolves after the grace period; keep answering until then, then call stop().
   */
  async leave(): Promise<void> {
    if (!this.state || this.leaving || this.stopped) return;
    this.leaving = true;
    this.nextSendAt = Number.POSITIVE_INFINITY;
    this.log.info({ grace: this.cfg.leaveGraceMs, holdMs: this.cfg.restartHoldMs }, 'membership: leaving');
    const started = this.clock.mono();
    for (let i = 0; i < this.cfg.leaveRepeats; i++) {
      if (i > 0) await sleep(this.cfg.leaveSpacingMs);
      if (this.stopped) return;
      this.broadcast('leave');
    }
    await sleep(Math.max(0, this.cfg.leaveGraceMs - (this.clock.mono() - started)));
  }

  /**
   * Stops sending heartbeats (receiving goes on), so that the peers count this node down
   * after one detection time: for when the rest of the speaker cannot answer (the main
   * thread stalled: thread.ts). resume() sends one at once.
   */
  pause(): void {
    if (!this.state || this.leaving || this.stopped || this.paused) return;
    this.paused = true;
    this.nextSendAt = Number.POSITIVE_INFINITY;
  }

  resume(): void {
    if (!this.paused || this.leaving || this.stopped) return;
    this.paused = false;
    this.nextSendAt = this.clock.mono();
    this.schedule();
  }

  /** Closes the sockets at once (without `leave`: peers notice by timeout). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const closing = Object.values(this.sockets).map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.sockets = {};
    await Promise.all(closing);
  }

  // ------------------------------------------------------------------ internals

  private open(family: 'v4' | 'v6', address: string): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = createSocket(family === 'v4' ? { type: 'udp4' } : { type: 'udp6', ipv6Only: true });
      const onError = (err: Error): void => {
        s.close();
        reject(err);
      };
      s.once('error', onError);
      s.on('message', (buf, rinfo) => this.receive(buf, rinfo));
      s.bind({ port: this.cfg.port, address }, () => {
        s.off('error', onError);
        s.on('error', (err) => this.log.warn({ err }, 'membership: socket error'));
        try {
          // A stalled event loop must not overflow the queue: ~1 s of traffic at 100 nodes.
          s.setRecvBufferSize(1 << 20);
        } catch {
          // Capped by net.core.rmem_max; the default is enough for small clusters.
        }
        resolve(s);
      });
    });
  }

  private receive(buf: Buffer, rinfo: RemoteInfo): void {
    if (this.stopped || !this.state) return;
    const mono = this.clock.mono();
    this.ring = pruneKeyring(this.ring, mono);
    const d = decode(buf, acceptedKeys(this.ring, mono));
    if (!d.ok) return this.drop(d.reason, rinfo);
    this.m.received(d.message.type);
    const step = onMessage(this.state, d.message, { mono, wall: this.clock.wall() });
    if (step.drop) return this.drop(step.drop, rinfo, d.message.node);
    if (step.events.length === 0 && step.state.peers.get(d.message.node)?.live) {
      // The common case, a heartbeat from a live peer: its deadline only moved later, so
      // the timer already set is early enough.
      this.state = step.state;
      return;
    }
    this.apply(step);
  }

  private drop(reason: DropReason, rinfo: RemoteInfo, node?: string): void {
    this.m.dropped(reason);
    const fields = { reason, from: rinfo.address, ...(node ? { peer: node } : {}) };
    // Reordering and our own reflected datagrams are routine; the rest means a wrong key,
    // a clock far off, a stranger on the port, or an attack.
    if (reason === 'replay' || reason === 'self' || reason === 'left') {
      this.log.debug(fields, 'membership: datagram dropped');
      return;
    }
    const now = this.clock.mono();
    if (now - (this.lastWarn.get(reason) ?? Number.NEGATIVE_INFINITY) < WARN_EVERY_MS) return;
    this.lastWarn.set(reason, now);
    this.log.warn(fields, 'membership: datagram dropped');
  }

  private apply(step: Step): void {
    this.state = step.state;
    if (step.events.length > 0) {
      let changed = false;
      for (const e of step.events) {
        if (e.type === 'ready') {
          this.log.info({ live: liveNodes(step.state).size }, 'membership: ready');
          changed = true;
          continue;
        }
        if (e.type === 'hold') {
          // The live set is unchanged; the listeners hear of it all the same (the L2
          // announcer answers for a held node meanwhile).
          this.m.transition('hold', 'leave');
          this.log.info({ peer: e.node, holdMs: e.ms }, 'membership: peer restarting; its node keeps its IPs while it is up');
          changed ||= step.state.ready;
          continue;
        }
        this.m.transition(e.type, e.reason);
        this.log.info({ peer: e.node, reason: e.reason }, e.type === 'up' ? 'membership: peer up' : 'membership: peer down');
        changed ||= step.state.ready;
      }
      const live = liveNodes(step.state);
      this.m.livePeers(live.size - 1);
      if (changed && !this.leaving) this.emit(live, step.events);
    }
    this.schedule();
  }

  private emit(live: ReadonlySet<string>, events: readonly MembershipEvent[]): void {
    for (const l of this.listeners) {
      try {
        l(live, events);
      } catch (err) {
        this.log.error({ err }, 'membership: change listener failed');
      }
    }
  }

  /** Probes the nodes of held peers (at most one probe each under way); each answer extends its hold. */
  private probeHeld(): void {
    if (!this.state || this.stopped) return;
    const timeout = this.cfg.intervalMs * this.cfg.detectMultiplier;
    for (const node of heldPeers(this.state)) {
      const peer = this.peers.find((p) => p.name === node);
      if (!peer || this.probing.has(node)) continue;
      this.probing.add(node);
      this.probeNode(peer.address, peer.port ?? this.cfg.port, timeout).then(
        (up) => {
          this.probing.delete(node);
          if (!up || this.stopped || !this.state) return;
          this.state = onNodeSeen(this.state, node, this.clock.mono());
          this.schedule();
        },
        () => this.probing.delete(node),
      );
    }
  }

  /** Sleeps until the next send, the next probe of a held peer, or the core's next deadline, whichever is first. */
  private schedule(): void {
    if (this.stopped || !this.state) return;
    const probeAt = this.state.peers.size > 0 && heldPeers(this.state).length > 0 ? this.nextProbeAt : Number.POSITIVE_INFINITY;
    const at = Math.min(this.nextSendAt, probeAt, nextDeadline(this.state) ?? Number.POSITIVE_INFINITY);
    if (at >= this.timerAt || !Number.isFinite(at)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      // setImmediate runs after the poll phase, so datagrams that queued up while the
      // event loop was busy are read before anyone is declared dead for their absence.
      () => setImmediate(() => this.wake()),
      Math.max(0, Math.ceil(at - this.clock.mono())),
    );
  }

  private wake(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.stopped || !this.state) return;
    const mono = this.clock.mono();
    if (mono >= this.nextSendAt) {
      this.broadcast('alive');
      // Up to 10% early, never late: the interval announced is a promise (RFC 5880 §6.8.7 jitters likewise).
      this.nextSendAt = mono + this.cfg.intervalMs * (0.9 + 0.1 * Math.random());
    }
    if (mono >= this.nextProbeAt) {
      this.probeHeld();
      this.nextProbeAt = mono + this.cfg.intervalMs;
    }
    this.apply(onTick(this.state, mono));
  }

  private broadcast(type: 'alive' | 'leave'): void {
    if (!this.sender || this.stopped) return;
    const mono = this.clock.mono();
    const next = nextMessage(this.sender, type, this.cfg.intervalMs, this.clock.wall(), type === 'leave' ? this.cfg.restartHoldMs : 0);
    this.sender = next.sender;
    const buf = encode(next.message, signingKey(this.ring, mono));
    for (const peer of this.peers) {
      const socket = isIPv4(peer.address) ? this.sockets.v4 : this.sockets.v6;
      if (!socket) {
        this.m.sendError('noSocketForFamily');
        continue;
      }
      socket.send(buf, peer.port ?? this.cfg.port, peer.address, (err) => {
        if (!err) return this.m.sent(type);
        const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
        this.m.sendError(code);
        this.log.debug({ peer: peer.name, err }, 'membership: send failed');
      });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
