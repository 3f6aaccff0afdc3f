// What the lab does for LoadBalancer Services in place of kube-proxy and the
// EndpointSlice controller, as pure functions: which service IPs every node holds, and
// which EndpointSlices a Service gets. lab-agent.ts applies them.
import type { LabNode } from './plan.js';

/** The slice of a Service the lab reads. */
export interface ServiceLike {
  metadata?: { name?: string; namespace?: string; uid?: string; deletionTimestamp?: string };
  spec?: {
    type?: string;
    ipFamilies?: string[];
    ports?: { name?: string; port: number; targetPort?: number | string; protocol?: string }[];
  };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

export const MANAGED_BY = 'lab.herald.dev';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';

export function isLoadBalancer(s: ServiceLike): boolean {
  return s.spec?.type === 'LoadBalancer' && !s.metadata?.deletionTimestamp;
}

/** Every service IP to hold on kube-ipvs0: IPVS binds each LoadBalancer ingress IP on every node. */
export function wantedVips(services: readonly ServiceLike[]): Set<string> {
  const out = new Set<string>();
  for (const s of services) {
    if (!isLoadBalancer(s)) continue;
    for (const ing of s.status?.loadBalancer?.ingress ?? []) if (ing.ip) out.add(ing.ip.toLowerCase());
  }
  return out;
}

/** `ip -batch` lines that turn the VIPs held on `dev` from `have` into `want`. */
export function vipCommands(dev: string, have: ReadonlySet<string>, want: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const ip of want) {
    if (have.has(ip)) continue;
    out.push(ip.includes(':') ? `addr add ${ip}/128 dev ${dev} nodad` : `addr add ${ip}/32 dev ${dev}`);
  }
  for (const ip of have) if (!want.has(ip)) out.push(`addr del ${ip}/${ip.includes(':') ? 128 : 32} dev ${dev}`);
  return out;
}

export type AddressType = 'IPv4' | 'IPv6';

export interface EndpointSlice {
  apiVersion: 'discovery.k8s.io/v1';
  kind: 'EndpointSlice';
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    labels: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean }[];
  };
  addressType: AddressType;
  endpoints: {
    addresses: string[];
    conditions: { ready: boolean; serving: boolean; terminating: boolean };
    nodeName: string;
  }[];
  ports: { name?: string; port: number; protocol: string }[];
}

export function addressTypes(s: ServiceLike): AddressType[] {
  const fams = (s.spec?.ipFamilies ?? ['IPv4']).filter((f): f is AddressType => f === 'IPv4' || f === 'IPv6');
  return fams.length > 0 ? fams : ['IPv4'];
}

export function sliceName(service: string, t: AddressType): string {
  return `${service}-lab${t === 'IPv4' ? 4 : 6}`;
}

/** Where a Service's endpoints are: nodes with a ready one, and nodes with one not ready. */
export interface EndpointPlacement {
  ready: readonly string[];
  notReady?: readonly string[];
}

/**
 * The EndpointSlices of a Service whose backends run on the given nodes, one per
 * address family, each endpoint addressed with its node's IP (the lab's pods are
 * host-network) and named by `nodeName`, which is what `externalTrafficPolicy: Local`
 * looks at.
 */
export function slicesFor(s: ServiceLike, nodes: readonly LabNode[], where: EndpointPlacement): EndpointSlice[] {
  const name = s.metadata?.name ?? '';
  const namespace = s.metadata?.namespace ?? 'default';
  const ports = (s.spec?.ports ?? []).map((p) => ({
    ...(p.name ? { name: p.name } : {}),
    port: typeof p.targetPort === 'number' ? p.targetPort : p.port,
    protocol: p.protocol ?? 'TCP',
  }));
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const chosen: { node: LabNode; ready: boolean }[] = [];
  for (const n of where.ready) {
    const node = byName.get(n);
    if (node) chosen.push({ node, ready: true });
  }
  for (const n of where.notReady ?? []) {
    const node = byName.get(n);
    if (node && !where.ready.includes(n)) chosen.push({ node, ready: false });
  }
  return addressTypes(s).map((t) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: sliceName(name, t),
      namespace,
      labels: { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY },
      ...(s.metadata?.uid
        ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: s.metadata.uid, controller: true, blockOwnerDeletion: true }] }
        : {}),
    },
    addressType: t,
    endpoints: chosen.map(({ node, ready }) => ({
      addresses: [t === 'IPv4' ? node.ipv4 : node.ipv6],
      conditions: { ready, serving: ready, terminating: false },
      nodeName: node.name,
    })),
    ports,
  }));
}

/** A Node object for a lab node: what a kubelet would register. */
export function nodeObject(n: LabNode): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: {
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': process.arch === 'arm64' ? 'arm64' : 'amd64',
        'herald.dev/lab-node': String(n.index),
      },
    },
    spec: {},
  };
}

export function nodeStatus(n: LabNode, now: Date): Record<string, unknown> {
  const t = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    addresses: [
      { type: 'InternalIP', address: n.ipv4 },
      { type: 'InternalIP', address: n.ipv6 },
      { type: 'Hostname', address: n.name },
    ],
    conditions: [
      { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'lab node namespace is up', lastHeartbeatTime: t, lastTransitionTime: t },
      { type: 'NetworkUnavailable', status: 'False', reason: 'LabNetworkReady', message: 'veth on the lab bridge', lastHeartbeatTime: t, lastTransitionTime: t },
    ],
  };
}
