// Shared by the lab's end-to-end tests: what the host namespace looks like, waiting,
// and LoadBalancer Services with a status written by hand (no controller in these tests).
import { SERVICES, collectionPath, objectPath } from '../../../shared/k8s/resources.js';
import { MERGE_PATCH } from '../../../shared/k8s/rest.js';
import { run, tryRun, waitFor } from '../../lab/exec.js';
import { connect } from '../../lab/lab-api.js';
import type { LabPaths } from '../../lab/paths.js';
import { markedProcesses } from '../../lab/processes.js';
import { labNamespaces, netnsPids } from '../../lab/topology.js';

export { waitFor };

export const isRoot = process.getuid?.() === 0;

/** Links and routes of the host namespace (all tables, both families) that could be the lab's. */
export async function hostLabFootprint(): Promise<string[]> {
  const [links, r4, r6] = await Promise.all([
    run('ip', ['-o', 'link', 'show']),
    run('ip', ['-o', 'route', 'show', 'table', 'all']),
    run('ip', ['-o', '-6', 'route', 'show', 'table', 'all']),
  ]);
  const lab = /192\.0\.2\.|198\.51\.100\.|203\.0\.113\.|2001:db8:|\b(lan-node\d+|lan-client|ext0|kube-ipvs0|br0|hl-[a-z0-9-]+)\b/;
  return [...links.stdout.split('\n'), ...r4.stdout.split('\n'), ...r6.stdout.split('\n')]
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => lab.test(l))
    // Link lines carry counters and states that change on their own; keep the name.
    .map((l) => (/^\d+: /.test(l) ? (l.split(' ')[1] ?? l) : l))
    .sort();
}

/** Everything of the lab still alive: namespaces, processes inside them, marked processes. */
export async function leftovers(paths: LabPaths): Promise<string[]> {
  const out: string[] = [];
  for (const ns of await labNamespaces()) {
    out.push(`namespace ${ns}`);
    for (const pid of await netnsPids(ns)) out.push(`pid ${pid} in ${ns}`);
  }
  for (const p of markedProcesses(paths)) out.push(`marked pid ${p.pid}`);
  return out;
}

export async function sysctl(ns: string, key: string): Promise<string> {
  return (await run('sysctl', ['-n', key], { netns: ns })).stdout.trim();
}

/** Addresses (without prefix length) on an interface in a namespace. */
export async function addressesOn(ns: string, dev: string): Promise<string[]> {
  const r = await tryRun('ip', ['-j', '-n', ns, 'addr', 'show', 'dev', dev]);
  if (r.code !== 0) return [];
  const links = JSON.parse(r.stdout || '[]') as { addr_info?: { local?: string; scope?: string }[] }[];
  return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => a.local ?? '')).sort();
}

/** A service IP on kube-ipvs0 in every node, as the lab agent would hold it (for labs without the API). */
export async function holdVip(nodeNamespaces: string[], ip: string): Promise<void> {
  const cidr = ip.includes(':') ? [`${ip}/128`, 'dev', 'kube-ipvs0', 'nodad'] : [`${ip}/32`, 'dev', 'kube-ipvs0'];
  for (const ns of nodeNamespaces) await run('ip', ['-n', ns, 'addr', 'add', ...cidr]);
}

export interface ServiceSpec {
  namespace?: string;
  name: string;
  ips: string[];
  families?: ('IPv4' | 'IPv6')[];
}

/** A LoadBalancer Service whose status already holds `ips`, as if a controller had assigned them. */
export async function createServiceWithIps(paths: LabPaths, s: ServiceSpec): Promise<void> {
  const client = connect(paths.kubeconfig);
  const ns = s.namespace ?? 'default';
  const families = s.families ?? ['IPv4'];
  try {
    await client.rest.request('POST', collectionPath(SERVICES, ns), {
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: s.name, namespace: ns },
        spec: {
          type: 'LoadBalancer',
          ipFamilies: families,
          ipFamilyPolicy: families.length > 1 ? 'RequireDualStack' : 'SingleStack',
          selector: { app: s.name },
          ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }],
        },
      },
    });
    await client.rest.request('PATCH', objectPath(SERVICES, ns, s.name, 'status'), {
      body: { status: { loadBalancer: { ingress: s.ips.map((ip) => ({ ip, ipMode: 'VIP' })) } } },
      contentType: MERGE_PATCH,
    });
  } finally {
    client.close();
  }
}

export async function deleteService(paths: LabPaths, name: string, namespace = 'default'): Promise<void> {
  const client = connect(paths.kubeconfig);
  try {
    await client.rest.request('DELETE', objectPath(SERVICES, namespace, name));
  } finally {
    client.close();
  }
}

export async function apiGet<T>(paths: LabPaths, path: string): Promise<T> {
  const client = connect(paths.kubeconfig);
  try {
    return await client.rest.request<T>('GET', path);
  } finally {
    client.close();
  }
}

export async function apiPatch(paths: LabPaths, path: string, body: unknown): Promise<void> {
  const client = connect(paths.kubeconfig);
  try {
    await client.rest.request('PATCH', path, { body, contentType: MERGE_PATCH });
  } finally {
    client.close();
  }
}
