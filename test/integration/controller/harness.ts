// Set-up for the controller's integration tests: an embedded API server in this process,
// controller replicas wired as main.ts wires them (the controller's own identity, so the
// RBAC in manifests/ applies), the real kubectl for applying objects, and checks read
// back through the API.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startApiServer, type EmbeddedApiServer } from '../../apiserver/server.js';
import type { BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement } from '../../../shared/api/types.js';
import { createKubeClient, type KubeClient } from '../../../shared/k8s/client.js';
import { createEventRecorder, type RunningEventRecorder } from '../../../shared/k8s/events.js';
import { createInformer, type Informer, type K8sObject } from '../../../shared/k8s/informer.js';
import { LeaderElector } from '../../../shared/k8s/leader.js';
import { createLeaseClient, type LeaseClient } from '../../../shared/k8s/lease.js';
import { collectionPath, CORE_EVENTS, heraldResource, NAMESPACES, objectPath, SECRETS, SERVICES } from '../../../shared/k8s/resources.js';
import { createServiceWriter, createStatusWriter } from '../../../shared/k8s/writers.js';
import { silentLogger } from '../../../shared/log.js';
import { createMetrics, type Metrics } from '../../../shared/metrics.js';
import { configSecret, type ConfigInformers } from '../../../controller/config-status-sync.js';
import { startController, type RunningController } from '../../../controller/start.js';
import { sleep, waitFor as poll } from '../../lab/exec.js';
import type { ServiceObject } from '../../../controller/service-plan.js';

export const NS = 'herald-system';
export const POOLS = heraldResource('IPAddressPool');

export interface Env {
  api: EmbeddedApiServer;
  admin: KubeClient;
  dir: string;
  kubeconfigFile: string;
  close(): Promise<void>;
}

export async function startEnv(): Promise<Env> {
  const api = await startApiServer({ logLevel: 'silent' });
  const dir = mkdtempSync(join(tmpdir(), 'hlt-controller-'));
  const kubeconfigFile = join(dir, 'admin.yaml');
  api.writeKubeconfig(kubeconfigFile, 'admin');
  const admin = clientFor(api, 'admin');
  return {
    api,
    admin,
    dir,
    kubeconfigFile,
    close: async () => {
      admin.close();
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function clientFor(api: EmbeddedApiServer, identity: 'admin' | 'controller' | 'speaker'): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromString(api.kubeconfig(identity));
  return createKubeClient(kc, { timeoutMs: 5_000 });
}

/** kubectl apply -f of a YAML document, as the admin. */
export async function kubectl(env: Env, args: string[], stdin?: string): Promise<string> {
  let file: string | undefined;
  if (stdin !== undefined) {
    file = join(env.dir, `m-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, stdin);
  }
  const full = ['--kubeconfig', env.kubeconfigFile, ...args.map((a) => (a === '-' && file ? file : a))];
  return new Promise((resolve, reject) => {
    execFile('kubectl', full, { timeout: 15_000 }, (err, stdout, stderr) => {
      if (file) rmSync(file, { force: true });
      if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

export const apply = (env: Env, yaml: string): Promise<string> => kubectl(env, ['apply', '-f', '-'], yaml);

/** One controller replica as main.ts runs it, optionally behind leader election. */
export interface Replica {
  client: KubeClient;
  metrics: Metrics;
  events: RunningEventRecorder;
  informers: { services: Informer<K8sObject>; pools: Informer<IPAddressPool>; namespaces: Informer<K8sObject> };
  config: Omit<ConfigInformers, 'pools'>;
  elector?: LeaderElector;
  /** The running controller while this replica leads (or always, without election). */
  controller(): RunningController | undefined;
  isLeader(): boolean;
  /** Graceful: stops reconciling and (with election) releases the Lease. */
  stop(): Promise<void>;
  /** A crash: the Lease is neither renewed nor released, informers stop. */
  crash(): Promise<void>;
}

export interface ReplicaOptions {
  election?: { identity: string; leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  lbClass?: string;
}

export async function startReplica(env: Env, o: ReplicaOptions = {}): Promise<Replica> {
  const client = clientFor(env.api, 'controller');
  const log = silentLogger();
  const informers = {
    services: createInformer<K8sObject>(client, { resource: SERVICES, logger: log, backoff: { initialMs: 20, maxMs: 500, factor: 2, jitter: 0.2 } }),
    pools: createInformer<IPAddressPool>(client, { resource: POOLS, namespace: NS, logger: log, backoff: { initialMs: 20, maxMs: 500, factor: 2, jitter: 0.2 } }),
    namespaces: createInformer<K8sObject>(client, { resource: NAMESPACES, logger: log, backoff: { initialMs: 20, maxMs: 500, factor: 2, jitter: 0.2 } }),
  };
  const backoff = { initialMs: 20, maxMs: 500, factor: 2, jitter: 0.2 };
  const inNS = <T extends K8sObject>(resource: ReturnType<typeof heraldResource>, transform?: (o: K8sObject) => K8sObject) =>
    createInformer<T>(client, { resource, namespace: NS, logger: log, backoff, ...(transform ? { transform } : {}) });
  const config = {
    l2Advertisements: inNS<L2Advertisement & K8sObject>(heraldResource('L2Advertisement')),
    bgpAdvertisements: inNS<BGPAdvertisement & K8sObject>(heraldResource('BGPAdvertisement')),
    bgpPeers: inNS<BGPPeer & K8sObject>(heraldResource('BGPPeer')),
    communities: inNS<Community & K8sObject>(heraldResource('Community')),
    bfdProfiles: inNS<BFDProfile & K8sObject>(heraldResource('BFDProfile')),
    secrets: inNS<K8sObject>(SECRETS, configSecret),
  };
  const all: Informer<K8sObject>[] = [...Object.values(informers), ...Object.values(config)] as Informer<K8sObject>[];
  for (const i of all) i.start();
  await Promise.all(all.map((i) => i.synced));
  const metrics = createMetrics({ defaultMetrics: false });
  const events = createEventRecorder({ rest: client.rest, component: 'herald-controller', logger: log });
  let running: RunningController | undefined;
  let starting: Promise<void> | undefined;
  let crashed = false;
  const start = (): Promise<void> =>
    (starting = (async () => {
      running = await startController({
        log,
        clock: { now: () => Date.now(), setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); return { cancel: () => clearTimeout(t) }; } },
        namespace: NS,
        lbClass: o.lbClass,
        informers,
        config,
        services: createServiceWriter(client.rest),
        status: createStatusWriter(client.rest),
        events,
        metrics,
        client,
      });
    })());
  const halt = async (): Promise<void> => {
    await starting;
    const r = running;
    running = undefined;
    await r?.stop();
  };

  let elector: LeaderElector | undefined;
  let leases: LeaseClient | undefined;
  if (o.election) {
    const real = createLeaseClient(client.rest, { timeoutMs: 2_000 });
    // A crashed replica's lease calls fail, as a dead pod's would never be made.
    leases = {
      get: (...a) => (crashed ? Promise.reject(new Error('crashed')) : real.get(...a)),
      create: (...a) => (crashed ? Promise.reject(new Error('crashed')) : real.create(...a)),
      update: (...a) => (crashed ? Promise.reject(new Error('crashed')) : real.update(...a)),
    };
    elector = new LeaderElector({
      leases,
      namespace: NS,
      name: 'herald-controller',
      ...o.election,
      logger: log,
      onStartedLeading: () => void start(),
      onStoppedLeading: halt,
    });
    elector.start();
  } else {
    await start();
  }
  const closeAll = async (): Promise<void> => {
    await Promise.all(all.map((i) => i.stop()));
    await events.close(500);
    client.close();
  };
  return {
    client,
    metrics,
    events,
    informers,
    config,
    ...(elector ? { elector } : {}),
    controller: () => running,
    isLeader: () => (elector ? elector.isLeader() : true),
    stop: async () => {
      if (elector) await elector.stop();
      else await halt();
      await closeAll();
    },
    crash: async () => {
      crashed = true;
      await halt();
      await closeAll();
    },
  };
}

// ---- reading back ----

export async function listServices(env: Env): Promise<ServiceObject[]> {
  const l = await env.admin.rest.request<{ items: ServiceObject[] }>('GET', collectionPath(SERVICES));
  return l.items;
}

export async function getService(env: Env, ns: string, name: string): Promise<ServiceObject> {
  return env.admin.rest.request<ServiceObject>('GET', objectPath(SERVICES, ns, name));
}

export async function getPool(env: Env, name: string): Promise<IPAddressPool> {
  return env.admin.rest.request<IPAddressPool>('GET', objectPath(POOLS, NS, name));
}

export interface EventObj {
  reason: string;
  type: string;
  message: string;
  count?: number;
  involvedObject: { kind?: string; name: string; namespace?: string };
}

export async function eventsFor(env: Env, ns: string, name: string, kind = 'Service'): Promise<EventObj[]> {
  const l = await env.admin.rest.request<{ items: EventObj[] }>('GET', collectionPath(CORE_EVENTS, ns));
  return l.items.filter((e) => e.involvedObject.name === name && (e.involvedObject.kind ?? kind) === kind);
}

export function ipsOf(svc: ServiceObject | undefined): string[] {
  return (svc?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((x) => x !== '');
}

export function waitFor<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  return poll(what, f, timeoutMs, 25);
}

export { sleep };

/** Waits until the Service shows `n` addresses; returns them. */
export function waitForIPs(env: Env, ns: string, name: string, n = 1, timeoutMs = 10_000): Promise<string[]> {
  return waitFor(`${ns}/${name} to show ${n} address(es)`, async () => {
    const ips = ipsOf(await getService(env, ns, name));
    return ips.length === n ? ips : undefined;
  }, timeoutMs);
}

/** The herald condition of a Service. */
export function conditionOf(svc: ServiceObject): { status: string; reason: string; message: string } | undefined {
  return svc.status?.conditions?.find((c) => c.type === 'herald.dev/LoadBalancerAllocated');
}

const SHARE_KEYS = ['herald.dev/allow-shared-ip', 'metallb.io/allow-shared-ip', 'metallb.universe.tf/allow-shared-ip'];

/**
 * The invariant: an address shown by two Services only if both carry the same non-empty
 * sharing key. Returns the violations.
 */
export function doubleAllocations(services: readonly ServiceObject[]): string[] {
  const byIP = new Map<string, ServiceObject[]>();
  for (const s of services) for (const ip of ipsOf(s)) byIP.set(ip, [...(byIP.get(ip) ?? []), s]);
  const bad: string[] = [];
  for (const [ip, holders] of byIP) {
    if (holders.length < 2) continue;
    const keys = holders.map((h) => SHARE_KEYS.map((k) => h.metadata?.annotations?.[k]).find((v) => v) ?? '');
    if (keys.some((k) => k === '' || k !== keys[0])) bad.push(`${ip}: ${holders.map((h) => `${h.metadata?.namespace}/${h.metadata?.name}`).join(', ')}`);
  }
  return bad;
}

export function lbServiceYAML(ns: string, name: string, extra: { annotations?: Record<string, string>; spec?: string; labels?: Record<string, string> } = {}): string {
  const ann = Object.entries(extra.annotations ?? {}).map(([k, v]) => `    ${k}: "${v}"`).join('\n');
  const labels = Object.entries(extra.labels ?? {}).map(([k, v]) => `    ${k}: "${v}"`).join('\n');
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${ns}
${ann ? `  annotations:\n${ann}\n` : ''}${labels ? `  labels:\n${labels}\n` : ''}spec:
  type: LoadBalancer
  selector: {app: ${name}}
  ports:
  - {name: http, port: 80, protocol: TCP}
${extra.spec ?? ''}`;
}

export function poolYAML(name: string, addresses: readonly string[], extra = ''): string {
  return `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  addresses: [${addresses.map((a) => `"${a}"`).join(', ')}]
${extra}`;
}

/** A LoadBalancer Service created through the API (faster than kubectl for many). */
export function createServiceAPI(env: Env, ns: string, name: string, annotations: Record<string, string> = {}): Promise<ServiceObject> {
  return env.admin.rest.request('POST', collectionPath(SERVICES, ns), {
    body: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns, annotations },
      spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    },
  });
}

