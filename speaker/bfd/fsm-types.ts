// The vocabulary of the BFD state machine (RFC 5880 §6.8): the state variables of §6.8.1
// plus our timers as deadlines, the events fed in, and the actions handed back.
import type { BFDControlPacket } from './packet.js';
import type { BFDState, Diag } from './protocol.js';

export interface BFDConfig {
  /** Microseconds: how often we would like to send once Up. */
  readonly desiredMinTxUs: number;
  /** Microseconds: how often we can take packets. */
  readonly requiredMinRxUs: number;
  readonly detectMult: number;
  /** §6.1 passive role: send nothing until the peer has been heard. */
  readonly passive: boolean;
}

/** What our packets carry: bfd.DesiredMinTxInterval, bfd.RequiredMinRxInterval, bfd.DetectMult. */
export interface BFDParams {
  readonly desiredMinTxUs: number;
  readonly requiredMinRxUs: number;
  readonly detectMult: number;
}

export interface BFDSessionState {
  /** bfd.SessionState */
  readonly state: BFDState;
  /** bfd.LocalDiag: why the session last went down. */
  readonly diag: Diag;
  readonly config: BFDConfig;
  readonly localDiscr: number;
  /** bfd.RemoteDiscr: 0 until heard, and again after a Detection Time of silence. */
  readonly remoteDiscr: number;
  readonly remoteState: BFDState;
  readonly remoteDiag: Diag;
  readonly remoteDemand: boolean;
  readonly remoteMinRxUs: number;
  readonly remoteDesiredMinTxUs: number;
  /** 0 until heard. */
  readonly remoteDetectMult: number;
  readonly advertised: BFDParams;
  /**
   * The values our own timers use. They follow `advertised` except during a Poll
   * Sequence (§6.8.3): a larger transmit interval and a smaller receive interval only
   * take effect once the peer has answered with Final.
   */
  readonly txDesiredUs: number;
  readonly rxRequiredUs: number;
  /** A Poll Sequence is running: our periodic packets carry P until a Final arrives. */
  readonly polling: boolean;
  /** Milliseconds (the driver's clock): when the last valid packet arrived. */
  readonly lastRxAt?: number;
  /** When the next periodic packet is due; none: we do not transmit. */
  readonly txAt?: number;
  /** When the Detection Time runs out; none: not running. */
  readonly detectAt?: number;
  /** §6.8.16: AdminDown packets go out until then. */
  readonly adminDownUntil?: number;
  /** PRNG state for the jitter. */
  readonly seed: number;
}

export type BFDEvent =
  | { readonly type: 'received'; readonly packet: BFDControlPacket }
  | { readonly type: 'txDue' }
  | { readonly type: 'detectExpired' }
  | { readonly type: 'adminDown' }
  | { readonly type: 'adminUp' }
  | { readonly type: 'configure'; readonly config: BFDConfig };

export type BFDAction =
  | { readonly type: 'send'; readonly packet: BFDControlPacket }
  | { readonly type: 'changed'; readonly from: BFDState; readonly to: BFDState; readonly diag: Diag; readonly remoteState: BFDState };

/** §6.8.6 rules that discard a packet at the session. */
export type BFDSessionDrop =
  /** Your Discriminator names another session. */
  | 'discriminator-mismatch'
  /** Your Discriminator is 0 outside Down/AdminDown. */
  | 'your-discriminator-zero'
  /** We are AdminDown: the packet updates what we know of the peer, nothing else. */
  | 'admin-down';

export interface BFDStepResult {
  readonly state: BFDSessionState;
  readonly actions: readonly BFDAction[];
  readonly dropped?: BFDSessionDrop;
}
