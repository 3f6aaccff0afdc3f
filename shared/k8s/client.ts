// Connecting to the cluster: which kubeconfig to use (DESIGN.md, "Command line":
// --kubeconfig, else $KUBECONFIG, else the in-cluster service account), and the clients
// built from it.
import type { Clock } from './clock.js';
import { KubeConfig, type KubeConfigView } from './kubeconfig.js';
import { createRestClient, type RestClient } from './rest.js';
import { createTransport, type TransportOptions } from './transport.js';
import { Watch, type Watcher } from './watch.js';

export interface KubeConfigSource {
  /** From --kubeconfig. */
  kubeconfig?: string;
  env?: Record<string, string | undefined>;
}

/** Where the configuration came from, for the startup log line. */
export type KubeConfigOrigin = { kind: 'flag' | 'env'; path: string } | { kind: 'in-cluster' };

export function loadKubeConfig(src: KubeConfigSource): { kc: KubeConfig; origin: KubeConfigOrigin } {
  const env = src.env ?? process.env;
  const kc = new KubeConfig();
  if (src.kubeconfig) {
    kc.loadFromFile(src.kubeconfig);
    return { kc, origin: { kind: 'flag', path: src.kubeconfig } };
  }
  const fromEnv = env.KUBECONFIG;
  if (fromEnv) {
    // KUBECONFIG may list several files, merged as kubectl merges them.
    const files = fromEnv.split(process.platform === 'win32' ? ';' : ':').filter(Boolean);
    const [first, ...rest] = files;
    if (first === undefined) throw new Error('KUBECONFIG is set but names no file');
    kc.loadFromFile(first);
    for (const f of rest) {
      const more = new KubeConfig();
      more.loadFromFile(f);
      kc.merge(more);
    }
    return { kc, origin: { kind: 'env', path: fromEnv } };
  }
  if (!env.KUBERNETES_SERVICE_HOST) {
    throw new Error('no cluster to talk to: pass --kubeconfig, set KUBECONFIG, or run in a pod (KUBERNETES_SERVICE_HOST is unset)');
  }
  kc.loadFromCluster(env);
  return { kc, origin: { kind: 'in-cluster' } };
}

/** Everything the adapters need to reach the API server. */
export interface KubeClient {
  readonly kc: KubeConfigView;
  readonly rest: RestClient;
  /** Watch streams, over the same connections as `rest`. */
  readonly watch: Watcher;
  close(): void;
}

export interface KubeClientOptions {
  timeoutMs?: number;
  userAgent?: string;
  clock?: Clock;
  /** For tests: file reads and exec plugins. */
  credentials?: TransportOptions['credentials'];
}

/**
 * A client for the kubeconfig's current context. http:// servers (the embedded API
 * server can serve plain HTTP on loopback) are spoken to without TLS, as kubectl does.
 */
export function createKubeClient(kc: KubeConfigView, o: KubeClientOptions = {}): KubeClient {
  const transport = createTransport(kc, {
    ...(o.userAgent ? { userAgent: o.userAgent } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
  });
  const rest = createRestClient(transport, o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {});
  return { kc, rest, watch: new Watch(transport), close: () => transport.close() };
}
