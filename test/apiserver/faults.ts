// Fault injection for reliability tests: failing requests with a chosen status, slowing
// them down, closing open watches, and compacting the watch history.
import {
  ApiError,
  conflict,
  internalError,
  serviceUnavailable,
  tooManyRequests,
} from './errors.js';

export interface FaultMatch {
  verb?: string;
  resource?: string;
  namespace?: string;
}

export interface FaultInjector {
  /** Ends every open watch that matches (all when no match is given); clients reconnect. */
  closeWatches(match?: FaultMatch): void;
  /** The next `count` matching requests fail with `status`, as the real server words it. */
  failNext(count: number, status: 409 | 429 | 500 | 503, match?: FaultMatch): void;
  /** Matching requests wait `ms` before being handled (0 removes the delay). */
  latency(ms: number, match?: FaultMatch): void;
  /** Drops all watch history, so every resourceVersion handed out so far gets 410 Gone. */
  compact(): void;
  /** Removes pending failures and latencies. */
  clear(): void;
}

export interface RequestFacts {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
}

interface Failure {
  remaining: number;
  status: 409 | 429 | 500 | 503;
  match: FaultMatch;
}

export function matches(m: FaultMatch, r: { verb?: string; resource: string; namespace?: string }): boolean {
  return (m.verb === undefined || m.verb === r.verb) && (m.resource === undefined || m.resource === r.resource) && (m.namespace === undefined || m.namespace === r.namespace);
}

/** The request-side half of the injector; watches and compaction are wired in by the server. */
export class Faults {
  private failures: Failure[] = [];
  private delays: { ms: number; match: FaultMatch }[] = [];

  failNext(count: number, status: 409 | 429 | 500 | 503, match: FaultMatch = {}): void {
    if (count > 0) this.failures.push({ remaining: count, status, match });
  }

  latency(ms: number, match: FaultMatch = {}): void {
    this.delays = this.delays.filter((d) => JSON.stringify(d.match) !== JSON.stringify(match));
    if (ms > 0) this.delays.push({ ms, match });
  }

  clear(): void {
    this.failures = [];
    this.delays = [];
  }

  delayFor(r: RequestFacts): number {
    let ms = 0;
    for (const d of this.delays) if (matches(d.match, r)) ms = Math.max(ms, d.ms);
    return ms;
  }

  /** The injected error for this request, if one is due (consumes one count). */
  failureFor(r: RequestFacts): ApiError | undefined {
    const f = this.failures.find((x) => x.remaining > 0 && matches(x.match, r));
    if (!f) return undefined;
    f.remaining--;
    this.failures = this.failures.filter((x) => x.remaining > 0);
    switch (f.status) {
      case 409:
        return conflict({ group: r.group, resource: r.resource }, r.name ?? '');
      case 429:
        return tooManyRequests(1);
      case 500:
        return internalError('injected fault');
      case 503:
        return serviceUnavailable();
    }
  }
}
