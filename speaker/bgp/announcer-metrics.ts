// The BGP announcer's Prometheus metrics, named as MetalLB's (REFERENCE.md, "Metrics"),
// by peer; the registry adds the node label. herald_speaker_announced is shared with
// the L2 announcer: a sampled gauge, read from the announced Services when scraped.
import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../../shared/metrics.js';
import { ANNOUNCED_METRIC, type AnnouncedLabels } from '../announcer.js';
import type { ServicePlan } from './planner.js';
import type { SessionStatus } from './session.js';

export class BGPMetrics {
  private readonly up: Gauge<'peer'>;
  private readonly updates: Counter<'peer'>;
  private readonly prefixes: Gauge<'peer'>;
  private readonly pending: Gauge<'peer'>;
  private readonly detachAnnounced: () => void;
  /** updatesSent last seen per session object: the counter moves by the difference. */
  private readonly updatesSeen = new Map<string, { session: object; count: number }>();

  constructor(
    metrics: Metrics,
    private readonly node: string,
  ) {
    this.up = metrics.gauge({ name: 'bgp_session_up', help: 'BGP session state (1 is up, 0 is down).', labelNames: ['peer'] });
    this.updates = metrics.counter({ name: 'bgp_updates_total', help: 'Number of BGP UPDATE messages sent.', labelNames: ['peer'] });
    this.prefixes = metrics.gauge({ name: 'bgp_announced_prefixes_total', help: 'Number of prefixes currently being advertised on the BGP session.', labelNames: ['peer'] });
    this.pending = metrics.gauge({ name: 'bgp_pending_prefixes_total', help: 'Number of prefixes that should be advertised on the BGP session but are not yet.', labelNames: ['peer'] });
    this.detachAnnounced = metrics.sampledGauge(ANNOUNCED_METRIC).addSource(() => this.announcedSamples());
  }

  /** The announcer's Services as it announces them now (sorted by key, each IP once). */
  announced: readonly ServicePlan[] = [];

  private *announcedSamples(): Generator<readonly [AnnouncedLabels, number]> {
    for (const svc of this.announced) for (const ip of svc.ips) yield [{ service: svc.key, protocol: 'bgp', node: this.node, ip }, 1];
  }

  /** The announcer stopped: its Services are no longer announced. */
  close(): void {
    this.detachAnnounced();
  }

  session(peer: string, session: object, s: SessionStatus): void {
    this.up.set({ peer }, s.state === 'Established' ? 1 : 0);
    this.prefixes.set({ peer }, s.prefixesSent);
    this.pending.set({ peer }, s.pendingPrefixes);
    const seen = this.updatesSeen.get(peer);
    const before = seen && seen.session === session ? seen.count : 0;
    if (s.updatesSent > before) this.updates.inc({ peer }, s.updatesSent - before);
    this.updatesSeen.set(peer, { session, count: Math.max(before, s.updatesSent) });
  }

  dropPeer(peer: string): void {
    this.up.remove({ peer });
    this.prefixes.remove({ peer });
    this.pending.remove({ peer });
    this.updatesSeen.delete(peer);
  }
}
