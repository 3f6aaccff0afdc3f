// BFD sessions of one speaker: the driver around the pure state machine (fsm.ts). It owns
// the sockets (transport.ts) and the timers, demultiplexes received packets to sessions
// (RFC 5880 §6.8.6: by Your Discriminator, or by the source address while that is 0),
// carries out the actions each step returns and tells subscribers about state changes.
//
// Received packets are checked for their TTL / hop limit (GTSM, RFC 5082): single-hop
// ones must arrive with 255 (RFC 5881 §5), multihop ones with at least the profile's
// minimumTtl (RFC 5883 §5); others are dropped and counted (`ttl`). Without the native
// addon the TTL cannot be read and is not checked (transport.ts).
//
// Not implemented: the Echo function (profiles' echoMode/echoInterval are accepted and
// ignored, §6.4 makes echo optional), Demand mode and authentication.
//
// Passive sessions speak only once a packet names them or carries Your Discriminator 0
// from their peer (RFC 5880 §6.1). RFC 5880 §6.8.1 has the peer forget a discriminator
// after a Detection Time of silence, but FRR 8.4 keeps naming a vanished one while its
// session is Down; a passive session replacing one the peer still remembers then waits
// until the peer's session restarts. Re-adding right away (below) avoids it.
import { realClock, type Clock, type TimerHandle } from '../../shared/k8s/clock.js';
import type { BFDProfileModel } from '../../shared/config/types.js';
import type { Logger } from '../../shared/log.js';
import { initialState, isQuiet, step, type BFDConfig, type BFDEvent, type BFDSessionState } from './fsm.js';
import { BFDDecodeError, decodeControl, encodeControl } from './packet.js';
import { diagText, MULTIHOP_PORT, SEND_TTL, SINGLE_HOP_PORT, type BFDState, type Diag } from './protocol.js';
import { bfdStatus } from './status.js';
import { addressKey, familyOf, NodeBFDTransport, type BFDListener, type BFDSender, type BFDTransport, type Family } from './transport.js';
import { SerialQueue } from '../../shared/serial-queue.js';

export interface BFDPeer {
  readonly address: string;
  readonly localAddress?: string;
  readonly profile: BFDProfileModel;
  /** RFC 5883: the peer is routed hops away (eBGP multihop); single-hop (RFC 5881) otherwise. */
  readonly multihop?: boolean;
}

/** What the peer said last, for subscribers that care why the session went down. */
export interface BFDStateInfo {
  readonly remoteState: BFDState;
  readonly remoteDiag: Diag;
}

export type BFDStateCallback = (state: BFDState, diag: Diag, info: BFDStateInfo) => void;

export interface BFDHandle {
  readonly localDiscriminator: number;
  /** Called on every state change; returns the unsubscribe function. */
  onState(cb: BFDStateCallback): () => void;
  state(): BFDState;
  diag(): Diag;
  /** For BGPSessionState.status.bfdStatus. */
  status(): string;
  /** New intervals or multiplier; while Up they take effect through a Poll Sequence. */
  reconfigure(profile: BFDProfileModel): void;
  /** AdminDown to the peer (for a Detection Time), then the session is gone. */
  remove(): void;
}

export interface PortPair {
  /** Where we listen. */
  readonly listen: number;
  /** Where the peer listens. */
  readonly peer: number;
}

export interface BFDSessionsOptions {
  readonly log: Logger;
  readonly clock?: Clock;
  /** [0, 1): discriminators, jitter seeds, source ports. */
  readonly rand?: () => number;
  readonly transport?: BFDTransport;
  /** Tests: ports other than 3784 / 4784. */
  readonly ports?: { readonly singleHop?: PortPair; readonly multihop?: PortPair };
  /** Told of each datagram dropped before reaching a session, with the reason (herald_bfd_dropped_total). */
  readonly onDrop?: (reason: string) => void;
}

/** Why received datagrams were not handed to a session, counted. */
export type BFDDropCounts = Record<string, number>;

type Kind = 'single' | 'multi';

interface Session {
  readonly discr: number;
  readonly peer: BFDPeer;
  readonly key: string;
  readonly kind: Kind;
  readonly family: Family;
  readonly log: Logger;
  fsm: BFDSessionState;
  readonly sender: BFDSender;
  readonly subscribers: Set<BFDStateCallback>;
  tx?: { at: number; handle: TimerHandle };
  detect?: { at: number; handle: TimerHandle };
  removed: boolean;
  gone: boolean;
  problem?: string;
  lastSendError?: string;
}

export function profileConfig(profile: BFDProfileModel): BFDConfig {
  return {
    desiredMinTxUs: profile.transmitInterval * 1000,
    requiredMinRxUs: profile.receiveInterval * 1000,
    detectMult: profile.detectMultiplier,
    passive: profile.passiveMode,
  };
}

export class BFDSessions {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly rand: () => number;
  private readonly transport: BFDTransport;
  private readonly ports: Record<Kind, PortPair>;
  private readonly byDiscr = new Map<number, Session>();
  private readonly byPeer = new Map<string, Session[]>();
  private readonly listeners = new Map<string, { ready: Promise<BFDListener | undefined>; problem?: string }>();
  private readonly drops: BFDDropCounts = {};
  private readonly onDrop: ((reason: string) => void) | undefined;
  private readonly serial = new SerialQueue();
  private closed = false;
  private echoWarned = false;

  constructor(opts: BFDSessionsOptions) {
    this.log = opts.log.child({ protocol: 'bfd' });
    this.onDrop = opts.onDrop;
    this.clock = opts.clock ?? realClock;
    this.rand = opts.rand ?? Math.random;
    this.transport = opts.transport ?? new NodeBFDTransport(this.log, this.rand);
    this.ports = {
      single: opts.ports?.singleHop ?? { listen: SINGLE_HOP_PORT, peer: SINGLE_HOP_PORT },
      multi: opts.ports?.multihop ?? { listen: MULTIHOP_PORT, peer: MULTIHOP_PORT },
    };
  }

  add(peer: BFDPeer): BFDHandle {
    if (this.closed) throw new Error('BFDSessions is closed');
    const family = familyOf(peer.address);
    if (peer.localAddress !== undefined && familyOf(peer.localAddress) !== family) {
      throw new TypeError(`local address ${peer.localAddress} and peer ${peer.address} are of different families`);
    }
    const kind: Kind = peer.multihop ? 'multi' : 'single';
    const key = addressKey(peer.address);
    const discr = this.newDiscriminator();
    const log = this.log.child({ peer: key, discriminator: discr });
    if (peer.profile.echoMode && !this.echoWarned) {
      this.echoWarned = true;
      log.warn({ profile: peer.profile.name }, 'BFD echo mode is not supported: asynchronous mode only');
    }
    const listener = this.ensureListener(family, kind);
    const session: Session = {
      discr,
      peer,
      key,
      kind,
      family,
      log,
      fsm: initialState(profileConfig(peer.profile), discr, this.seed(), this.clock.now()),
      sender: this.transport.sender({
        family,
        peerAddress: peer.address,
        port: this.ports[kind].peer,
        ...(peer.localAddress !== undefined ? { localAddress: peer.localAddress } : {}),
        onError: (err) => this.sendFailed(session, err),
      }),
      subscribers: new Set(),
      removed: false,
      gone: false,
      ...(listener.problem ? { problem: listener.problem } : {}),
    };
    const peerKey = `${kind}/${key}`;
    // A removed session to this peer still saying AdminDown goes quiet now: each of its
    // packets would make the peer name its discriminator again, and FRR (8.4) then keeps
    // naming it while Down, never with Your Discriminator 0, which a passive session needs.
    for (const old of this.byPeer.get(peerKey) ?? []) if (old.removed) this.forget(old);
    this.byDiscr.set(discr, session);
    this.byPeer.set(peerKey, [...(this.byPeer.get(peerKey) ?? []), session]);
    log.info({ profile: peer.profile.name, multihop: kind === 'multi', passive: peer.profile.passiveMode }, 'BFD session added');
    this.enqueue(() => this.settleTimers(session));
    return this.handle(session);
  }

  /** Counts of datagrams dropped before reaching a session, by reason. */
  dropCounts(): BFDDropCounts {
    return { ...this.drops };
  }

  /** Tells every peer AdminDown once, then closes every socket and timer. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.byDiscr.values()) {
      s.subscribers.clear();
      if (!s.removed) this.dispatch(s, { type: 'adminDown' });
    }
    for (const s of [...this.byDiscr.values()]) this.forget(s);
    const listeners = await Promise.all([...this.listeners.values()].map((l) => l.ready));
    for (const l of listeners) l?.close();
    this.listeners.clear();
  }

  // ---- handles ----

  private handle(s: Session): BFDHandle {
    return {
      localDiscriminator: s.discr,
      onState: (cb) => {
        if (s.removed) return () => {};
        s.subscribers.add(cb);
        return () => s.subscribers.delete(cb);
      },
      state: () => s.fsm.state,
      diag: () => s.fsm.diag,
      status: () => bfdStatus(s.fsm.state, s.fsm.diag, s.fsm.state === 'Up' ? undefined : s.problem),
      reconfigure: (profile) => {
        if (s.removed) return;
        this.dispatch(s, { type: 'configure', config: profileConfig(profile) });
      },
      remove: () => {
        if (s.removed) return;
        s.removed = true;
        s.subscribers.clear();
        s.log.info('BFD session removed');
        this.dispatch(s, { type: 'adminDown' });
      },
    };
  }

  // ---- the event loop: one step at a time, callbacks included ----

  private enqueue(fn: () => void): void {
    this.serial.run(fn);
  }

  private dispatch(s: Session, e: BFDEvent): void {
    this.enqueue(() => this.stepSession(s, e));
  }

  private stepSession(s: Session, e: BFDEvent): void {
    if (s.gone) return;
    const r = step(s.fsm, e, this.clock.now());
    s.fsm = r.state;
    if (r.dropped) this.count(`session:${r.dropped}`);
    for (const a of r.actions) {
      if (a.type === 'send') {
        s.sender.send(encodeControl(a.packet));
        continue;
      }
      const fields = { from: a.from, to: a.to, diag: diagText(a.diag), remoteState: a.remoteState };
      if (a.to === 'Down' && a.from === 'Up') s.log.warn(fields, 'BFD session down');
      else s.log.info(fields, 'BFD session state');
      const info: BFDStateInfo = { remoteState: a.remoteState, remoteDiag: s.fsm.remoteDiag };
      for (const cb of [...s.subscribers]) {
        try {
          cb(a.to, a.diag, info);
        } catch (err) {
          s.log.error({ err }, 'BFD state subscriber failed');
        }
      }
    }
    if (s.removed && isQuiet(s.fsm)) this.forget(s);
    else this.settleTimers(s);
  }

  private settleTimers(s: Session): void {
    if (s.gone) return;
    s.tx = this.arm(s, s.tx, s.fsm.txAt, { type: 'txDue' }, (t) => (s.tx = t));
    s.detect = this.arm(s, s.detect, s.fsm.detectAt, { type: 'detectExpired' }, (t) => (s.detect = t));
  }

  private arm(
    s: Session,
    current: { at: number; handle: TimerHandle } | undefined,
    at: number | undefined,
    event: BFDEvent,
    set: (t: undefined) => void,
  ): { at: number; handle: TimerHandle } | undefined {
    if (current?.at === at) return current;
    current?.handle.cancel();
    if (at === undefined) return undefined;
    const handle = this.clock.setTimeout(
      () => {
        set(undefined);
        this.dispatch(s, event);
      },
      Math.max(0, at - this.clock.now()),
    );
    return { at, handle };
  }

  /** Closes the session's socket and timers and drops it from the tables. */
  private forget(s: Session): void {
    if (s.gone) return;
    s.gone = true;
    s.tx?.handle.cancel();
    s.detect?.handle.cancel();
    s.tx = undefined;
    s.detect = undefined;
    s.sender.close();
    this.byDiscr.delete(s.discr);
    const peerKey = `${s.kind}/${s.key}`;
    const rest = (this.byPeer.get(peerKey) ?? []).filter((x) => x !== s);
    if (rest.length > 0) this.byPeer.set(peerKey, rest);
    else this.byPeer.delete(peerKey);
  }

  // ---- receiving ----

  private ensureListener(family: Family, kind: Kind): { problem?: string } {
    const port = this.ports[kind].listen;
    const key = `${family}/${port}`;
    const existing = this.listeners.get(key);
    if (existing) return existing;
    const entry: { ready: Promise<BFDListener | undefined>; problem?: string } = {
      ready: this.transport.listen(family, port, (data, from, ttl) => this.enqueue(() => this.receive(kind, data, from, ttl))).catch((err: unknown) => {
        const e = err as NodeJS.ErrnoException;
        entry.problem = `cannot listen on UDP ${port}: ${e.code ?? e.message}`;
        this.log.error({ err, port, family }, 'BFD cannot listen: sessions of this family stay Down');
        for (const s of this.byDiscr.values()) if (s.family === family && s.kind === kind) s.problem = entry.problem;
        return undefined;
      }),
    };
    this.listeners.set(key, entry);
    return entry;
  }

  private receive(kind: Kind, data: Buffer, from: string, ttl: number | undefined): void {
    if (this.closed) return;
    // Single-hop: only a packet sent with 255 can come from the link itself (RFC 5881 §5).
    if (kind === 'single' && ttl !== undefined && ttl !== SEND_TTL) return this.count('ttl');
    let decoded;
    try {
      decoded = decodeControl(data);
    } catch (err) {
      if (!(err instanceof BFDDecodeError)) throw err;
      this.count(`malformed:${err.check}`);
      this.log.debug({ peer: from, check: err.check, detail: err.message }, 'malformed BFD packet dropped');
      return;
    }
    if (!decoded.ok) return this.count(decoded.drop);
    const p = decoded.value;
    const s = p.yourDiscriminator !== 0 ? this.byDiscr.get(p.yourDiscriminator) : this.byPeer.get(`${kind}/${from}`)?.find((x) => !x.removed);
    if (!s) return this.count('no-session');
    // A discriminator names one session, which speaks to one address over one port.
    if (s.key !== from || s.kind !== kind) return this.count('address-mismatch');
    if (kind === 'multi' && ttl !== undefined && ttl < s.peer.profile.minimumTtl) return this.count('ttl');
    s.lastSendError = undefined;
    this.stepSession(s, { type: 'received', packet: p });
  }

  private sendFailed(s: Session, err: Error): void {
    const e = err as NodeJS.ErrnoException;
    const code = e.code ?? err.message;
    if (e.syscall === 'bind') {
      // No socket at all (the local address is gone, every source port taken): report it.
      s.problem = `cannot bind a UDP source port${s.peer.localAddress ? ` on ${s.peer.localAddress}` : ''}: ${code}`;
      s.log.error({ err }, 'BFD session cannot send');
      return;
    }
    // A dead link fails every send: one line per kind of failure until the peer is heard again.
    if (s.lastSendError === code) return;
    s.lastSendError = code;
    s.log.debug({ err }, 'BFD send failed');
  }

  private count(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
    this.onDrop?.(reason);
  }

  // ---- randomness ----

  private seed(): number {
    return Math.floor(this.rand() * 0x100000000) >>> 0;
  }

  /** RFC 5880 §6.8.1: nonzero and unique among our sessions. */
  private newDiscriminator(): number {
    let d = this.seed();
    for (let i = 0; i < 64 && (d === 0 || this.byDiscr.has(d)); i++) d = this.seed();
    while (d === 0 || this.byDiscr.has(d)) d = (d + 1) >>> 0;
    return d;
  }
}
