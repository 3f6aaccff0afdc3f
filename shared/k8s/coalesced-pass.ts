// A status pass run on demand: requests within the delay become one pass, one pass runs
// at a time (a request during a pass runs another when it ends), and a pass that reports
// failure runs again after a growing backoff (250 ms doubling to 30 s). The controller's
// pool status and configuration-object status are kept by such passes.
import type { Clock, TimerHandle } from './clock.js';

export interface CoalescedPassOptions {
  clock: Clock;
  /** How long requests are gathered before a pass, ms. */
  delayMs: number;
  /** One pass; false when part of it failed and should be tried again. */
  pass: () => Promise<boolean>;
}

const BACKOFF_START_MS = 250;
const BACKOFF_MAX_MS = 30_000;

export class CoalescedPass {
  readonly #o: CoalescedPassOptions;
  #timer: TimerHandle | undefined;
  #run: Promise<void> | undefined;
  #failures = 0;
  #stopped = false;

  constructor(o: CoalescedPassOptions) {
    this.#o = o;
  }

  /** Asks for a pass within `delayMs` (default: the configured delay). */
  request(delayMs = this.#o.delayMs): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#run) {
        void this.#run.then(() => this.request(0));
        return;
      }
      this.#run = this.#once().finally(() => (this.#run = undefined));
    }, delayMs);
  }

  /** No more passes; resolves when the one running has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#run;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  async #once(): Promise<void> {
    if (await this.#o.pass()) {
      this.#failures = 0;
      return;
    }
    this.#failures++;
    if (this.#stopped) return;
    this.#timer ??= this.#o.clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.request(0);
      },
      Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** Math.min(this.#failures, 7)),
    );
  }
}
