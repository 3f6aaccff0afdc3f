// The seam between the controller's entry point and its reconciler. main.ts connects,
// syncs the informers and wins the leader election, then calls startController with
// everything the reconciler needs; the reconciler (issue 4) replaces this placeholder.
import type { IPAddressPool } from '../shared/api/types.js';
import type { Clock } from '../shared/k8s/clock.js';
import type { KubeClient } from '../shared/k8s/client.js';
import type { EventRecorder } from '../shared/k8s/events.js';
import type { Informer, K8sObject } from '../shared/k8s/informer.js';
import type { AnnotationWriter, ServiceStatusWriter, StatusWriter } from '../shared/k8s/writers.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';

export interface ControllerDeps {
  log: Logger;
  clock: Clock;
  /** herald's namespace (IPAddressPools live here). */
  namespace: string;
  /** --lb-class; undefined: serve Services without a loadBalancerClass. */
  lbClass: string | undefined;
  /** Synced before startController is called; subscribe with { replay: true }. */
  informers: {
    services: Informer<K8sObject>;
    pools: Informer<IPAddressPool>;
    namespaces: Informer<K8sObject>;
  };
  services: ServiceStatusWriter & AnnotationWriter;
  status: StatusWriter;
  events: EventRecorder;
  metrics: Metrics;
  /** For anything the narrow interfaces do not cover yet. */
  client: KubeClient;
}

export interface RunningController {
  /** Stops reconciling; resolves when no write is in flight. */
  stop(): Promise<void>;
}

export async function startController(deps: ControllerDeps): Promise<RunningController> {
  deps.log.info(
    {
      services: deps.informers.services.list().length,
      pools: deps.informers.pools.list().length,
      namespaces: deps.informers.namespaces.list().length,
    },
    'controller started (no reconciler yet: nothing is allocated)',
  );
  return { stop: async () => deps.log.info('controller stopped') };
}
