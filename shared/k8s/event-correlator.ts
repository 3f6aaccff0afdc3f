// Decides, with no I/O, what to do with an event about to be recorded, as client-go's
// EventCorrelator does (k8s.io/client-go/tools/record/events_cache.go):
// - the same event (object, type, reason, message, source) seen again within the window
//   becomes a patch of the first one's count and lastTimestamp, not a new object;
// - a token bucket per source and involved object (burst 25, one token back per 5
//   minutes, client-go's defaults) drops the excess, so a flapping Service cannot flood
//   the API server (MetalLB #2387 was event spam).
// Both tables are bounded LRUs.

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventInput {
  involved: ObjectReference;
  type: EventType;
  reason: string;
  message: string;
  source: { component: string; host?: string };
}

export type Decision =
  | { action: 'create'; name: string; count: 1; firstTimestamp: number }
  | { action: 'patch'; name: string; count: number; firstTimestamp: number }
  | { action: 'drop'; reason: 'rate-limited' };

export interface CorrelatorOptions {
  /** How long an identical event keeps counting on the first one. Default 10 minutes. */
  dedupeWindowMs?: number;
  burst?: number;
  /** Milliseconds for one token to come back. Default 5 minutes. */
  refillMs?: number;
  maxEntries?: number;
  /**
   * Where the per-millisecond sequence starts. Several processes (one speaker per node)
   * record events on one Service, so each should start somewhere else: the recorder passes
   * a random start; tests pass a fixed one.
   */
  sequenceStart?: number;
}

interface Seen {
  name: string;
  count: number;
  firstTimestamp: number;
  lastTimestamp: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

export class EventCorrelator {
  private readonly seen = new Map<string, Seen>();
  private readonly buckets = new Map<string, Bucket>();
  private seq = 0;
  private readonly window: number;
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly max: number;

  constructor(o: CorrelatorOptions = {}) {
    this.window = o.dedupeWindowMs ?? 10 * 60_000;
    this.burst = o.burst ?? 25;
    this.refillMs = o.refillMs ?? 5 * 60_000;
    this.max = o.maxEntries ?? 4096;
    this.seq = Math.abs(Math.trunc(o.sequenceStart ?? 0)) % 1_000_000;
  }

  observe(e: EventInput, now: number): Decision {
    if (!this.take(spamKey(e), now)) return { action: 'drop', reason: 'rate-limited' };
    const key = dedupeKey(e);
    const prev = this.seen.get(key);
    if (prev && now - prev.lastTimestamp <= this.window) {
      prev.count++;
      prev.lastTimestamp = now;
      touch(this.seen, key, prev);
      return { action: 'patch', name: prev.name, count: prev.count, firstTimestamp: prev.firstTimestamp };
    }
    // client-go names events "<object>.<unix nanos in hex>"; the sequence keeps two
    // events in the same millisecond apart, and its random start those of two processes.
    const name = `${e.involved.name}.${(BigInt(now) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`;
    touch(this.seen, key, { name, count: 1, firstTimestamp: now, lastTimestamp: now });
    this.trim(this.seen);
    return { action: 'create', name, count: 1, firstTimestamp: now };
  }

  /** The stored event is gone (expired or deleted): the next identical one starts afresh. */
  forget(e: EventInput): void {
    this.seen.delete(dedupeKey(e));
  }

  private take(key: string, now: number): boolean {
    const b = this.buckets.get(key) ?? { tokens: this.burst, updated: now };
    const refilled = Math.floor((now - b.updated) / this.refillMs);
    if (refilled > 0) {
      b.tokens = Math.min(this.burst, b.tokens + refilled);
      b.updated += refilled * this.refillMs;
    }
    if (b.tokens >= this.burst) b.updated = now;
    touch(this.buckets, key, b);
    this.trim(this.buckets);
    if (b.tokens < 1) return false;
    b.tokens--;
    return true;
  }

  private trim<V>(m: Map<string, V>): void {
    while (m.size > this.max) {
      const oldest = m.keys().next();
      if (oldest.done) break;
      m.delete(oldest.value);
    }
  }
}

function objectKey(r: ObjectReference): string {
  return [r.apiVersion ?? '', r.kind ?? '', r.namespace ?? '', r.name, r.uid ?? ''].join('\u0000');
}

function spamKey(e: EventInput): string {
  return [e.source.component, e.source.host ?? '', objectKey(e.involved)].join('\u0000');
}

function dedupeKey(e: EventInput): string {
  return [spamKey(e), e.type, e.reason, e.message].join('\u0000');
}

/** Moves key to the young end of the map's insertion order. */
function touch<V>(m: Map<string, V>, key: string, v: V): void {
  m.delete(key);
  m.set(key, v);
}
