// The BGP state machine (RFC 4271 §8) as a reducer: step(state, event) returns the next
// state, the actions for the driver, and why. One handler per state. No clock, no
// sockets: timers are actions and their expiry comes back as events.
//
// The driver's share: it feeds socket and timer happenings in as events and performs
// the actions in order. A second connection from the peer is the driver's to arbitrate:
// in Idle refuse it; in Connect/Active hand it to this FSM (TcpConnectionConfirmed); in
// OpenSent/OpenConfirm run a second FSM on it until its OPEN arrives and keep one of the
// two with resolveCollision (collision.ts), feeding the loser OpenCollisionDump; while
// Established, refuse it.
import { backoffDelay, DEFAULT_BACKOFF_BASE, nextRandom } from './backoff.js';
import { BGPProtocolError, CeaseSubcode, ErrorCode, FSMSubcode, describeNotification } from './errors.js';
import type { FSMAction, FSMConfig, FSMEvent, FSMState, Reason, StepResult } from './fsm-types.js';
import { KEEPALIVE, type BGPMessage } from './messages.js';
import { buildOpen, negotiate } from './negotiate.js';
import { notification, notificationFor, shutdownNotification, type NotificationMessage } from './notification.js';

export type * from './fsm-types.js';

/** RFC 4271 §8.2.2: "a large value", 4 minutes suggested. */
export const DEFAULT_OPEN_HOLD_TIME = 240;

export function initialState(config: FSMConfig, seed: number): FSMState {
  return { state: 'Idle', config, enabled: false, attempts: 0, seed: seed >>> 0 };
}

function result(state: FSMState, actions: FSMAction[], reason: Reason, detail?: string): StepResult {
  return detail !== undefined ? { state, actions, reason, detail } : { state, actions, reason };
}

function ignore(s: FSMState, e: FSMEvent): StepResult {
  return result(s, [], 'ignored', `${e.type} in ${s.state}`);
}

/** The next backoff delay, consuming randomness from the state's seed. */
function backoff(s: FSMState, attempts: number): { seconds: number; seed: number } {
  const [random, seed] = nextRandom(s.seed);
  const base = s.config.backoffBase ?? DEFAULT_BACKOFF_BASE;
  return { seconds: backoffDelay(attempts, base, s.config.connectTime, random), seed };
}

const stopAll: FSMAction[] = [
  { type: 'stopTimer', timer: 'connectRetry' },
  { type: 'stopTimer', timer: 'hold' },
  { type: 'stopTimer', timer: 'keepalive' },
];

/**
 * Back to Idle: send the NOTIFICATION if any, close, stop timers, report the session
 * down if it was up. A failure counts an attempt and, when the FSM is running with
 * autoRestart, schedules the restart after the backoff: never at once after a
 * NOTIFICATION (MetalLB #780, #1114).
 */
function toIdle(
  s: FSMState,
  reason: Reason,
  detail: string,
  opts: { send?: NotificationMessage; received?: NotificationMessage; failure: boolean; stop?: boolean },
): StepResult {
  const actions: FSMAction[] = [];
  if (opts.send) actions.push({ type: 'send', message: opts.send });
  actions.push({ type: 'drop' }, ...stopAll);
  if (s.state === 'Established') actions.push({ type: 'down', reason, detail });
  const enabled = opts.stop ? false : s.enabled;
  const attempts = opts.stop ? 0 : opts.failure ? s.attempts + 1 : s.attempts;
  let seed = s.seed;
  if (opts.stop) {
    actions.push({ type: 'stopTimer', timer: 'idleHold' });
  } else if (enabled && (s.config.autoRestart ?? true)) {
    const b = backoff(s, Math.max(attempts, 1));
    seed = b.seed;
    actions.push({ type: 'startTimer', timer: 'idleHold', seconds: b.seconds });
  }
  const { negotiated: _gone, ...rest } = s;
  const next: FSMState = {
    ...rest,
    state: 'Idle',
    enabled,
    attempts,
    seed,
    ...(opts.send ? { lastNotificationSent: opts.send } : {}),
    ...(opts.received ? { lastNotificationReceived: opts.received } : {}),
  };
  return result(next, actions, reason, detail);
}

function start(s: FSMState, reason: Reason, attempts: number): StepResult {
  const base: FSMState = { ...s, enabled: true, attempts };
  const stopIdle: FSMAction = { type: 'stopTimer', timer: 'idleHold' };
  if (s.config.passive) return result({ ...base, state: 'Active' }, [stopIdle], reason, 'passive: waiting for the peer');
  return result(
    { ...base, state: 'Connect' },
    [stopIdle, { type: 'startTimer', timer: 'connectRetry', seconds: s.config.connectTime }, { type: 'connect' }],
    reason,
  );
}

/** TCP is up (either direction): send OPEN and wait for the peer's (RFC 4271 §8.2.2 Connect/Active). */
function connected(s: FSMState, e: FSMEvent): StepResult {
  return result(
    { ...s, state: 'OpenSent' },
    [
      { type: 'stopTimer', timer: 'connectRetry' },
      { type: 'send', message: buildOpen(s.config.local) },
      { type: 'startTimer', timer: 'hold', seconds: s.config.openHoldTime ?? DEFAULT_OPEN_HOLD_TIME },
    ],
    'tcp-connected',
    e.type === 'TcpConnectionConfirmed' ? 'incoming' : 'outgoing',
  );
}

/** Connection lost before OPEN was exchanged: wait out the backoff in Active (RFC 4271 §8.2.2). */
function connectFailed(s: FSMState, detail: string): StepResult {
  const attempts = s.attempts + 1;
  const actions: FSMAction[] = [{ type: 'drop' }, { type: 'stopTimer', timer: 'hold' }];
  if (s.config.passive) return result({ ...s, state: 'Active', attempts }, [...actions, { type: 'stopTimer', timer: 'connectRetry' }], 'tcp-failed', detail);
  const b = backoff(s, attempts);
  return result(
    { ...s, state: 'Active', attempts, seed: b.seed },
    [...actions, { type: 'startTimer', timer: 'connectRetry', seconds: b.seconds }],
    'tcp-failed',
    detail,
  );
}

/** Handling shared by every state with a connection (OpenSent onwards). */
function common(s: FSMState, e: FSMEvent): StepResult | undefined {
  switch (e.type) {
    case 'ManualStop': {
      const subcode = e.reset ? CeaseSubcode.AdministrativeReset : CeaseSubcode.AdministrativeShutdown;
      const send = e.notify === false ? undefined : shutdownNotification(subcode, e.shutdownMessage ?? '');
      return toIdle(s, 'manual-stop', e.shutdownMessage ?? 'stopped', { ...(send ? { send } : {}), failure: false, stop: true });
    }
    case 'HoldTimerExpires':
      return toIdle(s, 'hold-timer-expired', 'no message from the peer within the hold time', {
        send: notification(ErrorCode.HoldTimerExpired, 0),
        failure: true,
      });
    case 'TcpConnectionFails':
      if (s.state === 'OpenSent') return connectFailed(s, e.detail ?? 'connection closed');
      return toIdle(s, 'tcp-failed', e.detail ?? 'connection closed', { failure: true });
    case 'NotifMsg':
      return toIdle(s, 'notification-received', describeNotification(e.message.code, e.message.subcode), { received: e.message, failure: true });
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
    case 'UpdateMsgErr':
      return toIdle(s, 'protocol-error', e.error.message, { send: notificationFor(e.error), failure: true });
    case 'OpenCollisionDump':
      return toIdle(s, 'collision-dump', 'the other connection to this peer won', {
        send: notification(ErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution),
        failure: false,
      });
    case 'ManualStart':
    case 'AutomaticStart':
    case 'ConnectRetryTimerExpires':
    case 'IdleHoldTimerExpires':
    case 'TcpConnectionConfirmed':
    case 'TcpConnectionSucceeded':
      return ignore(s, e);
    default:
      return undefined;
  }
}

/** RFC 6608: a message this state does not expect. */
function unexpected(s: FSMState, e: FSMEvent, subcode: number): StepResult {
  const err = new BGPProtocolError(ErrorCode.FiniteStateMachine, subcode, `${e.type} in ${s.state}`);
  return toIdle(s, 'unexpected-message', err.message, { send: notificationFor(err), failure: true });
}

function idle(s: FSMState, e: FSMEvent): StepResult {
  switch (e.type) {
    case 'ManualStart':
      return start(s, 'manual-start', 0);
    case 'AutomaticStart':
      return start(s, 'automatic-start', s.attempts);
    case 'IdleHoldTimerExpires':
      return s.enabled ? start(s, 'automatic-start', s.attempts) : ignore(s, e);
    case 'ManualStop':
      return result({ ...s, enabled: false, attempts: 0 }, [{ type: 'stopTimer', timer: 'idleHold' }], 'manual-stop');
    case 'TcpConnectionConfirmed':
    case 'TcpConnectionSucceeded':
      // RFC 4271 §8.2.2 Idle: incoming connections are refused.
      return result(s, [{ type: 'drop' }], 'connection-refused', 'session is Idle');
    default:
      return ignore(s, e);
  }
}

function connecting(s: FSMState, e: FSMEvent): StepResult {
  switch (e.type) {
    case 'ManualStop':
      return toIdle(s, 'manual-stop', 'stopped', { failure: false, stop: true });
    case 'ConnectRetryTimerExpires':
      if (s.config.passive) return ignore(s, e);
      // Connect: the attempt took too long, try again; Active: the backoff is over.
      return result(
        { ...s, state: 'Connect' },
        [...(s.state === 'Connect' ? [{ type: 'drop' } as const] : []), { type: 'startTimer', timer: 'connectRetry', seconds: s.config.connectTime }, { type: 'connect' }],
        'connect-retry',
      );
    case 'TcpConnectionSucceeded':
    case 'TcpConnectionConfirmed':
      return connected(s, e);
    case 'TcpConnectionFails':
      return connectFailed(s, e.detail ?? 'connection failed');
    case 'BGPOpen':
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
    case 'NotifMsg':
    case 'KeepAliveMsg':
    case 'UpdateMsg':
    case 'UpdateMsgErr':
    case 'RouteRefreshMsg':
      // RFC 4271 §8.2.2 Connect/Active "any other event": there is no session to speak on.
      return toIdle(s, 'unexpected-message', `${e.type} without a session`, { failure: true });
    default:
      return ignore(s, e);
  }
}

function openSent(s: FSMState, e: FSMEvent): StepResult {
  if (e.type === 'BGPOpen') {
    const n = negotiate(s.config.local, e.message);
    if (!n.ok) return toIdle(s, 'open-rejected', n.error.message, { send: notificationFor(n.error), failure: true });
    const neg = n.negotiated;
    const timers: FSMAction[] =
      neg.holdTime > 0
        ? [
            { type: 'startTimer', timer: 'keepalive', seconds: neg.keepaliveTime },
            { type: 'startTimer', timer: 'hold', seconds: neg.holdTime },
          ]
        : [
            { type: 'stopTimer', timer: 'keepalive' },
            { type: 'stopTimer', timer: 'hold' },
          ];
    return result(
      { ...s, state: 'OpenConfirm', negotiated: neg },
      [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'send', message: KEEPALIVE }, ...timers],
      'open-accepted',
      `peer AS ${neg.peerASN}, hold time ${neg.holdTime}s`,
    );
  }
  const c = common(s, e);
  if (c) return c;
  if (e.type === 'KeepaliveTimerExpires') return ignore(s, e);
  return unexpected(s, e, FSMSubcode.UnexpectedMessageInOpenSent);
}

function keepaliveTick(s: FSMState, e: FSMEvent): StepResult {
  const seconds = s.negotiated?.keepaliveTime ?? 0;
  // Hold time 0: no keepalives at all (RFC 4271 §4.4); a late timer is stale.
  if (seconds === 0) return ignore(s, e);
  return result(s, [{ type: 'send', message: KEEPALIVE }, { type: 'startTimer', timer: 'keepalive', seconds }], 'keepalive-sent');
}

function holdRestart(s: FSMState): FSMAction[] {
  const seconds = s.negotiated?.holdTime ?? 0;
  return seconds > 0 ? [{ type: 'startTimer', timer: 'hold', seconds }] : [];
}

function openConfirm(s: FSMState, e: FSMEvent): StepResult {
  switch (e.type) {
    case 'KeepaliveTimerExpires':
      return keepaliveTick(s, e);
    case 'KeepAliveMsg': {
      const negotiated = s.negotiated;
      if (!negotiated) return unexpected(s, e, FSMSubcode.UnexpectedMessageInOpenConfirm);
      return result({ ...s, state: 'Established' }, [...holdRestart(s), { type: 'established', negotiated }], 'established');
    }
    default:
      return common(s, e) ?? unexpected(s, e, FSMSubcode.UnexpectedMessageInOpenConfirm);
  }
}

function established(s: FSMState, e: FSMEvent): StepResult {
  switch (e.type) {
    case 'KeepaliveTimerExpires':
      return keepaliveTick(s, e);
    case 'KeepAliveMsg':
      return result({ ...s, attempts: 0 }, holdRestart(s), 'keepalive-received');
    case 'UpdateMsg':
      return result({ ...s, attempts: 0 }, [...holdRestart(s), { type: 'receive', message: e.message }], 'update-received');
    case 'RouteRefreshMsg':
      return result({ ...s, attempts: 0 }, [...holdRestart(s), { type: 'receive', message: e.message }], 'route-refresh-received');
    default:
      return common(s, e) ?? unexpected(s, e, FSMSubcode.UnexpectedMessageInEstablished);
  }
}

/** One transition. Pure: the same (state, event) always gives the same result. */
export function step(s: FSMState, e: FSMEvent): StepResult {
  switch (s.state) {
    case 'Idle':
      return idle(s, e);
    case 'Connect':
    case 'Active':
      return connecting(s, e);
    case 'OpenSent':
      return openSent(s, e);
    case 'OpenConfirm':
      return openConfirm(s, e);
    case 'Established':
      return established(s, e);
  }
}

/** The event a decoded message is. */
export function messageEvent(m: BGPMessage): FSMEvent {
  switch (m.type) {
    case 'open':
      return { type: 'BGPOpen', message: m };
    case 'update':
      return { type: 'UpdateMsg', message: m };
    case 'notification':
      return { type: 'NotifMsg', message: m };
    case 'keepalive':
      return { type: 'KeepAliveMsg' };
    case 'routeRefresh':
      return { type: 'RouteRefreshMsg', message: m };
  }
}

/** The event a decode failure is (RFC 4271 §8.1.5 events 21, 22, 28). */
export function errorEvent(err: BGPProtocolError): FSMEvent {
  if (err.code === ErrorCode.MessageHeader) return { type: 'BGPHeaderErr', error: err };
  if (err.code === ErrorCode.OpenMessage) return { type: 'BGPOpenMsgErr', error: err };
  return { type: 'UpdateMsgErr', error: err };
}
