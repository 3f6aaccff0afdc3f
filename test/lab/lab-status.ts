// `lab status`: namespaces, processes, BGP sessions as the router sees them, and for
// every LoadBalancer IP who answers ARP/NDP on the LAN and where the router sends it.
import { SERVICES, collectionPath } from '../../shared/k8s/resources.js';
import { tryRun } from './exec.js';
import { connect } from './lab-api.js';
import type { LabPaths } from './paths.js';
import { hostByMac, labPlan, namespacesOf, type LabPlan } from './plan.js';
import { whoAnswers } from './probes.js';
import { isAlive, readRecords } from './processes.js';
import type { BgpSession } from './router.js';
import { createRouter } from './routers.js';
import { isLoadBalancer, type ServiceLike } from './services.js';
import { readState, type LabState } from './state.js';
import { labNamespaces } from './topology.js';

export interface ServiceIpStatus {
  service: string;
  ip: string;
  /** Hosts (or bare MACs) that answered ARP/NDP from hl-client. */
  answeredBy: string[];
  /** Nodes hl-router's kernel routes the IP to (BGP). */
  routedTo: string[];
}

export interface StatusReport {
  state?: LabState;
  namespaces: { name: string; present: boolean }[];
  processes: { name: string; pid: number; alive: boolean; netns?: string }[];
  sessions?: BgpSession[];
  sessionsError?: string;
  services?: ServiceIpStatus[];
  servicesError?: string;
}

/** The router's kernel next hops for one address, by node name. */
export async function routerNextHops(plan: LabPlan, ip: string): Promise<string[]> {
  const r = await tryRun('ip', ['-j', '-n', plan.router.ns, ...(ip.includes(':') ? ['-6'] : []), 'route', 'show', 'exact', ip]);
  if (r.code !== 0 || !r.stdout.trim()) return [];
  const routes = JSON.parse(r.stdout) as { gateway?: string; nexthops?: { gateway?: string }[] }[];
  const gws = routes.flatMap((rt) => (rt.nexthops ? rt.nexthops.map((n) => n.gateway ?? '') : [rt.gateway ?? ''])).filter(Boolean);
  const byIp = new Map(plan.nodes.flatMap((n) => [[n.ipv4, n.name] as const, [n.ipv6, n.name] as const]));
  return gws.map((g) => byIp.get(g) ?? g).sort();
}

async function serviceIps(paths: LabPaths, plan: LabPlan): Promise<ServiceIpStatus[]> {
  const client = connect(paths.kubeconfig);
  let items: ServiceLike[];
  try {
    items = (await client.rest.request<{ items?: ServiceLike[] }>('GET', collectionPath(SERVICES))).items ?? [];
  } finally {
    client.close();
  }
  const rows: { service: string; ip: string }[] = [];
  for (const s of items.filter(isLoadBalancer)) {
    for (const ing of s.status?.loadBalancer?.ingress ?? []) {
      if (ing.ip) rows.push({ service: `${s.metadata?.namespace}/${s.metadata?.name}`, ip: ing.ip });
    }
  }
  return Promise.all(
    rows.map(async (row) => ({
      ...row,
      answeredBy: (await whoAnswers(plan.client.ns, row.ip)).map((m) => hostByMac(plan, m) ?? m),
      routedTo: await routerNextHops(plan, row.ip),
    })),
  );
}

export async function labStatus(paths: LabPaths): Promise<StatusReport> {
  const state = readState(paths);
  const present = new Set(await labNamespaces());
  const plan = state ? labPlan(state.nodes) : undefined;
  const expected = plan ? namespacesOf(plan) : [...present].sort();
  const report: StatusReport = {
    ...(state ? { state } : {}),
    namespaces: [...new Set([...expected, ...present])].map((name) => ({ name, present: present.has(name) })),
    processes: readRecords(paths).map((r) => ({ name: r.name, pid: r.pid, alive: isAlive(r), ...(r.netns ? { netns: r.netns } : {}) })),
  };
  if (!state || !plan || !present.has(plan.router.ns)) return report;
  const router = createRouter({ paths, plan, opts: { kind: state.router, ibgp: state.ibgp } });
  await Promise.all([
    router.sessions().then(
      (s) => (report.sessions = s),
      (e: unknown) => (report.sessionsError = e instanceof Error ? e.message : String(e)),
    ),
    state.apiPort === undefined
      ? Promise.resolve((report.servicesError = 'no API server in this lab'))
      : serviceIps(paths, plan).then(
          (s) => (report.services = s),
          (e: unknown) => (report.servicesError = e instanceof Error ? e.message : String(e)),
        ),
  ]);
  return report;
}

export function formatStatus(r: StatusReport): string {
  const out: string[] = [];
  const s = r.state;
  const up = r.namespaces.some((n) => n.present);
  out.push(
    s && up
      ? `lab: up since ${s.startedAt}; ${s.nodes} nodes, router ${s.router} (${s.ibgp ? 'iBGP' : 'eBGP'}${s.password !== undefined ? ', TCP-MD5' : ''})${s.components ? '' : ', without herald components'}`
      : up
        ? 'lab: namespaces exist but .lab/state.json is gone (a crash?); `lab down` cleans up'
        : 'lab: down',
  );
  if (r.namespaces.length > 0) {
    const missing = r.namespaces.filter((n) => !n.present).map((n) => n.name);
    out.push(`namespaces: ${r.namespaces.filter((n) => n.present).map((n) => n.name).join(' ') || '(none)'}${missing.length ? `; MISSING: ${missing.join(' ')}` : ''}`);
  }
  if (r.processes.length > 0) {
    out.push('processes:');
    for (const p of r.processes) out.push(`  ${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${p.alive ? 'running' : 'NOT RUNNING'}${p.netns ? `  (${p.netns})` : ''}`);
  }
  if (r.sessions) {
    out.push(`BGP sessions (seen by the router): ${r.sessions.length === 0 ? 'none' : ''}`);
    for (const x of r.sessions) out.push(`  ${x.peer.padEnd(20)} ${x.state.padEnd(12)} ${x.prefixes ?? 0} prefixes`);
  } else if (r.sessionsError) out.push(`BGP sessions: cannot ask the router: ${r.sessionsError}`);
  if (r.services) {
    out.push(`service IPs: ${r.services.length === 0 ? 'none assigned' : ''}`);
    for (const x of r.services) {
      const l2 = x.answeredBy.length === 0 ? 'no ARP/NDP answer' : `answered by ${x.answeredBy.join(', ')}${x.answeredBy.length > 1 ? ' (MORE THAN ONE)' : ''}`;
      const bgp = x.routedTo.length === 0 ? 'no route in hl-router' : `routed to ${x.routedTo.join(', ')}`;
      out.push(`  ${x.service.padEnd(24)} ${x.ip.padEnd(20)} ${l2}; ${bgp}`);
    }
  } else if (r.servicesError) out.push(`service IPs: ${r.servicesError}`);
  return out.join('\n');
}
