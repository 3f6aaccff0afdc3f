// Wires the BGP announcer into the speaker: real sessions, the status objects an earlier
// speaker process of this node left behind, and the Service and Node references the
// events and owner references need.
import type { OwnerReference } from '../../shared/api/types.js';
import type { K8sObject } from '../../shared/k8s/informer.js';
import { collectionPath } from '../../shared/k8s/resources.js';
import type { StatusObject } from '../../shared/k8s/writers.js';
import type { AnnouncerFactory } from '../announcer.js';
import type { SpeakerDeps } from '../start.js';
import { BGPAnnouncer } from './announcer.js';
import { BGPSession } from './session.js';
import { BFDSessions } from '../bfd/index.js';
import { ownedSelector, SERVICE_STATUSES, SESSION_STATES } from './status.js';

async function listOwned(deps: SpeakerDeps, resource: typeof SESSION_STATES): Promise<StatusObject[]> {
  try {
    const list = await deps.client.rest.request<{ items?: StatusObject[] }>('GET', collectionPath(resource, deps.namespace), {
      query: { labelSelector: ownedSelector(deps.nodeName) },
    });
    return (list.items ?? []).filter((o) => typeof o.metadata?.name === 'string');
  } catch (err) {
    // Not fatal: stale objects stay until the next start; announcing matters more.
    deps.log.warn({ err, resource: resource.plural }, 'cannot list the status objects of an earlier speaker');
    return [];
  }
}

function nodeOwner(deps: SpeakerDeps): OwnerReference | undefined {
  const node = deps.informers.nodes.get(deps.nodeName) as K8sObject | undefined;
  const uid = node?.metadata?.uid;
  return uid ? { apiVersion: 'v1', kind: 'Node', name: deps.nodeName, uid } : undefined;
}

/**
 * herald_bfd_dropped_total{reason}: received BFD datagrams that reached no session —
 * malformed, unknown discriminator, wrong address, or a TTL that did not pass GTSM (`ttl`).
 */
function bfdDropCounter(deps: SpeakerDeps): (reason: string) => void {
  const dropped = deps.metrics.counter<'reason'>({ name: 'bfd_dropped_total', help: 'Received BFD datagrams dropped before reaching a session, by reason.', labelNames: ['reason'] });
  return (reason) => dropped.inc({ reason });
}

export const bgpAnnouncerFactory: AnnouncerFactory = async (deps) => {
  const [sessionStates, serviceStatuses] = await Promise.all([listOwned(deps, SESSION_STATES), listOwned(deps, SERVICE_STATUSES)]);
  return new BGPAnnouncer({
    log: deps.log,
    clock: deps.clock,
    nodeName: deps.nodeName,
    namespace: deps.namespace,
    status: deps.status,
    events: deps.events,
    metrics: deps.metrics,
    newSession: (cfg) => new BGPSession(cfg, { log: deps.log, clock: deps.clock }),
    bfd: new BFDSessions({ log: deps.log, clock: deps.clock, onDrop: bfdDropCounter(deps) }),
    existing: { sessionStates, serviceStatuses },
    serviceRef: (namespace, name) => {
      const uid = (deps.informers.services.get(name, namespace) as K8sObject | undefined)?.metadata?.uid;
      return { apiVersion: 'v1', kind: 'Service', namespace, name, ...(uid ? { uid } : {}) };
    },
    nodeOwner: () => nodeOwner(deps),
  });
};
