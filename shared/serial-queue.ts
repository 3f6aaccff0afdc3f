// Run-to-completion: work queued while other work runs waits until that returns, so a
// state machine step never re-enters itself from a callback it triggered (the BGP and
// BFD session drivers run every FSM step through one of these).
export class SerialQueue {
  private readonly queue: (() => void)[] = [];
  private draining = false;

  /** Runs `fn` now, or after the work already running and queued. */
  run(fn: () => void): void {
    this.queue.push(fn);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) next();
    } finally {
      this.draining = false;
    }
  }
}
