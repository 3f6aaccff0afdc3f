// One TCP connection of a session and the FSM speaking over it, with that FSM's timers
// and its connection attempt in flight. A session has one; two only while a connection
// collision (RFC 4271 §6.8) is being settled. The session decides; this only keeps the
// plumbing straight: a stale timer, attempt or socket event never reaches the FSM.
import type { Clock, TimerHandle } from '../../shared/k8s/clock.js';
import { EXTENDED_MAX_MESSAGE_SIZE } from './context.js';
import { Framer } from './framer.js';
import type { FSMState, TimerName } from './fsm-types.js';
import type { ConnectRequest, ConnectResult, Connection, Transport } from './transport.js';

export interface LinkHooks {
  readonly clock: Clock;
  timerExpired(link: Link, name: TimerName): void;
  data(link: Link, conn: Connection, chunk: Buffer): void;
  /** The peer closed the connection or it failed. */
  lost(link: Link, detail: string): void;
}

const noHandlers = { data: (): void => {}, close: (): void => {} };

export class Link {
  conn: Connection | undefined;
  /** Whether we opened the current connection (collision resolution needs it). */
  initiatedLocally = false;
  /**
   * We offer extended messages: the framer accepts up to 65535 octets and decodeMessage
   * holds each message to the size actually negotiated (RFC 8654 §4).
   */
  framer = new Framer(EXTENDED_MAX_MESSAGE_SIZE);
  private readonly timers = new Map<TimerName, TimerHandle>();
  private attempt: { cancel(): void } | undefined;
  private attemptToken: object | undefined;

  constructor(
    public fsm: FSMState,
    private readonly hooks: LinkHooks,
  ) {}

  startTimer(name: TimerName, seconds: number): void {
    this.stopTimer(name);
    const handle = this.hooks.clock.setTimeout(() => {
      if (this.timers.get(name) !== handle) return;
      this.timers.delete(name);
      this.hooks.timerExpired(this, name);
    }, seconds * 1000);
    this.timers.set(name, handle);
  }

  stopTimer(name: TimerName): void {
    this.timers.get(name)?.cancel();
    this.timers.delete(name);
  }

  stopTimers(): void {
    for (const name of [...this.timers.keys()]) this.stopTimer(name);
  }

  /** Starts a connection attempt, replacing any in flight; `done` never hears of a cancelled one. */
  connect(transport: Transport, req: ConnectRequest, done: (r: ConnectResult) => void): void {
    this.cancelAttempt();
    const token = {};
    this.attemptToken = token;
    const handle = transport.connect(req, (res) => {
      if (this.attemptToken !== token) {
        if (res.ok) res.connection.destroy();
        return;
      }
      this.attemptToken = undefined;
      this.attempt = undefined;
      done(res);
    });
    if (this.attemptToken === token) this.attempt = handle;
  }

  cancelAttempt(): void {
    this.attempt?.cancel();
    this.attempt = undefined;
    this.attemptToken = undefined;
  }

  attach(conn: Connection, initiatedLocally: boolean): void {
    this.conn = conn;
    this.initiatedLocally = initiatedLocally;
    this.framer = new Framer(EXTENDED_MAX_MESSAGE_SIZE);
    conn.setHandlers({
      data: (chunk) => this.hooks.data(this, conn, chunk),
      close: (err) => {
        if (this.conn !== conn) return;
        this.conn = undefined;
        this.hooks.lost(this, err ? err.message : 'connection closed by the peer');
      },
    });
  }

  /**
   * Abandons the attempt in flight and closes the connection once queued messages (a
   * NOTIFICATION) are out. Returns the connection being closed, if there was one.
   */
  drop(): { conn: Connection; closed: Promise<void> } | undefined {
    this.cancelAttempt();
    const conn = this.conn;
    this.conn = undefined;
    this.framer = new Framer(EXTENDED_MAX_MESSAGE_SIZE);
    if (!conn) return undefined;
    conn.setHandlers(noHandlers);
    return { conn, closed: conn.end() };
  }

  /** Stops everything: timers, attempt, connection. */
  discard(): { conn: Connection; closed: Promise<void> } | undefined {
    this.stopTimers();
    return this.drop();
  }
}
