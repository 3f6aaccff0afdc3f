// Prometheus metrics for one herald process. Each process (and each test) gets its own
// registry rather than prom-client's global one, so a test can run a controller and two
// speakers in one process without their counters colliding.
//
// herald's own metrics carry the `herald_` prefix (as MetalLB's carry `metallb_`); the
// standard process and Node.js metrics (process_resident_memory_bytes, nodejs_heap_…)
// keep their usual names so existing dashboards find them.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRIC_PREFIX = 'herald_';

export interface MetricOptions<L extends string> {
  /** Without the `herald_` prefix: `allocator_addresses_total` becomes `herald_allocator_addresses_total`. */
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  buckets?: number[];
}

export interface Metrics {
  readonly registry: Registry;
  counter<L extends string = string>(o: MetricOptions<L>): Counter<L>;
  gauge<L extends string = string>(o: MetricOptions<L>): Gauge<L>;
  histogram<L extends string = string>(o: HistogramOptions<L>): Histogram<L>;
}

export interface CreateMetricsOptions {
  /** Process metrics (RSS, CPU, heap, event loop lag); on unless turned off. */
  defaultMetrics?: boolean;
  /** Constant labels on every series, e.g. { node } for a speaker. */
  labels?: Record<string, string>;
}

export function createMetrics(opts: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const full = (name: string): string => (name.startsWith(METRIC_PREFIX) ? name : METRIC_PREFIX + name);
  return {
    registry,
    counter: <L extends string>(o: MetricOptions<L>) =>
      new Counter<L>({ name: full(o.name), help: o.help, labelNames: o.labelNames ?? [], registers: [registry] }),
    gauge: <L extends string>(o: MetricOptions<L>) =>
      new Gauge<L>({ name: full(o.name), help: o.help, labelNames: o.labelNames ?? [], registers: [registry] }),
    histogram: <L extends string>(o: HistogramOptions<L>) =>
      new Histogram<L>({
        name: full(o.name),
        help: o.help,
        labelNames: o.labelNames ?? [],
        registers: [registry],
        ...(o.buckets ? { buckets: o.buckets } : {}),
      }),
  };
}
