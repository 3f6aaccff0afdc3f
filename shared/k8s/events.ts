// Kubernetes Events (core/v1, what `kubectl describe` shows) about herald's work:
// IPAllocated, AllocationFailed, nodeAssigned… Recording never throws and never blocks
// the caller: the write happens in the background, one at a time, deduplicated and
// rate-limited by the EventCorrelator. A lost event is logged, never retried forever.
import { silentLogger, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { isNotFound, toApiError } from './errors.js';
import { EventCorrelator, type CorrelatorOptions, type EventInput, type EventType, type ObjectReference } from './event-correlator.js';
import type { K8sObject } from './informer.js';
import { CORE_EVENTS, collectionPath, objectPath } from './resources.js';
import { MERGE_PATCH, type RestClient } from './rest.js';
import { withRetry } from './retry.js';

export type { EventType, ObjectReference } from './event-correlator.js';

export interface EventRecorder {
  event(obj: K8sObject | ObjectReference, type: EventType, reason: string, message: string): void;
}

export interface EventRecorderOptions {
  rest: RestClient;
  /** source.component / reportingComponent, e.g. "herald-controller". */
  component: string;
  /** source.host (the node, for the speaker) and reportingInstance. */
  host?: string;
  clock?: Clock;
  logger?: Logger;
  correlator?: CorrelatorOptions;
  /**
   * Pending writes beyond this are dropped rather than queued. Default 1000. A burst of
   * drops is logged twice, when it starts and, with the count, once the backlog has
   * drained to half (10,000 Services at cold start used to log each drop: 8,689 lines).
   */
  maxPending?: number;
  /**
   * herald_events_total{outcome}: written (created or counted), backlog (dropped while
   * maxPending waited), ratelimit (dropped by the correlator), failed (the API refused or
   * did not answer). Dropped events are otherwise only in the log.
   */
  metrics?: Metrics;
}

export interface RunningEventRecorder extends EventRecorder {
  /** Resolves when every event recorded so far has been written or given up on. */
  flush(): Promise<void>;
  /**
   * Stops accepting events and waits for the queued ones, at most `deadlineMs`
   * (default 2 s) so that shutdown is not held up by an unreachable API server. What is
   * still queued then is given up on: no further request is made and a retry waiting
   * out its backoff ends, so nothing is left running (or holding the event loop) after.
   */
  close(deadlineMs?: number): Promise<void>;
}

export function referenceOf(obj: K8sObject | ObjectReference): ObjectReference {
  if ('metadata' in obj && obj.metadata) {
    const m = obj.metadata;
    return {
      ...(obj.apiVersion ? { apiVersion: obj.apiVersion } : {}),
      ...(obj.kind ? { kind: obj.kind } : {}),
      ...(m.namespace ? { namespace: m.namespace } : {}),
      name: m.name ?? '',
      ...(m.uid ? { uid: m.uid } : {}),
      ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
    };
  }
  return obj as ObjectReference;
}

/** core/v1 MicroTime/Time for an event: RFC 3339, seconds precision (metav1.Time). */
function timeString(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function createEventRecorder(o: EventRecorderOptions): RunningEventRecorder {
  const clock = o.clock ?? realClock;
  const log = o.logger ?? silentLogger();
  const correlator = new EventCorrelator({ sequenceStart: Math.floor(Math.random() * 1_000_000), ...o.correlator });
  const maxPending = o.maxPending ?? 1000;
  let pending = 0;
  /** Events dropped in the current burst. */
  let dropped = 0;
  let closed = false;
  const reportDropped = (): void => {
    if (dropped === 0) return;
    log.warn({ dropped, maxPending }, 'dropped events while too many were waiting to be written');
    dropped = 0;
  };
  let chain: Promise<void> = Promise.resolve();
  // Aborted once close() has waited its deadline: the queue was left writing, about 0.6 s
  // per event against a closed client, for up to maxPending events (minutes).
  const abandon = new AbortController();
  const outcomes = o.metrics?.counter<'outcome'>({ name: 'events_total', help: 'Kubernetes Events this process recorded, by what became of them.', labelNames: ['outcome'] });
  const tally = (outcome: 'written' | 'backlog' | 'ratelimit' | 'failed'): void => outcomes?.inc({ outcome });

  /** Resolves true when the event reached the API, false when the correlator dropped it. */
  const write = async (input: EventInput): Promise<boolean> => {
    const now = clock.now();
    const d = correlator.observe(input, now);
    if (d.action === 'drop') {
      tally('ratelimit');
      log.debug({ reason: input.reason, object: input.involved.name }, 'event dropped by rate limit');
      return false;
    }
    // Events for cluster-scoped objects (Nodes) go to "default", as client-go puts them.
    const ns = input.involved.namespace || 'default';
    const retry = { clock, maxAttempts: 3, signal: abandon.signal };
    if (d.action === 'patch') {
      try {
        await withRetry(
          () =>
            o.rest.request('PATCH', objectPath(CORE_EVENTS, ns, d.name), {
              body: { count: d.count, lastTimestamp: timeString(now) },
              contentType: MERGE_PATCH,
            }),
          retry,
        );
        return true;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // Expired (events live an hour) or deleted: start a new one.
        correlator.forget(input);
        const again = correlator.observe(input, now);
        if (again.action !== 'create') return false;
        await create(again.name, 1, now, now);
        return true;
      }
    }
    await create(d.name, 1, d.firstTimestamp, now);
    return true;

    async function create(name: string, count: number, first: number, last: number): Promise<void> {
      const body = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: ns },
        involvedObject: input.involved,
        reason: input.reason,
        message: input.message,
        type: input.type,
        count,
        firstTimestamp: timeString(first),
        lastTimestamp: timeString(last),
        source: { component: input.source.component, ...(input.source.host ? { host: input.source.host } : {}) },
        reportingComponent: input.source.component,
        reportingInstance: input.source.host ?? '',
      };
      await withRetry(() => o.rest.request('POST', collectionPath(CORE_EVENTS, ns), { body }), retry);
    }
  };

  return {
    event: (obj, type, reason, message) => {
      if (closed) return;
      if (pending >= maxPending) {
        tally('backlog');
        if (dropped++ === 0) log.warn({ reason, maxPending }, 'too many events waiting to be written; dropping new ones until the backlog halves');
        return;
      }
      const input: EventInput = { involved: referenceOf(obj), type, reason, message, source: { component: o.component, ...(o.host ? { host: o.host } : {}) } };
      pending++;
      chain = chain
        .then(async () => {
          if (abandon.signal.aborted) throw new Error('given up on at close');
          if (await write(input)) tally('written');
        })
        .catch((err: unknown) => {
          tally('failed');
          if (abandon.signal.aborted) return;
          const e = toApiError(err);
          log.warn({ err: e, code: e.code, reason, object: input.involved.name }, 'writing event failed');
        })
        .finally(() => {
          pending--;
          if (pending <= maxPending / 2) reportDropped();
        });
    },
    flush: () => chain,
    close: async (deadlineMs = 2_000) => {
      closed = true;
      let t: TimerHandle | undefined;
      await Promise.race([chain, new Promise<void>((r) => (t = clock.setTimeout(r, deadlineMs)))]);
      t?.cancel();
      if (pending > 0) {
        log.warn({ abandoned: pending, deadlineMs }, 'closing: gave up on events not written by the deadline');
        abandon.abort();
      }
      reportDropped();
    },
  };
}
