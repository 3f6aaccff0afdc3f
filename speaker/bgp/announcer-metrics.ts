// The BGP announcer's Prometheus metrics, named as MetalLB's (REFERENCE.md, "Metrics"),
// by peer; the registry adds the node label. herald_speaker_announced is shared with
// the L2 announcer, so it is looked up before it is created.
import type { Counter, Gauge } from 'prom-client';
import { METRIC_PREFIX, type Metrics } from '../../shared/metrics.js';
import type { SessionStatus } from './session.js';

const ANNOUNCED = 'speaker_announced';

export class BGPMetrics {
  private readonly up: Gauge<'peer'>;
  private readonly updates: Counter<'peer'>;
  private readonly prefixes: Gauge<'peer'>;
  private readonly pending: Gauge<'peer'>;
  private readonly announcedGauge: Gauge<'service' | 'protocol' | 'node' | 'ip'>;
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
    const existing = metrics.registry.getSingleMetric(METRIC_PREFIX + ANNOUNCED) as Gauge<'service' | 'protocol' | 'node' | 'ip'> | undefined;
    this.announcedGauge =
      existing ??
      metrics.gauge({ name: ANNOUNCED, help: 'Services being announced from this node (1), by service, protocol, node and IP.', labelNames: ['service', 'protocol', 'node', 'ip'] });
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

  /** Moves a Service's series from the IPs it had to the IPs it has. */
  announced(service: string, before: readonly string[], after: readonly string[]): void {
    const keep = new Set(after);
    for (const ip of before) if (!keep.has(ip)) this.announcedGauge.remove({ service, protocol: 'bgp', node: this.node, ip });
    for (const ip of after) this.announcedGauge.set({ service, protocol: 'bgp', node: this.node, ip }, 1);
  }
}
