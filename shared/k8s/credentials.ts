// Who we are to the API server and how we trust it, from one kubeconfig cluster and user:
// the TLS material (CA, client certificate) and the Authorization header of a request.
//
// Credentials that change are fetched again when they may have: a tokenFile is re-read
// once a minute (projected service-account tokens rotate, and client-go re-reads them
// as often); an exec plugin's credential is kept until its expirationTimestamp, or until
// the server answers 401 (client-go's exec authenticator does the same).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Clock } from './clock.js';
import type { Cluster, ExecConfig, User } from './kubeconfig.js';

export interface TlsMaterial {
  /** PEM. Node's own CA list when absent. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

export interface Credential {
  /** The Authorization header value, if any. */
  authorization?: string;
  /** Client certificate and key handed out by an exec plugin; they replace the kubeconfig's. */
  cert?: Buffer;
  key?: Buffer;
}

export interface Credentials {
  /** The kubeconfig's TLS material (without what an exec plugin adds). */
  readonly tls: TlsMaterial;
  /** The credential for the next request; resolves without I/O while it is fresh. */
  current(): Credential | Promise<Credential>;
  /** The server refused the last credential (401): fetch anew next time. */
  invalidate(): void;
}

export const TOKEN_FILE_REFRESH_MS = 60_000;

/** Runs an exec plugin: command, args, extra environment; resolves with its stdout. */
export type ExecRunner = (command: string, args: string[], env: Record<string, string | undefined>) => Promise<string>;

export interface CredentialsOptions {
  clock: Clock;
  readFile?: (path: string) => Buffer;
  exec?: ExecRunner;
  env?: Record<string, string | undefined>;
}

const fromDataOrFile = (data: string | undefined, file: string | undefined, read: (p: string) => Buffer): Buffer | undefined =>
  data !== undefined ? Buffer.from(data, 'base64') : file !== undefined ? read(file) : undefined;

export function createCredentials(cluster: Cluster, user: User | null, o: CredentialsOptions): Credentials {
  const read = o.readFile ?? ((p: string) => readFileSync(p));
  if (user?.authProvider) throw new Error(`kubeconfig user ${user.name}: auth-provider is not supported (kubectl dropped it in 1.26); use an exec plugin`);
  if (cluster.proxyUrl) throw new Error(`kubeconfig cluster ${cluster.name}: proxy-url is not supported`);
  const ca = fromDataOrFile(cluster.caData, cluster.caFile, read);
  const cert = fromDataOrFile(user?.certData, user?.certFile, read);
  const key = fromDataOrFile(user?.keyData, user?.keyFile, read);
  const tls: TlsMaterial = {
    rejectUnauthorized: !cluster.skipTLSVerify,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
  };
  const none: Credential = {};

  if (user?.exec) return execCredentials(tls, user.exec, cluster, o);
  if (user?.tokenFile) {
    const path = user.tokenFile;
    let cached: { value: Credential; at: number } | undefined;
    return {
      tls,
      current: () => {
        const now = o.clock.now();
        if (!cached || now - cached.at >= TOKEN_FILE_REFRESH_MS) {
          cached = { value: { authorization: `Bearer ${read(path).toString('utf8').trim()}` }, at: now };
        }
        return cached.value;
      },
      invalidate: () => void (cached = undefined),
    };
  }
  const fixed: Credential = user?.token
    ? { authorization: `Bearer ${user.token}` }
    : user?.username !== undefined && user.password !== undefined
      ? { authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}` }
      : none;
  return { tls, current: () => fixed, invalidate: () => undefined };
}

/** status of an ExecCredential (client.authentication.k8s.io v1 and v1beta1). */
interface ExecStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

function execCredentials(tls: TlsMaterial, exec: ExecConfig, cluster: Cluster, o: CredentialsOptions): Credentials {
  const run = o.exec ?? defaultExecRunner;
  const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
  let cached: { value: Credential; until: number } | undefined;
  let inFlight: Promise<Credential> | undefined;

  const fetch = async (): Promise<Credential> => {
    const spec: Record<string, unknown> = { interactive: false };
    if (exec.provideClusterInfo) {
      spec.cluster = {
        server: cluster.server,
        ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
        ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
        ...(tls.ca ? { 'certificate-authority-data': tls.ca.toString('base64') } : {}),
      };
    }
    const env: Record<string, string | undefined> = { ...(o.env ?? process.env), KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: 'ExecCredential', spec }) };
    for (const e of exec.env ?? []) env[e.name] = e.value;
    const out = await run(exec.command, exec.args ?? [], env);
    let status: ExecStatus | undefined;
    try {
      status = (JSON.parse(out) as { status?: ExecStatus }).status;
    } catch {
      throw new Error(`exec plugin ${exec.command}: output is not an ExecCredential`);
    }
    if (!status || (!status.token && !status.clientCertificateData)) throw new Error(`exec plugin ${exec.command}: no token and no client certificate in its status`);
    if (!status.token && !status.clientKeyData) throw new Error(`exec plugin ${exec.command}: a client certificate without its key`);
    const value: Credential = {
      ...(status.token ? { authorization: `Bearer ${status.token}` } : {}),
      ...(status.clientCertificateData && status.clientKeyData ? { cert: Buffer.from(status.clientCertificateData), key: Buffer.from(status.clientKeyData) } : {}),
    };
    const expires = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : NaN;
    cached = { value, until: Number.isFinite(expires) ? expires : Infinity };
    return value;
  };

  return {
    tls,
    current: () => {
      if (cached && o.clock.now() < cached.until) return cached.value;
      // One plugin run however many requests wait for it.
      inFlight ??= fetch().finally(() => (inFlight = undefined));
      return inFlight;
    },
    invalidate: () => void (cached = undefined),
  };
}

const defaultExecRunner: ExecRunner = (command, args, env) =>
  new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`exec plugin ${command}: ${err.message}${stderr ? `: ${stderr.trim()}` : ''}`));
      else resolve(stdout);
    });
  });
