// The seam between the controller's entry point and its reconciler. main.ts connects,
// syncs the informers and wins the leader election, then calls startController with
// everything the reconciler needs; losing the lead (or shutting down) calls stop().
import type { IPAddressPool } from '../shared/api/types.js';
import type { Clock } from '../shared/k8s/clock.js';
import type { KubeClient } from '../shared/k8s/client.js';
import { isGone, isNotFound } from '../shared/k8s/errors.js';
import type { EventRecorder } from '../shared/k8s/events.js';
import type { Informer, K8sObject } from '../shared/k8s/informer.js';
import { collectionPath, objectPath, SERVICES } from '../shared/k8s/resources.js';
import type { RestClient } from '../shared/k8s/rest.js';
import { withRetry } from '../shared/k8s/retry.js';
import type { AnnotationWriter, ServiceStatusWriter, StatusWriter } from '../shared/k8s/writers.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import { ConfigStatusSync, type ConfigInformers } from './config-status-sync.js';
import { advertisementsByPool } from './pool-status.js';
import { ensureMemberlist, restSecretStore, type SecretStore } from './memberlist.js';
import { controllerMetrics } from './metrics.js';
import { Reconciler, type ServiceSource } from './reconciler.js';
import type { ServiceObject } from './service-plan.js';

export interface ControllerDeps {
  log: Logger;
  clock: Clock;
  /** herald's namespace (IPAddressPools live here). */
  namespace: string;
  /** --lb-class; undefined: serve Services without a loadBalancerClass. */
  lbClass: string | undefined;
  /** Synced before startController is called. */
  informers: {
    services: Informer<K8sObject>;
    pools: Informer<IPAddressPool>;
    namespaces: Informer<K8sObject>;
  };
  /**
   * The other configuration kinds and herald's Secrets, synced: when given, the leader
   * keeps their conditions and events (config-status.ts). main.ts always gives them.
   */
  config?: Omit<ConfigInformers, 'pools'>;
  services: ServiceStatusWriter & AnnotationWriter;
  status: StatusWriter;
  events: EventRecorder;
  metrics: Metrics;
  /** For the consistent reads on start and after conflicts, and the memberlist Secret. */
  client: KubeClient;
  /** Overrides for tests: Service reads and the Secret store (default: through client). */
  source?: ServiceSource;
  secrets?: SecretStore;
  /** Services written at the same time (default 32). */
  concurrency?: number;
  /** Aborting it stops the controller, also while it is still starting (the lead was lost). */
  signal?: AbortSignal;
}

export interface RunningController {
  /** Stops reconciling; resolves when no write is in flight. */
  stop(): Promise<void>;
  /** Resolves when nothing is queued or being written. */
  idle(): Promise<void>;
}

/** Page size of the consistent read on start: bounds the memory it takes at 50,000 Services. */
const LIST_PAGE = 500;

/** Reads Services straight from the API server, retrying overload and server errors. */
export function restServiceSource(rest: RestClient, clock: Clock, signal?: AbortSignal): ServiceSource {
  const retry = { clock, maxAttempts: 8, ...(signal ? { signal } : {}) };
  return {
    listServices: async (onPage) => {
      for (let restart = 0; ; restart++) {
        let token: string | undefined;
        try {
          do {
            const page = await withRetry(
              () =>
                rest.request<{ metadata?: { continue?: string }; items?: ServiceObject[] }>('GET', collectionPath(SERVICES), {
                  query: { limit: LIST_PAGE, continue: token },
                }),
              retry,
            );
            onPage(page.items ?? []);
            token = page.metadata?.continue || undefined;
          } while (token !== undefined);
          return;
        } catch (err) {
          // The continue token expired between pages: start over (claims are idempotent).
          if (!isGone(err) || restart >= 3) throw err;
        }
      }
    },
    getService: async (namespace, name) => {
      try {
        return await withRetry(() => rest.request<ServiceObject>('GET', objectPath(SERVICES, namespace, name)), retry);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
  };
}

export async function startController(deps: ControllerDeps): Promise<RunningController> {
  const ac = new AbortController();
  const metrics = controllerMetrics(deps.metrics);
  const reconciler = new Reconciler({
    log: deps.log,
    clock: deps.clock,
    namespace: deps.namespace,
    lbClass: deps.lbClass,
    informers: deps.informers,
    source: deps.source ?? restServiceSource(deps.client.rest, deps.clock, ac.signal),
    services: deps.services,
    status: deps.status,
    events: deps.events,
    metrics,
    ...(deps.concurrency !== undefined ? { concurrency: deps.concurrency } : {}),
  });
  const configStatus = deps.config
    ? new ConfigStatusSync({
        log: deps.log,
        clock: deps.clock,
        namespace: deps.namespace,
        informers: { ...deps.config, pools: deps.informers.pools },
        status: deps.status,
        events: deps.events,
        onErrors: (byKind) => metrics.setConfigErrors(byKind),
        onConfig: (config) => reconciler.setAdvertisements(advertisementsByPool(config.model)),
      })
    : undefined;
  // The speakers' key does not hold up allocation.
  const memberlist = ensureMemberlist({
    store: deps.secrets ?? restSecretStore(deps.client.rest),
    namespace: deps.namespace,
    clock: deps.clock,
    log: deps.log,
    signal: ac.signal,
  });
  const onAbort = (): void => {
    ac.abort();
    void reconciler.stop();
    void configStatus?.stop();
  };
  if (deps.signal?.aborted) onAbort();
  else deps.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await reconciler.start();
  } catch (err) {
    deps.signal?.removeEventListener('abort', onAbort);
    ac.abort();
    await reconciler.stop();
    await memberlist;
    throw err;
  }
  configStatus?.start();
  const running: RunningController = {
    stop: async () => {
      deps.signal?.removeEventListener('abort', onAbort);
      ac.abort();
      await Promise.all([reconciler.stop(), configStatus?.stop()]);
      await memberlist;
      deps.log.info('controller stopped');
    },
    idle: () => reconciler.idle(),
  };
  if (deps.signal?.aborted) return running;
  deps.log.info(
    {
      services: deps.informers.services.list().length,
      pools: deps.informers.pools.list().length,
      namespaces: deps.informers.namespaces.list().length,
    },
    'controller started',
  );
  return running;
}
