// Retrying API calls. Two kinds of failure are worth another try:
// - 409 Conflict: someone wrote the object since we read it. Re-read and try again at
//   once (client-go's retry.RetryOnConflict); only the caller can re-read, so the
//   operation passed in must read afresh on every attempt.
// - 429 and 5xx, timeouts, lost connections: wait, longer each time, with jitter so that
//   many clients that failed together do not come back together.
import { sleep, type Clock } from './clock.js';
import { isConflict, isRetryable, toApiError } from './errors.js';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of the delay randomised either way: 0.2 spreads 1 s over 0.8–1.2 s. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** Delay before retry number `attempt` (0-based). `rand` in [0, 1). */
export function backoffDelay(attempt: number, o: BackoffOptions = DEFAULT_BACKOFF, rand: () => number = Math.random): number {
  const base = Math.min(o.maxMs, o.initialMs * Math.pow(o.factor, Math.max(0, attempt)));
  const jittered = base * (1 + o.jitter * (2 * rand() - 1));
  return Math.max(0, Math.min(o.maxMs, Math.round(jittered)));
}

/** A backoff that remembers how far it got; reset() after a success. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly o: BackoffOptions = DEFAULT_BACKOFF,
    private readonly rand: () => number = Math.random,
  ) {}
  next(): number {
    return backoffDelay(this.attempt++, this.o, this.rand);
  }
  reset(): void {
    this.attempt = 0;
  }
  get attempts(): number {
    return this.attempt;
  }
}

export interface RetryOptions {
  clock: Clock;
  /** Total tries, the first included. Default 5. */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** Retry 409 Conflict too; only when `fn` re-reads what it writes. */
  retryConflicts?: boolean;
  /** Delay before retrying a conflict; default 10 ms (client-go's DefaultRetry). */
  conflictDelayMs?: number;
  signal?: AbortSignal;
  rand?: () => number;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Runs fn until it succeeds, fails with something not worth retrying, or runs out of tries. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const max = o.maxAttempts ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const conflict = isConflict(err);
      const again = conflict ? o.retryConflicts === true : isRetryable(err);
      if (!again || attempt + 1 >= max || o.signal?.aborted) throw err;
      let delay = conflict ? (o.conflictDelayMs ?? 10) : backoffDelay(attempt, o.backoff, o.rand);
      // 429 with Retry-After: the server knows better than our schedule.
      const after = toApiError(err).retryAfter;
      if (after !== undefined) delay = Math.max(delay, after * 1000);
      o.onRetry?.(err, attempt, delay);
      await sleep(o.clock, delay, o.signal);
      if (o.signal?.aborted) throw err;
    }
  }
}
