// Narrow interfaces through which the controller and the speaker write to the cluster.
// As in MetalLB's controller, reconcilers are given these interfaces, not a client, so a
// test can hand in a recorder and assert on what they wanted to write.
//
// Every write here is one request; retrying (409 → re-read and retry, 5xx → backoff) is
// the caller's decision, made with retry.ts, because only the caller can re-read.
import { isDeepStrictEqual } from 'node:util';
import type { Condition, ObjectMeta } from '../api/types.js';
import { ApiError, isAlreadyExists, isNotFound } from './errors.js';
import type { K8sObject } from './informer.js';
import { apiVersionOf, collectionPath, objectPath, SERVICES, type ResourceType } from './resources.js';
import { MERGE_PATCH, type RestClient } from './rest.js';

/** core/v1 LoadBalancerIngress */
export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  /** VIP: traffic reaches the node with the service IP as destination (KEP-1860). */
  ipMode?: 'VIP' | 'Proxy';
  ports?: { port: number; protocol: string; error?: string }[];
}

export interface ServiceStatus {
  loadBalancer?: { ingress?: LoadBalancerIngress[] };
  conditions?: Condition[];
}

export interface ServiceStatusWriter {
  /**
   * Writes status.loadBalancer (replacing it: no ingress clears it) and, when given,
   * status.conditions (replacing the list) and annotations (string sets, null removes),
   * all in one request. With a resourceVersion the write fails with ApiError code
   * 'Conflict' if the Service changed since. Returns the stored Service.
   */
  updateServiceStatus(
    namespace: string,
    name: string,
    status: ServiceStatus,
    resourceVersion?: string,
    annotations?: Record<string, string | null>,
  ): Promise<K8sObject>;
}

export interface AnnotationWriter {
  /** Sets (string) or removes (null) annotations on a Service, leaving the others alone. */
  setServiceAnnotations(namespace: string, name: string, annotations: Record<string, string | null>, resourceVersion?: string): Promise<K8sObject>;
}

// Both go through the Service's /status subresource. kube-apiserver's
// serviceStatusStrategy resets only spec on a status write, so metadata (the
// herald.dev/ip-allocated-from-pool annotation) is kept, as MetalLB relies on for its
// pool annotation; RBAC then needs `patch` on services/status only, never on the
// Service itself, whose spec stays the user's. (Custom resources differ: their /status
// ignores metadata.)
export function createServiceWriter(rest: RestClient): ServiceStatusWriter & AnnotationWriter {
  const patchStatus = (namespace: string, name: string, body: Record<string, unknown>, resourceVersion?: string, annotations?: Record<string, string | null>) => {
    const metadata: Record<string, unknown> = {};
    if (resourceVersion) metadata.resourceVersion = resourceVersion;
    if (annotations && Object.keys(annotations).length > 0) metadata.annotations = annotations;
    if (Object.keys(metadata).length > 0) body.metadata = metadata;
    return rest.request<K8sObject>('PATCH', objectPath(SERVICES, namespace, name, 'status'), { body, contentType: MERGE_PATCH });
  };
  return {
    updateServiceStatus: (namespace, name, status, resourceVersion, annotations) => {
      const ingress = status.loadBalancer?.ingress;
      return patchStatus(
        namespace,
        name,
        {
          // JSON merge patch (RFC 7386): null deletes, and a list replaces the old list whole.
          status: {
            loadBalancer: { ingress: ingress && ingress.length > 0 ? ingress : null },
            ...(status.conditions !== undefined ? { conditions: status.conditions.length > 0 ? status.conditions : null } : {}),
          },
        },
        resourceVersion,
        annotations,
      );
    },
    setServiceAnnotations: (namespace, name, annotations, resourceVersion) => patchStatus(namespace, name, {}, resourceVersion, annotations),
  };
}

/** An object of a kind with a status subresource (herald's ServiceL2Status and friends). */
export interface StatusObject<S = unknown> extends K8sObject {
  metadata: ObjectMeta & { name: string };
  spec?: unknown;
  status?: S;
}

export interface StatusWriter {
  /**
   * Makes the object exist as given: creates it if missing, updates labels, annotations,
   * owner references and spec if they differ, and replaces its status if it differs.
   * Writes nothing when all already match. Returns the stored object.
   * A 409 means another writer got in between; retry the whole call.
   */
  apply<T extends StatusObject>(resource: ResourceType, obj: T): Promise<T>;
  /** Merge-patches status (RFC 7386: absent keys stay, null deletes). */
  patchStatus<T extends StatusObject>(resource: ResourceType, namespace: string | undefined, name: string, status: unknown, resourceVersion?: string): Promise<T>;
  /** Deletes the object; absent already counts as done. */
  delete(resource: ResourceType, namespace: string | undefined, name: string): Promise<void>;
}

export function createStatusWriter(rest: RestClient): StatusWriter {
  const putStatus = <T extends StatusObject>(r: ResourceType, current: T, status: unknown): Promise<T> =>
    rest.request<T>('PUT', objectPath(r, current.metadata.namespace, current.metadata.name, 'status'), {
      body: { ...current, status },
    });

  return {
    apply: async <T extends StatusObject>(r: ResourceType, obj: T): Promise<T> => {
      const ns = obj.metadata.namespace;
      const name = obj.metadata.name;
      const body = { ...obj, apiVersion: apiVersionOf(r), kind: r.kind };
      let current: T | undefined;
      try {
        current = await rest.request<T>('GET', objectPath(r, ns, name));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      if (!current) {
        try {
          // A create ignores status on a kind with a status subresource.
          current = await rest.request<T>('POST', collectionPath(r, ns), { body });
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
          throw new ApiError('Conflict', 409, `${r.kind} ${name} was created concurrently; retry`);
        }
      } else if (metaOrSpecDiffers(current, obj)) {
        const m = obj.metadata;
        const next = {
          ...current,
          metadata: {
            ...current.metadata,
            ...(m.labels !== undefined ? { labels: m.labels } : {}),
            ...(m.annotations !== undefined ? { annotations: m.annotations } : {}),
            ...(m.ownerReferences !== undefined ? { ownerReferences: m.ownerReferences } : {}),
          },
          ...(obj.spec !== undefined ? { spec: obj.spec } : {}),
        };
        current = await rest.request<T>('PUT', objectPath(r, ns, name), { body: next });
      }
      if (obj.status !== undefined && !isDeepStrictEqual(current.status, obj.status)) {
        current = await putStatus(r, current, obj.status);
      }
      return current;
    },
    patchStatus: <T extends StatusObject>(r: ResourceType, namespace: string | undefined, name: string, status: unknown, resourceVersion?: string) => {
      const body: Record<string, unknown> = { status };
      if (resourceVersion) body.metadata = { resourceVersion };
      return rest.request<T>('PATCH', objectPath(r, namespace, name, 'status'), { body, contentType: MERGE_PATCH });
    },
    delete: async (r, namespace, name) => {
      try {
        await rest.request('DELETE', objectPath(r, namespace, name));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
  };
}

/** Only what `want` states counts: labels others added are not ours to remove. */
function metaOrSpecDiffers(current: StatusObject, want: StatusObject): boolean {
  const differs = (a: unknown, b: unknown): boolean => b !== undefined && !isDeepStrictEqual(a ?? emptyLike(b), b);
  return (
    differs(current.metadata.labels, want.metadata.labels) ||
    differs(current.metadata.annotations, want.metadata.annotations) ||
    differs(current.metadata.ownerReferences, want.metadata.ownerReferences) ||
    differs(current.spec, want.spec)
  );
}

function emptyLike(x: unknown): unknown {
  return Array.isArray(x) ? [] : typeof x === 'object' && x !== null ? {} : undefined;
}
