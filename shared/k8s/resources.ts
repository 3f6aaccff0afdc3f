// The API resources herald reads and writes, and the REST paths that reach them.
import { GROUP, PLURALS, VERSION, type HeraldKind } from '../api/types.js';

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const core = (plural: string, kind: string, namespaced: boolean): ResourceType => ({ group: '', version: 'v1', plural, kind, namespaced });

export const SERVICES = core('services', 'Service', true);
export const NODES = core('nodes', 'Node', false);
export const NAMESPACES = core('namespaces', 'Namespace', false);
export const SECRETS = core('secrets', 'Secret', true);
export const PODS = core('pods', 'Pod', true);
export const CORE_EVENTS = core('events', 'Event', true);
export const ENDPOINT_SLICES: ResourceType = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true };
export const LEASES: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };

/** A herald.dev kind; every one lives in the install namespace. */
export function heraldResource(kind: HeraldKind): ResourceType {
  return { group: GROUP, version: VERSION, plural: PLURALS[kind], kind, namespaced: true };
}

export function apiVersionOf(r: ResourceType): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

function prefix(r: ResourceType): string {
  return r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
}

/** The collection; for a namespaced resource without a namespace, across all namespaces. */
export function collectionPath(r: ResourceType, namespace?: string): string {
  if (r.namespaced && namespace) return `${prefix(r)}/namespaces/${encodeURIComponent(namespace)}/${r.plural}`;
  return `${prefix(r)}/${r.plural}`;
}

export function objectPath(r: ResourceType, namespace: string | undefined, name: string, subresource?: string): string {
  if (r.namespaced && !namespace) throw new Error(`${r.kind} ${name}: a namespace is required`);
  const p = `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
  return subresource ? `${p}/${subresource}` : p;
}

/** "namespace/name", or "name" for cluster-scoped objects: the key informers and queues use. */
export function keyOf(meta: { namespace?: string; name?: string }): string {
  return meta.namespace ? `${meta.namespace}/${meta.name ?? ''}` : (meta.name ?? '');
}
