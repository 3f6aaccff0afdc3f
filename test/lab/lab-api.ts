// The lab's writes to the API server: Node objects, the install namespace, and the
// EndpointSlices the lab keeps for LoadBalancer Services.
import { loadKubeConfig, createKubeClient, type KubeClient } from '../../shared/k8s/client.js';
import { ApiError } from '../../shared/k8s/errors.js';
import { MERGE_PATCH } from '../../shared/k8s/rest.js';
import { ENDPOINT_SLICES, NAMESPACES, NODES, SERVICES, collectionPath, objectPath } from '../../shared/k8s/resources.js';
import type { LabNode } from './plan.js';
import { nodeObject, nodeStatus, slicesFor, type EndpointPlacement, type EndpointSlice, type ServiceLike } from './services.js';

export function connect(kubeconfig: string): KubeClient {
  return createKubeClient(loadKubeConfig({ kubeconfig }).kc, { userAgent: 'herald-lab', timeoutMs: 10_000 });
}

function isCode(e: unknown, code: string): boolean {
  return e instanceof ApiError && e.code === code;
}

async function createOrKeep(client: KubeClient, path: string, body: unknown): Promise<void> {
  try {
    await client.rest.request('POST', path, { body });
  } catch (e) {
    if (!isCode(e, 'AlreadyExists') && !isCode(e, 'Conflict')) throw e;
  }
}

export async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  await createOrKeep(client, collectionPath(NAMESPACES), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** A Node per node namespace, with addresses and a Ready condition written through /status. */
export async function registerNodes(client: KubeClient, nodes: readonly LabNode[], now = new Date()): Promise<void> {
  for (const n of nodes) {
    await createOrKeep(client, collectionPath(NODES), nodeObject(n));
    await client.rest.request('PATCH', objectPath(NODES, undefined, n.name, 'status'), {
      body: { status: nodeStatus(n, now) },
      contentType: MERGE_PATCH,
    });
  }
}

export async function getService(client: KubeClient, namespace: string, name: string): Promise<ServiceLike> {
  return client.rest.request<ServiceLike>('GET', objectPath(SERVICES, namespace, name));
}

/** Creates each slice, or replaces it whole when it exists (the API is the only state). */
export async function putSlices(client: KubeClient, slices: readonly EndpointSlice[]): Promise<void> {
  for (const s of slices) {
    const path = objectPath(ENDPOINT_SLICES, s.metadata.namespace, s.metadata.name);
    for (let attempt = 0; ; attempt++) {
      try {
        const cur = await client.rest.request<EndpointSlice>('GET', path);
        await client.rest.request('PUT', path, { body: { ...s, metadata: { ...s.metadata, resourceVersion: cur.metadata.resourceVersion } } });
        break;
      } catch (e) {
        if (isCode(e, 'NotFound')) {
          await createOrKeep(client, collectionPath(ENDPOINT_SLICES, s.metadata.namespace), s);
          break;
        }
        if (!isCode(e, 'Conflict') || attempt >= 3) throw e;
      }
    }
  }
}

/** Creates the slices that are missing; existing ones are left as `lab endpoints` set them. */
export async function ensureSlices(client: KubeClient, svc: ServiceLike, nodes: readonly LabNode[]): Promise<void> {
  const all: EndpointPlacement = { ready: nodes.map((n) => n.name) };
  for (const s of slicesFor(svc, nodes, all)) {
    await createOrKeep(client, collectionPath(ENDPOINT_SLICES, s.metadata.namespace), s);
  }
}

export async function deleteSlices(client: KubeClient, namespace: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    try {
      await client.rest.request('DELETE', objectPath(ENDPOINT_SLICES, namespace, name));
    } catch (e) {
      if (!isCode(e, 'NotFound')) throw e;
    }
  }
}

/** `lab endpoints`: moves a Service's ready endpoints to the given nodes. */
export async function moveEndpoints(client: KubeClient, namespace: string, name: string, nodes: readonly LabNode[], where: EndpointPlacement): Promise<EndpointSlice[]> {
  const svc = await getService(client, namespace, name);
  const slices = slicesFor(svc, nodes, where);
  await putSlices(client, slices);
  return slices;
}
