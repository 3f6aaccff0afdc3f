// The BGP end-to-end tests' view of the lab: bringing it up once per router variant,
// writing objects with kubectl, reading the router's tables, restarting a speaker, and
// probing HTTP from hl-ext in a loop.
import { Buffer } from 'node:buffer';
import { run, sleep, tryRun, waitFor } from '../../lab/exec.js';
import { connect, moveEndpoints as labMoveEndpoints } from '../../lab/lab-api.js';
import { labDown } from '../../lab/lab-down.js';
import { routerNextHops } from '../../lab/lab-status.js';
import { labUp } from '../../lab/lab-up.js';
import { labPaths } from '../../lab/paths.js';
import type { LabPlan } from '../../lab/plan.js';
import { readRecords, startProcess, stopAll } from '../../lab/processes.js';
import type { RouterOptions } from '../../lab/router.js';
import { vtysh } from '../../lab/router-frr.js';
import { birdc } from '../../lab/router-bird.js';
import { gobgpCli } from '../../lab/router-gobgp.js';

export { sleep, waitFor };

export const paths = labPaths();
export const isRoot = process.getuid?.() === 0;
export const NS = 'herald-system';

/** Brings the lab up with herald's controller and speakers (waiting for another run's lab to go). */
export async function upLab(router: RouterOptions, nodes = 3): Promise<LabPlan> {
  try {
    return (await labUp(paths, { nodes, router, components: true })).plan;
  } catch (e) {
    // A lab left by a crashed run (its owners are gone): take it down and try once more.
    if (!(e instanceof Error) || !/already up/.test(e.message)) throw e;
    await labDown(paths);
    return (await labUp(paths, { nodes, router, components: true })).plan;
  }
}

/** Takes the lab down, unless HERALD_E2E_KEEP_LAB=1 asks to keep it for a look after a failure. */
export async function downLab(): Promise<void> {
  if (process.env.HERALD_E2E_KEEP_LAB === '1') return;
  await labDown(paths);
}

export async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await run('kubectl', ['--kubeconfig', paths.kubeconfig, ...args], { timeoutMs: 20_000, ...(input !== undefined ? { input } : {}) });
  return r.stdout;
}

/** `kubectl apply` of objects (JSON is YAML). */
export async function apply(...objects: object[]): Promise<void> {
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

export async function getJSON<T>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

const herald = (kind: string, name: string, spec: object): object => ({ apiVersion: 'herald.dev/v1beta1', kind, metadata: { name, namespace: NS }, spec });

export const pool = (name: string, spec: object) => herald('IPAddressPool', name, spec);
export const bgpPeer = (name: string, spec: object) => herald('BGPPeer', name, spec);
export const bgpAdvertisement = (name: string, spec: object) => herald('BGPAdvertisement', name, spec);

export function passwordSecret(name: string, password: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: NS },
    type: 'kubernetes.io/basic-auth',
    data: { password: Buffer.from(password).toString('base64') },
  };
}

/** A LoadBalancer Service from the given pool; the lab's agent gives it EndpointSlices on every node. */
export function service(name: string, o: { pool: string; policy?: 'Cluster' | 'Local'; dual?: boolean; namespace?: string }): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: o.namespace ?? 'default', annotations: { 'herald.dev/address-pool': o.pool } },
    spec: {
      type: 'LoadBalancer',
      externalTrafficPolicy: o.policy ?? 'Cluster',
      ...(o.dual ? { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] } : {}),
      selector: { app: name },
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    },
  };
}

/** The Service's ingress IPs once the controller has assigned `count` of them. */
export async function serviceIPs(name: string, count = 1, namespace = 'default'): Promise<string[]> {
  return waitFor(
    `${namespace}/${name} to get ${count} IP(s)`,
    async () => {
      const svc = await getJSON<{ status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }>(['get', 'service', '-n', namespace, name]);
      const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter(Boolean);
      return ips.length >= count ? ips : undefined;
    },
    20_000,
    100,
  );
}

export async function deleteObject(kind: string, name: string, namespace = 'default'): Promise<void> {
  await kubectl(['delete', kind, name, '-n', namespace, '--ignore-not-found', '--wait=false']);
}

/** `lab endpoints`: the Service's ready endpoints on these nodes only. */
export async function moveEndpoints(plan: LabPlan, service: string, nodes: string[], notReady: string[] = []): Promise<void> {
  const [namespace = 'default', name = ''] = service.split('/');
  const client = connect(paths.kubeconfig);
  try {
    await labMoveEndpoints(client, namespace, name, plan.nodes, { ready: nodes, notReady });
  } finally {
    client.close();
  }
}

/** Waits until the router's kernel routes `ip` to exactly these nodes (none: no route). */
export async function waitNextHops(plan: LabPlan, ip: string, nodes: string[], timeoutMs = 15_000): Promise<void> {
  const want = [...nodes].sort().join(',');
  let last = '';
  try {
    await waitFor(
      `${ip} routed to [${want}]`,
      async () => {
        last = (await routerNextHops(plan, ip)).join(',');
        return last === want ? true : undefined;
      },
      timeoutMs,
      50,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; the router has [${last}]`, { cause: e });
  }
}

export interface SessionStateObject {
  metadata: { name: string; labels?: Record<string, string> };
  status?: { node?: string; peer?: string; peerAddress?: string; bgpStatus?: string; establishedSince?: string; prefixesSent?: number; lastError?: string };
}

export async function sessionStates(): Promise<SessionStateObject[]> {
  return (await getJSON<{ items: SessionStateObject[] }>(['get', 'bgpsessionstates', '-n', NS])).items;
}

/** Waits until every node's session to `peer` reports `state` (and, for Established, the router agrees). */
export async function waitSessions(plan: LabPlan, peer: string, state: string, nodes = plan.nodes.map((n) => n.name), timeoutMs = 20_000): Promise<SessionStateObject[]> {
  return waitFor(
    `sessions to ${peer} from ${nodes.join(', ')} in state ${state}`,
    async () => {
      const all = (await sessionStates()).filter((s) => s.status?.peer === peer && nodes.includes(s.status?.node ?? ''));
      return all.length === nodes.length && all.every((s) => s.status?.bgpStatus === state) ? all : undefined;
    },
    timeoutMs,
    200,
  );
}

export async function serviceStatuses(): Promise<{ metadata: { name: string }; status?: { node?: string; serviceName?: string; serviceNamespace?: string; peers?: string[] } }[]> {
  return (await getJSON<{ items: never[] }>(['get', 'servicebgpstatuses', '-n', NS])).items;
}

export async function events(namespace: string, reason: string, name?: string): Promise<{ message: string; count?: number; involvedObject: { name: string } }[]> {
  const list = await getJSON<{ items: { reason: string; message: string; count?: number; involvedObject: { name: string } }[] }>(['get', 'events', '-n', namespace]);
  return list.items.filter((e) => e.reason === reason && (name === undefined || e.involvedObject.name === name));
}

// ---- the routers' own tables ----

const ctxOf = (plan: LabPlan) => ({ paths, plan });

export interface FrrPath {
  aspath?: { string?: string; length?: number };
  community?: { string?: string };
  largeCommunity?: { string?: string };
  locPrf?: number;
  nexthops?: { ip?: string }[];
  peer?: { peerId?: string };
}

/** FRR's paths for one prefix (`show bgp … json`). */
export async function frrPaths(plan: LabPlan, prefix: string): Promise<FrrPath[]> {
  const fam = prefix.includes(':') ? 'ipv6' : 'ipv4';
  const out = await vtysh(ctxOf(plan), [`show bgp ${fam} unicast ${prefix} json`]);
  const doc = JSON.parse(out || '{}') as { paths?: FrrPath[] };
  return doc.paths ?? [];
}

export async function birdRoute(plan: LabPlan, prefix: string): Promise<string> {
  return birdc(ctxOf(plan), ['show', 'route', 'for', prefix, 'all']);
}

export async function gobgpRib(plan: LabPlan, prefix: string): Promise<unknown> {
  const fam = prefix.includes(':') ? 'ipv6' : 'ipv4';
  return JSON.parse((await gobgpCli(ctxOf(plan), ['global', 'rib', '-a', fam, prefix, '-j'])) || '{}');
}

// ---- speakers and clients ----

/** Restarts the speaker process of a node the way a rolling upgrade does: SIGTERM, then a new process. */
export async function restartSpeaker(node: string): Promise<void> {
  const name = `speaker-${node}`;
  const rec = readRecords(paths).find((r) => r.name === name);
  if (!rec) throw new Error(`no lab process ${name}`);
  await stopAll([rec], 10_000);
  const [cmd, ...args] = rec.cmd;
  if (!cmd) throw new Error(`no command recorded for ${name}`);
  await startProcess(paths, { name, cmd, args, ...(rec.netns ? { netns: rec.netns } : {}) });
}

export interface LoopResult {
  ok: number;
  failed: number;
  /** Bodies seen (node names), with counts. */
  bodies: Record<string, number>;
}

/**
 * curl from hl-ext every `everyMs` for `seconds`, each request with a 1 s limit. Runs as
 * one shell loop inside the namespace; resolves when the loop ends.
 */
export async function httpLoop(plan: LabPlan, ip: string, seconds: number, everyMs = 10): Promise<LoopResult> {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const script = `end=$((SECONDS+${seconds})); while [ $SECONDS -lt $end ]; do b=$(curl -s -m 1 http://${host}/) && echo "ok $b" || echo fail; sleep ${(everyMs / 1000).toFixed(3)}; done`;
  const r = await tryRun('bash', ['-c', script], { netns: plan.ext.ns, timeoutMs: (seconds + 10) * 1000 });
  const res: LoopResult = { ok: 0, failed: 0, bodies: {} };
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('ok')) {
      res.ok++;
      const body = line.slice(3).trim();
      res.bodies[body] = (res.bodies[body] ?? 0) + 1;
    } else if (line === 'fail') res.failed++;
  }
  return res;
}

/** One HTTP GET from hl-ext: the body (the answering node's name), or undefined. */
export async function httpFromExt(plan: LabPlan, ip: string): Promise<string | undefined> {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const r = await tryRun('curl', ['-s', '-m', '2', `http://${host}/`], { netns: plan.ext.ns, timeoutMs: 5000 });
  return r.code === 0 ? r.stdout.trim() : undefined;
}
