// The BFD lab: two network namespaces joined by a veth pair, FRR (zebra, bfdd, and bgpd
// for the BGP tests) in one with every runtime path in a temporary directory (never
// /etc/frr or /run/frr), herald's BFD sessions in the other through runner.ts.
//
//   hlt-bfd-<pid>-a  (herald)  hlt-bfd-a ──── hlt-bfd-b  (FRR)  hlt-bfd-<pid>-b
//                    192.0.2.98/28                 192.0.2.97/28
//                    2001:db8:bfd::2/64            2001:db8:bfd::1/64
//
// Everything started here is killed by PID, the namespaces deleted and the directory
// removed by cleanup(), which the test's after hook calls even when a test failed.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BFDProfileModel } from '../../../shared/config/types.js';
import type { SessionConfig } from '../../../speaker/bgp/session.js';

import { deleteLeftovers, killAll, killProcess, sh, sleep, spawnIn, tempDir as makeTempDir, waitFor } from '../netns-lab.js';

export { killProcess, sh, sleep, waitFor };

const here = dirname(fileURLToPath(import.meta.url));

const RUN = `hlt-bfd-${process.pid}`;
export const NS = { herald: `${RUN}-a`, frr: `${RUN}-b` } as const;
export const DEV = { herald: 'hlt-bfd-a', frr: 'hlt-bfd-b' } as const;
export const HERALD = { v4: '192.0.2.98', v6: '2001:db8:bfd::2' } as const;
export const FRR = { v4: '192.0.2.97', v6: '2001:db8:bfd::1' } as const;
export const FRR_ASN = 64500;
export const HERALD_ASN = 64501;

export function canRunLab(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  for (const bin of ['/usr/lib/frr/bfdd', '/usr/lib/frr/zebra', '/usr/lib/frr/bgpd']) {
    if (!existsSync(bin)) return `${bin} not installed`;
  }
  for (const bin of ['ip', 'vtysh']) if (spawnSync('which', [bin]).status !== 0) return `${bin} not installed`;
  return undefined;
}

// ---- topology ----

export function createTopology(): void {
  deleteLeftovers('hlt-bfd');
  deleteNamespaces();
  for (const ns of Object.values(NS)) {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  sh('ip', ['link', 'add', DEV.herald, 'netns', NS.herald, 'type', 'veth', 'peer', 'name', DEV.frr, 'netns', NS.frr]);
  for (const [ns, dev, v4, v6] of [
    [NS.herald, DEV.herald, HERALD.v4, HERALD.v6],
    [NS.frr, DEV.frr, FRR.v4, FRR.v6],
  ] as const) {
    // Linux flushes IPv6 addresses when a link is set down; the link-down tests bring it back.
    sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${dev}.keep_addr_on_down=1`]);
    sh('ip', ['-n', ns, 'addr', 'add', `${v4}/28`, 'dev', dev]);
    sh('ip', ['-n', ns, 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad']);
    sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
  }
}

export function deleteNamespaces(): void {
  for (const ns of Object.values(NS)) sh('ip', ['netns', 'del', ns], { allowFail: true });
}

/** Takes FRR's end of the link down or up (the herald end loses carrier with it). */
export function frrLink(up: boolean): void {
  sh('ip', ['-n', NS.frr, 'link', 'set', DEV.frr, up ? 'up' : 'down']);
}

// ---- processes ----

export const tempDir = (): string => makeTempDir(RUN);

/** Kills every process this lab started (by PID) and removes the namespaces. */
export async function cleanup(): Promise<void> {
  await killAll();
  deleteNamespaces();
}

// ---- FRR ----

/** FRR's side: 100 ms both ways, Detect Mult 3, towards both of herald's addresses; bgpd with BFD. */
export function frrConfig(): { bfdd: string; bgpd: string } {
  const peer = (addr: string, local: string): string => ` peer ${addr} local-address ${local}\n  profile fast\n !\n`;
  const bfdd = ['hostname hlt-bfd', 'bfd', ' profile fast', '  receive-interval 100', '  transmit-interval 100', '  detect-multiplier 3', ' !'].join('\n') + '\n' + peer(HERALD.v4, FRR.v4) + peer(HERALD.v6, FRR.v6) + '!\n';
  const bgpd = [
    'hostname hlt-bfd',
    `router bgp ${FRR_ASN}`,
    ` bgp router-id ${FRR.v4}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp default ipv4-unicast',
    ` neighbor ${HERALD.v4} remote-as ${HERALD_ASN}`,
    ` neighbor ${HERALD.v4} bfd`,
    ` neighbor ${HERALD.v4} bfd profile fast`,
    ' address-family ipv4 unicast',
    `  neighbor ${HERALD.v4} activate`,
    ' exit-address-family',
    '!',
  ].join('\n');
  return { bfdd, bgpd: `${bgpd}\n` };
}

export class Frr {
  private bgpd: ChildProcess | undefined;
  private constructor(
    readonly dir: string,
    private readonly zebra: ChildProcess,
    private bfdd: ChildProcess,
  ) {}

  private static common(dir: string, d: string): string[] {
    return ['-u', 'frr', '-g', 'frr', '-P', '0', '--vty_socket', dir, '-z', join(dir, 'zserv.api'), '-i', join(dir, `${d}.pid`), '-f', join(dir, `${d}.conf`), '--log', 'stdout'];
  }

  static async start(dir: string): Promise<Frr> {
    const conf = frrConfig();
    writeFileSync(join(dir, 'zebra.conf'), 'hostname hlt-bfd\n');
    writeFileSync(join(dir, 'bfdd.conf'), conf.bfdd);
    writeFileSync(join(dir, 'bgpd.conf'), conf.bgpd);
    writeFileSync(join(dir, 'vtysh.conf'), '');
    // The daemons drop to the frr user: it owns the directory.
    sh('chown', ['-R', 'frr:frr', dir]);
    const zebra = spawnIn(NS.frr, '/usr/lib/frr/zebra', Frr.common(dir, 'zebra'), join(dir, 'zebra.out'));
    await waitFor('zebra', () => existsSync(join(dir, 'zserv.api')) || undefined, 10_000);
    const frr = new Frr(dir, zebra, Frr.spawnBfdd(dir));
    await frr.ready('bfdd', () => frr.vtysh('show bfd peers json').includes('['));
    return frr;
  }

  private static spawnBfdd(dir: string): ChildProcess {
    return spawnIn(NS.frr, '/usr/lib/frr/bfdd', [...Frr.common(dir, 'bfdd'), '--bfdctl', join(dir, 'bfdd.sock')], join(dir, 'bfdd.out'));
  }

  async startBgpd(): Promise<void> {
    this.bgpd = spawnIn(NS.frr, '/usr/lib/frr/bgpd', Frr.common(this.dir, 'bgpd'), join(this.dir, 'bgpd.out'));
    await this.ready('bgpd', () => this.vtysh('show bgp summary json').includes('{'));
  }

  /** SIGKILL: bfdd cannot say goodbye, its packets just stop. */
  async killBfdd(): Promise<void> {
    await killProcess(this.bfdd, 'SIGKILL');
  }

  async restartBfdd(): Promise<void> {
    this.bfdd = Frr.spawnBfdd(this.dir);
    await this.ready('bfdd', () => this.vtysh('show bfd peers json').includes('['));
  }

  vtysh(...commands: string[]): string {
    return sh('vtysh', ['--vty_socket', this.dir, '--config_dir', this.dir, ...commands.flatMap((c) => ['-c', c])]);
  }

  /** `show bfd peers json`, keyed by peer address (`<address> multihop` for multihop sessions). */
  peers(): Map<string, FrrBfdPeer> {
    const list = JSON.parse(this.vtysh('show bfd peers json')) as FrrBfdPeer[];
    return new Map(list.map((p) => [p.multihop ? `${p.peer} multihop` : p.peer, p]));
  }

  bgpState(neighbor: string): string | undefined {
    const doc = JSON.parse(this.vtysh(`show bgp neighbors ${neighbor} json`)) as Record<string, { bgpState?: string }>;
    return doc[neighbor]?.bgpState;
  }

  async stop(): Promise<void> {
    await killProcess(this.bgpd);
    await killProcess(this.bfdd);
    await killProcess(this.zebra);
  }

  logTail(daemon: string): string {
    const f = join(this.dir, `${daemon}.out`);
    return existsSync(f) ? readFileSync(f, 'utf8').slice(-2000) : '(still running)';
  }

  private async ready(what: string, probe: () => boolean): Promise<void> {
    await waitFor(`${what} to answer vtysh`, () => probe() || undefined, 15_000, 100);
  }
}

export interface FrrBfdPeer {
  peer: string;
  multihop: boolean;
  local?: string;
  id: number;
  'remote-id': number;
  status: string;
  diagnostic: string;
  'remote-diagnostic': string;
  'remote-receive-interval': number;
  'remote-transmit-interval': number;
  'remote-detect-multiplier': number;
}

// ---- herald's side ----

export const FAST: BFDProfileModel = {
  name: 'fast',
  receiveInterval: 100,
  transmitInterval: 100,
  detectMultiplier: 3,
  echoInterval: 50,
  echoMode: false,
  passiveMode: false,
  minimumTtl: 254,
};

export type RunnerEvent =
  | { event: 'ready'; t: number }
  | { event: 'added'; id: string; discriminator: number; t: number }
  | { event: 'bfd'; id: string; state: string; diag: number; status: string; t: number; /** When the last datagram from the peer arrived. */ lastRx?: number }
  | { event: 'bgp'; id: string; state: string; lastError?: string; t: number }
  | { event: 'bgpStopped'; id: string; t: number }
  | { event: 'drops'; counts: Record<string, number>; t: number }
  | { event: 'closed'; t: number }
  | { event: 'error'; message: string; t: number };

export class Runner {
  readonly events: RunnerEvent[] = [];
  private constructor(
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {}

  static async start(dir: string): Promise<Runner> {
    const logFile = join(dir, `runner-${Date.now()}.log`);
    const child = spawnIn(NS.herald, process.execPath, ['--import', 'tsx', join(here, 'runner.ts')], logFile, true);
    const r = new Runner(child, logFile);
    createInterface({ input: child.stdout! }).on('line', (line) => r.events.push(JSON.parse(line) as RunnerEvent));
    await waitFor('the runner', () => r.events.some((e) => e.event === 'ready') || undefined, 20_000);
    return r;
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  async add(id: string, address: string, localAddress: string, profile: BFDProfileModel = FAST, multihop = false): Promise<number> {
    const n = this.events.length;
    this.send({ op: 'add', id, peer: { address, localAddress, profile, multihop } });
    const added = await waitFor(`session ${id} added`, () => this.events.slice(n).find((e): e is Extract<RunnerEvent, { event: 'added' }> => e.event === 'added' && e.id === id), 5000, 10);
    return added.discriminator;
  }

  bfd(id: string): Extract<RunnerEvent, { event: 'bfd' }>[] {
    return this.events.filter((e): e is Extract<RunnerEvent, { event: 'bfd' }> => e.event === 'bfd' && e.id === id);
  }

  bgp(id: string): Extract<RunnerEvent, { event: 'bgp' }>[] {
    return this.events.filter((e): e is Extract<RunnerEvent, { event: 'bgp' }> => e.event === 'bgp' && e.id === id);
  }

  /** The first change of session id to state after event index `from`. */
  async bfdState(id: string, state: string, from = 0, timeoutMs = 10_000): Promise<Extract<RunnerEvent, { event: 'bfd' }>> {
    return waitFor(`BFD ${id} ${state}`, () => this.events.slice(from).find((e): e is Extract<RunnerEvent, { event: 'bfd' }> => e.event === 'bfd' && e.id === id && e.state === state), timeoutMs, 5);
  }

  async bgpState(id: string, state: string, from = 0, timeoutMs = 15_000): Promise<Extract<RunnerEvent, { event: 'bgp' }>> {
    return waitFor(`BGP ${id} ${state}`, () => this.events.slice(from).find((e): e is Extract<RunnerEvent, { event: 'bgp' }> => e.event === 'bgp' && e.id === id && e.state === state), timeoutMs, 5);
  }

  startBgp(id: string, cfg: SessionConfig, bfd: string): void {
    this.send({ op: 'bgp', id, cfg, bfd });
  }

  async drops(): Promise<Record<string, number>> {
    const n = this.events.length;
    this.send({ op: 'drops' });
    const e = await waitFor('drop counts', () => this.events.slice(n).find((x): x is Extract<RunnerEvent, { event: 'drops' }> => x.event === 'drops'), 5000, 10);
    return e.counts;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send({ op: 'close' });
    await Promise.race([gone, sleep(5000)]);
    await killProcess(this.child);
  }

  logTail(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').slice(-3000) : '(runner still running)';
  }
}

export function bgpConfig(): SessionConfig {
  return {
    name: 'frr',
    myASN: HERALD_ASN,
    peerASN: FRR_ASN,
    peerAddress: FRR.v4,
    peerPort: 179,
    sourceAddress: HERALD.v4,
    holdTime: 90,
    keepaliveTime: 30,
    connectTime: 5,
    routerID: HERALD.v4,
    ebgpMultiHop: false,
    enableGracefulRestart: false,
    families: [4],
  };
}

export function rmDir(dir: string): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
