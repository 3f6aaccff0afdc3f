// Helpers for the embedded API server's tests: a server per suite, raw HTTPS requests
// with an identity's token, a watch reader, and the real kubectl binary pointed at the
// server through a temporary kubeconfig.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type ApiServerOptions, type EmbeddedApiServer } from '../../apiserver/server.js';

export type Identity = 'admin' | 'controller' | 'speaker';

export interface Harness {
  api: EmbeddedApiServer;
  dir: string;
  kubeconfig(identity?: Identity): string;
  close(): Promise<void>;
}

export async function startHarness(opts: ApiServerOptions = {}): Promise<Harness> {
  const api = await startApiServer({ logLevel: 'silent', ...opts });
  const dir = mkdtempSync(join(tmpdir(), 'hlt-apiserver-'));
  const files = new Map<Identity, string>();
  return {
    api,
    dir,
    kubeconfig(identity: Identity = 'admin') {
      let f = files.get(identity);
      if (!f) {
        f = join(dir, `kubeconfig.${identity}`);
        api.writeKubeconfig(f, identity);
        files.set(identity, f);
      }
      return f;
    },
    async close() {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface RequestOptions {
  identity?: Identity | 'none';
  body?: unknown;
  contentType?: string;
  accept?: string;
}

/** One request to the server as an identity; the body is JSON-encoded unless it is a string. */
export function request(api: EmbeddedApiServer, method: string, path: string, o: RequestOptions = {}): Promise<Response> {
  const url = new URL(path, api.url);
  const headers: Record<string, string> = { Accept: o.accept ?? 'application/json' };
  const identity = o.identity ?? 'admin';
  if (identity !== 'none') headers.Authorization = `Bearer ${api.tokens[identity]}`;
  let payload: string | undefined;
  if (o.body !== undefined) {
    payload = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    headers['Content-Type'] = o.contentType ?? 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca: api.caPEM }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export interface WatchEvent {
  type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  object: any;
}

export interface WatchReader {
  status: number;
  events: WatchEvent[];
  ended: boolean;
  /** Resolves once at least n events arrived. */
  next(n: number, timeoutMs?: number): Promise<WatchEvent[]>;
  /** Resolves when the server ends the stream. */
  done(timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Opens `path` (a collection path with ?watch=true…) and collects its events. */
export function watch(api: EmbeddedApiServer, path: string, o: RequestOptions = {}): Promise<WatchReader> {
  const url = new URL(path, api.url);
  const headers: Record<string, string> = { Accept: o.accept ?? 'application/json', Authorization: `Bearer ${api.tokens[(o.identity as Identity) ?? 'admin']}` };
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'GET', headers, ca: api.caPEM }, (res) => {
      let buf = '';
      const waiters: (() => void)[] = [];
      const wake = (): void => waiters.splice(0).forEach((w) => w());
      const reader: WatchReader = {
        status: res.statusCode ?? 0,
        events: [],
        ended: false,
        next(n, timeoutMs = 5000) {
          return new Promise((ok, fail) => {
            const t = setTimeout(() => fail(new Error(`watch: ${reader.events.length} of ${n} events after ${timeoutMs} ms: ${JSON.stringify(reader.events.map((e) => e.type))}`)), timeoutMs);
            const check = (): void => {
              if (reader.events.length >= n) {
                clearTimeout(t);
                ok(reader.events.slice(0, n));
              } else if (reader.ended) {
                clearTimeout(t);
                fail(new Error(`watch ended after ${reader.events.length} of ${n} events`));
              } else waiters.push(check);
            };
            check();
          });
        },
        done(timeoutMs = 5000) {
          return new Promise((ok, fail) => {
            const t = setTimeout(() => fail(new Error('watch did not end')), timeoutMs);
            const check = (): void => {
              if (reader.ended) {
                clearTimeout(t);
                ok();
              } else waiters.push(check);
            };
            check();
          });
        },
        close() {
          req.destroy();
        },
      };
      res.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) reader.events.push(JSON.parse(line) as WatchEvent);
        }
        wake();
      });
      res.on('end', () => {
        reader.ended = true;
        wake();
      });
      res.on('close', () => {
        reader.ended = true;
        wake();
      });
      resolve(reader);
    });
    req.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e);
    });
    req.end();
  });
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl against the harness, with its own discovery cache. */
export function kubectl(h: Harness, args: string[], o: { identity?: Identity; input?: string } = {}): Promise<KubectlResult> {
  const full = ['--kubeconfig', h.kubeconfig(o.identity), '--cache-dir', join(h.dir, 'cache'), ...args];
  return new Promise((resolve, reject) => {
    const child = execFile('kubectl', full, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      if (err && code === -1) reject(err);
      else resolve({ code, stdout, stderr });
    });
    if (o.input !== undefined) {
      child.stdin?.end(o.input);
    }
  });
}

/** Writes a manifest into the harness directory and returns its path. */
export function manifest(h: Harness, name: string, yamlText: string): string {
  const p = join(h.dir, name);
  writeFileSync(p, yamlText);
  return p;
}

/** Starts a long-running kubectl (e.g. `get -w`) and collects its stdout lines. */
export function kubectlStream(h: Harness, args: string[]): { child: ChildProcess; lines: string[]; waitFor(pred: (lines: string[]) => boolean, timeoutMs?: number): Promise<void>; stop(): void } {
  const child = spawn('kubectl', ['--kubeconfig', h.kubeconfig(), '--cache-dir', join(h.dir, 'cache'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return {
    child,
    lines,
    async waitFor(pred, timeoutMs = 8000) {
      const end = Date.now() + timeoutMs;
      while (!pred(lines)) {
        if (Date.now() > end) throw new Error(`kubectl ${args.join(' ')}: timed out; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`);
        await sleep(25);
      }
    },
    stop() {
      if (child.exitCode === null && child.pid) child.kill('SIGTERM');
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function eventually(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export function svc(name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, ...metadata }, spec: { ports: [{ name: 'http', port: 80 }], ...spec } };
}
