// A BGP session's configuration (one BGPPeer on one node) and what follows from it: the
// FSM's view of our side, the TTL to connect with, and which changes need a new session.
import type { FSMConfig } from './fsm-types.js';
import { unicastFamily } from './family.js';

export interface SessionConfig {
  /** BGPPeer name, for logs and status. */
  readonly name: string;
  readonly myASN: number;
  readonly peerASN?: number;
  readonly dynamicASN?: 'internal' | 'external';
  readonly peerAddress: string;
  readonly peerPort: number;
  readonly sourceAddress?: string;
  /** Seconds: 0 (no keepalives, no hold timer) or at least 3. */
  readonly holdTime: number;
  /** Seconds; 0 means holdTime / 3. */
  readonly keepaliveTime: number;
  /** Seconds: how long one connection attempt may take, and the ceiling of the reconnect backoff. */
  readonly connectTime: number;
  /** Dotted quad. */
  readonly routerID: string;
  /** RFC 2385 TCP-MD5 key. */
  readonly password?: string;
  readonly ebgpMultiHop: boolean;
  readonly enableGracefulRestart: boolean;
  /** Seconds the peer keeps our routes after the session drops without NOTIFICATION; default 120, at most 4095. */
  readonly gracefulRestartTime?: number;
  /** Address families to negotiate (RFC 4760). */
  readonly families: readonly (4 | 6)[];
  /** Wait for the peer to connect; never connect out. */
  readonly passive?: boolean;
}

/** RFC 4724 §3: a common default, and the most the 12-bit field holds. */
export const DEFAULT_RESTART_TIME = 120;
const MAX_RESTART_TIME = 4095;
/** MetalLB's default BGPPeer connectTime. */
const DEFAULT_CONNECT_TIME = 120;

/** eBGP unless the peer's AS is ours or dynamicASN says internal. */
export function isExternal(cfg: SessionConfig): boolean {
  if (cfg.dynamicASN) return cfg.dynamicASN === 'external';
  return cfg.peerASN !== cfg.myASN;
}

/**
 * The outgoing TTL. Single-hop eBGP sends 1, as FRR, BIRD and GoBGP do, so a packet
 * can never reach a peer that is not directly connected; ebgpMultiHop and iBGP send
 * 255 (FRR's iBGP default), so any number of routed hops works.
 */
export function ttlFor(cfg: SessionConfig): number {
  return isExternal(cfg) && !cfg.ebgpMultiHop ? 1 : 255;
}

export function restartTime(cfg: SessionConfig): number {
  return Math.min(Math.max(0, Math.round(cfg.gracefulRestartTime ?? DEFAULT_RESTART_TIME)), MAX_RESTART_TIME);
}

/**
 * The FSM's configuration. `restarting` sets the RFC 4724 Restart State bit: the session
 * has not been up yet in this process, which may have replaced one that held it (the
 * bit tells the peer not to wait for our End-of-RIB, which herald always sends). The
 * Forwarding State bit is set for every family: the node's kernel keeps forwarding while
 * the speaker restarts, and RFC 4724 §4.2 has the peer drop our stale routes at once
 * when the re-established session clears it.
 */
export function fsmConfigFor(cfg: SessionConfig, restarting: boolean): FSMConfig {
  const families = (cfg.families.length > 0 ? cfg.families : ([4, 6] as const)).map(unicastFamily);
  return {
    local: {
      asn: cfg.myASN,
      bgpIdentifier: cfg.routerID,
      holdTime: cfg.holdTime,
      ...(cfg.keepaliveTime > 0 ? { keepaliveTime: cfg.keepaliveTime } : {}),
      families,
      ...(cfg.peerASN !== undefined && !cfg.dynamicASN ? { peerASN: cfg.peerASN } : {}),
      ...(cfg.dynamicASN ? { dynamicASN: cfg.dynamicASN } : {}),
      ...(cfg.enableGracefulRestart ? { gracefulRestart: { restartTime: restartTime(cfg), restarting, forwardingState: true } } : {}),
    },
    passive: cfg.passive ?? false,
    connectTime: cfg.connectTime > 0 ? cfg.connectTime : DEFAULT_CONNECT_TIME,
  };
}

function sameFamilies(a: readonly number[], b: readonly number[]): boolean {
  return [...new Set(a)].sort().join() === [...new Set(b)].sort().join();
}

/**
 * The fields whose change needs a new session: what the OPEN or the TCP connection
 * carries and cannot be renegotiated. Hold, keepalive and connect times take effect at
 * the next OPEN or connection attempt; the name is only a label.
 */
export function restartReasons(a: SessionConfig, b: SessionConfig): string[] {
  const out: string[] = [];
  const fields = ['myASN', 'peerASN', 'dynamicASN', 'peerAddress', 'peerPort', 'sourceAddress', 'routerID', 'password', 'ebgpMultiHop', 'enableGracefulRestart', 'passive'] as const;
  // Unset, empty and false mean the same here.
  const norm = (v: unknown): unknown => (v === '' || v === false || v === null ? undefined : v);
  for (const f of fields) if (norm(a[f]) !== norm(b[f])) out.push(f);
  if (a.enableGracefulRestart && restartTime(a) !== restartTime(b)) out.push('gracefulRestartTime');
  if (!sameFamilies(a.families, b.families)) out.push('families');
  return out;
}
