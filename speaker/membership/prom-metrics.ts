// The membership counters as Prometheus metrics (names as before the adapter moved to its
// own thread, so dashboards keep working). Main thread only: it loads prom-client.
import type { Counter, Gauge } from 'prom-client';
import { METRIC_PREFIX, type Metrics } from '../../shared/metrics.js';
import type { MembershipMetrics } from './metrics.js';

function counter<L extends string>(m: Metrics, name: string, help: string, labelNames: L[]): Counter<L> {
  const existing = m.registry.getSingleMetric(METRIC_PREFIX + name);
  return (existing as Counter<L> | undefined) ?? m.counter<L>({ name, help, labelNames });
}

export function promMembershipMetrics(m: Metrics): MembershipMetrics {
  const dropped = counter(m, 'membership_dropped_total', 'Membership datagrams dropped, by reason.', ['reason']);
  const received = counter(m, 'membership_received_total', 'Authentic membership messages accepted, by type.', ['type']);
  const sent = counter(m, 'membership_sent_total', 'Membership datagrams sent, by type.', ['type']);
  const sendErrors = counter(m, 'membership_send_errors_total', 'Membership datagrams the kernel refused, by error code.', ['code']);
  const transitions = counter(m, 'membership_transitions_total', 'Peers going up or down (or held through a restart), by reason.', ['direction', 'reason']);
  const live = (m.registry.getSingleMetric(`${METRIC_PREFIX}membership_live_peers`) as Gauge | undefined) ?? m.gauge({ name: 'membership_live_peers', help: 'Other speakers currently live.' });
  return {
    dropped: (reason, n = 1) => dropped.inc({ reason }, n),
    received: (type, n = 1) => received.inc({ type }, n),
    sent: (type, n = 1) => sent.inc({ type }, n),
    sendError: (code, n = 1) => sendErrors.inc({ code }, n),
    transition: (direction, reason, n = 1) => transitions.inc({ direction, reason }, n),
    livePeers: (count) => live.set(count),
  };
}
