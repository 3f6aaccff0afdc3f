// The vocabulary of the BGP state machine (RFC 4271 §8): states, events in, actions out.
// Actions are data; the session driver owns the socket and the timers and carries them out.
import type { BGPProtocolError } from './errors.js';
import type { BGPMessage } from './messages.js';
import type { LocalSpeaker, Negotiated } from './negotiate.js';
import type { NotificationMessage } from './notification.js';
import type { OpenMessage } from './open.js';
import type { RouteRefreshMessage } from './route-refresh.js';
import type { UpdateMessage } from './update.js';

export type SessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** RFC 4271 §8.1.3 timers, plus idleHold: the backoff before an automatic restart (RFC 4271 §8.1.1 IdleHoldTimer). */
export type TimerName = 'connectRetry' | 'hold' | 'keepalive' | 'idleHold';

export interface FSMConfig {
  readonly local: LocalSpeaker;
  /** Never connect out; wait for the peer (RFC 4271 PassiveTcpEstablishment). */
  readonly passive: boolean;
  /**
   * Seconds (BGPPeer connectTime, default 120): how long one outgoing connection attempt
   * may take, and the ceiling of the reconnect backoff.
   */
  readonly connectTime: number;
  /** Seconds before the first retry; doubles per consecutive failure. Default 1. */
  readonly backoffBase?: number;
  /** RFC 4271 §8.2.2: the hold timer while waiting for the peer's OPEN. Default 240 s. */
  readonly openHoldTime?: number;
  /** Restart by itself after a failure (after the backoff). Default true. */
  readonly autoRestart?: boolean;
}

export interface FSMState {
  readonly state: SessionState;
  readonly config: FSMConfig;
  /** Started and not stopped: a failure schedules a restart only then. */
  readonly enabled: boolean;
  /**
   * Consecutive failures (RFC 4271 ConnectRetryCounter). Reset only when an Established
   * session carries a KEEPALIVE, UPDATE or ROUTE-REFRESH, so a peer that accepts the
   * OPEN and hangs up at once still meets a growing backoff.
   */
  readonly attempts: number;
  /** PRNG state for the backoff jitter; seeded by the driver. */
  readonly seed: number;
  /** From OpenConfirm on. */
  readonly negotiated?: Negotiated;
  readonly lastNotificationSent?: NotificationMessage;
  readonly lastNotificationReceived?: NotificationMessage;
}

export type FSMEvent =
  | { readonly type: 'ManualStart' }
  /**
   * Stop the session: Cease / Administrative Shutdown with an optional RFC 8203 message,
   * or close silently (notify false: the GR-preserving close). reset: the session comes
   * back at once (a configuration change), so the Cease subcode is Administrative Reset
   * (RFC 4486 §3), which RFC 9003 lets carry the message too.
   */
  | { readonly type: 'ManualStop'; readonly shutdownMessage?: string; readonly notify?: boolean; readonly reset?: boolean }
  | { readonly type: 'AutomaticStart' }
  | { readonly type: 'ConnectRetryTimerExpires' }
  | { readonly type: 'HoldTimerExpires' }
  | { readonly type: 'KeepaliveTimerExpires' }
  | { readonly type: 'IdleHoldTimerExpires' }
  /** The peer connected to us. */
  | { readonly type: 'TcpConnectionConfirmed' }
  /** Our outgoing connection completed. */
  | { readonly type: 'TcpConnectionSucceeded' }
  | { readonly type: 'TcpConnectionFails'; readonly detail?: string }
  | { readonly type: 'BGPOpen'; readonly message: OpenMessage }
  | { readonly type: 'BGPHeaderErr'; readonly error: BGPProtocolError }
  | { readonly type: 'BGPOpenMsgErr'; readonly error: BGPProtocolError }
  | { readonly type: 'NotifMsg'; readonly message: NotificationMessage }
  | { readonly type: 'KeepAliveMsg' }
  | { readonly type: 'UpdateMsg'; readonly message: UpdateMessage }
  | { readonly type: 'UpdateMsgErr'; readonly error: BGPProtocolError }
  | { readonly type: 'RouteRefreshMsg'; readonly message: RouteRefreshMessage }
  /** This connection lost a collision (collision.ts). */
  | { readonly type: 'OpenCollisionDump' };

export type FSMAction =
  /** Open a TCP connection to the peer. */
  | { readonly type: 'connect' }
  | { readonly type: 'send'; readonly message: BGPMessage }
  /** (Re)start a timer; a running one of the same name is replaced. */
  | { readonly type: 'startTimer'; readonly timer: TimerName; readonly seconds: number }
  | { readonly type: 'stopTimer'; readonly timer: TimerName }
  /** Close the connection once queued sends are flushed. */
  | { readonly type: 'drop' }
  | { readonly type: 'established'; readonly negotiated: Negotiated }
  /** The session left Established: routes learned from or sent to the peer need attention. */
  | { readonly type: 'down'; readonly reason: Reason; readonly detail?: string }
  /** An UPDATE or ROUTE-REFRESH for the session to act on. */
  | { readonly type: 'receive'; readonly message: UpdateMessage | RouteRefreshMessage };

export type Reason =
  | 'manual-start'
  | 'automatic-start'
  | 'manual-stop'
  | 'connect-retry'
  | 'tcp-connected'
  | 'tcp-failed'
  | 'connection-refused'
  | 'open-accepted'
  | 'open-rejected'
  | 'established'
  | 'keepalive-received'
  | 'keepalive-sent'
  | 'update-received'
  | 'route-refresh-received'
  | 'notification-received'
  | 'hold-timer-expired'
  | 'protocol-error'
  | 'unexpected-message'
  | 'collision-dump'
  | 'ignored';

export interface StepResult {
  readonly state: FSMState;
  readonly actions: readonly FSMAction[];
  readonly reason: Reason;
  /** Words for logs: the error, the NOTIFICATION, what was ignored. */
  readonly detail?: string;
}
