// The speaker core: informers in, one snapshot out to every announcer. Every change to a
// watched object schedules one rebuild (coalesced, so a burst of events costs one pass);
// the rebuild runs the pure config model and snapshot builders and hands the result to
// the L2 and BGP announcers, which each work out what to change.
import type {
  BFDProfile,
  BGPAdvertisement,
  BGPPeer,
  Community,
  IPAddressPool,
  L2Advertisement,
} from '../shared/api/types.js';
import { buildConfig, type ConfigResult, type SecretLike } from '../shared/config/model.js';
import type { Clock, TimerHandle } from '../shared/k8s/clock.js';
import type { KubeClient } from '../shared/k8s/client.js';
import type { EventRecorder } from '../shared/k8s/events.js';
import type { Informer, K8sObject } from '../shared/k8s/informer.js';
import type { StatusWriter } from '../shared/k8s/writers.js';
import type { Logger } from '../shared/log.js';
import type { Metrics } from '../shared/metrics.js';
import type { Announcer, AnnouncerFactory } from './announcer.js';
import { SnapshotBuilder, type RawEndpointSlice, type RawNode, type RawService, type SpeakerSnapshot } from './snapshot.js';

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
    /** Secrets of the install namespace: BGP passwords and the memberlist key. */
    secrets: Informer<K8sObject>;
  };
  status: StatusWriter;
  events: EventRecorder;
  metrics: Metrics;
  client: KubeClient;
}

export interface RunningSpeaker {
  /** Leaves gracefully (make-before-break for L2, NOTIFICATION or GR for BGP). */
  stop(): Promise<void>;
  /** The snapshot last handed to the announcers (for tests and diagnostics). */
  snapshot(): SpeakerSnapshot | undefined;
}

export interface SpeakerOptions {
  /** The announcers to run; the entry point passes L2 and BGP. */
  announcers: readonly AnnouncerFactory[];
  /**
   * How long a burst of events is coalesced before one rebuild, ms. The gap after a
   * rebuild is also at least twice as long as that rebuild took, so that a stream of
   * events (1,000 Services created at once) never keeps the event loop busy with
   * rebuilds: the membership heartbeats and the ARP responder share this thread.
   */
  coalesceMs?: number;
  /**
   * A monotonic millisecond reading used to time each rebuild (performance.now by
   * default). Tests pass their own: a real reading makes the gap depend on how busy the
   * machine running them is.
   */
  monotonicMs?: () => number;
}

/** The config model from the configuration informers (pure apart from the reads). */
export function configFrom(deps: SpeakerDeps): ConfigResult {
  const i = deps.informers;
  return buildConfig({
    pools: [...i.pools.list()],
    l2Advertisements: [...i.l2Advertisements.list()],
    bgpAdvertisements: [...i.bgpAdvertisements.list()],
    peers: [...i.bgpPeers.list()],
    communities: [...i.communities.list()],
    bfdProfiles: [...i.bfdProfiles.list()],
    secrets: i.secrets.list() as SecretLike[],
    namespace: deps.namespace,
  });
}

/** Reads the raw objects out of the informers and builds the snapshot (pure apart from the reads). */
export function snapshotFrom(
  deps: SpeakerDeps,
  config: ConfigResult = configFrom(deps),
  builder: SnapshotBuilder = new SnapshotBuilder(),
): { snapshot: SpeakerSnapshot; configErrors: number } {
  const i = deps.informers;
  const snapshot = builder.build({
    nodeName: deps.nodeName,
    config: config.model,
    services: i.services.list() as RawService[],
    endpointSlices: i.endpointSlices.list() as RawEndpointSlice[],
    nodes: i.nodes.list() as RawNode[],
    ...(deps.lbClass !== undefined ? { lbClass: deps.lbClass } : {}),
  });
  return { snapshot, configErrors: config.errors.length };
}

/** Informers whose objects feed the config model; other changes reuse the last model. */
const CONFIG_INFORMERS: readonly (keyof SpeakerDeps['informers'])[] = [
  'pools',
  'l2Advertisements',
  'bgpAdvertisements',
  'bgpPeers',
  'communities',
  'bfdProfiles',
  'secrets',
];

export async function startSpeaker(deps: SpeakerDeps, opts: SpeakerOptions): Promise<RunningSpeaker> {
  const { log, clock } = deps;
  const coalesceMs = opts.coalesceMs ?? 5;
  const monotonicMs = opts.monotonicMs ?? (() => performance.now());
  const rebuilds = deps.metrics.counter({ name: 'speaker_rebuilds_total', help: 'Snapshot rebuilds handed to the announcers.' });
  const configErrors = deps.metrics.gauge({ name: 'speaker_config_errors', help: 'Errors in the herald configuration as this speaker sees it.' });
  const announcers: Announcer[] = [];
  for (const make of opts.announcers) announcers.push(await make(deps));

  let last: SpeakerSnapshot | undefined;
  let timer: TimerHandle | undefined;
  let stopped = false;
  let config: ConfigResult | undefined;
  let configDirty = true;
  let lastCostMs = 0;
  const builder = new SnapshotBuilder();

  const rebuild = (): void => {
    timer = undefined;
    if (stopped) return;
    const t0 = monotonicMs();
    if (configDirty || !config) {
      config = configFrom(deps);
      configDirty = false;
    }
    const { snapshot, configErrors: n } = snapshotFrom(deps, config, builder);
    last = snapshot;
    configErrors.set(n);
    rebuilds.inc();
    for (const a of announcers) {
      try {
        a.update(snapshot);
      } catch (err) {
        // One protocol's fault must not stop the other from announcing.
        log.error({ err, protocol: a.protocol }, 'announcer update failed');
      }
    }
    lastCostMs = monotonicMs() - t0;
  };
  const schedule = (): void => {
    if (timer === undefined && !stopped) timer = clock.setTimeout(rebuild, Math.max(coalesceMs, 2 * lastCostMs));
  };

  const unsubscribe = (Object.entries(deps.informers) as [keyof SpeakerDeps['informers'], Informer<K8sObject>][]).map(([name, inf]) =>
    inf.subscribe(
      CONFIG_INFORMERS.includes(name)
        ? () => {
            configDirty = true;
            schedule();
          }
        : schedule,
    ),
  );
  rebuild();
  log.info(
    { services: last?.services.length ?? 0, pools: last?.config.pools.length ?? 0, announcers: announcers.map((a) => a.protocol) },
    'speaker started',
  );

  return {
    snapshot: () => last,
    stop: async () => {
      stopped = true;
      timer?.cancel();
      for (const u of unsubscribe) u();
      await Promise.all(announcers.map((a) => a.stop().catch((err: unknown) => log.error({ err, protocol: a.protocol }, 'announcer stop failed'))));
      log.info('speaker stopped');
    },
  };
}
