// `herald speaker`: flags, wiring, shutdown. The work itself is behind startSpeaker
// (start.ts).
import type { BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement } from '../shared/api/types.js';
import { aborted, shutdownSignal, startRuntime } from '../shared/k8s/bootstrap.js';
import { createEventRecorder } from '../shared/k8s/events.js';
import type { K8sObject } from '../shared/k8s/informer.js';
import { ENDPOINT_SLICES, heraldResource, NODES, SECRETS, SERVICES } from '../shared/k8s/resources.js';
import { createStatusWriter } from '../shared/k8s/writers.js';
import { parseClientFlags, type FlagSpec } from '../shared/flags.js';
import { startSpeaker, type RunningSpeaker } from './start.js';
import { speakerEndpointSlice, speakerService } from './snapshot.js';
import type { AnnouncerFactory } from './announcer.js';
import { bgpAnnouncerFactory } from './bgp/announcer-factory.js';
import { L2_FLAGS, l2SettingsFromFlags, type L2Settings } from './l2/options.js';

/** The protocols this speaker runs; each issue's announcer joins this list. */
const announcers = (l2: L2Settings): AnnouncerFactory[] => [
  bgpAnnouncerFactory,
  async (deps) => (await import('./l2/announcer.js')).l2AnnouncerFactory({ settings: l2 })(deps),
];

export const SPEAKER_FLAGS: FlagSpec = {
  command: 'speaker',
  summary: 'Announces the IPs of LoadBalancer Services from this node, over L2 (ARP/NDP) and BGP.',
  defaultMetricsAddr: ':7473',
  extra: {
    'node-name': { type: 'string', arg: 'NAME', help: 'the node this speaker runs on', env: 'NODE_NAME', required: true },
    ...L2_FLAGS,
  },
};

export async function main(args: string[]): Promise<number> {
  const parsed = parseClientFlags(args, process.env, SPEAKER_FLAGS);
  if (parsed.kind === 'help') {
    console.log(parsed.text);
    return 0;
  }
  if (parsed.kind === 'error') {
    console.error(parsed.message);
    return 2;
  }
  const { flags, extra } = parsed;
  const l2 = l2SettingsFromFlags(extra);
  if (!l2.ok) {
    console.error(`speaker: ${l2.errors.join('\n')}\nRun with --help for the flags.`);
    return 2;
  }
  const nodeName = String(extra['node-name']);
  let rt;
  try {
    rt = await startRuntime({ flags, component: 'speaker', node: nodeName });
  } catch (err) {
    console.error(`speaker: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const { log, client, clock } = rt;
  const stop = shutdownSignal(log);
  const ns = flags.namespace;
  const informers = {
    // Only the fields the speaker reads are kept of every Service and EndpointSlice (snapshot.ts).
    services: rt.informer<K8sObject>({ resource: SERVICES, transform: speakerService }),
    endpointSlices: rt.informer<K8sObject>({ resource: ENDPOINT_SLICES, transform: speakerEndpointSlice }),
    nodes: rt.informer<K8sObject>({ resource: NODES }),
    pools: rt.informer<IPAddressPool>({ resource: heraldResource('IPAddressPool'), namespace: ns }),
    l2Advertisements: rt.informer<L2Advertisement>({ resource: heraldResource('L2Advertisement'), namespace: ns }),
    bgpAdvertisements: rt.informer<BGPAdvertisement>({ resource: heraldResource('BGPAdvertisement'), namespace: ns }),
    bgpPeers: rt.informer<BGPPeer>({ resource: heraldResource('BGPPeer'), namespace: ns }),
    communities: rt.informer<Community>({ resource: heraldResource('Community'), namespace: ns }),
    bfdProfiles: rt.informer<BFDProfile>({ resource: heraldResource('BFDProfile'), namespace: ns }),
    secrets: rt.informer<K8sObject>({ resource: SECRETS, namespace: ns }),
  };
  const events = createEventRecorder({ rest: client.rest, component: 'herald-speaker', host: nodeName, clock, logger: log, metrics: rt.metrics });

  let running: RunningSpeaker | undefined;
  let exitCode = 0;
  if (await rt.waitForSync(stop.signal)) {
    log.info('informers synced');
    try {
      running = await startSpeaker({
        log,
        clock,
        nodeName,
        namespace: ns,
        lbClass: flags.lbClass,
        informers,
        status: createStatusWriter(client.rest),
        events,
        metrics: rt.metrics,
        client,
      }, { announcers: announcers(l2.settings) });
      await aborted(stop.signal);
    } catch (err) {
      log.error({ err }, 'starting the speaker failed');
      exitCode = 1;
    }
  }

  await running?.stop();
  await events.close();
  await rt.close();
  stop.dispose();
  log.info('stopped');
  return exitCode;
}
