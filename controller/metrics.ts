// The controller's Prometheus metrics. The allocator's carry MetalLB's names
// (metallb/metallb internal/allocator/stats.go) with herald's prefix, so dashboards and
// the alert rules in manifests/alerts move over by renaming the prefix:
//   herald_allocator_addresses_total{pool}               usable addresses (both families)
//   herald_allocator_ipv4_addresses_total{pool}, …_ipv6_…
//   herald_allocator_addresses_in_use_total{pool}        assigned addresses
//   herald_allocator_ipv4_addresses_in_use_total{pool}, …_ipv6_…
//   herald_allocator_services_allocated_total{pool}      Services holding an address of the pool
// Counts saturate at Number.MAX_SAFE_INTEGER (an IPv6 /64 has 2^64 addresses). Only the
// leader reports them: a standby's series are removed when it stops leading, so
// `max by (pool)` over replicas reads the leader's.
// Beside them: herald_config_errors{kind} (current config errors; the ConfigInvalid
// alert), herald_controller_reconcile_total{result}, and
// herald_controller_time_to_ip_seconds (first seen pending → status written).
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { saturate } from '../shared/ip/ip.js';
import type { Metrics } from '../shared/metrics.js';
import type { PoolUsage } from './allocator-types.js';

export type ReconcileResult = 'allocated' | 'unchanged' | 'failed' | 'released' | 'ignored' | 'conflict' | 'error';

export interface ControllerMetrics {
  reconciles: Counter<'result'>;
  timeToIP: Histogram<never>;
  /** Sets every pool's gauges and drops the series of pools that are gone. */
  setPools(usage: ReadonlyMap<string, PoolUsage>): void;
  /** Sets the series of the kinds given; others keep theirs (pools and the other kinds are counted apart). */
  setConfigErrors(byKind: ReadonlyMap<string, number>): void;
  /** Removes the allocator and config series (on losing the lead). */
  clear(): void;
}

interface PoolGauges {
  total: Gauge<'pool'>;
  total4: Gauge<'pool'>;
  total6: Gauge<'pool'>;
  inUse: Gauge<'pool'>;
  inUse4: Gauge<'pool'>;
  inUse6: Gauge<'pool'>;
  services: Gauge<'pool'>;
}

const made = new WeakMap<Registry, ControllerMetrics>();

/** The controller's metrics in this registry, registered on first use (a replica may lead several times). */
export function controllerMetrics(m: Metrics): ControllerMetrics {
  const existing = made.get(m.registry);
  if (existing) return existing;
  const g = (name: string, help: string): Gauge<'pool'> => m.gauge({ name, help, labelNames: ['pool'] });
  const pools: PoolGauges = {
    total: g('allocator_addresses_total', 'Number of usable IP addresses, per pool'),
    total4: g('allocator_ipv4_addresses_total', 'Number of usable IPv4 addresses, per pool'),
    total6: g('allocator_ipv6_addresses_total', 'Number of usable IPv6 addresses, per pool'),
    inUse: g('allocator_addresses_in_use_total', 'Number of IP addresses in use, per pool'),
    inUse4: g('allocator_ipv4_addresses_in_use_total', 'Number of IPv4 addresses in use, per pool'),
    inUse6: g('allocator_ipv6_addresses_in_use_total', 'Number of IPv6 addresses in use, per pool'),
    services: g('allocator_services_allocated_total', 'Number of services allocated, per pool'),
  };
  const configErrors = m.gauge<'kind'>({ name: 'config_errors', help: 'Configuration errors the controller reports now, per kind', labelNames: ['kind'] });
  const reconciles = m.counter<'result'>({
    name: 'controller_reconcile_total',
    help: 'Service reconciles by result (allocated, unchanged, failed, released, ignored, conflict, error)',
    labelNames: ['result'],
  });
  const timeToIP = m.histogram<never>({
    name: 'controller_time_to_ip_seconds',
    help: 'From the controller first seeing a Service without its address to the status write that gives it one',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  let exported = new Set<string>();
  const all = Object.values(pools);
  const cm: ControllerMetrics = {
    reconciles,
    timeToIP,
    setPools: (usage) => {
      for (const name of exported) if (!usage.has(name)) for (const gauge of all) gauge.remove({ pool: name });
      exported = new Set(usage.keys());
      for (const [pool, u] of usage) {
        const cap4 = u.assignedIPv4 + u.availableIPv4;
        const cap6 = u.assignedIPv6 + u.availableIPv6;
        pools.total.set({ pool }, saturate(cap4 + cap6));
        pools.total4.set({ pool }, saturate(cap4));
        pools.total6.set({ pool }, saturate(cap6));
        pools.inUse.set({ pool }, saturate(u.assignedIPv4 + u.assignedIPv6));
        pools.inUse4.set({ pool }, saturate(u.assignedIPv4));
        pools.inUse6.set({ pool }, saturate(u.assignedIPv6));
        pools.services.set({ pool }, u.services);
      }
    },
    setConfigErrors: (byKind) => {
      for (const [kind, n] of byKind) configErrors.set({ kind }, n);
    },
    clear: () => {
      for (const gauge of all) gauge.reset();
      configErrors.reset();
      exported = new Set();
    },
  };
  made.set(m.registry, cm);
  return cm;
}
