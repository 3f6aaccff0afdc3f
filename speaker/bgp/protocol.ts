// The pure BGP-4 core in one import: codec, framing, negotiation and state machine.
// No sockets, no clock, no timers here; the session driver owns those and runs:
//
//   socket data  -> framer.push(chunk) -> for each frame: decodeMessage(frame, ctx)
//                   (a BGPProtocolError becomes errorEvent(err); a message, messageEvent(m))
//   timer expiry -> { type: 'HoldTimerExpires' } and the like
//   every event  -> step(state, event) -> perform result.actions in order:
//                   connect, send (encodeMessage(m, ctx)), start/stop timers, drop,
//                   established (ctx = codecContext(negotiated); framer.maxMessageSize =
//                   negotiated.maxMessageSize), down, receive (UPDATE / ROUTE-REFRESH)
//
// Outgoing routes: buildAnnouncements / buildWithdrawals / endOfRib; build prefixes with
// prefixFromIP so encoding needs no address parsing.
export * from './errors.js';
export * from './context.js';
export * from './family.js';
export { Framer } from './framer.js';
export { MessageType } from './header.js';
export { decodeMessage, encodeMessage, KEEPALIVE, type BGPMessage, type KeepaliveMessage } from './messages.js';
export { AS_TRANS, BGP_VERSION, type OpenMessage } from './open.js';
export { CapabilityCode, findCapability, type Capability, type GracefulRestartFamily } from './capabilities.js';
export { AttrFlag, AttrType, effectiveASPath, findAttribute, type LargeCommunity, type Origin, type PathAttribute } from './attributes.js';
export { mergeAS4Path, pathLength, sequence, toTwoOctetPath, type ASPathSegment, type SegmentType } from './as-path.js';
export { announcedPrefixes, endOfRib, endOfRibFamily, withdrawnPrefixes, type UpdateFault, type UpdateMessage } from './update.js';
export { buildAnnouncements, buildWithdrawals, type RouteAttributes } from './update-builder.js';
export { MAX_SHUTDOWN_MESSAGE, notification, notificationFor, shutdownNotification, type NotificationMessage } from './notification.js';
export { RouteRefreshSubtype, type RouteRefreshMessage } from './route-refresh.js';
export { prefixFromIP, prefixText, prefixWireLength, toPrefix, type Prefix } from './prefix.js';
export { buildOpen, codecContext, keepaliveFor, negotiate, peerAS, type LocalSpeaker, type Negotiated, type NegotiatedGracefulRestart, type NegotiationResult } from './negotiate.js';
export { backoffDelay, DEFAULT_BACKOFF_BASE, nextRandom } from './backoff.js';
export { collisionWinner, resolveCollision, type CollisionInput, type Speaker } from './collision.js';
export { DEFAULT_OPEN_HOLD_TIME, errorEvent, initialState, messageEvent, step } from './fsm.js';
export type { FSMAction, FSMConfig, FSMEvent, FSMState, Reason, SessionState, StepResult, TimerName } from './fsm-types.js';
