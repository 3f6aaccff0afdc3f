// The words BGPSessionState.status.bfdStatus carries for a session: its state, and for a
// session that is not Up, why it went down (RFC 5880 §4.1 diagnostic) or what keeps it
// from starting.
import { Diag, diagText, type BFDState } from './protocol.js';

/** No BFDProfile on the peer, as MetalLB's FRR mode reports it. */
export const BFD_NOT_CONFIGURED = 'N/A';

/** `Up`, `Init`, `Down`, `Down (Control Detection Time Expired)`, `AdminDown`, `Down (cannot listen on UDP 3784: …)`. */
export function bfdStatus(state: BFDState, diag: Diag, problem?: string): string {
  if (problem) return `${state} (${problem})`;
  if (state === 'Up' || state === 'AdminDown' || diag === Diag.None) return state;
  return `${state} (${diagText(diag)})`;
}
