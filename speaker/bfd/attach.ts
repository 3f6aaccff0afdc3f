// BFD as a BGP session's failure detector (RFC 5882 §4.3, RFC 9384): when the BFD session
// goes Down after having been Up, the BGP session is torn down at once instead of
// waiting out its hold time; BGP then reconnects with its usual backoff. BGP never waits
// for BFD to come up (MetalLB's FRR mode and FRR itself behave the same way).
import { Diag, diagText } from './protocol.js';
import type { BFDHandle } from './session.js';

/** What BFD needs of a BGP session (BGPSession.linkDown). */
export interface LinkDownTarget {
  linkDown(reason: string): void;
}

/** Ties a BGP session to a BFD session; returns the function that unties them. */
export function attachBFD(session: LinkDownTarget, bfd: Pick<BFDHandle, 'onState' | 'state'>): () => void {
  let wasUp = bfd.state() === 'Up';
  return bfd.onState((state, diag, info) => {
    if (state === 'Up') {
      wasUp = true;
      return;
    }
    if (state !== 'Down' || !wasUp) return;
    wasUp = false;
    // RFC 5882 §3.2: a peer that takes its BFD session administratively down is not a
    // failed path; the BGP session stays.
    if (info.remoteState === 'AdminDown' || diag === Diag.AdministrativelyDown) return;
    session.linkDown(`BFD down: ${diagText(diag)}`);
  });
}
