// Lease-based leader election for the controller's two replicas, with client-go's
// semantics (k8s.io/client-go/tools/leaderelection):
// - a candidate takes the Lease when it is free (no holder, or the holder released it)
//   or when the holder has not renewed it for leaseDuration *as timed on the candidate's
//   own clock* from when it last saw the record change, so clock skew between nodes does
//   not matter;
// - the leader renews every retryPeriod and gives up leading once renewDeadline has
//   passed without a successful renewal. renewDeadline < leaseDuration, so the old
//   leader has stopped before anyone else may take over;
// - every write carries the resourceVersion it read (optimistic concurrency): of two
//   candidates racing for a free Lease, one gets 409 and stays standby;
// - on stop the leader first stops its work (onStoppedLeading), then releases the Lease
//   by clearing holderIdentity, so the standby takes over at its next retry instead of
//   waiting out the lease (client-go's ReleaseOnCancel).
// - onStartedLeading runs beside the renewals, never in their way (client-go starts it on
//   its own goroutine): a start that reads 50,000 Services must not let the Lease lapse.
//   It gets a signal that aborts when the lead ends; onStoppedLeading does not wait for
//   it to return.
// After losing the Lease an elector goes back to being a candidate.
import { silentLogger, type Logger } from '../log.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { toApiError } from './errors.js';
import { microTime, type Lease, type LeaseClient, type LeaseSpec } from './lease.js';

export interface LeaderElectionOptions {
  leases: LeaseClient;
  namespace: string;
  /** The Lease's name, e.g. "herald-controller". */
  name: string;
  /** Unique per candidate: pod name plus a random suffix. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  logger?: Logger;
  rand?: () => number;
  /** Runs while renewals go on; `signal` aborts when the lead ends (lost or stopped). */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  onStoppedLeading: () => void | Promise<void>;
  /** Called when the observed holder changes (undefined: nobody holds it). */
  onNewLeader?: (identity: string | undefined) => void;
}

export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;

export class LeaderElector {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly rand: () => number;

  private leading = false;
  private running = false;
  private timer: TimerHandle | undefined;
  /** The last record we read or wrote, with the local time we first saw it. */
  private observed: { lease: Lease; at: number } | undefined;
  private lastRenew = 0;
  private holder: string | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  /** Aborts when the current term of leading ends. */
  private term: AbortController | undefined;

  constructor(private readonly o: LeaderElectionOptions) {
    this.clock = o.clock ?? realClock;
    this.log = (o.logger ?? silentLogger()).child({ lease: `${o.namespace}/${o.name}`, identity: o.identity });
    this.leaseDurationMs = o.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.renewDeadlineMs = o.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    this.retryPeriodMs = o.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    this.rand = o.rand ?? Math.random;
    if (!(this.renewDeadlineMs < this.leaseDurationMs)) throw new Error('renewDeadline must be shorter than leaseDuration');
    if (!(this.retryPeriodMs < this.renewDeadlineMs)) throw new Error('retryPeriod must be shorter than renewDeadline');
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder as last observed. */
  leader(): string | undefined {
    return this.holder;
  }

  /** True once the Lease has been read or written: the API and RBAC let us campaign. */
  hasObservedLease(): boolean {
    return this.observed !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.log.info('leader election: standing as a candidate');
    this.schedule(0);
  }

  /** Stops campaigning; if leading, stops leading and releases the Lease. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.timer?.cancel();
    await this.inFlight;
    if (this.leading) {
      await this.stopLeading('stopping');
      await this.release();
    }
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      this.inFlight = this.tick().catch((err: unknown) => this.log.error({ err }, 'leader election tick failed'));
    }, ms);
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    if (!this.leading) {
      // Bounded too: a request that never answers must not end the candidacy.
      if ((await this.attempt(this.renewDeadlineMs)) === true) {
        if (!this.running) {
          // stop() came while we were acquiring: hand the Lease straight back.
          await this.release();
          return;
        }
        this.lastRenew = this.clock.now();
        this.leading = true;
        this.log.info('leader election: became leader');
        const term = new AbortController();
        this.term = term;
        // Not awaited: renewals must go on however long the start takes.
        void (async () => this.o.onStartedLeading(term.signal))().catch((err: unknown) => this.log.error({ err }, 'onStartedLeading failed'));
        this.schedule(this.retryPeriodMs);
      } else {
        // client-go jitters the candidates' retries so they do not move in step.
        this.schedule(Math.round(this.retryPeriodMs * (1 + 0.2 * this.rand())));
      }
      return;
    }
    // Leading: renew, but never believe we lead past the renew deadline, however long
    // the request hangs.
    const deadline = this.lastRenew + this.renewDeadlineMs;
    const result = await this.attempt(deadline - this.clock.now());
    if (!this.running) return;
    if (result === true) {
      this.lastRenew = this.clock.now();
      this.schedule(this.retryPeriodMs);
      return;
    }
    const takenOver = this.holder !== undefined && this.holder !== this.o.identity;
    if (result === 'timeout' || this.clock.now() >= deadline || takenOver) {
      await this.stopLeading(takenOver ? `lease taken over by ${this.holder}` : 'could not renew the lease before the renew deadline');
      this.schedule(Math.round(this.retryPeriodMs * (1 + 0.2 * this.rand())));
      return;
    }
    this.schedule(Math.min(this.retryPeriodMs, Math.max(0, deadline - this.clock.now())));
  }

  private async stopLeading(why: string): Promise<void> {
    this.leading = false;
    this.term?.abort(why);
    this.term = undefined;
    this.log.warn({ reason: why }, 'leader election: stopped leading');
    try {
      await this.o.onStoppedLeading();
    } catch (err) {
      this.log.error({ err }, 'onStoppedLeading failed');
    }
  }

  private observe(lease: Lease): void {
    const prev = this.observed?.lease;
    const changed =
      !prev ||
      prev.metadata.resourceVersion !== lease.metadata.resourceVersion ||
      prev.spec?.holderIdentity !== lease.spec?.holderIdentity ||
      prev.spec?.renewTime !== lease.spec?.renewTime;
    if (changed) this.observed = { lease, at: this.clock.now() };
    const holder = lease.spec?.holderIdentity || undefined;
    if (holder !== this.holder) {
      this.holder = holder;
      if (holder !== this.o.identity) this.log.info({ leader: holder ?? null }, 'leader election: new leader observed');
      this.o.onNewLeader?.(holder);
    }
  }

  private async attempt(timeoutMs: number): Promise<boolean | 'timeout'> {
    let expiry: TimerHandle | undefined;
    const timedOut = new Promise<'timeout'>((r) => (expiry = this.clock.setTimeout(() => r('timeout'), Math.max(0, timeoutMs))));
    try {
      return await Promise.race([this.tryAcquireOrRenew(), timedOut]);
    } finally {
      expiry?.cancel();
    }
  }

  /** One attempt; true when we hold the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const me = this.o.identity;
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    try {
      const current = await this.o.leases.get(this.o.namespace, this.o.name);
      if (!current) {
        const created = await this.o.leases.create({
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: { holderIdentity: me, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        this.observe(created);
        return true;
      }
      this.observe(current);
      const spec: LeaseSpec = current.spec ?? {};
      const holder = spec.holderIdentity || undefined;
      const observedAt = this.observed?.at ?? now;
      if (holder !== undefined && holder !== me && observedAt + this.leaseDurationMs > now) return false;
      const mine = holder === me;
      const next: Lease = {
        ...current,
        spec: {
          holderIdentity: me,
          leaseDurationSeconds: durationSeconds,
          acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
          renewTime: microTime(now),
          leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
        },
      };
      const updated = await this.o.leases.update(next);
      this.observe(updated);
      return true;
    } catch (err) {
      const e = toApiError(err);
      // Conflict and AlreadyExists: another candidate wrote first, the normal way to lose a race.
      const level = e.code === 'Conflict' || e.code === 'AlreadyExists' ? 'debug' : 'warn';
      this.log[level]({ err: e, code: e.code }, 'leader election: acquire/renew failed');
      return false;
    }
  }

  private async release(): Promise<void> {
    const lease = this.observed?.lease;
    if (!lease || lease.spec?.holderIdentity !== this.o.identity) return;
    const now = this.clock.now();
    try {
      const released = await this.o.leases.update({
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: null,
          // client-go shortens the lease to 1 s on release, for tools that read durations.
          leaseDurationSeconds: 1,
          renewTime: microTime(now),
          acquireTime: microTime(now),
        },
      });
      this.observe(released);
      this.log.info('leader election: released the lease');
    } catch (err) {
      // Someone else already holds it, or the API is down: the lease will expire on its own.
      this.log.warn({ err: toApiError(err) }, 'leader election: releasing the lease failed');
    }
  }
}
