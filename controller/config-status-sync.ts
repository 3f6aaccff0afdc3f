// Keeps the status of the configuration objects other than pools (config-status.ts) while
// this replica leads: any change to herald's configuration or its Secrets schedules one
// pass, which builds the config model as the speakers do and writes the conditions that
// changed, with their events. Pools are the reconciler's (pool-status.ts).
import type { ConfigResult, SecretLike } from '../shared/config/model.js';
import { buildConfig } from '../shared/config/model.js';
import type { BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement } from '../shared/api/types.js';
import type { Clock } from '../shared/k8s/clock.js';
import { CoalescedPass } from '../shared/k8s/coalesced-pass.js';
import { isNotFound, toApiError } from '../shared/k8s/errors.js';
import type { EventRecorder } from '../shared/k8s/events.js';
import type { Informer, K8sObject } from '../shared/k8s/informer.js';
import { heraldResource } from '../shared/k8s/resources.js';
import type { StatusWriter } from '../shared/k8s/writers.js';
import type { Logger } from '../shared/log.js';
import { conditionTime } from './conditions.js';
import { CONFIG_KINDS, planConfigStatus, usedInModel, type ConfigKind, type ConfigObjectLike } from './config-status.js';

/** The informers the configuration is built from, all in herald's namespace. */
export interface ConfigInformers {
  pools: Informer<IPAddressPool>;
  l2Advertisements: Informer<L2Advertisement & K8sObject>;
  bgpAdvertisements: Informer<BGPAdvertisement & K8sObject>;
  bgpPeers: Informer<BGPPeer & K8sObject>;
  communities: Informer<Community & K8sObject>;
  bfdProfiles: Informer<BFDProfile & K8sObject>;
  /** Read for BGPPeer.spec.passwordSecret: whether the Secret is there and its key usable. */
  secrets: Informer<K8sObject>;
}

export interface ConfigStatusSyncOptions {
  log: Logger;
  clock: Clock;
  namespace: string;
  informers: ConfigInformers;
  status: StatusWriter;
  events: EventRecorder;
  /** Errors per kind of these kinds, for herald_config_errors. */
  onErrors?: (byKind: ReadonlyMap<string, number>) => void;
  /** The configuration each pass built (the pools' Advertised condition is made from it). */
  onConfig?: (config: ConfigResult) => void;
  /** Changes are gathered this long before a pass; default 250 ms. */
  delayMs?: number;
}

const INFORMER_OF: Record<ConfigKind, keyof ConfigInformers> = {
  L2Advertisement: 'l2Advertisements',
  BGPAdvertisement: 'bgpAdvertisements',
  BGPPeer: 'bgpPeers',
  Community: 'communities',
  BFDProfile: 'bfdProfiles',
};

/**
 * What the controller keeps of a Secret: what BGPPeer.spec.passwordSecret is checked
 * against (its type and password key), nothing else of herald's namespace's Secrets.
 */
export function configSecret(obj: K8sObject): K8sObject {
  const s = obj as K8sObject & SecretLike;
  const m = s.metadata ?? {};
  const out: K8sObject & SecretLike = { metadata: { name: m.name, namespace: m.namespace, resourceVersion: m.resourceVersion } };
  if (s.type !== undefined) out.type = s.type;
  if (s.data?.password !== undefined) out.data = { password: s.data.password };
  if (s.stringData?.password !== undefined) out.stringData = { password: s.stringData.password };
  return out;
}

export class ConfigStatusSync {
  private readonly o: ConfigStatusSyncOptions;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly runner: CoalescedPass;

  constructor(o: ConfigStatusSyncOptions) {
    this.o = o;
    this.runner = new CoalescedPass({ clock: o.clock, delayMs: o.delayMs ?? 250, pass: () => this.pass() });
  }

  start(): void {
    if (this.runner.stopped) return;
    for (const inf of Object.values(this.o.informers) as Informer<K8sObject>[]) this.unsubscribe.push(inf.subscribe(() => this.runner.request()));
    this.runner.request(0);
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    await this.runner.stop();
  }

  private config(): ConfigResult {
    const i = this.o.informers;
    const live = <T extends K8sObject>(inf: Informer<T>): T[] => inf.list().filter((x) => !x.metadata?.deletionTimestamp);
    return buildConfig({
      pools: live(i.pools),
      l2Advertisements: live(i.l2Advertisements),
      bgpAdvertisements: live(i.bgpAdvertisements),
      peers: live(i.bgpPeers),
      communities: live(i.communities),
      bfdProfiles: live(i.bfdProfiles),
      secrets: i.secrets.list() as SecretLike[],
      namespace: this.o.namespace,
    });
  }

  /** Writes every status that changed; false when a write failed (retried later). */
  private async pass(): Promise<boolean> {
    const config = this.config();
    const byKind = new Map<string, number>(CONFIG_KINDS.map((k) => [k, 0]));
    for (const e of config.errors) if (byKind.has(e.kind)) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
    this.o.onErrors?.(byKind);
    this.o.onConfig?.(config);
    let failed = false;
    for (const kind of CONFIG_KINDS) {
      const resource = heraldResource(kind);
      for (const obj of this.o.informers[INFORMER_OF[kind]].list() as (K8sObject & ConfigObjectLike)[]) {
        if (this.runner.stopped) return true;
        const name = obj.metadata?.name ?? '';
        if (obj.metadata?.deletionTimestamp || (obj.metadata?.namespace ?? this.o.namespace) !== this.o.namespace) continue;
        const errors = config.errors.filter((e) => e.kind === kind && e.name === name);
        const plan = planConfigStatus({ kind, obj, used: usedInModel(kind, name, config), errors, now: conditionTime(this.o.clock.now()) });
        if (!plan.changed) continue;
        try {
          await this.o.status.patchStatus(resource, this.o.namespace, name, plan.status, obj.metadata?.resourceVersion);
        } catch (err) {
          // Deleted meanwhile: nothing to say. Anything else (a 409 too: the cache is behind) is tried again.
          if (isNotFound(err)) continue;
          failed = true;
          const e = toApiError(err);
          this.o.log.warn({ kind, name, err: e, code: e.code }, 'writing the status of a configuration object failed; will retry');
          continue;
        }
        if (plan.events.some((e) => e.type === 'Warning')) this.o.log.warn({ kind, name, errors: errors.length }, 'configuration object has problems');
        for (const e of plan.events) this.o.events.event(obj, e.type, e.reason, e.message);
      }
    }
    return !failed;
  }
}
