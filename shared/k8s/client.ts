// Connecting to the cluster: which kubeconfig to use (DESIGN.md, "Command line":
// --kubeconfig, else $KUBECONFIG, else the in-cluster service account), and the clients
// built from it.
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { createRestClient, type RestClient, type RestClientOptions } from './rest.js';

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
      kc.mergeConfig(more, true);
    }
    return { kc, origin: { kind: 'env', path: fromEnv } };
  }
  if (!env.KUBERNETES_SERVICE_HOST) {
    throw new Error('no cluster to talk to: pass --kubeconfig, set KUBECONFIG, or run in a pod (KUBERNETES_SERVICE_HOST is unset)');
  }
  kc.loadFromCluster();
  return { kc, origin: { kind: 'in-cluster' } };
}

/** Everything the adapters need to reach the API server. */
export interface KubeClient {
  readonly kc: KubeConfig;
  readonly rest: RestClient;
  /** client-node's watch, which informers stream through. */
  readonly watch: Watch;
  close(): void;
}

export function createKubeClient(kc: KubeConfig, o: RestClientOptions = {}): KubeClient {
  allowPlainHttp(kc);
  const rest = createRestClient(kc, o);
  return { kc, rest, watch: new Watch(kc), close: () => rest.close() };
}

/**
 * client-node refuses an http:// server unless the kubeconfig also says
 * insecure-skip-tls-verify, though there is no TLS to skip; kubectl has no such rule.
 * The embedded API server and the lab serve plain HTTP on loopback, so mark such
 * clusters as client-node wants. https:// clusters are left exactly as configured.
 */
function allowPlainHttp(kc: KubeConfig): void {
  kc.clusters = kc.clusters.map((c) => (c.server.startsWith('http:') && !c.skipTLSVerify ? { ...c, skipTLSVerify: true } : c));
}
