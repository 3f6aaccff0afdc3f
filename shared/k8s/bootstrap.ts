// What the controller and the speaker do alike before their own work starts: logger,
// kubeconfig, API client, metrics registry, monitoring server, informers that report
// readiness, and a shutdown signal. Entry points stay a few lines of wiring.
import type { ClientFlags } from '../flags.js';
import { createLogger, type Logger } from '../log.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { startMonitoringServer, type MonitoringServer } from '../http-server.js';
import { realClock, type Clock } from './clock.js';
import { createKubeClient, loadKubeConfig, type KubeClient } from './client.js';
import { createInformer, type Informer, type InformerOptions, type K8sObject } from './informer.js';

export interface Runtime {
  log: Logger;
  client: KubeClient;
  metrics: Metrics;
  monitoring: MonitoringServer;
  clock: Clock;
  /** Creates and starts an informer whose sync counts toward /readyz. */
  informer<T extends K8sObject>(o: InformerOptions): Informer<T>;
  /** Resolves when every informer made so far has synced, or on abort. */
  waitForSync(signal: AbortSignal): Promise<boolean>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  flags: ClientFlags;
  component: string;
  node?: string;
  env?: Record<string, string | undefined>;
  clock?: Clock;
}

export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const clock = o.clock ?? realClock;
  const log = createLogger({ level: o.flags.logLevel, component: o.component, ...(o.node ? { node: o.node } : {}) });
  const { kc, origin } = loadKubeConfig({ ...(o.flags.kubeconfig ? { kubeconfig: o.flags.kubeconfig } : {}), env: o.env ?? process.env });
  const client = createKubeClient(kc, { userAgent: `herald-${o.component}` });
  log.info({ server: client.rest.server, kubeconfig: origin, namespace: o.flags.namespace }, 'connecting to the API server');
  const metrics = createMetrics(o.node ? { labels: { node: o.node } } : {});
  const monitoring = await startMonitoringServer({
    metrics: o.flags.metricsAddr,
    health: o.flags.healthAddr,
    registry: metrics.registry,
    logger: log,
  });
  const informers: Informer<K8sObject>[] = [];
  monitoring.addReadinessCheck('informers-synced', () => {
    const pending = informers.filter((i) => !i.hasSynced()).map((i) => i.resource.plural);
    return pending.length === 0 ? true : `waiting for the first list of ${pending.join(', ')}`;
  });

  return {
    log,
    client,
    metrics,
    monitoring,
    clock,
    informer: <T extends K8sObject>(io: InformerOptions) => {
      const inf = createInformer<T>(client, { clock, logger: log, ...io });
      informers.push(inf as unknown as Informer<K8sObject>);
      inf.start();
      return inf;
    },
    waitForSync: async (signal) => {
      if (signal.aborted) return false;
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<false>((r) => {
        onAbort = () => r(false);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      const synced = Promise.all(informers.map((i) => i.synced)).then(() => true as const);
      const r = await Promise.race([synced, aborted]);
      if (onAbort) signal.removeEventListener('abort', onAbort);
      return r;
    },
    close: async () => {
      await Promise.all(informers.map((i) => i.stop()));
      await monitoring.close();
      client.close();
    },
  };
}

/**
 * Aborts on the first SIGTERM or SIGINT; a second one exits at once (an operator who
 * presses Ctrl-C twice means it).
 */
export function shutdownSignal(log: Logger): { signal: AbortSignal; trigger(reason: string): void; dispose(): void } {
  const ac = new AbortController();
  const handler = (sig: NodeJS.Signals): void => {
    if (ac.signal.aborted) {
      log.warn({ signal: sig }, 'second signal; exiting now');
      process.exit(1);
    }
    log.info({ signal: sig }, 'shutting down');
    ac.abort(sig);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return {
    signal: ac.signal,
    trigger: (reason) => {
      if (!ac.signal.aborted) ac.abort(reason);
    },
    dispose: () => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    },
  };
}

/** Resolves when the signal aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
}
