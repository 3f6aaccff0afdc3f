// The BFD side of one BGP peer, for the BGP announcer: given the peer's BFDProfile (or
// none), keeps one BFD session to the peer address tied to the BGP session (attach.ts),
// follows profile and address changes, and reports bfdStatus. Interval changes go to the
// running session (a Poll Sequence, RFC 5880 §6.8.3); a new address or hop mode needs
// a new session.
import type { BFDProfileModel } from '../../shared/config/types.js';
import { attachBFD, type LinkDownTarget } from './attach.js';
import type { BFDHandle, BFDPeer, BFDSessions } from './session.js';
import { BFD_NOT_CONFIGURED } from './status.js';

export interface PeerBFDConfig {
  readonly peerAddress: string;
  readonly sourceAddress?: string;
  /** RFC 5883 multihop BFD, as MetalLB's FRR mode does for ebgpMultiHop peers. */
  readonly ebgpMultiHop: boolean;
  readonly profile?: BFDProfileModel;
}

export class PeerBFD {
  private handle: BFDHandle | undefined;
  private untie: (() => void) | undefined;
  private current: PeerBFDConfig;

  /** onChange: the BFD state changed (write the BGPSessionState). */
  constructor(
    private readonly sessions: Pick<BFDSessions, 'add'>,
    private readonly bgp: LinkDownTarget,
    cfg: PeerBFDConfig,
    private readonly onChange: () => void = () => {},
  ) {
    this.current = cfg;
    this.open();
  }

  /** For BGPSessionState.status.bfdStatus: `N/A` without a profile. */
  status(): string {
    return this.handle?.status() ?? BFD_NOT_CONFIGURED;
  }

  update(cfg: PeerBFDConfig): void {
    const prev = this.current;
    this.current = cfg;
    const samePath = prev.peerAddress === cfg.peerAddress && prev.sourceAddress === cfg.sourceAddress && prev.ebgpMultiHop === cfg.ebgpMultiHop;
    if (this.handle && cfg.profile && samePath) {
      if (!sameProfile(prev.profile, cfg.profile)) this.handle.reconfigure(cfg.profile);
      return;
    }
    if (!this.handle && !cfg.profile) return;
    this.close();
    this.open();
    this.onChange();
  }

  /** AdminDown to the peer, so its BGP session stays (RFC 5882 §3.2). */
  remove(): void {
    this.close();
  }

  private open(): void {
    const { profile, peerAddress, sourceAddress, ebgpMultiHop } = this.current;
    if (!profile) return;
    const peer: BFDPeer = { address: peerAddress, profile, multihop: ebgpMultiHop, ...(sourceAddress ? { localAddress: sourceAddress } : {}) };
    const handle = this.sessions.add(peer);
    const detach = attachBFD(this.bgp, handle);
    const unsubscribe = handle.onState(() => this.onChange());
    this.handle = handle;
    this.untie = () => {
      detach();
      unsubscribe();
    };
  }

  private close(): void {
    this.untie?.();
    this.handle?.remove();
    this.handle = undefined;
    this.untie = undefined;
  }
}

function sameProfile(a: BFDProfileModel | undefined, b: BFDProfileModel): boolean {
  return (
    a !== undefined &&
    a.receiveInterval === b.receiveInterval &&
    a.transmitInterval === b.transmitInterval &&
    a.detectMultiplier === b.detectMultiplier &&
    a.passiveMode === b.passiveMode &&
    a.echoMode === b.echoMode &&
    a.echoInterval === b.echoInterval &&
    a.minimumTtl === b.minimumTtl
  );
}
