// The lab, driven for layer 2: bring it up (waiting for another run to finish with it),
// pools and Services, a UDP echo in every node, a prober in hl-client, and the ways to
// break a leader (SIGKILL its speaker, cut its link). Shared by test/e2e/l2 and
// test/bench/failover.ts. Everything it starts it stops by PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { heraldResource, collectionPath, objectPath, SERVICES } from '../../../shared/k8s/resources.js';
import { MERGE_PATCH } from '../../../shared/k8s/rest.js';
import { run, sleep, tryRun, waitFor } from '../../lab/exec.js';
import { connect } from '../../lab/lab-api.js';
import { labDown, LabInUseError } from '../../lab/lab-down.js';
import { labUp } from '../../lab/lab-up.js';
import { labPaths, type LabPaths } from '../../lab/paths.js';
import { CLIENT_NS, HOST_IF, hostByMac, labPlan, ROUTER_NS, type LabNode, type LabPlan } from '../../lab/plan.js';
import { whoAnswers } from '../../lab/probes.js';
import { isAlive, logFile, readRecords, startProcess, type ProcRecord } from '../../lab/processes.js';
import { shippedNodeFlags } from '../../shipped-flags.js';

export { sleep, waitFor };
export const paths: LabPaths = labPaths();
export const NAMESPACE = 'herald-system';
export const ECHO_PORT = 9000;

/** Takes the lab down (waiting while another run owns it) and brings it up as asked. */
export async function acquireLab(o: { nodes: number; components: boolean; say?: (l: string) => void }): Promise<LabPlan> {
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      await labDown(paths);
      break;
    } catch (e) {
      if (!(e instanceof LabInUseError) || Date.now() > deadline) throw e;
      o.say?.('the lab is in use by another run; waiting');
      await sleep(3000);
    }
  }
  const { plan } = await labUp(paths, { nodes: o.nodes, router: { kind: 'frr', ibgp: false }, components: o.components }, o.say);
  return plan;
}

export async function releaseLab(): Promise<void> {
  const r = await labDown(paths);
  if (r.problems.length > 0) throw new Error(`lab down: ${r.problems.join('; ')}`);
}

async function api<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
  const client = connect(paths.kubeconfig);
  try {
    return await client.rest.request<T>(method, path, { ...(body !== undefined ? { body } : {}), ...(contentType ? { contentType } : {}) });
  } finally {
    client.close();
  }
}

async function createOrReplace(path: string, body: { metadata: { name: string } }): Promise<void> {
  try {
    await api('POST', path, body);
  } catch (e) {
    if ((e as { code?: string }).code !== 'AlreadyExists') throw e;
    const cur = await api<{ metadata: { resourceVersion: string } }>('GET', `${path}/${body.metadata.name}`);
    await api('PUT', `${path}/${body.metadata.name}`, { ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata.resourceVersion } });
  }
}

/** The L2 pool of the lab (DESIGN.md) and an L2Advertisement for it, optionally more ranges. */
export async function applyL2Config(extraAddresses: string[] = [], interfaces?: string[]): Promise<void> {
  await createOrReplace(collectionPath(heraldResource('IPAddressPool'), NAMESPACE), {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: 'lan', namespace: NAMESPACE },
    spec: { addresses: ['192.0.2.200-192.0.2.250', '2001:db8:0:2::200-2001:db8:0:2::2ff', ...extraAddresses] },
  } as { metadata: { name: string } });
  await createOrReplace(collectionPath(heraldResource('L2Advertisement'), NAMESPACE), {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name: 'lan', namespace: NAMESPACE },
    spec: { ipAddressPools: ['lan'], ...(interfaces ? { interfaces } : {}) },
  } as { metadata: { name: string } });
}

export interface ServiceOptions {
  namespace?: string;
  families?: ('IPv4' | 'IPv6')[];
  local?: boolean;
  /** Ask for these IPs (herald.dev/loadBalancerIPs). */
  ips?: string[];
}

/** A LoadBalancer Service; resolves with the IPs the controller assigned. */
export async function createService(name: string, o: ServiceOptions = {}): Promise<string[]> {
  const ns = o.namespace ?? 'default';
  const families = o.families ?? ['IPv4'];
  await api('POST', collectionPath(SERVICES, ns), serviceBody(name, ns, o));
  return waitFor(
    `an IP for ${ns}/${name}`,
    async () => {
      const s = await api<{ status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }>('GET', objectPath(SERVICES, ns, name));
      const ips = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter(Boolean);
      return ips.length >= families.length ? ips : undefined;
    },
    20_000,
    50,
  );
}

function serviceBody(name: string, ns: string, o: ServiceOptions): unknown {
  const families = o.families ?? ['IPv4'];
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, annotations: o.ips ? { 'herald.dev/loadBalancerIPs': o.ips.join(',') } : {} },
    spec: {
      type: 'LoadBalancer',
      ipFamilies: families,
      ipFamilyPolicy: families.length > 1 ? 'RequireDualStack' : 'SingleStack',
      selector: { app: name },
      ports: [
        { name: 'http', port: 80, targetPort: 80, protocol: 'TCP' },
        { name: 'echo', port: ECHO_PORT, targetPort: ECHO_PORT, protocol: 'UDP' },
      ],
      ...(o.local ? { externalTrafficPolicy: 'Local' } : {}),
    },
  };
}

/**
 * Creates the Services all at once: `concurrency` POSTs in flight over one client, none
 * waiting for an IP. Resolves when every POST has been answered.
 */
export async function createServicesAtOnce(names: readonly string[], o: ServiceOptions = {}, concurrency = 64): Promise<void> {
  const ns = o.namespace ?? 'default';
  const client = connect(paths.kubeconfig);
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < names.length) {
        const name = names[next++] as string;
        await client.rest.request('POST', collectionPath(SERVICES, ns), { body: serviceBody(name, ns, o) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
  } finally {
    client.close();
  }
}

/** How many Services in `namespace` whose name starts with `prefix` have their IPs. */
export async function servicesWithIPs(prefix: string, namespace = 'default'): Promise<number> {
  const r = await api<{ items: { metadata: { name: string }; status?: { loadBalancer?: { ingress?: unknown[] } } }[] }>('GET', collectionPath(SERVICES, namespace));
  return r.items.filter((s) => s.metadata.name.startsWith(prefix) && (s.status?.loadBalancer?.ingress?.length ?? 0) > 0).length;
}

export async function deleteService(name: string, namespace = 'default'): Promise<void> {
  await api('DELETE', objectPath(SERVICES, namespace, name));
}

export async function listL2Statuses(): Promise<{ metadata: { name: string }; status?: { node?: string; ip?: string; serviceName?: string; interfaces?: { name: string; mac?: string }[] } }[]> {
  const r = await api<{ items: [] }>('GET', collectionPath(heraldResource('ServiceL2Status'), NAMESPACE));
  return r.items;
}

export async function serviceEvents(name: string, namespace = 'default'): Promise<{ reason?: string; message?: string; count?: number }[]> {
  const r = await api<{ items: { reason?: string; message?: string; count?: number; involvedObject?: { name?: string; kind?: string } }[] }>(
    'GET',
    `/api/v1/namespaces/${namespace}/events`,
  );
  return r.items.filter((e) => e.involvedObject?.kind === 'Service' && e.involvedObject.name === name);
}

export const patchMerge = (path: string, body: unknown): Promise<unknown> => api('PATCH', path, body, MERGE_PATCH);

// ---------------------------------------------------------------- who answers

/** The lab nodes whose MACs answer ARP/NDP for `ip` from hl-client (every reply in `waitMs`). */
export async function answeringNodes(plan: LabPlan, ip: string, waitMs = 1000): Promise<string[]> {
  const macs = await whoAnswers(CLIENT_NS, ip, waitMs);
  return macs.map((m) => hostByMac(plan, m) ?? m).sort();
}

/** Forgets hl-client's neighbour entry for `ip`, so the next packet asks again. */
export async function forgetNeighbour(ip: string): Promise<void> {
  await tryRun('ip', ['-n', CLIENT_NS, 'neigh', 'del', ip, 'dev', HOST_IF]);
}

// ---------------------------------------------------------------- echo and prober

const TSX = ['--import', 'tsx'];
const HERE = join(paths.repo, 'test', 'e2e', 'l2');

function spawnIn(ns: string, args: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, ...TSX, ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd: paths.repo });
}

async function ready(child: ChildProcess, re: RegExp, what: string): Promise<void> {
  // A 'data' listener, not a readline that is closed afterwards: closing one pauses the
  // stream for every other reader.
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start`)), 20_000);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      if (!re.test(seen)) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve();
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code})`)));
  });
}

/** A UDP echo in every node (port 9000), answering with the node's name. */
export async function startEchoes(plan: LabPlan): Promise<ChildProcess[]> {
  const kids = plan.nodes.map((n) => spawnIn(n.ns, [join(HERE, 'udp-echo.ts'), '--node', n.name, '--port', String(ECHO_PORT)]));
  await Promise.all(kids.map((k, i) => ready(k, /ready/, `udp-echo in ${plan.nodes[i]?.ns}`)));
  return kids;
}

export async function stopChildren(kids: ChildProcess[]): Promise<void> {
  await Promise.all(
    kids.map(
      (k) =>
        new Promise<void>((resolve) => {
          if (k.exitCode !== null || k.signalCode !== null) return resolve();
          k.once('exit', () => resolve());
          k.kill('SIGTERM');
          setTimeout(() => k.kill('SIGKILL'), 3000).unref();
        }),
    ),
  );
}

export interface Answer {
  /** Probe number. */
  s: number;
  /** Sent at, epoch ms. */
  t: number;
  /** The node that answered (udp, http); absent on an HTTP error. */
  n?: string;
  /** UDP round trip, ms. */
  r?: number;
  /** HTTP duration, ms. */
  ms?: number;
  /** HTTP error. */
  e?: string;
}

/** A client in hl-client probing one IP every `interval` ms (UDP echo or HTTP). */
export class Prober {
  readonly answers: Answer[] = [];
  sent = 0;
  private constructor(
    readonly child: ChildProcess,
    readonly interval: number,
    readonly mode: 'udp' | 'http',
  ) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        const o = JSON.parse(l) as Answer & { sent?: number };
        if (typeof o.sent === 'number') this.sent = o.sent;
        else if (typeof o.s === 'number') this.answers.push(o);
      } catch {
        // not ours
      }
    });
  }

  static async start(target: string, o: { mode?: 'udp' | 'http'; interval?: number } = {}): Promise<Prober> {
    const interval = o.interval ?? 10;
    const child = spawnIn(CLIENT_NS, [join(HERE, 'prober.ts'), '--target', target, '--mode', o.mode ?? 'udp', '--interval', String(interval)]);
    const p = new Prober(child, interval, o.mode ?? 'udp');
    await ready(child, /"start"/, 'the prober');
    return p;
  }

  /** The last answer that came from a node. */
  last(): Answer | undefined {
    for (let i = this.answers.length - 1; i >= 0; i--) if (this.answers[i]?.n) return this.answers[i];
    return undefined;
  }

  /** Waits until answers come from a node for which `pred` holds, `stableMs` without a miss. */
  async waitFor(pred: (node: string) => boolean, what: string, timeoutMs = 10_000, stableMs = 300): Promise<string> {
    return waitFor(
      what,
      async () => {
        const now = performance.timeOrigin + performance.now();
        const recent = this.answers.filter((a) => a.t >= now - stableMs - 50);
        if (recent.length < stableMs / this.interval / 2) return undefined;
        const nodes = new Set(recent.map((a) => a.n ?? ''));
        const [only] = nodes;
        return nodes.size === 1 && only && pred(only) ? only : undefined;
      },
      timeoutMs,
      20,
    );
  }

  /** Answers whose probe was sent in [from, to) (epoch ms). */
  between(from: number, to: number): Answer[] {
    return this.answers.filter((a) => a.t >= from && a.t < to);
  }

  /**
   * The longest time without an answer, ms, among probes sent in [from, to), less one
   * probe interval: 0 when every probe was answered in order. Measured on arrival times,
   * so probes the kernel queued while it resolved the neighbour count as the wait they were.
   */
  outage(from: number, to: number): number {
    const arrivals = this.between(from, to)
      .filter((a) => a.n !== undefined)
      .map((a) => a.t + (a.r ?? a.ms ?? 0))
      .sort((x, y) => x - y);
    if (arrivals.length < 2) return to - from;
    let worst = 0;
    for (let i = 1; i < arrivals.length; i++) worst = Math.max(worst, (arrivals[i] as number) - (arrivals[i - 1] as number));
    return Math.max(0, worst - this.interval);
  }

  /** Failed requests among those sent in [from, to) (HTTP: errors and timeouts). */
  failures(from: number, to: number): Answer[] {
    return this.between(from, to).filter((a) => a.e !== undefined);
  }

  /** UDP: probes sent in [from, to) with no answer (by probe number). */
  lost(from: number, to: number): number {
    const got = this.between(from, to).map((a) => a.s);
    if (got.length === 0) return Math.round((to - from) / this.interval);
    const lo = Math.min(...got);
    const hi = Math.max(...got);
    return hi - lo + 1 - new Set(got).size;
  }

  /** Stops probing; resolves once every request in flight has ended and its line is read. */
  async stop(): Promise<void> {
    const drained = this.child.stdout && !this.child.stdout.readableEnded ? new Promise((resolve) => this.child.stdout?.once('close', resolve)) : undefined;
    await stopChildren([this.child]);
    await drained;
  }

  /**
   * Probes numbered `from` onwards (up to the last one sent) that got no answer, or an
   * error: after stop(), every probe that did not succeed. A strict check leaves nothing
   * out for being in flight.
   */
  unanswered(from: number): { missing: number[]; failed: Answer[] } {
    const got = new Map(this.answers.filter((a) => a.s >= from).map((a) => [a.s, a]));
    const missing: number[] = [];
    for (let s = from; s <= this.sent; s++) if (!got.has(s)) missing.push(s);
    return { missing, failed: [...got.values()].filter((a) => a.e !== undefined) };
  }

  /** The number of the last probe sent so far (0 before the first). */
  lastSent(): number {
    return this.sent;
  }
}

export const nowMs = (): number => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------- breaking the leader

export function speakerRecord(node: string): ProcRecord {
  const rec = readRecords(paths).find((r) => r.name === `speaker-${node}`);
  if (!rec) throw new Error(`no speaker record for ${node}`);
  return rec;
}

/** Signals a node's speaker (a process the lab started) and waits for it to exit. */
export async function signalSpeaker(node: string, signal: NodeJS.Signals): Promise<void> {
  const rec = speakerRecord(node);
  if (!isAlive(rec)) return;
  process.kill(rec.pid, signal);
  await waitFor(`speaker-${node} to exit`, async () => (isAlive(rec) ? undefined : true), 10_000, 10);
}

function speakerLog(node: string): string {
  return logFile(paths, `speaker-${node}`);
}

function logSize(node: string): number {
  try {
    return statSync(speakerLog(node)).size;
  } catch {
    return 0;
  }
}

/** How a speaker is (re)started: under tsx as the lab does, or compiled as the image runs it. */
export interface SpeakerRun {
  /** The compiled CLI (compileHerald); default: shared/cli.ts under tsx. */
  entry?: string;
  /** Node's own flags; with `entry`, default IMAGE_NODE_FLAGS. */
  nodeFlags?: string[];
  /** More `herald speaker` flags. */
  args?: string[];
  /** More environment variables. */
  env?: Record<string, string>;
  /** Wait for the membership to be ready (default); false: for the speaker to start (no L2Advertisement yet). */
  awaitMembership?: boolean;
}

/** The speaker's Node flags as shipped (Dockerfile ENTRYPOINT and speaker.yaml NODE_OPTIONS). */
export const IMAGE_NODE_FLAGS = shippedNodeFlags(paths.repo, 'speaker');

/** Starts a node's speaker again; resolves once its membership is ready (or, as asked, once it started). */
export async function restartSpeaker(plan: LabPlan, node: string, run: SpeakerRun = {}): Promise<void> {
  const n = plan.nodes.find((x) => x.name === node) as LabNode;
  const from = logSize(node);
  const start = run.entry ? [...(run.nodeFlags ?? IMAGE_NODE_FLAGS), run.entry] : [...(run.nodeFlags ?? []), ...TSX, join(paths.repo, 'shared', 'cli.ts')];
  await startProcess(paths, {
    name: `speaker-${node}`,
    netns: n.ns,
    cmd: process.execPath,
    args: [...start, 'speaker', '--kubeconfig', `${paths.kubeconfig}.speaker`, '--node-name', node, ...(run.args ?? [])],
    ...(run.env ? { env: run.env } : {}),
  });
  await waitForSpeakerLog(node, run.awaitMembership === false ? /"msg":"speaker started"/ : /"msg":"membership: ready"/, from, 30_000);
}

/**
 * herald compiled to JavaScript as `npm run build` does (tsconfig.build.json), into a
 * scratch directory so that dist/ is left alone; node_modules is linked in (the native
 * addon is found there). Returns the CLI entry and how to remove the directory.
 */
export function compileHerald(): { entry: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hlt-l2-js-'));
  const out = join(dir, 'out');
  const tsc = join(paths.repo, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(paths.repo, 'tsconfig.build.json'), '--outDir', out, '--sourceMap', 'false'], { encoding: 'utf8', cwd: paths.repo });
  if (r.error || (r.status !== 0 && !isFile(join(out, 'shared', 'cli.js')))) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(paths.repo, 'node_modules'), join(out, 'node_modules'));
  return { entry: join(out, 'shared', 'cli.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Waits for a line matching `re` written to a speaker's log after byte `from`. */
export async function waitForSpeakerLog(node: string, re: RegExp, from: number, timeoutMs: number): Promise<void> {
  await waitFor(
    `${re} in speaker-${node}'s log`,
    async () => (re.test(readFileSync(speakerLog(node), 'utf8').slice(from)) ? true : undefined),
    timeoutMs,
    50,
  );
}

export { logSize as speakerLogSize };

/**
 * Cuts (or mends) a node's link the way a pulled cable or a dead switch port does: its
 * port on the LAN bridge goes down, the node sees its carrier go. (Setting the node's own
 * eth0 down would also make Linux drop the interface's IPv6 addresses, keep_addr_on_down
 * being 0, and they would not come back with the link: not a failure worth simulating.)
 */
export async function setLink(plan: LabPlan, node: string, up: boolean): Promise<void> {
  const n = plan.nodes.find((x) => x.name === node);
  if (!n) throw new Error(`no lab node ${node}`);
  await run('ip', ['-n', ROUTER_NS, 'link', 'set', n.port, up ? 'up' : 'down']);
}

/** Prometheus text of a node's speaker (its metrics port inside the node namespace). */
export async function speakerMetrics(node: string): Promise<string> {
  const r = await run('curl', ['-sS', '-m', '3', 'http://127.0.0.1:7473/metrics'], { netns: node });
  return r.stdout;
}

/** The sum of a metric's samples whose labels match `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => ls[k] === v)) sum += Number(m[4]);
  }
  return sum;
}

export { labPlan };
