// What a session reports about itself (the per-node BGP session state object and the
// announcer's metrics read it), and the pacing of reports: a state transition is
// reported at once, counter changes at most once per turn of the event loop.
import type { Logger } from '../../shared/log.js';
import { describeNotification } from './errors.js';
import type { NotificationMessage } from './notification.js';
import type { SessionState } from './fsm-types.js';

export interface SessionStatus {
  readonly state: SessionState;
  readonly establishedSince?: Date;
  /** Prefixes the peer has from us now. */
  readonly prefixesSent: number;
  /** UPDATE messages sent over the session's lifetime (End-of-RIB markers included). */
  readonly updatesSent: number;
  /** Wanted prefixes not (yet) sent as wanted, plus withdrawals not yet sent. */
  readonly pendingPrefixes: number;
  readonly lastError?: string;
  readonly lastErrorTime?: Date;
  /** What the OPEN exchange settled, from OpenConfirm on. */
  readonly negotiated?: {
    readonly holdTime: number;
    readonly families: (4 | 6)[];
    readonly gracefulRestart: boolean;
    readonly fourOctetAS: boolean;
    readonly extendedMessages: boolean;
    readonly peerRouterID: string;
    readonly peerASN: number;
  };
}

/** `received NOTIFICATION Cease / Administrative Shutdown: "maintenance"`. */
export function notificationText(direction: 'received' | 'sent', m: NotificationMessage, detail?: string): string {
  const base = `${direction} NOTIFICATION ${detail ?? describeNotification(m.code, m.subcode)}`;
  return m.shutdownMessage !== undefined ? `${base}: ${JSON.stringify(m.shutdownMessage)}` : base;
}

function fingerprint(s: SessionStatus): string {
  return JSON.stringify(s);
}

export class StatusReporter {
  private readonly listeners = new Set<(s: SessionStatus) => void>();
  private last = '';
  private scheduled = false;

  constructor(
    private readonly read: () => SessionStatus,
    private readonly log: Logger,
  ) {}

  subscribe(cb: (s: SessionStatus) => void): () => void {
    this.listeners.add(cb);
    return () => void this.listeners.delete(cb);
  }

  /** Report now if anything changed (state transitions: each one is seen). */
  now(): void {
    const s = this.read();
    const f = fingerprint(s);
    if (f === this.last) return;
    this.last = f;
    for (const cb of [...this.listeners]) {
      try {
        cb(s);
      } catch (err) {
        this.log.error({ err }, 'BGP session status listener failed');
      }
    }
  }

  /** Report once this turn's work is done (counters move many times per burst). */
  soon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.now();
    });
  }
}
