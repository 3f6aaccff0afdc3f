// The BFD state machine (RFC 5880 §6.8) as a reducer: step(state, event, now) returns the
// next state and the actions for the driver. No clock, no sockets, no Math.random: the
// driver passes the time in, timers are deadlines in the state (`txAt`, `detectAt`) that
// the driver arms, and the jitter comes from a PRNG seeded into the state.
//
// Asynchronous mode only. We never ask for Demand mode, never run the Echo function
// (Required Min Echo RX Interval is 0, so the peer sends us no echoes, §6.8.9) and
// carry no authentication. C is 0: this BFD lives in the speaker process, so it shares
// fate with the control plane (§6.8.7, RFC 5882 §4.3).
import type { BFDAction, BFDConfig, BFDEvent, BFDParams, BFDSessionDrop, BFDSessionState, BFDStepResult } from './fsm-types.js';
import type { BFDControlPacket } from './packet.js';
import { Diag, INITIAL_REMOTE_MIN_RX_US, SLOW_TX_US, type BFDState } from './protocol.js';
import { detectionTime, jittered, nextRandom, txInterval, usToMs } from './timing.js';

export type * from './fsm-types.js';

/** The parameters our packets should carry in this state: §6.8.3 slow transmission while not Up. */
export function targetParams(config: BFDConfig, state: BFDState): BFDParams {
  return {
    desiredMinTxUs: state === 'Up' ? config.desiredMinTxUs : Math.max(config.desiredMinTxUs, SLOW_TX_US),
    requiredMinRxUs: config.requiredMinRxUs,
    detectMult: config.detectMult,
  };
}

/** A new session: Down, sending at once unless passive. */
export function initialState(config: BFDConfig, localDiscr: number, seed: number, now: number): BFDSessionState {
  if (localDiscr === 0) throw new RangeError('a local discriminator must be nonzero (RFC 5880 §6.8.1)');
  const advertised = targetParams(config, 'Down');
  return {
    state: 'Down',
    diag: Diag.None,
    config,
    localDiscr: localDiscr >>> 0,
    remoteDiscr: 0,
    remoteState: 'Down',
    remoteDiag: Diag.None,
    remoteDemand: false,
    remoteMinRxUs: INITIAL_REMOTE_MIN_RX_US,
    remoteDesiredMinTxUs: 0,
    remoteDetectMult: 0,
    advertised,
    txDesiredUs: advertised.desiredMinTxUs,
    rxRequiredUs: advertised.requiredMinRxUs,
    polling: false,
    ...(config.passive ? {} : { txAt: now }),
    seed: seed >>> 0,
  };
}

/** The Detection Time in force, in microseconds; 0 before the peer was heard. */
export function currentDetectionTime(s: BFDSessionState): number {
  return detectionTime(s.remoteDetectMult, s.rxRequiredUs, s.remoteDesiredMinTxUs);
}

/** The negotiated transmit interval in force, in microseconds (before jitter). */
export function currentTxInterval(s: BFDSessionState): number {
  return txInterval(s.txDesiredUs, s.remoteMinRxUs);
}

/** AdminDown and done sending: the driver may forget the session. */
export function isQuiet(s: BFDSessionState): boolean {
  return s.state === 'AdminDown' && s.txAt === undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Mutable<BFDSessionState>;

/** One step's work in progress. */
class Step {
  readonly n: Draft;
  readonly actions: BFDAction[] = [];
  /** Send a packet now rather than at the next periodic slot (a state change). */
  sendNow = false;
  /** Answer a Poll with Final (§6.8.7). */
  sendFinal = false;

  constructor(
    s: BFDSessionState,
    readonly now: number,
  ) {
    this.n = { ...s };
  }

  change(to: BFDState, diag: number): void {
    const from = this.n.state;
    if (from === to) return;
    this.n.state = to;
    this.n.diag = diag;
    this.sendNow = true;
    this.actions.push({ type: 'changed', from, to, diag, remoteState: this.n.remoteState });
  }

  random(): number {
    const [r, seed] = nextRandom(this.n.seed);
    this.n.seed = seed;
    return r;
  }

  nextTx(): number {
    return this.now + usToMs(jittered(currentTxInterval(this.n), this.n.advertised.detectMult, this.random()));
  }

  packet(final: boolean): BFDControlPacket {
    const n = this.n;
    return {
      diag: n.diag,
      state: n.state,
      poll: !final && n.polling,
      final,
      controlPlaneIndependent: false,
      demand: false,
      detectMult: n.advertised.detectMult,
      myDiscriminator: n.localDiscr,
      yourDiscriminator: n.remoteDiscr,
      desiredMinTxInterval: n.advertised.desiredMinTxUs,
      requiredMinRxInterval: n.advertised.requiredMinRxUs,
      requiredMinEchoRxInterval: 0,
    };
  }

  /** §6.8.7: whether periodic packets may go out. */
  mayTransmit(): boolean {
    const n = this.n;
    if (n.config.passive && n.remoteDiscr === 0) return false;
    if (n.remoteMinRxUs === 0) return false;
    if (n.remoteDemand && n.state === 'Up' && n.remoteState === 'Up' && !n.polling) return false;
    if (n.state === 'AdminDown' && (n.adminDownUntil === undefined || this.now >= n.adminDownUntil)) return false;
    return true;
  }

  /** Parameters (§6.8.3 Poll Sequences), the Detection Time, sends and the next periodic slot. */
  finish(dropped?: BFDSessionDrop): BFDStepResult {
    const n = this.n;
    const target = targetParams(n.config, n.state);
    if (n.state !== 'Up') {
      // No Poll outside Up: the peer learns new values from the next packet.
      n.polling = false;
      n.advertised = target;
      n.txDesiredUs = target.desiredMinTxUs;
      n.rxRequiredUs = target.requiredMinRxUs;
    } else if (!n.polling && !sameParams(target, n.advertised)) {
      // §6.8.3: a change while Up starts a Poll; a slower transmit rate and a faster
      // receive rate wait for its Final, so the peer's Detection Time is never too short.
      n.polling = true;
      n.txDesiredUs = Math.min(n.txDesiredUs, target.desiredMinTxUs);
      n.rxRequiredUs = Math.max(n.rxRequiredUs, target.requiredMinRxUs);
      n.advertised = target;
      this.sendNow = true;
    }
    const detect = currentDetectionTime(n);
    if (n.state === 'AdminDown' || n.lastRxAt === undefined || detect === 0) delete n.detectAt;
    else n.detectAt = n.lastRxAt + usToMs(detect);

    const may = this.mayTransmit();
    if (this.sendFinal) this.actions.push({ type: 'send', packet: this.packet(true) });
    else if (this.sendNow && may) this.actions.push({ type: 'send', packet: this.packet(false) });
    if (!may) delete n.txAt;
    else if (this.sendNow || this.sendFinal || n.txAt === undefined || n.txAt > this.now + usToMs(currentTxInterval(n))) n.txAt = this.nextTx();
    // AdminDown ends on time, so a removed session lets go of its socket promptly.
    if (n.txAt !== undefined && n.adminDownUntil !== undefined && n.state === 'AdminDown') n.txAt = Math.min(n.txAt, n.adminDownUntil);
    return dropped ? { state: n, actions: this.actions, dropped } : { state: n, actions: this.actions };
  }
}

function sameParams(a: BFDParams, b: BFDParams): boolean {
  return a.desiredMinTxUs === b.desiredMinTxUs && a.requiredMinRxUs === b.requiredMinRxUs && a.detectMult === b.detectMult;
}

/** §6.8.6, from "Set bfd.RemoteDiscr" on; the packet-level checks are the codec's. */
function receive(s: BFDSessionState, p: BFDControlPacket, now: number): BFDStepResult {
  if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== s.localDiscr) return { state: s, actions: [], dropped: 'discriminator-mismatch' };
  if (p.yourDiscriminator === 0 && p.state !== 'Down' && p.state !== 'AdminDown') return { state: s, actions: [], dropped: 'your-discriminator-zero' };
  const st = new Step(s, now);
  const n = st.n;
  n.remoteDiscr = p.myDiscriminator;
  n.remoteState = p.state;
  n.remoteDiag = p.diag;
  n.remoteDemand = p.demand;
  n.remoteMinRxUs = p.requiredMinRxInterval;
  n.remoteDesiredMinTxUs = p.desiredMinTxInterval;
  n.remoteDetectMult = p.detectMult;
  n.lastRxAt = now;
  if (p.final && n.polling) {
    n.polling = false;
    n.txDesiredUs = n.advertised.desiredMinTxUs;
    n.rxRequiredUs = n.advertised.requiredMinRxUs;
  }
  if (n.state === 'AdminDown') return st.finish('admin-down');
  if (p.state === 'AdminDown') {
    if (n.state !== 'Down') st.change('Down', Diag.NeighborSignaledSessionDown);
  } else if (n.state === 'Down') {
    if (p.state === 'Down') st.change('Init', Diag.None);
    else if (p.state === 'Init') st.change('Up', Diag.None);
  } else if (n.state === 'Init') {
    if (p.state === 'Init' || p.state === 'Up') st.change('Up', Diag.None);
  } else if (p.state === 'Down') {
    st.change('Down', Diag.NeighborSignaledSessionDown);
  }
  if (p.poll) st.sendFinal = true;
  return st.finish();
}

function txDue(s: BFDSessionState, now: number): BFDStepResult {
  if (s.txAt === undefined) return { state: s, actions: [] };
  const st = new Step(s, now);
  // finish() sends nothing when transmission is not allowed, and stops the timer.
  st.sendNow = true;
  return st.finish();
}

/** §6.8.4 / §6.8.1: a Detection Time without a packet. */
function detectExpired(s: BFDSessionState, now: number): BFDStepResult {
  if (s.detectAt === undefined) return { state: s, actions: [] };
  const st = new Step(s, now);
  const n = st.n;
  n.remoteDiscr = 0;
  n.remoteState = 'Down';
  n.remoteDemand = false;
  n.remoteMinRxUs = INITIAL_REMOTE_MIN_RX_US;
  delete n.lastRxAt;
  if (n.state === 'Init' || n.state === 'Up') st.change('Down', Diag.ControlDetectionTimeExpired);
  return st.finish();
}

/** §6.8.16: AdminDown is sent for at least the peer's Detection Time, then nothing. */
function adminDown(s: BFDSessionState, now: number): BFDStepResult {
  if (s.state === 'AdminDown') return { state: s, actions: [] };
  const st = new Step(s, now);
  const n = st.n;
  const slow = targetParams(n.config, 'AdminDown');
  const peerDetection = slow.detectMult * Math.max(n.remoteMinRxUs, slow.desiredMinTxUs, n.advertised.desiredMinTxUs);
  n.adminDownUntil = now + usToMs(peerDetection);
  delete n.lastRxAt;
  st.change('AdminDown', Diag.AdministrativelyDown);
  return st.finish();
}

function adminUp(s: BFDSessionState, now: number): BFDStepResult {
  if (s.state !== 'AdminDown') return { state: s, actions: [] };
  const st = new Step(s, now);
  delete st.n.adminDownUntil;
  st.change('Down', s.diag);
  return st.finish();
}

function configure(s: BFDSessionState, config: BFDConfig, now: number): BFDStepResult {
  const st = new Step(s, now);
  st.n.config = config;
  return st.finish();
}

/** One transition. Pure: the same (state, event, now) always gives the same result. */
export function step(s: BFDSessionState, e: BFDEvent, now: number): BFDStepResult {
  switch (e.type) {
    case 'received':
      return receive(s, e.packet, now);
    case 'txDue':
      return txDue(s, now);
    case 'detectExpired':
      return detectExpired(s, now);
    case 'adminDown':
      return adminDown(s, now);
    case 'adminUp':
      return adminUp(s, now);
    case 'configure':
      return configure(s, e.config, now);
  }
}
