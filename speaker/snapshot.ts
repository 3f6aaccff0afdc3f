// What a speaker knows about the cluster at one moment, reduced from raw Kubernetes
// objects to the few facts announcement decisions need. Pure: the informers feed raw
// objects in, the L2 and BGP announcers read the snapshot out.
import type { ConfigModel, Pool } from '../shared/config/types.js';
import { EXCLUDE_LB_LABEL, ANNOTATIONS, METALLB_ANNOTATIONS } from '../shared/api/types.js';
import { parseIP, rangeContains, type IP } from '../shared/ip/ip.js';

/** The parts of a core/v1 Service the speaker reads (plain JSON). */
export interface RawService {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string>; deletionTimestamp?: string | Date };
  spec?: { type?: string; loadBalancerClass?: string; externalTrafficPolicy?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

/** The parts of a discovery.k8s.io/v1 EndpointSlice the speaker reads. */
export interface RawEndpointSlice {
  metadata?: { labels?: Record<string, string>; namespace?: string };
  endpoints?: { nodeName?: string; conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null } }[];
}

/** The parts of a core/v1 Node the speaker reads. */
export interface RawNode {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type?: string; status?: string }[]; addresses?: { type?: string; address?: string }[] };
}

export interface ServiceInfo {
  /** `namespace/name` */
  key: string;
  namespace: string;
  name: string;
  /** The IPs the controller assigned (status.loadBalancer.ingress). */
  ips: readonly IP[];
  sharingKey?: string;
  externalTrafficPolicy: 'Cluster' | 'Local';
  /** Nodes with at least one ready endpoint of this Service. */
  endpointNodes: ReadonlySet<string>;
  /** True when a ready endpoint exists anywhere. */
  hasReadyEndpoints: boolean;
}

export interface NodeInfo {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** False when NetworkUnavailable is True or the exclude label is set: such a node never announces. */
  mayAnnounce: boolean;
  /** status.addresses in the Node's order (InternalIP, ExternalIP, Hostname …); the BGP router ID defaults from them. */
  addresses?: readonly { type: string; address: string }[];
}

export interface SpeakerSnapshot {
  nodeName: string;
  config: ConfigModel;
  services: readonly ServiceInfo[];
  nodes: ReadonlyMap<string, NodeInfo>;
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * An endpoint counts as ready when `ready` is unset or true, or when `serving` is true
 * (REFERENCE.md, "Services"): a terminating endpoint that still serves keeps its node.
 */
export function endpointReady(c: { ready?: boolean | null; serving?: boolean | null } | undefined): boolean {
  if (!c) return true;
  if (c.ready === undefined || c.ready === null || c.ready === true) return true;
  return c.serving === true;
}

export function nodeInfo(node: RawNode): NodeInfo | undefined {
  const name = node.metadata?.name;
  if (!name) return undefined;
  const labels = node.metadata?.labels ?? {};
  const networkUnavailable = (node.status?.conditions ?? []).some(
    (c) => c.type === 'NetworkUnavailable' && c.status === 'True',
  );
  const addresses = (node.status?.addresses ?? [])
    .filter((a) => typeof a.type === 'string' && typeof a.address === 'string' && a.address !== '')
    .map((a) => ({ type: a.type as string, address: a.address as string }));
  return { name, labels, mayAnnounce: !networkUnavailable && !(EXCLUDE_LB_LABEL in labels), addresses };
}

/**
 * Whether the speaker handles this Service at all: type LoadBalancer, the right
 * loadBalancerClass (none without --lb-class; exactly it with one), not being deleted.
 */
export function handlesService(svc: RawService, lbClass: string | undefined): boolean {
  if (svc.spec?.type !== 'LoadBalancer') return false;
  if (svc.metadata?.deletionTimestamp) return false;
  const cls = svc.spec.loadBalancerClass;
  return lbClass === undefined ? cls === undefined || cls === '' : cls === lbClass;
}

export function serviceInfo(
  svc: RawService,
  slices: readonly RawEndpointSlice[],
): ServiceInfo | undefined {
  const name = svc.metadata?.name;
  const namespace = svc.metadata?.namespace ?? 'default';
  if (!name) return undefined;
  const ips: IP[] = [];
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    const ip = ing.ip ? parseIP(ing.ip) : undefined;
    if (ip) ips.push(ip);
  }
  const endpointNodes = new Set<string>();
  let hasReadyEndpoints = false;
  for (const slice of slices) {
    for (const ep of slice.endpoints ?? []) {
      if (!endpointReady(ep.conditions ?? undefined)) continue;
      hasReadyEndpoints = true;
      if (ep.nodeName) endpointNodes.add(ep.nodeName);
    }
  }
  const ann = svc.metadata?.annotations ?? {};
  const sharingKey = ann[ANNOTATIONS.allowSharedIP] ?? ann[METALLB_ANNOTATIONS.allowSharedIP];
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    ips,
    ...(sharingKey ? { sharingKey } : {}),
    externalTrafficPolicy: svc.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    endpointNodes,
    hasReadyEndpoints,
  };
}

/** The pool whose ranges hold `ip`, if any (pools never overlap in a valid model). */
export function poolOf(config: ConfigModel, ip: IP): Pool | undefined {
  return config.pools.find((p) => p.ranges.some((r) => rangeContains(r, ip)));
}

/** Groups EndpointSlices by the `namespace/name` of the Service they belong to. */
export function slicesByService(slices: readonly RawEndpointSlice[]): Map<string, RawEndpointSlice[]> {
  const out = new Map<string, RawEndpointSlice[]>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const key = `${s.metadata?.namespace ?? 'default'}/${svc}`;
    const list = out.get(key);
    if (list) list.push(s);
    else out.set(key, [s]);
  }
  return out;
}

export function buildSnapshot(input: {
  nodeName: string;
  config: ConfigModel;
  services: readonly RawService[];
  endpointSlices: readonly RawEndpointSlice[];
  nodes: readonly RawNode[];
  lbClass?: string;
}): SpeakerSnapshot {
  const bySvc = slicesByService(input.endpointSlices);
  const services: ServiceInfo[] = [];
  for (const svc of input.services) {
    if (!handlesService(svc, input.lbClass)) continue;
    const key = `${svc.metadata?.namespace ?? 'default'}/${svc.metadata?.name ?? ''}`;
    const info = serviceInfo(svc, bySvc.get(key) ?? []);
    if (info && info.ips.length > 0) services.push(info);
  }
  services.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const nodes = new Map<string, NodeInfo>();
  for (const n of input.nodes) {
    const info = nodeInfo(n);
    if (info) nodes.set(info.name, info);
  }
  return { nodeName: input.nodeName, config: input.config, services, nodes };
}
