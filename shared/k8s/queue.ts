// A keyed work queue between informers and a reconciler, with client-go workqueue's
// guarantees: a key waiting in the queue is there once however many events named it; a
// key is never processed twice at the same time; a key added while it is being processed
// runs again afterwards; a failed key comes back after a per-key exponential backoff.
import { silentLogger, type Logger } from '../log.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { Fifo } from './fifo.js';
import { backoffDelay, type BackoffOptions } from './retry.js';

/** What processing a key asks for next. */
export type ProcessResult = void | { retry: true } | { requeueAfterMs: number };

export interface WorkQueueOptions {
  process: (key: string) => Promise<ProcessResult>;
  /** Keys processed at the same time (different keys only). Default 1. */
  concurrency?: number;
  backoff?: BackoffOptions;
  clock?: Clock;
  logger?: Logger;
  rand?: () => number;
}

const QUEUE_BACKOFF: BackoffOptions = { initialMs: 5, maxMs: 60_000, factor: 2, jitter: 0.1 };

export class WorkQueue {
  private readonly queue = new Fifo<string>();
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, TimerHandle>();
  private readonly idleWaiters: (() => void)[] = [];
  private stopped = false;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly o: WorkQueueOptions) {
    this.clock = o.clock ?? realClock;
    this.log = o.logger ?? silentLogger();
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds the key after ms; a key already waiting on a delay keeps that delay. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    if (this.delayed.has(key)) return;
    this.delayed.set(
      key,
      this.clock.setTimeout(() => {
        this.delayed.delete(key);
        this.add(key);
      }, ms),
    );
  }

  get length(): number {
    return this.queue.length;
  }

  /** Resolves when nothing is queued, running or waiting on a delay. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops taking keys and drops delayed ones; resolves when running keys finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.delayed.values()) t.cancel();
    this.delayed.clear();
    this.queue.clear();
    this.queued.clear();
    this.dirty.clear();
    await this.idle();
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.processing.size === 0 && this.delayed.size === 0;
  }

  private pump(): void {
    const max = this.o.concurrency ?? 1;
    while (this.processing.size < max && this.queue.length > 0) {
      const key = this.queue.shift() as string;
      this.queued.delete(key);
      this.processing.add(key);
      void this.run(key);
    }
    if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async run(key: string): Promise<void> {
    let result: ProcessResult;
    try {
      result = await this.o.process(key);
    } catch (err) {
      this.log.warn({ err, key }, 'processing failed; will retry');
      result = { retry: true };
    }
    this.processing.delete(key);
    if (result && 'retry' in result) {
      const n = this.failures.get(key) ?? 0;
      this.failures.set(key, n + 1);
      this.addAfter(key, backoffDelay(n, this.o.backoff ?? QUEUE_BACKOFF, this.o.rand));
    } else {
      this.failures.delete(key);
      if (result && 'requeueAfterMs' in result) this.addAfter(key, result.requeueAfterMs);
    }
    if (this.dirty.delete(key)) this.add(key);
    this.pump();
  }
}
