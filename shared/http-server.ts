// The monitoring endpoint of the controller and the speaker:
//   /metrics  Prometheus text format from the process's own registry
//   /healthz  200 while the process's event loop answers (liveness probe)
//   /readyz   200 when every readiness check passes, else 503 listing the failures in
//             kube-apiserver's `[+]name ok` / `[-]name failed: reason` form (readiness probe)
//
// Two flags place them: `--metrics-addr` serves all three unless `--health-addr` names a
// different address, in which case the probes move to a second server there. `0` turns
// an address off. Both accept `host:port`, `:port` (every interface) and `[v6]:port`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './log.js';

export interface ListenAddr {
  /** Empty for every interface. */
  host: string;
  port: number;
}

/** Parses a listen address; null means "disabled" (`0` or empty). */
export function parseListenAddr(s: string): { ok: true; value: ListenAddr | null } | { ok: false; error: string } {
  const t = s.trim();
  if (t === '' || t === '0') return { ok: true, value: null };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(t);
  if (!m) return { ok: false, error: `"${s}" is not host:port, :port or [ipv6]:port` };
  const port = Number(m[3]);
  if (port > 65535) return { ok: false, error: `port ${port} in "${s}" is above 65535` };
  return { ok: true, value: { host: m[1] ?? m[2] ?? '', port } };
}

export function formatListenAddr(a: ListenAddr): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** A readiness check: true when ready, otherwise a reason a person can act on. */
export type ReadinessCheck = () => true | string;

export interface MonitoringServerOptions {
  metrics: ListenAddr | null;
  /** undefined: the probes live on the metrics server; null: no probes. */
  health?: ListenAddr | null;
  registry: Registry;
  logger: Logger;
}

export interface MonitoringServer {
  /** Where /metrics is served (with the real port when 0 was asked), or null. */
  readonly metricsAddr: ListenAddr | null;
  /** Where /healthz and /readyz are served, or null. */
  readonly healthAddr: ListenAddr | null;
  addReadinessCheck(name: string, check: ReadinessCheck): void;
  close(): Promise<void>;
}

export async function startMonitoringServer(o: MonitoringServerOptions): Promise<MonitoringServer> {
  const checks = new Map<string, ReadinessCheck>();
  const separate = o.health !== undefined && !sameAddr(o.health, o.metrics);
  const probesOnMetrics = o.health === undefined || (o.health !== null && !separate);

  const readyz = (res: ServerResponse): void => {
    const lines: string[] = [];
    let ok = true;
    for (const [name, check] of checks) {
      let r: true | string;
      try {
        r = check();
      } catch (err) {
        r = err instanceof Error ? err.message : String(err);
      }
      if (r === true) lines.push(`[+]${name} ok`);
      else {
        ok = false;
        lines.push(`[-]${name} failed: ${r}`);
      }
    }
    lines.push(ok ? 'readyz check passed' : 'readyz check failed');
    send(res, ok ? 200 : 503, lines.join('\n') + '\n');
  };

  const handler =
    (withMetrics: boolean, withProbes: boolean) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
      if (withProbes && path === '/healthz') return send(res, 200, 'ok\n');
      if (withProbes && path === '/readyz') return readyz(res);
      if (withMetrics && path === '/metrics') {
        o.registry.metrics().then(
          (text) => send(res, 200, text, o.registry.contentType),
          (err: unknown) => {
            o.logger.error({ err }, 'collecting metrics failed');
            send(res, 500, 'collecting metrics failed\n');
          },
        );
        return;
      }
      send(res, 404, 'not found\n');
    };

  const servers: Server[] = [];
  let metricsAddr: ListenAddr | null = null;
  let healthAddr: ListenAddr | null = null;
  try {
    if (o.metrics) {
      const s = createServer(handler(true, probesOnMetrics));
      servers.push(s);
      metricsAddr = await listen(s, o.metrics);
      if (probesOnMetrics) healthAddr = metricsAddr;
      o.logger.info({ addr: formatListenAddr(metricsAddr), probes: probesOnMetrics }, 'metrics server listening');
    }
    if (separate && o.health) {
      const s = createServer(handler(false, true));
      servers.push(s);
      healthAddr = await listen(s, o.health);
      o.logger.info({ addr: formatListenAddr(healthAddr) }, 'health server listening');
    }
  } catch (err) {
    await Promise.all(servers.map(closeServer));
    throw err;
  }

  return {
    metricsAddr,
    healthAddr,
    addReadinessCheck: (name, check) => void checks.set(name, check),
    close: async () => {
      await Promise.all(servers.map(closeServer));
    },
  };
}

/** Port 0 twice means two ephemeral ports, hence two servers. */
function sameAddr(a: ListenAddr | null, b: ListenAddr | null): boolean {
  return a !== null && b !== null && a.port !== 0 && a.host === b.host && a.port === b.port;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function listen(s: Server, a: ListenAddr): Promise<ListenAddr> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    const done = (): void => {
      s.off('error', reject);
      const info = s.address() as AddressInfo;
      resolve({ host: a.host, port: info.port });
    };
    if (a.host === '') s.listen(a.port, done);
    else s.listen(a.port, a.host, done);
  });
}

function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!s.listening) return resolve();
    s.close(() => resolve());
    // Keep-alive connections from a scraper would hold close() open until they time out.
    s.closeAllConnections();
  });
}
