// Prometheus metrics for one herald process. Each process (and each test) gets its own
// registry rather than prom-client's global one, so a test can run a controller and two
// speakers in one process without their counters colliding.
//
// herald's own metrics carry the `herald_` prefix (as MetalLB's carry `metallb_`); the
// standard process and Node.js metrics (process_resident_memory_bytes, nodejs_heap_…)
// keep their usual names so existing dashboards find them.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

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

export type SampleSource<L extends string> = () => Iterable<readonly [Readonly<Record<L, string>>, number]>;

/**
 * A gauge whose samples its owners produce when it is scraped, so that nothing is kept
 * per series: as prom-client series, herald_speaker_announced for 10,000 Services held
 * ~2.5 MB (label objects and keys) that the announcers' plans already say.
 */
export interface SampledGauge<L extends string> {
  /** Adds an owner of samples; returns its removal. */
  addSource(read: SampleSource<L>): () => void;
}

export interface Metrics {
  readonly registry: Registry;
  counter<L extends string = string>(o: MetricOptions<L>): Counter<L>;
  gauge<L extends string = string>(o: MetricOptions<L>): Gauge<L>;
  histogram<L extends string = string>(o: HistogramOptions<L>): Histogram<L>;
  /** The sampled gauge of that name, made on first use (several owners share one). */
  sampledGauge<L extends string = string>(o: MetricOptions<L>): SampledGauge<L>;
}

/** What prom-client's registry reads of a metric: its name, help and type, and get(). */
class SampledGaugeMetric<L extends string> implements SampledGauge<L> {
  readonly type = 'gauge';
  readonly aggregator = 'sum';
  readonly #sources = new Set<SampleSource<L>>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  addSource(read: SampleSource<L>): () => void {
    this.#sources.add(read);
    return () => void this.#sources.delete(read);
  }

  get(): Promise<{ name: string; help: string; type: 'gauge'; aggregator: 'sum'; values: { labels: Record<string, string>; value: number }[] }> {
    const values: { labels: Record<string, string>; value: number }[] = [];
    for (const read of this.#sources) for (const [labels, value] of read()) values.push({ labels: { ...labels }, value });
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** Registry.resetMetrics: the owners hold the state. */
  reset(): void {}
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
  const sampled = new Map<string, SampledGaugeMetric<string>>();
  return {
    registry,
    sampledGauge: <L extends string>(o: MetricOptions<L>) => {
      const name = full(o.name);
      let m = sampled.get(name);
      if (!m) {
        m = new SampledGaugeMetric<string>(name, o.help);
        registry.registerMetric(m as unknown as Metric);
        sampled.set(name, m);
      }
      return m as SampledGauge<string> as SampledGauge<L>;
    },
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
