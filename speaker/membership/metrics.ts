// What the membership adapter counts, behind a small sink so that the adapter loads no
// metrics library: in the membership thread (thread.ts) a CountingMetrics gathers the
// counts and the main thread adds them to its prom-client metrics (prom-metrics.ts).
// Pure.

/** The adapter's counters and its one gauge. */
export interface MembershipMetrics {
  dropped(reason: string, n?: number): void;
  received(type: string, n?: number): void;
  sent(type: string, n?: number): void;
  sendError(code: string, n?: number): void;
  transition(direction: string, reason: string, n?: number): void;
  livePeers(count: number): void;
}

export const NO_METRICS: MembershipMetrics = {
  dropped: () => {},
  received: () => {},
  sent: () => {},
  sendError: () => {},
  transition: () => {},
  livePeers: () => {},
};

/** Counts since the last take(), by counter and label values. */
export interface MetricsDelta {
  dropped: Record<string, number>;
  received: Record<string, number>;
  sent: Record<string, number>;
  sendError: Record<string, number>;
  /** Keyed `direction reason`. */
  transition: Record<string, number>;
  livePeers?: number;
}

const emptyDelta = (): MetricsDelta => ({ dropped: {}, received: {}, sent: {}, sendError: {}, transition: {} });
const bump = (m: Record<string, number>, k: string, n = 1): void => {
  m[k] = (m[k] ?? 0) + n;
};

/** Gathers counts to be handed over in batches. */
export class CountingMetrics implements MembershipMetrics {
  #d = emptyDelta();
  #any = false;

  dropped(reason: string, n = 1): void {
    bump(this.#d.dropped, reason, n);
    this.#any = true;
  }
  received(type: string, n = 1): void {
    bump(this.#d.received, type, n);
    this.#any = true;
  }
  sent(type: string, n = 1): void {
    bump(this.#d.sent, type, n);
    this.#any = true;
  }
  sendError(code: string, n = 1): void {
    bump(this.#d.sendError, code, n);
    this.#any = true;
  }
  transition(direction: string, reason: string, n = 1): void {
    bump(this.#d.transition, `${direction} ${reason}`, n);
    this.#any = true;
  }
  livePeers(count: number): void {
    this.#d.livePeers = count;
    this.#any = true;
  }

  /** The counts since the last call, or undefined if there were none. */
  take(): MetricsDelta | undefined {
    if (!this.#any) return undefined;
    const d = this.#d;
    this.#d = emptyDelta();
    this.#any = false;
    return d;
  }
}

/** Adds a batch of counts to a sink. */
export function applyDelta(sink: MembershipMetrics, d: MetricsDelta): void {
  for (const [k, n] of Object.entries(d.dropped)) sink.dropped(k, n);
  for (const [k, n] of Object.entries(d.received)) sink.received(k, n);
  for (const [k, n] of Object.entries(d.sent)) sink.sent(k, n);
  for (const [k, n] of Object.entries(d.sendError)) sink.sendError(k, n);
  for (const [k, n] of Object.entries(d.transition)) {
    const [direction = '', reason = ''] = k.split(' ');
    sink.transition(direction, reason, n);
  }
  if (d.livePeers !== undefined) sink.livePeers(d.livePeers);
}
