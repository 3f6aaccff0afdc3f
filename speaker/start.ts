// The seam between the speaker's entry point and its announcers. main.ts connects and
// syncs the informers, then calls startSpeaker; the L2 and BGP work (issues 5 and 6)
// replaces this placeholder.
import type { BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement } from '../shared/api/types.js';
import type { Clock } from '../shared/k8s/clock.js';
import type { KubeClient } from '../shared/k8s/client.js';
import type { EventRecorder } from '../shared/k8s/events.js';
import type { Informer, K8sObject } from '../shared/k8s/informer.js';
import type { StatusWriter } from '../shared/k8s/writers.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';

export interface SpeakerDeps {
  log: Logger;
  clock: Clock;
  nodeName: string;
  namespace: string;
  lbClass: string | undefined;
  /** Synced before startSpeaker is called; subscribe with { replay: true }. */
  informers: {
    services: Informer<K8sObject>;
    endpointSlices: Informer<K8sObject>;
    nodes: Informer<K8sObject>;
    pools: Informer<IPAddressPool>;
    l2Advertisements: Informer<L2Advertisement>;
    bgpAdvertisements: Informer<BGPAdvertisement>;
    bgpPeers: Informer<BGPPeer>;
    communities: Informer<Community>;
    bfdProfiles: Informer<BFDProfile>;
  };
  status: StatusWriter;
  events: EventRecorder;
  metrics: Metrics;
  client: KubeClient;
}

export interface RunningSpeaker {
  /** Leaves gracefully (make-before-break for L2, NOTIFICATION or GR for BGP). */
  stop(): Promise<void>;
}

export async function startSpeaker(deps: SpeakerDeps): Promise<RunningSpeaker> {
  deps.log.info(
    {
      services: deps.informers.services.list().length,
      nodes: deps.informers.nodes.list().length,
      pools: deps.informers.pools.list().length,
    },
    'speaker started (no announcers yet: nothing is announced)',
  );
  return { stop: async () => deps.log.info('speaker stopped') };
}
