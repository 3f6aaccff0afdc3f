// Connection collision detection (RFC 4271 §6.8): when both speakers connect to each
// other, exactly one of the two connections survives, and both sides agree which.
import { addressValue } from './prefix.js';
import type { SessionState } from './fsm-types.js';

export interface Speaker {
  readonly bgpIdentifier: string;
  readonly asn: number;
}

/**
 * Whose initiated connection survives: the speaker with the higher BGP identifier
 * (compared as 32-bit unsigned integers, RFC 4271 §6.8); when the identifiers are equal,
 * which eBGP allows, the higher AS (RFC 6286 §2.3).
 */
export function collisionWinner(local: Speaker, remote: Speaker): 'local' | 'remote' {
  const l = addressValue(local.bgpIdentifier, 4);
  const r = addressValue(remote.bgpIdentifier, 4);
  if (l !== r) return l > r ? 'local' : 'remote';
  return local.asn > remote.asn ? 'local' : 'remote';
}

export interface CollisionInput {
  readonly local: Speaker;
  /** The peer, as its OPEN on the new connection describes it. */
  readonly remote: Speaker;
  /** The state of the connection that already exists. */
  readonly existingState: SessionState;
  /** Whether we opened the existing connection (the new one is then the peer's). */
  readonly existingInitiatedLocally: boolean;
}

/**
 * Which connection to keep when an OPEN arrives on a second connection to the same peer.
 * An Established session always stays (RFC 4271 §6.8 leaves the other choice optional);
 * one that has not exchanged OPENs yet is no collision, and gives way to the new one.
 * The loser is closed with Cease / Connection Collision Resolution (event OpenCollisionDump).
 */
export function resolveCollision(c: CollisionInput): 'keepExisting' | 'keepNew' {
  if (c.existingState === 'Established') return 'keepExisting';
  if (c.existingState !== 'OpenSent' && c.existingState !== 'OpenConfirm') return 'keepNew';
  const winner = collisionWinner(c.local, c.remote);
  const keepLocallyInitiated = winner === 'local';
  return keepLocallyInitiated === c.existingInitiatedLocally ? 'keepExisting' : 'keepNew';
}
