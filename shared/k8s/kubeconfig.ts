// Kubeconfig files and the in-cluster service account, read as kubectl reads them
// (k8s.io/client-go/tools/clientcmd), into the few facts a client needs: the server, how
// to trust it, and who we are.
//
// Why our own and not @kubernetes/client-node's KubeConfig: importing it loads every
// generated model and API class of the package, ~75 MB of RSS on Node 20 for a speaker
// whose target is 80 MB in all. The field names below are client-node's, so a client-node
// KubeConfig still fits KubeConfigView (the tests build some that way).
//
// What is read: server, certificate-authority(-data), insecure-skip-tls-verify,
// tls-server-name; token, tokenFile, client-certificate(-data), client-key(-data),
// username/password, exec plugins. Not supported, with an error naming them when used:
// auth-provider (removed from kubectl in 1.26; use an exec plugin) and proxy-url.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import yaml from 'js-yaml';

export interface Cluster {
  readonly name: string;
  readonly server: string;
  /** PEM, base64-encoded as in the file. */
  readonly caData?: string;
  caFile?: string;
  readonly skipTLSVerify: boolean;
  readonly tlsServerName?: string;
  readonly proxyUrl?: string;
}

/** users[].user.exec (client.authentication.k8s.io ExecConfig). */
export interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  apiVersion?: string;
  provideClusterInfo?: boolean;
}

export interface User {
  readonly name: string;
  readonly token?: string;
  /** Read again as it changes (projected service-account tokens rotate). */
  readonly tokenFile?: string;
  /** PEM, base64-encoded as in the file. */
  readonly certData?: string;
  certFile?: string;
  readonly keyData?: string;
  keyFile?: string;
  readonly username?: string;
  readonly password?: string;
  readonly exec?: ExecConfig;
  readonly authProvider?: unknown;
}

export interface Context {
  readonly name: string;
  readonly cluster: string;
  readonly user: string;
  readonly namespace?: string;
}

/** What a client needs from a kubeconfig. */
export interface KubeConfigView {
  getCurrentCluster(): Cluster | null;
  getCurrentUser(): User | null;
}

export interface KubeConfigOptions {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string;
}

/** The service account's files in every pod (client-go rest.InClusterConfig). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export class KubeConfig implements KubeConfigView {
  clusters: Cluster[] = [];
  users: User[] = [];
  contexts: Context[] = [];
  currentContext = '';

  loadFromFile(path: string): void {
    this.loadFromString(readFileSync(path, 'utf8'), dirname(path));
  }

  /** Relative file names in the document are taken from `baseDir`, as kubectl does. */
  loadFromString(text: string, baseDir = process.cwd()): void {
    this.loadFromOptions(parseKubeConfig(yaml.load(text), baseDir));
  }

  loadFromOptions(o: KubeConfigOptions): void {
    this.clusters = [...o.clusters];
    this.users = [...o.users];
    this.contexts = [...o.contexts];
    this.currentContext = o.currentContext;
  }

  /**
   * Adds another file's entries with kubectl's merge rule for $KUBECONFIG lists: the
   * first file to name a cluster, user or context wins, and so does the first
   * current-context set.
   */
  merge(other: KubeConfig): void {
    const add = <T extends { name: string }>(mine: T[], theirs: T[]): T[] => [...mine, ...theirs.filter((t) => !mine.some((m) => m.name === t.name))];
    this.clusters = add(this.clusters, other.clusters);
    this.users = add(this.users, other.users);
    this.contexts = add(this.contexts, other.contexts);
    this.currentContext ||= other.currentContext;
  }

  /** The pod's service account (KUBERNETES_SERVICE_HOST/PORT, token and CA files). */
  loadFromCluster(env: Record<string, string | undefined> = process.env, dir = SERVICE_ACCOUNT_DIR): void {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT;
    if (!host || !port) throw new Error('not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set');
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.loadFromOptions({
      clusters: [{ name: 'in-cluster', server, caFile: join(dir, 'ca.crt'), skipTLSVerify: false }],
      users: [{ name: 'in-cluster', tokenFile: join(dir, 'token') }],
      contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster' }],
      currentContext: 'in-cluster',
    });
  }

  getCurrentContext(): Context | null {
    return this.contexts.find((c) => c.name === this.currentContext) ?? null;
  }

  getCurrentCluster(): Cluster | null {
    const ctx = this.getCurrentContext();
    return (ctx && this.clusters.find((c) => c.name === ctx.cluster)) ?? null;
  }

  getCurrentUser(): User | null {
    const ctx = this.getCurrentContext();
    return (ctx && this.users.find((u) => u.name === ctx.user)) ?? null;
  }
}

type Doc = Record<string, unknown>;

const isDoc = (x: unknown): x is Doc => typeof x === 'object' && x !== null && !Array.isArray(x);

function str(d: Doc, key: string, where: string): string | undefined {
  const v = d[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Error(`kubeconfig: ${where}.${key} must be a string`);
  return v;
}

function entries(doc: Doc, list: string, field: string): { name: string; body: Doc }[] {
  const v = doc[list] ?? [];
  if (!Array.isArray(v)) throw new Error(`kubeconfig: ${list} must be a list`);
  return v.map((e: unknown, i) => {
    const where = `${list}[${i}]`;
    if (!isDoc(e)) throw new Error(`kubeconfig: ${where} must be a mapping`);
    const name = str(e, 'name', where);
    if (!name) throw new Error(`kubeconfig: ${where} has no name`);
    const body = e[field] ?? {};
    if (!isDoc(body)) throw new Error(`kubeconfig: ${where}.${field} must be a mapping`);
    return { name, body };
  });
}

/** A parsed kubeconfig document into KubeConfigOptions; file names resolved from baseDir. */
export function parseKubeConfig(doc: unknown, baseDir: string): KubeConfigOptions {
  if (doc === undefined || doc === null) doc = {};
  if (!isDoc(doc)) throw new Error('kubeconfig: not a mapping');
  const file = (p: string | undefined): string | undefined => (p === undefined || isAbsolute(p) ? p : join(baseDir, p));
  const opt = <K extends string, V>(key: K, v: V | undefined): Partial<Record<K, V>> => (v === undefined ? {} : ({ [key]: v } as Record<K, V>));

  const clusters = entries(doc, 'clusters', 'cluster').map(({ name, body }): Cluster => {
    const w = `cluster ${name}`;
    const server = str(body, 'server', w);
    if (!server) throw new Error(`kubeconfig: ${w} has no server`);
    return {
      name,
      server,
      skipTLSVerify: body['insecure-skip-tls-verify'] === true,
      ...opt('caData', str(body, 'certificate-authority-data', w)),
      ...opt('caFile', file(str(body, 'certificate-authority', w))),
      ...opt('tlsServerName', str(body, 'tls-server-name', w)),
      ...opt('proxyUrl', str(body, 'proxy-url', w)),
    };
  });

  const users = entries(doc, 'users', 'user').map(({ name, body }): User => {
    const w = `user ${name}`;
    let exec: ExecConfig | undefined;
    if (body.exec !== undefined && body.exec !== null) {
      const e = body.exec;
      if (!isDoc(e) || typeof e.command !== 'string') throw new Error(`kubeconfig: ${w}: exec needs a command`);
      // A command with a path separator is relative to the file (clientcmd does the same).
      const command = e.command.includes('/') ? (file(e.command) as string) : e.command;
      exec = {
        command,
        ...(Array.isArray(e.args) ? { args: e.args.map(String) } : {}),
        ...(Array.isArray(e.env) ? { env: e.env.filter(isDoc).map((x) => ({ name: String(x.name), value: String(x.value) })) } : {}),
        ...opt('apiVersion', str(e, 'apiVersion', `${w}.exec`)),
        ...(e.provideClusterInfo === true ? { provideClusterInfo: true } : {}),
      };
    }
    return {
      name,
      ...opt('token', str(body, 'token', w)),
      ...opt('tokenFile', file(str(body, 'tokenFile', w))),
      ...opt('certData', str(body, 'client-certificate-data', w)),
      ...opt('certFile', file(str(body, 'client-certificate', w))),
      ...opt('keyData', str(body, 'client-key-data', w)),
      ...opt('keyFile', file(str(body, 'client-key', w))),
      ...opt('username', str(body, 'username', w)),
      ...opt('password', str(body, 'password', w)),
      ...opt('exec', exec),
      ...opt('authProvider', body['auth-provider'] ?? undefined),
    };
  });

  const contexts = entries(doc, 'contexts', 'context').map(({ name, body }): Context => {
    const w = `context ${name}`;
    return { name, cluster: str(body, 'cluster', w) ?? '', user: str(body, 'user', w) ?? '', ...opt('namespace', str(body, 'namespace', w)) };
  });

  return { clusters, users, contexts, currentContext: str(doc, 'current-context', 'kubeconfig') ?? '' };
}
