// The messages between the main thread (threaded.ts) and the membership thread
// (thread.ts), and their timing. Types and constants only: both sides import it.
import type { MembershipEvent } from './core.js';
import type { MembershipConfig } from './member.js';
import type { MetricsDelta } from './metrics.js';
import type { MemberPeer } from './peers.js';

/** How often the main thread says it is alive. */
export const TICK_MS = 100;
/** How long the main thread may be silent before this node stops counting as live. */
export const MAIN_STALL_MS = 3000;
/** How often counters are handed to the main thread. */
export const METRICS_EVERY_MS = 1000;

/** What the thread is started with (workerData). */
export interface ThreadInit {
  config: Omit<MembershipConfig, 'logger' | 'metrics' | 'clock' | 'probeNode'>;
  mainStallMs?: number;
}

export type ToThread =
  | { t: 'setPeers'; peers: MemberPeer[] }
  | { t: 'setKey'; key: Uint8Array }
  | { t: 'tick' }
  | { t: 'leave' }
  | { t: 'stop' };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type FromThread =
  | { t: 'started'; port: number | undefined }
  | { t: 'startFailed'; message: string }
  | { t: 'change'; live: string[]; events: MembershipEvent[] }
  | { t: 'log'; level: LogLevel; fields: Record<string, unknown>; msg: string }
  | { t: 'metrics'; delta: MetricsDelta }
  | { t: 'left' }
  | { t: 'stopped' };
