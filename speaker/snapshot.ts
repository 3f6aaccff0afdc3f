// What a speaker knows about the cluster at one moment, reduced from raw Kubernetes
// objects to the few facts announcement decisions need. Pure: the informers feed raw
// objects in, the L2 and BGP announcers read the snapshot out.
//
// Also what the speaker keeps of the objects at all (speakerService, speakerEndpointSlice:
// its informers' transform), and SnapshotBuilder, which remembers each Service's facts
// between snapshots: a speaker holding 10,000 Services rebuilds its snapshot on every
// event, and most Services have not changed.
import type { ConfigModel, Pool } from '../shared/config/types.js';
import { EXCLUDE_LB_LABEL, ANNOTATIONS, METALLB_ANNOTATIONS, type ObjectMeta } from '../shared/api/types.js';
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
  shared: NodeSets = new NodeSets(),
): ServiceInfo | undefined {
  const name = svc.metadata?.name;
  const namespace = svc.metadata?.namespace ?? 'default';
  if (!name) return undefined;
  const ips: IP[] = [];
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    const ip = ing.ip ? parseIP(ing.ip) : undefined;
    if (ip) ips.push(ip);
  }
  const nodes: string[] = [];
  let hasReadyEndpoints = false;
  for (const slice of slices) {
    for (const ep of slice.endpoints ?? []) {
      if (!endpointReady(ep.conditions ?? undefined)) continue;
      hasReadyEndpoints = true;
      if (ep.nodeName) nodes.push(ep.nodeName);
    }
  }
  const ann = svc.metadata?.annotations ?? {};
  const sharingKey = ann[ANNOTATIONS.allowSharedIP] ?? ann[METALLB_ANNOTATIONS.allowSharedIP];
  return {
    // Joined, so one flat string: a template literal makes a concatenation node as well.
    key: [namespace, name].join('/'),
    namespace,
    name,
    // A copy of exactly its length: a pushed-to array keeps room for 16.
    ips: ips.slice(),
    ...(sharingKey ? { sharingKey } : {}),
    externalTrafficPolicy: svc.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    endpointNodes: shared.of(nodes),
    hasReadyEndpoints,
  };
}

/**
 * Sets of endpoint node names, one object per distinct set: 10,000 Services whose pods
 * run on the same few nodes share a handful of sets. Bounded: forgotten when it grows
 * past what a cluster's node combinations make likely (the sets already handed out stay valid).
 */
export class NodeSets {
  private readonly sets = new Map<string, ReadonlySet<string>>();

  of(names: readonly string[]): ReadonlySet<string> {
    const key = names.length === 0 ? '' : names.length === 1 ? names[0]! : [...new Set(names)].sort().join('\n');
    let set = this.sets.get(key);
    if (!set) {
      if (this.sets.size >= 4096) this.sets.clear();
      set = new Set(key === '' ? [] : names.length === 1 ? names : key.split('\n'));
      this.sets.set(key, set);
    }
    return set;
  }
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

export interface SnapshotInput {
  nodeName: string;
  config: ConfigModel;
  services: readonly RawService[];
  endpointSlices: readonly RawEndpointSlice[];
  nodes: readonly RawNode[];
  lbClass?: string;
}

/**
 * Builds snapshots, remembering each Service's ServiceInfo and each Node's NodeInfo:
 * while the raw Service and its EndpointSlices are the same objects (an informer
 * replaces an object when it changes), the same ServiceInfo is handed out again, without
 * parsing its IPs or walking its endpoints, and the BGP planner recognizes it at once.
 * Raw objects must never be changed in place (informer caches replace them).
 *
 * The last build's Services are walked in step with the next one's (an informer lists
 * them in a stable order: a changed object keeps its place, a new one comes last, a
 * deleted one leaves a gap), so remembering 10,000 of them takes three arrays, not a map.
 */
export class SnapshotBuilder {
  private last: { raw: readonly RawService[]; slices: readonly Slices[]; infos: readonly (ServiceInfo | undefined)[]; sorted: readonly ServiceInfo[] } = { raw: [], slices: [], infos: [], sorted: [] };
  private nodes = new WeakMap<RawNode, NodeInfo | undefined>();
  private readonly nodeSets = new NodeSets();

  build(input: SnapshotInput): SpeakerSnapshot {
    const bySvc = slicesByService(input.endpointSlices);
    const last = this.last;
    const n = input.services.length;
    const slices = new Array<Slices>(n);
    const infos = new Array<ServiceInfo | undefined>(n);
    let created = false;
    let j = 0;
    for (let i = 0; i < n; i++) {
      const svc = input.services[i]!;
      // The next ones of the last list: this very object (unchanged), or one of its name
      // (replaced); those skipped on the way were deleted. Not found: a new Service.
      let at = -1;
      const end = Math.min(j + LOOKAHEAD, last.raw.length);
      for (let k = j; k < end; k++) {
        const old = last.raw[k]!;
        if (old === svc) at = k;
        else if (!sameName(old, svc)) continue;
        j = k + 1;
        break;
      }
      if (!handlesService(svc, input.lbClass)) continue;
      const key = [svc.metadata?.namespace ?? 'default', svc.metadata?.name ?? ''].join('/');
      const mine = bySvc.get(key) ?? NO_SLICES;
      const held: Slices = mine.length === 1 ? mine[0]! : mine;
      slices[i] = held;
      if (at >= 0 && sameSlices(last.slices[at], mine)) infos[i] = last.infos[at];
      else {
        infos[i] = serviceInfo(svc, mine, this.nodeSets);
        created = true;
      }
    }
    const services: ServiceInfo[] = [];
    for (const info of infos) if (info && info.ips.length > 0) services.push(info);
    // Every Service as it was (each earlier one taken at most once) and as many: the same sorted list.
    const sorted = !created && services.length === last.sorted.length ? last.sorted : services.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.last = { raw: input.services, slices, infos, sorted };
    const nodes = new Map<string, NodeInfo>();
    for (const node of input.nodes) {
      let info = this.nodes.get(node);
      if (info === undefined && !this.nodes.has(node)) this.nodes.set(node, (info = nodeInfo(node)));
      if (info) nodes.set(info.name, info);
    }
    return { nodeName: input.nodeName, config: input.config, services: sorted, nodes };
  }
}

/** A Service's EndpointSlices as remembered: the one slice itself, mostly. */
type Slices = RawEndpointSlice | readonly RawEndpointSlice[] | undefined;

function sameSlices(held: Slices, now: readonly RawEndpointSlice[]): boolean {
  if (now.length === 1) return held === now[0];
  return Array.isArray(held) && sameObjects(held as readonly RawEndpointSlice[], now);
}

/**
 * How far ahead of its place in the last list a Service is looked for: the Services
 * deleted since the last build that one step can skip. More deletions between two kept
 * Services only cost their ServiceInfo being built again.
 */
const LOOKAHEAD = 16;

const sameName = (a: RawService, b: RawService): boolean => a.metadata?.name === b.metadata?.name && a.metadata?.namespace === b.metadata?.namespace;

const NO_SLICES: readonly RawEndpointSlice[] = [];

const sameObjects = <T>(a: readonly T[], b: readonly T[]): boolean => a === b || (a.length === b.length && a.every((x, i) => x === b[i]));

/** A snapshot built from nothing. */
export function buildSnapshot(input: SnapshotInput): SpeakerSnapshot {
  return new SnapshotBuilder().build(input);
}

// ---------------------------------------------------------------- what the informers keep

/** Names the speaker holds many copies of (namespaces, node names): one string each. Bounded. */
const names = new Map<string, string>();

function intern(s: string): string {
  const hit = names.get(s);
  if (hit !== undefined) return hit;
  if (names.size >= 10_000) names.clear();
  names.set(s, s);
  return s;
}

/**
 * The identity an informer and an event need: name, namespace, uid, resourceVersion.
 * Objects the transforms make are built by assignment, not spread: 10,000 objects
 * spread together each got a hidden class of their own.
 */
function identity(m: ObjectMeta | undefined, withUID = true): ObjectMeta {
  const out: ObjectMeta = {};
  if (m?.name !== undefined) out.name = m.name;
  if (m?.namespace !== undefined) out.namespace = intern(m.namespace);
  if (withUID && m?.uid !== undefined) out.uid = m.uid;
  if (m?.resourceVersion !== undefined) out.resourceVersion = m.resourceVersion;
  return out;
}

/** The annotations the speaker reads (serviceInfo); add a key here when it reads another. */
const READ_ANNOTATIONS = [ANNOTATIONS.allowSharedIP, METALLB_ANNOTATIONS.allowSharedIP];

function readAnnotations(a: Record<string, string> | undefined): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const k of READ_ANNOTATIONS) if (a?.[k] !== undefined) (out ??= {})[k] = a[k];
  return out;
}

const NO_INGRESS: { ip?: string }[] = [];

type ServiceSpec = NonNullable<RawService['spec']>;
/** Service specs as the speaker keeps them: a handful of distinct ones, shared. Bounded. */
const specs = new Map<string, ServiceSpec>();

function sharedSpec(from: ServiceSpec): ServiceSpec {
  const key = `${from.type}|${from.loadBalancerClass}|${from.externalTrafficPolicy}`;
  const hit = specs.get(key);
  if (hit) return hit;
  if (specs.size >= 1_000) specs.clear();
  const spec: ServiceSpec = {};
  if (from.type !== undefined) spec.type = intern(from.type);
  if (from.loadBalancerClass !== undefined) spec.loadBalancerClass = intern(from.loadBalancerClass);
  if (from.externalTrafficPolicy !== undefined) spec.externalTrafficPolicy = intern(from.externalTrafficPolicy);
  specs.set(key, Object.freeze(spec));
  return spec;
}

/**
 * The informer transform for Services: what RawService names (type, class, traffic
 * policy, ingress IPs, the sharing annotations, deletion), with the identity the
 * cache and events need. A Service from the API server is a few kilobytes (ports,
 * selector, cluster IPs, kubectl's last-applied annotation); this keeps a few hundred bytes.
 * No apiVersion and kind: every object of the informer has the same (events name them).
 */
export function speakerService(obj: { apiVersion?: string; kind?: string; metadata?: ObjectMeta }): RawService & { metadata: ObjectMeta } {
  const svc = obj as RawService & { metadata?: ObjectMeta };
  const m = svc.metadata;
  const metadata = identity(m);
  if (m?.deletionTimestamp) metadata.deletionTimestamp = String(m.deletionTimestamp);
  const annotations = readAnnotations(m?.annotations);
  if (annotations) metadata.annotations = annotations;
  const spec = sharedSpec(svc.spec ?? {});
  const ingress = (svc.status?.loadBalancer?.ingress ?? []).filter((i) => typeof i.ip === 'string' && i.ip !== '').map((i) => ({ ip: i.ip }));
  return { metadata, spec, status: { loadBalancer: { ingress: ingress.length > 0 ? ingress : NO_INGRESS } } };
}

type Endpoint = NonNullable<RawEndpointSlice['endpoints']>[number];
/** Endpoints by node and conditions: the same few objects for every slice. Bounded. */
const endpoints = new Map<string, Endpoint>();

function sharedEndpoint(ep: Endpoint): Endpoint {
  const c = ep.conditions ?? undefined;
  const key = `${ep.nodeName ?? ''}|${c ? `${c.ready}|${c.serving}|${c.terminating}` : '-'}`;
  const hit = endpoints.get(key);
  if (hit) return hit;
  if (endpoints.size >= 10_000) endpoints.clear();
  let conditions: Endpoint['conditions'];
  if (c) {
    conditions = {};
    if (c.ready !== undefined) conditions.ready = c.ready;
    if (c.serving !== undefined) conditions.serving = c.serving;
    if (c.terminating !== undefined) conditions.terminating = c.terminating;
    Object.freeze(conditions);
  }
  const shared: Endpoint = {};
  if (ep.nodeName) shared.nodeName = intern(ep.nodeName);
  if (conditions) shared.conditions = conditions;
  Object.freeze(shared);
  endpoints.set(key, shared);
  return shared;
}

/** Lists of shared endpoints, themselves shared: a Service's one Pod on a node is one list for every such Service. Bounded. */
const endpointLists = new Map<string, readonly Endpoint[]>();
const endpointIDs = new WeakMap<Endpoint, number>();
let nextEndpointID = 0;

function sharedEndpoints(list: Endpoint[]): Endpoint[] {
  if (list.length === 0 || list.length > 8) return list;
  let key = '';
  for (const ep of list) {
    let id = endpointIDs.get(ep);
    if (id === undefined) endpointIDs.set(ep, (id = nextEndpointID++));
    key += `${id},`;
  }
  const hit = endpointLists.get(key);
  if (hit) return hit as Endpoint[];
  if (endpointLists.size >= 10_000) endpointLists.clear();
  endpointLists.set(key, Object.freeze(list));
  return list;
}

/**
 * The informer transform for EndpointSlices: the Service it belongs to, and per endpoint
 * its node and conditions (shared objects: endpoints differ by address, which the
 * speaker never reads).
 */
export function speakerEndpointSlice(obj: { apiVersion?: string; kind?: string; metadata?: ObjectMeta }): RawEndpointSlice & { metadata: ObjectMeta } {
  const slice = obj as RawEndpointSlice & { metadata?: ObjectMeta };
  const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  // No uid: nothing refers to a slice (events name the Service).
  const metadata = identity(slice.metadata, false);
  if (service !== undefined) metadata.labels = { [SERVICE_NAME_LABEL]: service };
  return { metadata, endpoints: sharedEndpoints((slice.endpoints ?? []).map(sharedEndpoint)) };
}
