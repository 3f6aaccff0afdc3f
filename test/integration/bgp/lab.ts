// The small lab for the session tests: three network namespaces, a router daemon in one
// (FRR with zebra, BIRD, or gobgpd, each from test/integration/bgp/fixtures/ with every
// runtime path in a temporary directory, never /etc or /run), and herald's sessions
// running in the other two through session-runner.ts.
//
//   …-n1 ─────────────────── …-r ─────────────────── …-n2      (hlt-bgps-<pid>-…)
//   192.0.2.2, .3/28          192.0.2.1/28             192.0.2.18, .19, .20/28
//   2001:db8:a::2/64          192.0.2.17/28            2001:db8:b::2/64
//                             2001:db8:a::1, b::1
//
// Everything started here is killed by PID and every namespace deleted by cleanup().
import { spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Advertisement, SessionConfig, SessionStatus } from '../../../speaker/bgp/session.js';

import { deleteLeftovers, killAll, killProcess, sh, sleep, spawnIn, tempDir as makeTempDir, waitFor } from '../netns-lab.js';

export { killAll, killProcess, sh, sleep, spawnIn, waitFor };

export const tempDir = (prefix: string): string => makeTempDir(`hlt-bgps-${prefix}`);

const here = dirname(fileURLToPath(import.meta.url));

/** Per run (other suites may run this one at the same time): `hlt-bgps-<pid>-r`. */
const RUN = `hlt-bgps-${process.pid}`;
export const NS = { router: `${RUN}-r`, n1: `${RUN}-n1`, n2: `${RUN}-n2` } as const;
export const ROUTER_ASN = 4200000001;
export const NODE_ASN = 4200000002;
export const ROUTER = { a4: '192.0.2.1', a6: '2001:db8:a::1', b4: '192.0.2.17', b6: '2001:db8:b::1' } as const;
export const N1 = { v4: '192.0.2.2', spare: '192.0.2.3', v6: '2001:db8:a::2' } as const;
export const N2 = { ecmp: '192.0.2.18', ibgp: '192.0.2.19', passive: '192.0.2.20', v6: '2001:db8:b::2' } as const;
export const PASSWORD = 'hlt-secret';
export const PASSIVE_PASSWORD = 'hlt-passive';

export function canRunLab(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  for (const bin of ['ip', '/usr/lib/frr/bgpd', '/usr/lib/frr/zebra', 'vtysh', 'bird', 'birdc', 'gobgpd', 'gobgp']) {
    if (spawnSync(bin.startsWith('/') ? 'test' : 'which', bin.startsWith('/') ? ['-x', bin] : [bin]).status !== 0) return `${bin} not installed`;
  }
  return undefined;
}

// ---- topology ----

export function deleteNamespaces(): void {
  for (const ns of Object.values(NS)) sh('ip', ['netns', 'del', ns], { allowFail: true });
}

export function createTopology(): void {
  deleteLeftovers('hlt-bgps');
  deleteNamespaces();
  for (const ns of Object.values(NS)) {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  const links: [string, string, string, string[], string[], string[], string[]][] = [
    // router dev, node ns, node dev, router v4, router v6, node v4s, node v6s
    ['hlt-bgps-ra', NS.n1, 'hlt-bgps-a', [`${ROUTER.a4}/28`], [`${ROUTER.a6}/64`], [`${N1.v4}/28`, `${N1.spare}/28`], [`${N1.v6}/64`]],
    ['hlt-bgps-rb', NS.n2, 'hlt-bgps-b', [`${ROUTER.b4}/28`], [`${ROUTER.b6}/64`], [`${N2.ecmp}/28`, `${N2.ibgp}/28`, `${N2.passive}/28`], [`${N2.v6}/64`]],
  ];
  for (const [rdev, ns, ndev, r4, r6, n4, n6] of links) {
    sh('ip', ['link', 'add', rdev, 'netns', NS.router, 'type', 'veth', 'peer', 'name', ndev, 'netns', ns]);
    for (const [where, dev, addrs] of [
      [NS.router, rdev, [...r4, ...r6]],
      [ns, ndev, [...n4, ...n6]],
    ] as const) {
      for (const a of addrs) sh('ip', ['-n', where, 'addr', 'add', a, 'dev', dev, ...(a.includes(':') ? ['nodad'] : [])]);
      sh('ip', ['-n', where, 'link', 'set', dev, 'up']);
    }
  }
}

// ---- processes ----

// ---- herald sessions in a node namespace ----

type RunnerEvent = { event: 'status'; id: string; status: SessionStatus } | { event: 'stopped'; id: string } | { event: 'ready' } | { event: 'error'; message: string } | { event: 'exited' };

export class Runner {
  readonly history = new Map<string, SessionStatus[]>();
  readonly events: RunnerEvent[] = [];
  private constructor(
    readonly ns: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {}

  static async start(ns: string, dir: string): Promise<Runner> {
    const logFile = join(dir, `runner-${ns}-${Date.now()}.log`);
    const child = spawnIn(ns, process.execPath, ['--import', 'tsx', join(here, 'session-runner.ts')], logFile, true);
    const r = new Runner(ns, child, logFile);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const e = JSON.parse(line) as RunnerEvent;
      r.events.push(e);
      if (e.event === 'status') {
        const h = r.history.get(e.id) ?? [];
        h.push(e.status);
        r.history.set(e.id, h);
      }
    });
    await waitFor(`runner in ${ns}`, () => r.events.some((e) => e.event === 'ready') || undefined, 20_000, 50);
    return r;
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  listen(): void {
    this.send({ op: 'listen' });
  }

  start(id: string, cfg: SessionConfig, listen = false): void {
    this.history.delete(id);
    this.send({ op: 'start', id, cfg, listen });
  }

  wanted(id: string, ads: Advertisement[]): void {
    this.send({ op: 'wanted', id, ads });
  }

  async stop(id: string, mode?: 'shutdown' | 'graceful-restart', message?: string): Promise<void> {
    const n = this.events.length;
    this.send({ op: 'stop', id, ...(mode ? { mode } : {}), ...(message ? { message } : {}) });
    await waitFor(`session ${id} to stop`, () => this.events.slice(n).some((e) => e.event === 'stopped' && e.id === id) || undefined, 10_000, 20);
  }

  status(id: string): SessionStatus | undefined {
    return this.history.get(id)?.at(-1);
  }

  states(id: string): string[] {
    return (this.history.get(id) ?? []).map((s) => s.state);
  }

  async waitState(id: string, state: SessionStatus['state'], timeoutMs = 15_000): Promise<SessionStatus> {
    return waitFor(`${this.ns} session ${id} ${state}`, () => (this.status(id)?.state === state ? this.status(id) : undefined), timeoutMs, 20).catch((err: Error) => {
      throw new Error(`${err.message}; last status ${JSON.stringify(this.status(id))}\n${this.logTail()}`);
    });
  }

  async waitSynced(id: string, prefixes: number, timeoutMs = 15_000): Promise<SessionStatus> {
    return waitFor(`${this.ns} session ${id} to send ${prefixes} prefixes`, () => {
      const s = this.status(id);
      return s?.state === 'Established' && s.prefixesSent === prefixes && s.pendingPrefixes === 0 ? s : undefined;
    }, timeoutMs, 20);
  }

  logTail(lines = 30): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n') : '(runner still running)';
  }

  async exit(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send({ op: 'exit' });
    await Promise.race([gone, sleep(5000)]);
    await killProcess(this.child);
  }
}

export function sessionConfig(over: Partial<SessionConfig> & Pick<SessionConfig, 'name' | 'peerAddress' | 'sourceAddress'>): SessionConfig {
  return {
    myASN: NODE_ASN,
    peerASN: ROUTER_ASN,
    peerPort: 179,
    holdTime: 90,
    keepaliveTime: 0,
    connectTime: 2,
    routerID: over.sourceAddress && !over.sourceAddress.includes(':') ? over.sourceAddress : N1.v4,
    ebgpMultiHop: false,
    enableGracefulRestart: true,
    families: [4, 6],
    ...over,
  };
}

/** 64500:100 as RFC 1997 wants it on the wire. */
export function community(text: string): number {
  const [hi, lo] = text.split(':').map(Number) as [number, number];
  return ((hi << 16) | lo) >>> 0;
}

export function advertisement(cidr: string, extra: Partial<Advertisement> = {}): Advertisement {
  const [p, l] = cidr.split('/') as [string, string];
  return { family: p.includes(':') ? 6 : 4, prefix: p, length: Number(l), communities: [], largeCommunities: [], ...extra };
}

// ---- router daemons ----

export interface RouterDaemon {
  readonly kind: 'frr' | 'bird' | 'gobgp';
  readonly dir: string;
  stop(): Promise<void>;
}

/** Waits for a daemon to answer; on failure stops it, cleans up, and says what it logged. */
async function ready(what: string, proc: ChildProcess, logFile: string, stop: () => Promise<void>, probe: () => boolean): Promise<void> {
  try {
    await waitFor(what, () => {
      if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode}`);
      return probe() || undefined;
    }, 15_000, 100);
  } catch (err) {
    await killProcess(proc);
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    await stop();
    throw new Error(`${(err as Error).message}\n${log}`);
  }
}

export interface FrrRouter extends RouterDaemon {
  vtysh(...commands: string[]): string;
}

export async function startFrr(): Promise<FrrRouter> {
  const dir = tempDir('frr');
  copyFileSync(join(here, 'fixtures', 'frr-bgpd.conf'), join(dir, 'bgpd.conf'));
  writeFileSync(join(dir, 'zebra.conf'), 'hostname hlt-bgps-r\n');
  writeFileSync(join(dir, 'vtysh.conf'), '');
  // The daemons drop to the frr user: it owns the directory.
  sh('chown', ['-R', 'frr:frr', dir]);
  const common = (d: string): string[] => ['-u', 'frr', '-g', 'frr', '-P', '0', '--vty_socket', dir, '-z', join(dir, 'zserv.api'), '-i', join(dir, `${d}.pid`), '-f', join(dir, `${d}.conf`), '--log', 'stdout'];
  const zebra = spawnIn(NS.router, '/usr/lib/frr/zebra', common('zebra'), join(dir, 'zebra.out'));
  await waitFor('zebra', () => existsSync(join(dir, 'zserv.api')) || undefined, 10_000, 50);
  const bgpd = spawnIn(NS.router, '/usr/lib/frr/bgpd', common('bgpd'), join(dir, 'bgpd.out'));
  const vtysh = (...commands: string[]): string => sh('vtysh', ['--vty_socket', dir, '--config_dir', dir, ...commands.flatMap((c) => ['-c', c])]);
  const stop = async (): Promise<void> => {
    await killProcess(bgpd);
    await killProcess(zebra);
    rmSync(dir, { recursive: true, force: true });
  };
  await ready('bgpd to answer vtysh', bgpd, join(dir, 'bgpd.out'), stop, () => vtysh('show bgp summary json').includes('{'));
  return { kind: 'frr', dir, vtysh, stop };
}

export interface BirdRouter extends RouterDaemon {
  birdc(...args: string[]): string;
}

export async function startBird(): Promise<BirdRouter> {
  const dir = tempDir('bird');
  const conf = join(dir, 'bird.conf');
  copyFileSync(join(here, 'fixtures', 'bird.conf'), conf);
  const sock = join(dir, 'bird.ctl');
  const bird = spawnIn(NS.router, 'bird', ['-f', '-c', conf, '-s', sock, '-P', join(dir, 'bird.pid')], join(dir, 'bird.out'));
  // Exits non-zero for "Network not found": the caller reads the text.
  const birdc = (...args: string[]): string => sh('birdc', ['-s', sock, ...args], { allowFail: true });
  const stop = async (): Promise<void> => {
    await killProcess(bird);
    rmSync(dir, { recursive: true, force: true });
  };
  await ready('BIRD to answer birdc', bird, join(dir, 'bird.out'), stop, () => birdc('show', 'status').includes('Daemon is up'));
  return { kind: 'bird', dir, birdc, stop };
}

export interface GobgpRouter extends RouterDaemon {
  gobgp(...args: string[]): string;
}

/** gobgpd's gRPC API on the router namespace's own loopback. */
const GOBGP_API_PORT = '50351';

export async function startGobgp(): Promise<GobgpRouter> {
  const dir = tempDir('gobgp');
  const conf = join(dir, 'gobgpd.toml');
  copyFileSync(join(here, 'fixtures', 'gobgpd.toml'), conf);
  const d = spawnIn(NS.router, 'gobgpd', ['-f', conf, '-t', 'toml', '--api-hosts', `127.0.0.1:${GOBGP_API_PORT}`, '--pprof-disable'], join(dir, 'gobgpd.out'));
  const gobgp = (...args: string[]): string => sh('gobgp', ['-u', '127.0.0.1', '-p', GOBGP_API_PORT, ...args], { ns: NS.router });
  const stop = async (): Promise<void> => {
    await killProcess(d);
    rmSync(dir, { recursive: true, force: true });
  };
  await ready('gobgpd to answer its API', d, join(dir, 'gobgpd.out'), stop, () => gobgp('global').includes('AS:'));
  return { kind: 'gobgp', dir, gobgp, stop };
}
