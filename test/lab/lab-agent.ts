// The lab's control loop, one process in the host namespace: it watches Services and
// does what kube-proxy and the EndpointSlice controller would do in a cluster:
// - every LoadBalancer ingress IP is held on kube-ipvs0 in every node (services.ts),
//   so traffic that reaches a node for it is delivered to the node's responder;
// - every LoadBalancer Service gets EndpointSlices, on all nodes at first; `lab
//   endpoints` moves them later, and this loop never undoes that.
//   node --import tsx test/lab/lab-agent.ts --kubeconfig .lab/kubeconfig --nodes 3
import { parseArgs } from 'node:util';
import { createInformer } from '../../shared/k8s/informer.js';
import { SERVICES } from '../../shared/k8s/resources.js';
import { createLogger } from '../../shared/log.js';
import { ipBatch, run } from './exec.js';
import { connect, deleteSlices, ensureSlices } from './lab-api.js';
import { VIP_IF, labPlan } from './plan.js';
import { addressTypes, isLoadBalancer, sliceName, vipCommands, wantedVips, type ServiceLike } from './services.js';

const { values } = parseArgs({ options: { kubeconfig: { type: 'string' }, nodes: { type: 'string', default: '3' } } });
if (!values.kubeconfig) throw new Error('--kubeconfig is required');
const plan = labPlan(Number(values.nodes));
const log = createLogger({ component: 'lab' });
const client = connect(values.kubeconfig);
const services = createInformer<ServiceLike>(client, { resource: SERVICES, logger: log });

/** VIPs on each node's kube-ipvs0, as last applied. */
const held = new Map<string, Set<string>>();

async function readHeld(ns: string): Promise<Set<string>> {
  const r = await run('ip', ['-j', '-n', ns, 'addr', 'show', 'dev', VIP_IF]);
  const links = JSON.parse(r.stdout || '[]') as { addr_info?: { local?: string; scope?: string }[] }[];
  return new Set(links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => a.local ?? '')).filter(Boolean));
}

async function syncVips(): Promise<void> {
  const want = wantedVips(services.list());
  await Promise.all(
    plan.nodes.map(async (n) => {
      const have = held.get(n.ns) ?? (await readHeld(n.ns));
      const cmds = vipCommands(VIP_IF, have, want);
      if (cmds.length === 0) return;
      await ipBatch(n.ns, cmds, { force: true }).catch((err: unknown) => log.warn({ err, node: n.name }, 'some VIP changes failed'));
      held.set(n.ns, await readHeld(n.ns));
      log.info({ node: n.name, vips: [...want] }, 'service IPs on kube-ipvs0');
    }),
  );
}

/** Slices written per Service key, so each Service is handled once per family set. */
const sliced = new Map<string, string>();

async function syncSlices(key: string, svc: ServiceLike | undefined): Promise<void> {
  const namespace = svc?.metadata?.namespace ?? key.split('/')[0] ?? 'default';
  const name = svc?.metadata?.name ?? key.split('/')[1] ?? '';
  const families = svc && isLoadBalancer(svc) ? addressTypes(svc) : [];
  const sig = families.join(',');
  if ((sliced.get(key) ?? '') === sig) return;
  const stale = (['IPv4', 'IPv6'] as const).filter((f) => !families.includes(f)).map((f) => sliceName(name, f));
  await deleteSlices(client, namespace, stale);
  if (svc && families.length > 0) await ensureSlices(client, svc, plan.nodes);
  if (sig) sliced.set(key, sig);
  else sliced.delete(key);
  log.info({ service: key, families }, families.length ? 'endpoint slices ensured' : 'endpoint slices removed');
}

// Each Service's steps run in order, different Services' side by side (at most
// SLICE_CONCURRENCY at once), and the VIPs are synced by one runner that starts again
// when changes came in meanwhile: 10,000 Services created at once then cost one VIP
// read per batch, not one per Service.
const SLICE_CONCURRENCY = 16;
const perKey = new Map<string, Promise<void>>();
let running = 0;
const waiting: (() => void)[] = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= SLICE_CONCURRENCY) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}
function enqueueService(key: string, fn: () => Promise<void>): void {
  const next = (perKey.get(key) ?? Promise.resolve())
    .then(() => slot(fn))
    .catch((err: unknown) => log.error({ err, what: `service ${key}` }, 'lab agent step failed'));
  perKey.set(key, next);
  void next.finally(() => {
    if (perKey.get(key) === next) perKey.delete(key);
  });
}
let vipRun: Promise<void> | undefined;
let vipDirty = false;
function enqueueVips(): void {
  vipDirty = true;
  if (vipRun) return;
  vipRun = (async () => {
    while (vipDirty) {
      vipDirty = false;
      await syncVips().catch((err: unknown) => log.error({ err, what: 'vips' }, 'lab agent step failed'));
    }
    vipRun = undefined;
  })();
}
async function idle(): Promise<void> {
  while (perKey.size > 0 || vipRun) await Promise.all([...perKey.values(), vipRun]);
}

services.subscribe((ev) => {
  enqueueService(ev.key, () => syncSlices(ev.key, ev.type === 'delete' ? undefined : ev.obj));
  enqueueVips();
});
services.start();
await services.synced;
enqueueVips();
await idle();
// `lab up` waits for this line.
log.info({ nodes: plan.nodes.length }, 'lab agent ready');

const stop = (): void => {
  void services.stop().finally(() => {
    client.close();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
