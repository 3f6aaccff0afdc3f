// One BGP session to one peer: the driver around the pure FSM reducer (fsm.ts). It owns
// the TCP connection and the timers, feeds bytes through the framer and the codec into
// the FSM, carries out the actions the FSM returns, and keeps the Adj-RIB-Out in step
// with the wanted set it is given (adj-rib-out.ts).
//
// Shutdown on SIGTERM (the speaker's choice, made by its caller through stop()):
// - graceful restart enabled and negotiated: stop({ mode: 'graceful-restart' }) closes
//   the TCP connection without a NOTIFICATION. RFC 4724 §4.2 has the peer keep our
//   routes, marked stale, for the restart time; the next speaker process (an upgrade, a
//   rescheduled pod) re-sends them and End-of-RIB, and the peer flushes only those that
//   were not re-sent. Traffic keeps flowing through the restart, which is what a rolling
//   upgrade wants; the node's kernel keeps forwarding meanwhile (our F bit).
// - otherwise: stop({ mode: 'shutdown' }) sends Cease / Administrative Shutdown with an
//   RFC 8203 / RFC 9003 message, so the peer withdraws our routes at once and its
//   operator reads why, instead of waiting out the hold time.
import type { Logger } from '../../shared/log.js';
import { realClock, type Clock, type TimerHandle } from '../../shared/k8s/clock.js';
import { AdjRibOut, type Advertisement, type PeerContext } from './adj-rib-out.js';
import { resolveCollision } from './collision.js';
import { INITIAL_CONTEXT, type CodecContext } from './context.js';
import { BGPProtocolError, CeaseSubcode, ErrorCode } from './errors.js';
import { familyName, ipFamilyOf } from './family.js';
import { errorEvent, initialState, messageEvent, step, type FSMAction, type FSMEvent, type FSMState, type TimerName } from './fsm.js';
import { decodeMessage, encodeMessage, type BGPMessage } from './messages.js';
import { codecContext, peerAS, type Negotiated } from './negotiate.js';
import { notification, type NotificationMessage } from './notification.js';
import type { OpenMessage } from './open.js';
import type { RouteRefreshMessage } from './route-refresh.js';
import { fsmConfigFor, restartReasons, ttlFor, type SessionConfig } from './session-config.js';
import { Link, type LinkHooks } from './session-link.js';
import { interfaceNextHop, type NextHopResolver } from './session-next-hop.js';
import { notificationText, StatusReporter, type SessionStatus } from './session-status.js';
import { NodeTransport, type Connection, type PassiveRegistry, type Transport } from './transport.js';
import { prefixText } from './prefix.js';
import { endOfRib, type UpdateMessage } from './update.js';
import { SerialQueue } from '../../shared/serial-queue.js';

export type { Advertisement } from './adj-rib-out.js';
export type { SessionConfig } from './session-config.js';
export type { SessionStatus } from './session-status.js';

export interface SessionDeps {
  readonly log: Logger;
  readonly clock?: Clock;
  /** [0, 1); seeds the reconnect jitter. */
  readonly rand?: () => number;
  readonly transport?: Transport;
  /** Where connections the peer opens arrive (transport.ts BGPListener); none: connect out only. */
  readonly listener?: PassiveRegistry;
  readonly nextHop?: NextHopResolver;
}

export interface StopOptions {
  readonly mode?: 'shutdown' | 'graceful-restart';
  /** RFC 8203 shutdown communication. */
  readonly message?: string;
}

const timerEvents: Record<TimerName, FSMEvent> = {
  connectRetry: { type: 'ConnectRetryTimerExpires' },
  hold: { type: 'HoldTimerExpires' },
  keepalive: { type: 'KeepaliveTimerExpires' },
  idleHold: { type: 'IdleHoldTimerExpires' },
};

/** How long stop() and a restart wait for closing connections (a queued NOTIFICATION, the peer's FIN) before cutting them. */
const CLOSE_GRACE_MS = 2000;
const DEFAULT_SHUTDOWN_MESSAGE = 'herald speaker shutting down';
const RECONFIGURE_MESSAGE = 'herald: peer configuration changed';
/** Reasons that leave a sent NOTIFICATION worth reporting as the session's last error. */
const failureReasons = new Set(['protocol-error', 'open-rejected', 'unexpected-message', 'hold-timer-expired']);

export class BGPSession {
  private cfg: SessionConfig;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly transport: Transport;
  private readonly listener: PassiveRegistry | undefined;
  private readonly nextHop: NextHopResolver;
  private readonly rand: () => number;
  private primary: Link;
  private secondary: Link | undefined;
  private readonly rib = new AdjRibOut();
  /** Set while Established. */
  private peer: PeerContext | undefined;
  private establishedSince: Date | undefined;
  private updatesSent = 0;
  private lastError: string | undefined;
  private lastErrorTime: Date | undefined;
  private everEstablished = false;
  private started = false;
  private unregister: (() => void) | undefined;
  private readonly closingConns = new Map<Promise<void>, Connection>();
  private readonly serial = new SerialQueue();
  private sentNotification: NotificationMessage | undefined;
  private unsendableWarned = '';
  /** Bumped by reconfigure and stop: a restart waiting for the old connection to close goes ahead only while still current. */
  private restartGeneration = 0;
  private readonly reporter: StatusReporter;
  private readonly hooks: LinkHooks;

  constructor(cfg: SessionConfig, deps: SessionDeps) {
    this.cfg = cfg;
    this.log = deps.log.child({ peer: cfg.peerAddress, bgpPeer: cfg.name });
    this.clock = deps.clock ?? realClock;
    this.transport = deps.transport ?? new NodeTransport(this.log);
    this.listener = deps.listener;
    this.nextHop = deps.nextHop ?? interfaceNextHop;
    this.rand = deps.rand ?? Math.random;
    this.hooks = {
      clock: this.clock,
      timerExpired: (link, name) => this.fire(link, timerEvents[name]),
      data: (link, conn, chunk) => this.enqueue(() => this.receive(link, conn, chunk)),
      lost: (link, detail) => this.fire(link, { type: 'TcpConnectionFails', detail }),
    };
    this.primary = this.newLink(initialState(fsmConfigFor(cfg, true), this.seed()));
    this.reporter = new StatusReporter(() => this.status(), this.log);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.registerPassive();
    this.fire(this.primary, { type: 'ManualStart' });
  }

  /** The whole wanted set; replaces the previous one. Sends the difference when Established. */
  setWanted(ads: readonly Advertisement[]): void {
    const refused = this.rib.setWanted(ads);
    if (refused.length > 0) this.log.warn({ refused }, 'advertisements refused');
    this.enqueue(() => this.syncRib());
    this.reporter.soon();
  }

  /**
   * Takes a new configuration. Fields the OPEN or the TCP connection carry (ASNs,
   * addresses, password, …) need a new session: the old one is closed with Cease /
   * Administrative Reset (RFC 4486 §3: it comes back at once) and a new one started as
   * soon as the peer has closed the old connection (restartWhenClosed). A restart is no
   * failure: the backoff starts again from nothing. Hold, keepalive and connect times
   * apply at the next OPEN or connection attempt.
   */
  reconfigure(cfg: SessionConfig): void {
    const reasons = restartReasons(this.cfg, cfg);
    this.cfg = cfg;
    const apply = (): void => {
      this.primary.fsm = { ...this.primary.fsm, config: fsmConfigFor(cfg, !this.everEstablished) };
    };
    if (reasons.length === 0 || !this.started) {
      this.enqueue(apply);
      return;
    }
    this.log.info({ changed: reasons }, 'BGP peer configuration changed: restarting the session');
    this.unregister?.();
    this.unregister = undefined;
    const reset: FSMEvent = { type: 'ManualStop', shutdownMessage: RECONFIGURE_MESSAGE, reset: true };
    if (this.secondary) this.fire(this.secondary, reset);
    this.fire(this.primary, reset);
    this.enqueue(apply);
    this.enqueue(() => this.registerPassive());
    const generation = ++this.restartGeneration;
    this.enqueue(() => void this.restartWhenClosed(generation));
  }

  status(): SessionStatus {
    const neg = this.primary.fsm.negotiated;
    return {
      state: this.primary.fsm.state,
      ...(this.establishedSince ? { establishedSince: this.establishedSince } : {}),
      prefixesSent: this.rib.sentCount,
      updatesSent: this.updatesSent,
      pendingPrefixes: this.rib.pendingCount(this.peer),
      ...(this.lastError !== undefined ? { lastError: this.lastError, lastErrorTime: this.lastErrorTime } : {}),
      ...(neg
        ? {
            negotiated: {
              holdTime: neg.holdTime,
              families: neg.families.map(ipFamilyOf).filter((f): f is 4 | 6 => f !== undefined),
              gracefulRestart: neg.gracefulRestart !== undefined,
              fourOctetAS: neg.fourOctetAS,
              extendedMessages: neg.extendedMessages,
              peerRouterID: neg.peerBgpIdentifier,
              peerASN: neg.peerASN,
            },
          }
        : {}),
    };
  }

  onStatus(cb: (s: SessionStatus) => void): () => void {
    return this.reporter.subscribe(cb);
  }

  /**
   * Ends the session. 'shutdown' (default) sends Cease / Administrative Shutdown with
   * the message; 'graceful-restart' closes without NOTIFICATION when graceful restart
   * was negotiated, so the peer keeps our routes as stale (RFC 4724 §4.2), and falls
   * back to 'shutdown' otherwise. Resolves once the connection is closed (at most
   * CLOSE_GRACE_MS after the call). The session can be started again.
   */
  async stop(opts: StopOptions = {}): Promise<void> {
    this.started = false;
    this.restartGeneration++;
    this.unregister?.();
    this.unregister = undefined;
    const gr = opts.mode === 'graceful-restart' && this.primary.fsm.negotiated?.gracefulRestart !== undefined;
    const shutdownMessage = opts.message ?? DEFAULT_SHUTDOWN_MESSAGE;
    if (gr) this.log.info('closing without NOTIFICATION: the peer keeps our routes for the restart time (RFC 4724)');
    if (this.secondary) this.fire(this.secondary, { type: 'ManualStop', shutdownMessage });
    this.fire(this.primary, gr ? { type: 'ManualStop', notify: false } : { type: 'ManualStop', shutdownMessage });
    await this.settle();
  }

  /**
   * The path to the peer failed (BFD went Down, RFC 5882 §4.3): the session ends now, as
   * if its TCP connection had failed, instead of at the end of the hold time, and the FSM
   * reconnects after its usual backoff. Cease / BFD Down (RFC 9384) goes out first, in
   * case only the other direction failed. Without a session (Idle, Connect, Active) this
   * does nothing.
   */
  linkDown(reason: string): void {
    this.enqueue(() => {
      for (const link of [this.secondary, this.primary]) {
        const state = link?.fsm.state;
        if (!link?.conn || (state !== 'OpenSent' && state !== 'OpenConfirm' && state !== 'Established')) continue;
        this.send(link, notification(ErrorCode.Cease, CeaseSubcode.BFDDown));
        this.stepLink(link, { type: 'TcpConnectionFails', detail: reason });
        if (link === this.primary) this.setError(reason);
      }
    });
  }

  // ---- the event loop: every FSM step runs from this queue, one at a time ----

  private enqueue(fn: () => void): void {
    this.serial.run(fn);
  }

  private fire(link: Link, event: FSMEvent): void {
    this.enqueue(() => this.stepLink(link, event));
  }

  private stepLink(link: Link, e: FSMEvent): void {
    if (link !== this.primary && link !== this.secondary) return;
    const isPrimary = link === this.primary;
    const before = link.fsm.state;
    if (e.type === 'NotifMsg' && isPrimary) this.setError(notificationText('received', e.message));
    const r = step(link.fsm, e);
    link.fsm = r.state;
    this.sentNotification = undefined;
    for (const a of r.actions) this.perform(link, a);
    const sent = this.sentNotification as NotificationMessage | undefined;
    const after = link.fsm.state;
    const fields = { from: before, to: after, reason: r.reason, ...(r.detail !== undefined ? { detail: r.detail } : {}), ...(isPrimary ? {} : { connection: 'collision' }) };
    if (before !== after) this.log.info(fields, 'BGP session state');
    else if (r.reason !== 'ignored' && r.reason !== 'keepalive-received' && r.reason !== 'keepalive-sent') this.log.debug(fields, 'BGP session event');
    if (isPrimary) {
      if (sent && failureReasons.has(r.reason)) this.setError(notificationText('sent', sent, r.reason === 'hold-timer-expired' ? undefined : r.detail));
      else if (r.reason === 'tcp-failed') this.setError(`connection to ${this.cfg.peerAddress}:${this.cfg.peerPort}: ${r.detail ?? 'failed'}`);
      // A peer that rejects our TCP-MD5 key (or has none) drops the SYN: only this timer tells.
      else if (r.reason === 'connect-retry' && before === 'Connect') this.setError(`connection to ${this.cfg.peerAddress}:${this.cfg.peerPort}: no answer within ${link.fsm.config.connectTime}s`);
      if (before !== after) this.reporter.now();
    } else if (after === 'Idle') {
      this.closing(link.discard());
      this.secondary = undefined;
    }
  }

  private perform(link: Link, a: FSMAction): void {
    switch (a.type) {
      case 'connect':
        return this.connect(link);
      case 'send':
        return this.send(link, a.message);
      case 'startTimer':
        return link.startTimer(a.timer, a.seconds);
      case 'stopTimer':
        return link.stopTimer(a.timer);
      case 'drop':
        return this.closing(link.drop());
      case 'established':
        return this.onEstablished(link, a.negotiated);
      case 'down':
        return this.onDown(a.reason, a.detail);
      case 'receive':
        return this.onReceive(a.message);
    }
  }

  // ---- actions ----

  private connect(link: Link): void {
    const { peerAddress, peerPort, sourceAddress, password } = this.cfg;
    link.connect(
      this.transport,
      { peerAddress, peerPort, ttl: ttlFor(this.cfg), ...(sourceAddress ? { sourceAddress } : {}), ...(password ? { password } : {}) },
      (res) => {
        if (!res.ok) return this.fire(link, { type: 'TcpConnectionFails', detail: res.error.message });
        link.attach(res.connection, true);
        this.fire(link, { type: 'TcpConnectionSucceeded' });
      },
    );
  }

  private receive(link: Link, conn: Connection, chunk: Buffer): void {
    const live = (): boolean => link.conn === conn && (link === this.primary || link === this.secondary);
    if (!live()) return;
    let frames: Buffer[];
    try {
      frames = link.framer.push(chunk);
    } catch (err) {
      if (!(err instanceof BGPProtocolError)) throw err;
      return this.stepLink(link, errorEvent(err));
    }
    for (const frame of frames) {
      if (!live()) return;
      const ctx: CodecContext = link.fsm.negotiated ? codecContext(link.fsm.negotiated) : INITIAL_CONTEXT;
      let m: BGPMessage;
      try {
        m = decodeMessage(frame, ctx);
      } catch (err) {
        if (!(err instanceof BGPProtocolError)) throw err;
        return this.stepLink(link, errorEvent(err));
      }
      if (m.type === 'open' && link === this.secondary) this.collide(link, m);
      else this.stepLink(link, messageEvent(m));
    }
  }

  private send(link: Link, m: BGPMessage): void {
    const conn = link.conn;
    if (!conn) return;
    const bytes = this.encode(link, m);
    if (!bytes) return;
    conn.write(bytes);
    if (m.type === 'update') {
      this.updatesSent++;
      this.reporter.soon();
    } else if (m.type === 'notification') {
      this.sentNotification = m;
    }
  }

  /** Several UPDATEs, encoded, in one write per 64: 10,000 prefixes are a handful of syscalls. */
  private sendUpdates(link: Link, updates: readonly Buffer[]): void {
    const conn = link.conn;
    if (!conn || updates.length === 0) return;
    for (let i = 0; i < updates.length; i += 64) conn.write(updates.length === 1 ? updates[0]! : Buffer.concat(updates.slice(i, i + 64)));
    this.updatesSent += updates.length;
    this.reporter.soon();
  }

  private encodeAll(link: Link, messages: readonly BGPMessage[]): Buffer[] {
    const out: Buffer[] = [];
    for (const m of messages) {
      const b = this.encode(link, m);
      if (b) out.push(b);
    }
    return out;
  }

  private encode(link: Link, m: BGPMessage): Buffer | undefined {
    const neg = link.fsm.negotiated;
    const ctx = m.type === 'update' && this.peer ? this.peer.codec : neg ? codecContext(neg) : INITIAL_CONTEXT;
    try {
      return encodeMessage(m, ctx);
    } catch (err) {
      // A NOTIFICATION quoting a long message may outgrow 4096 octets: send it without the quote.
      if (m.type === 'notification' && m.data.length > 0) return this.encode(link, { ...m, data: Buffer.alloc(0) });
      this.log.error({ err, message: m.type }, 'cannot encode a BGP message');
      return undefined;
    }
  }

  /** Remembers a connection being closed, so stop() can wait for it. */
  private closing(c: { conn: Connection; closed: Promise<void> } | undefined): void {
    if (!c) return;
    this.closingConns.set(c.closed, c.conn);
    void c.closed.finally(() => this.closingConns.delete(c.closed));
  }

  private onEstablished(link: Link, neg: Negotiated): void {
    this.everEstablished = true;
    // The Restart State bit belongs to the first OPEN after the process started.
    link.fsm = { ...link.fsm, config: fsmConfigFor(this.cfg, false) };
    this.establishedSince = new Date(this.clock.now());
    const local = link.conn?.localAddress ?? this.cfg.sourceAddress ?? '';
    const families = neg.families.map(ipFamilyOf).filter((f): f is 4 | 6 => f !== undefined);
    const nextHop = families.includes(4) ? this.nextHop(local, 4) : undefined;
    const nextHopV6 = families.includes(6) ? this.nextHop(local, 6) : undefined;
    this.peer = {
      internal: neg.internal,
      localASN: this.cfg.myASN,
      families,
      ...(nextHop ? { nextHop } : {}),
      ...(nextHopV6 ? { nextHopV6 } : {}),
      codec: codecContext(neg),
    };
    this.log.info(
      { peerASN: neg.peerASN, holdTime: neg.holdTime, families: neg.families.map(familyName), gracefulRestart: neg.gracefulRestart !== undefined, nextHop, nextHopV6 },
      'BGP session established',
    );
    this.rib.reset();
    // RFC 4724 §2: End-of-RIB per family after the routes, so a peer keeping our stale
    // routes flushes the rest; in the same write.
    this.sendUpdates(link, [...this.rib.sync(this.peer), ...this.encodeAll(link, neg.families.map(endOfRib))]);
    this.warnUnsendable();
  }

  private onDown(reason: string, detail: string | undefined): void {
    this.log.warn({ reason, ...(detail !== undefined ? { detail } : {}) }, 'BGP session down');
    this.peer = undefined;
    this.establishedSince = undefined;
    this.rib.reset();
    this.unsendableWarned = '';
  }

  private onReceive(m: UpdateMessage | RouteRefreshMessage): void {
    // The speaker learns no routes: UPDATEs from the peer are decoded (a malformed one
    // still ends the session) and dropped.
    if (m.type !== 'routeRefresh' || !this.peer) return;
    const family = ipFamilyOf(m);
    // RFC 2918 §4: a family not negotiated is ignored; RFC 7313 §5: so are BoRR/EoRR, which we never offered.
    if (family === undefined || !this.peer.families.includes(family) || m.subtype !== 0) {
      this.log.debug({ afi: m.afi, safi: m.safi, subtype: m.subtype }, 'ROUTE-REFRESH ignored');
      return;
    }
    const updates = this.rib.refresh(family, this.peer);
    this.log.info({ family: familyName(m), updates: updates.length }, 'ROUTE-REFRESH: re-sending the Adj-RIB-Out');
    this.sendUpdates(this.primary, updates);
  }

  private syncRib(): void {
    if (!this.peer || this.primary.fsm.state !== 'Established') return;
    this.sendUpdates(this.primary, this.rib.sync(this.peer));
    this.warnUnsendable();
  }

  private warnUnsendable(): void {
    if (!this.peer) return;
    const left = this.rib.unsendable(this.peer);
    const key = `${left.count}`;
    if (key === this.unsendableWarned) return;
    this.unsendableWarned = key;
    if (!left.example) return;
    this.log.warn(
      { count: left.count, example: prefixText(left.example), families: this.peer.families, nextHop: this.peer.nextHop, nextHopV6: this.peer.nextHopV6 },
      'prefixes this session cannot carry: family not negotiated, or no next hop of that family on the interface of the session',
    );
  }

  /**
   * Starts the session again once the peer has closed the old connection, which it does
   * after acting on our NOTIFICATION; at most CLOSE_GRACE_MS later. A new connection that
   * reaches the peer while it still holds the old session is a collision at best (FRR
   * answers Cease / Connection Collision Resolution, and we back off). At worst FRR 8.4
   * accepts it beside the old session of a dynamic neighbour (`bgp listen range`), then
   * deletes that neighbour on our NOTIFICATION: the new session comes up orphaned,
   * Established on both ends but missing from FRR's neighbour table, so no show command
   * or configuration change reaches it until it drops.
   */
  private async restartWhenClosed(generation: number): Promise<void> {
    await this.settle();
    if (generation !== this.restartGeneration || !this.started) return;
    this.fire(this.primary, { type: 'ManualStart' });
  }

  // ---- connections the peer opens ----

  private registerPassive(): void {
    if (!this.listener || this.unregister) return;
    const { peerAddress, sourceAddress, password } = this.cfg;
    this.unregister = this.listener.register(
      { peerAddress, ...(sourceAddress ? { localAddress: sourceAddress } : {}), ...(password ? { password } : {}) },
      (conn) => this.enqueue(() => this.incoming(conn)),
    );
  }

  /** RFC 4271 §8.2.2 and §6.8: what a connection from the peer means in each state. */
  private incoming(conn: Connection): void {
    const p = this.primary;
    const state = p.fsm.state;
    if (this.started && state === 'Established' && p.fsm.negotiated?.gracefulRestart && !this.secondary) {
      // RFC 4724 §4.2: the peer restarted without its FIN reaching us (a power loss); its
      // new connection replaces the old session instead of waiting out our hold timer.
      this.stepLink(p, { type: 'TcpConnectionFails', detail: 'the peer opened a new connection: it restarted (RFC 4724 §4.2)' });
      this.adopt(conn);
      return;
    }
    if (!this.started || state === 'Idle' || state === 'Established' || this.secondary) {
      this.log.debug({ state }, 'connection from the peer refused');
      conn.destroy();
      return;
    }
    if (state === 'Connect' || state === 'Active') {
      // The peer's connection replaces our attempt in flight, if any.
      p.cancelAttempt();
      p.attach(conn, false);
      this.stepLink(p, { type: 'TcpConnectionConfirmed' });
      return;
    }
    // OpenSent / OpenConfirm: a second FSM runs on the new connection until its OPEN
    // tells us who the peer is; collide() then keeps one of the two.
    const config = { ...p.fsm.config, passive: true, autoRestart: false };
    const s = this.newLink(initialState(config, this.seed()));
    this.secondary = s;
    s.attach(conn, false);
    this.stepLink(s, { type: 'ManualStart' });
    this.stepLink(s, { type: 'TcpConnectionConfirmed' });
  }

  /** A fresh FSM on a connection the peer opened, replacing the (Idle) primary. */
  private adopt(conn: Connection): void {
    const old = this.primary;
    this.closing(old.discard());
    const s = this.newLink(initialState({ ...old.fsm.config, passive: true }, old.fsm.seed));
    this.primary = s;
    s.attach(conn, false);
    this.stepLink(s, { type: 'ManualStart' });
    this.stepLink(s, { type: 'TcpConnectionConfirmed' });
    s.fsm = { ...s.fsm, config: old.fsm.config, attempts: old.fsm.attempts };
  }

  private collide(s: Link, open: OpenMessage): void {
    const p = this.primary;
    const decision = resolveCollision({
      local: { bgpIdentifier: this.cfg.routerID, asn: this.cfg.myASN },
      remote: { bgpIdentifier: open.bgpIdentifier, asn: peerAS(open) },
      existingState: p.fsm.state,
      existingInitiatedLocally: p.initiatedLocally,
    });
    this.log.info({ keep: decision === 'keepExisting' ? 'existing' : 'new', existingState: p.fsm.state }, 'connection collision (RFC 4271 §6.8)');
    if (decision === 'keepExisting') return this.stepLink(s, { type: 'OpenCollisionDump' });
    if (p.conn) this.send(p, notification(ErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution));
    this.closing(p.discard());
    s.fsm = { ...s.fsm, config: fsmConfigFor(this.cfg, !this.everEstablished), enabled: true, attempts: p.fsm.attempts, seed: p.fsm.seed };
    this.primary = s;
    this.secondary = undefined;
    this.stepLink(s, { type: 'BGPOpen', message: open });
  }

  // ---- helpers ----

  private newLink(fsm: FSMState): Link {
    return new Link(fsm, this.hooks);
  }

  private seed(): number {
    return Math.floor(this.rand() * 0x100000000) >>> 0;
  }

  private setError(text: string): void {
    this.lastError = text;
    this.lastErrorTime = new Date(this.clock.now());
    this.reporter.soon();
  }

  /** Waits for closing connections, cutting them after CLOSE_GRACE_MS. */
  private async settle(): Promise<void> {
    if (this.closingConns.size === 0) return;
    let timer: TimerHandle | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(resolve, CLOSE_GRACE_MS);
    });
    await Promise.race([Promise.all([...this.closingConns.keys()]), grace]);
    timer?.cancel();
    for (const conn of this.closingConns.values()) conn.destroy();
    this.closingConns.clear();
  }
}
