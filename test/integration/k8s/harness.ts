// Shared set-up for the adapter's integration tests: an embedded API server in this
// process, clients per identity, and a poll helper.
import { KubeConfig } from '../../../shared/k8s/kubeconfig.js';
import { startApiServer } from '../../apiserver/server.js';
import { createKubeClient, type KubeClient } from '../../../shared/k8s/client.js';
import { isAlreadyExists } from '../../../shared/k8s/errors.js';
import { collectionPath, NAMESPACES, SERVICES } from '../../../shared/k8s/resources.js';
import { sleep, waitFor as poll } from '../../lab/exec.js';

export type ApiServer = Awaited<ReturnType<typeof startApiServer>>;
export type Identity = 'admin' | 'controller' | 'speaker';

export async function startServer(): Promise<ApiServer> {
  return startApiServer({ logLevel: 'error' });
}

export function clientFor(api: ApiServer, identity: Identity = 'admin'): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromString(api.kubeconfig(identity));
  return createKubeClient(kc, { timeoutMs: 5_000 });
}

export async function ensureNamespace(c: KubeClient, name: string): Promise<void> {
  try {
    await c.rest.request('POST', collectionPath(NAMESPACES), { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

export function lbService(namespace: string, name: string, labels: Record<string, string> = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels },
    spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], selector: { app: name } },
  };
}

export async function createService(c: KubeClient, namespace: string, name: string, labels: Record<string, string> = {}): Promise<{ metadata: { resourceVersion: string; uid: string } }> {
  return c.rest.request('POST', collectionPath(SERVICES, namespace), { body: lbService(namespace, name, labels) });
}

/** Waits until `cond` holds (test/lab/exec.ts waitFor, every 20 ms). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  await poll(what, async () => (await cond()) || undefined, timeoutMs, 20);
}

export { sleep };
