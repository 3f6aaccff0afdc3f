// Gratuitous announcements: when a node starts answering for an IP on an interface
// (takeover, a new interface, a link back up), it tells the LAN at once instead of
// waiting for neighbours' caches to expire, and repeats the news a few times.
//
// The pattern (DEFAULT_TAKEOVER_MS): at once, again 100 ms later in case the first frame
// was lost (a busy NIC queue, a switch port still learning), then every 1.1 s until
// 4.4 s. The 1.1 s spacing is MetalLB's (#172): older Linux kernels ignore a changed
// link-layer address for `locktime` (1 s) after the entry was last updated, so a second
// announcement must land past that window; Linux 4.x and later take a gratuitous ARP
// inside locktime (net/ipv4/arp.c, `is_garp` overrides), and RFC 4861 §7.2.6 allows up
// to MAX_NEIGHBOR_ADVERTISEMENT (3) unsolicited NAs. The lab measures the result
// (test/bench/failover.ts).
//
// Optionally every `refreshMs` after the burst the announcement is sent again, for
// switches that age out MAC tables (MetalLB #2910, #1761). Off by default.
//
// `AnnouncementSchedule` is the pure core: keys, times passed in, due entries out.
// `AnnouncementDriver` owns the one timer and sends through a callback.
import type { Clock, TimerHandle } from '../../shared/k8s/clock.js';

export const DEFAULT_TAKEOVER_MS: readonly number[] = [0, 100, 1100, 2200, 3300, 4400];

export interface AnnouncePolicy {
  /** Offsets from the start, ms, ascending; the first is normally 0. */
  readonly takeoverMs: readonly number[];
  /** After the burst, re-announce this often, ms; 0 turns it off. */
  readonly refreshMs: number;
}

export const DEFAULT_ANNOUNCE_POLICY: AnnouncePolicy = { takeoverMs: DEFAULT_TAKEOVER_MS, refreshMs: 0 };

/** Checks a policy; returns what is wrong, or undefined. */
export function policyProblem(p: AnnouncePolicy): string | undefined {
  if (p.takeoverMs.length === 0) return 'takeover offsets: at least one';
  for (let i = 0; i < p.takeoverMs.length; i++) {
    const t = p.takeoverMs[i] as number;
    if (!Number.isFinite(t) || t < 0) return `takeover offsets: ${t} is not a time`;
    if (i > 0 && t < (p.takeoverMs[i - 1] as number)) return 'takeover offsets must ascend';
  }
  if (!Number.isFinite(p.refreshMs) || p.refreshMs < 0) return `refresh: ${p.refreshMs} is not a period`;
  if (p.refreshMs > 0 && p.refreshMs < 1000) return 'refresh: at least 1000 ms';
  return undefined;
}

/** One (IP, interface) pair to announce. */
export interface AnnounceTarget {
  readonly ipText: string;
  readonly ifindex: number;
}

interface Entry extends AnnounceTarget {
  readonly start: number;
  /** Index of the next takeover offset; past the end: refreshing. */
  step: number;
  due: number;
}

export function targetKey(t: AnnounceTarget): string {
  return `${t.ifindex}/${t.ipText}`;
}

export class AnnouncementSchedule {
  readonly #entries = new Map<string, Entry>();

  constructor(readonly policy: AnnouncePolicy = DEFAULT_ANNOUNCE_POLICY) {
    const problem = policyProblem(policy);
    if (problem) throw new RangeError(problem);
  }

  /** Starts (or restarts) the burst for `target` at `now`. */
  start(target: AnnounceTarget, now: number): void {
    const first = this.policy.takeoverMs[0] as number;
    this.#entries.set(targetKey(target), { ipText: target.ipText, ifindex: target.ifindex, start: now, step: 0, due: now + first });
  }

  /** Stops announcing `target` (the IP was lost, or the interface went away). */
  cancel(target: AnnounceTarget): void {
    this.#entries.delete(targetKey(target));
  }

  /** Stops every target matching `pred`. */
  cancelWhere(pred: (t: AnnounceTarget) => boolean): void {
    for (const [k, e] of this.#entries) if (pred(e)) this.#entries.delete(k);
  }

  has(target: AnnounceTarget): boolean {
    return this.#entries.has(targetKey(target));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The targets due at `now` (each advanced to its next time or dropped), in start order. */
  takeDue(now: number): AnnounceTarget[] {
    const out: AnnounceTarget[] = [];
    const offsets = this.policy.takeoverMs;
    for (const [k, e] of this.#entries) {
      if (e.due > now) continue;
      out.push({ ipText: e.ipText, ifindex: e.ifindex });
      e.step++;
      // A late wake-up (a stalled event loop) sends once, not a catch-up burst: offsets
      // already past are skipped.
      while (e.step < offsets.length && e.start + (offsets[e.step] as number) <= now) e.step++;
      if (e.step < offsets.length) {
        e.due = e.start + (offsets[e.step] as number);
      } else if (this.policy.refreshMs > 0) {
        e.due = Math.max(now, e.due) + this.policy.refreshMs;
      } else {
        this.#entries.delete(k);
      }
    }
    return out;
  }

  /** When the next target is due, or undefined when none is pending. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const e of this.#entries.values()) if (next === undefined || e.due < next) next = e.due;
    return next;
  }
}

/** Sends one announcement of `target`; returns how many frames went out. */
export type SendAnnouncement = (target: AnnounceTarget) => number;

/** The schedule's timer: wakes when the next announcement is due and sends it. */
export class AnnouncementDriver {
  #timer: TimerHandle | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #stopped = false;

  constructor(
    readonly schedule: AnnouncementSchedule,
    private readonly clock: Pick<Clock, 'now' | 'setTimeout'>,
    private readonly send: SendAnnouncement,
  ) {}

  /**
   * Starts bursts for `targets` and sends their first announcements now, synchronously
   * (the failover fast path: no timer between the decision and the first frame).
   */
  announce(targets: readonly AnnounceTarget[]): number {
    if (this.#stopped || targets.length === 0) return 0;
    const now = this.clock.now();
    for (const t of targets) this.schedule.start(t, now);
    return this.#run();
  }

  cancelWhere(pred: (t: AnnounceTarget) => boolean): void {
    this.schedule.cancelWhere(pred);
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #run(): number {
    let frames = 0;
    for (const t of this.schedule.takeDue(this.clock.now())) frames += this.send(t);
    this.#arm();
    return frames;
  }

  #arm(): void {
    const next = this.schedule.nextDue();
    if (next === undefined || this.#stopped) return;
    if (this.#timer && this.#timerAt <= next) return;
    this.#timer?.cancel();
    this.#timerAt = next;
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      if (!this.#stopped) this.#run();
    }, Math.max(0, next - this.clock.now()));
  }
}
