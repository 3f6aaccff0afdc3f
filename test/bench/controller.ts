// Controller benchmark against the embedded API server, each in its own process so the
// RSS and CPU figures are the controller's own:
//   1. create N LoadBalancer Services (half IPv4, a quarter IPv6, a quarter
//      RequireDualStack) with no controller running, in 10 namespaces;
//   2. cold start: spawn `herald controller`, time until every Service's status write has
//      been acknowledged (the controller's own counter, then checked through the API);
//   3. steady state: create Services one at a time, time from the create request to the
//      watch event showing the address (p50/p99);
//   4. warm restart: SIGTERM, start a new controller, time until every Service has been
//      reconciled (with zero status writes: no address changes);
// and the controller's RSS (VmHWM = peak, VmRSS once settled) and CPU, beside the API
// server's CPU, so a run where the API server is the bottleneck says so.
//
// Pools: one IPAddressPool with the IPv4 /16 127.1.0.0/16 (loopback: routed nowhere, and
// the documentation ranges are /24s) and the IPv6 /64 2001:db8::/64 (RFC 3849). No
// traffic is sent to any of them.
//
//   node --import tsx test/bench/controller.ts [sizes, default 1000,10000,50000] [--steady N] [--compiled]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKubeClient, loadKubeConfig, type KubeClient } from '../../shared/k8s/client.js';
import { collectionPath, heraldResource, NAMESPACES, SERVICES } from '../../shared/k8s/resources.js';
import { shippedNodeFlags } from '../shipped-flags.js';

const REPO = join(import.meta.dirname, '..', '..');
const args = process.argv.slice(2);
const steadyIdx = args.indexOf('--steady');
const STEADY = steadyIdx >= 0 ? Number(args[steadyIdx + 1]) : 200;
const sizeArg = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--steady');
const SIZES = (sizeArg ?? '1000,10000,50000').split(',').map(Number);
const COMPILED = args.includes('--compiled');
const NAMESPACE_COUNT = 10;
let compiledEntry: string | undefined;
const CLK_TCK = 100;

interface Proc {
  child: ChildProcess;
  /** Where its stdout (JSON log lines) goes: a file, as a container runtime would take it. */
  logFile?: string;
  exited: Promise<number | null>;
}

/**
 * The Node.js flags the controller ships with (the Dockerfile's ENTRYPOINT and the
 * NODE_OPTIONS of manifests/base/controller.yaml, the old-space cap under the 150 MiB
 * limit), read from those files so the benchmark runs what is deployed.
 */
/** HERALD_BENCH_NODE_FLAGS replaces them (e.g. to add --cpu-prof). */
const CONTROLLER_NODE_FLAGS = process.env.HERALD_BENCH_NODE_FLAGS !== undefined ? process.env.HERALD_BENCH_NODE_FLAGS.split(' ').filter(Boolean) : shippedNodeFlags(REPO, 'controller');
/** The same for the embedded API server, from HERALD_BENCH_API_NODE_FLAGS. */
const API_NODE_FLAGS = (process.env.HERALD_BENCH_API_NODE_FLAGS ?? '').split(' ').filter(Boolean);

/**
 * The controller's flags for n Services: the shipped old-space cap is sized for 10,000
 * (the 150 MiB limit); above that it grows in proportion, as an operator sizing the
 * limit for more Services would set it (the README says so).
 */
function controllerFlags(n: number): string[] {
  return CONTROLLER_NODE_FLAGS.map((f) => {
    const m = /^--max-old-space-size=(\d+)$/.exec(f);
    return m && n > 10_000 ? `--max-old-space-size=${Math.ceil((Number(m[1]) * n) / 10_000)}` : f;
  });
}

function start(argv: string[], logFile?: string, n = 0): Proc {
  const flags = argv[0] === 'controller' ? controllerFlags(n) : argv[0] === 'apiserver' ? API_NODE_FLAGS : [];
  const out = logFile ? openSync(logFile, 'w') : 'ignore';
  // --compiled: the controller as plain JavaScript (tsc output), without tsx's loader.
  const entry = argv[0] === 'controller' && compiledEntry ? [compiledEntry, ...argv.slice(1)] : ['--import', 'tsx', 'shared/cli.ts', ...argv];
  const child = spawn(process.execPath, [...flags, ...entry], { cwd: REPO, stdio: ['ignore', out, 'pipe'] });
  if (typeof out === 'number') closeSync(out);
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => process.stderr.write(d));
  return { child, ...(logFile ? { logFile } : {}), exited: new Promise((r) => child.on('exit', (code) => r(code))) };
}

interface LogLine {
  msg?: string;
  time?: string;
  addr?: string;
}

function logLines(p: Proc): LogLine[] {
  if (!p.logFile) return [];
  return readFileSync(p.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{') && !l.includes('"IP allocated"'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as LogLine];
      } catch {
        return [];
      }
    });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Counts the lines of a growing file that contain `needle`, reading only what is new. */
function logCounter(file: string, needle: string): () => number {
  let offset = 0;
  let partial = '';
  let count = 0;
  const buf = Buffer.alloc(1 << 20);
  return () => {
    if (!existsSync(file)) return count;
    const fd = openSync(file, 'r');
    try {
      for (;;) {
        const got = readSync(fd, buf, 0, buf.length, offset);
        if (got === 0) break;
        offset += got;
        const lines = (partial + buf.toString('utf8', 0, got)).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) if (l.includes(needle)) count++;
      }
    } finally {
      closeSync(fd);
    }
    return count;
  };
}

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

function procStatus(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}

/** When the process logged `msg` (its own clock: same host). */
function logAt(lines: readonly LogLine[], msg: string): number | undefined {
  const t = lines.find((l) => l.msg === msg)?.time;
  return t === undefined ? undefined : Date.parse(t);
}

function metricsAddr(p: Proc): Promise<string> {
  return until('the metrics address', () => logLines(p).find((l) => l.msg === 'metrics server listening')?.addr, 30_000, 50);
}

async function metric(addr: string, re: RegExp): Promise<number> {
  const text = await (await fetch(`http://${addr}/metrics`)).text();
  return Number(re.exec(text)?.[1] ?? 0);
}

const BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '+Inf'];

async function histogram(addr: string): Promise<number[]> {
  const text = await (await fetch(`http://${addr}/metrics`)).text();
  return BUCKETS.map((le) => Number(new RegExp(`^herald_controller_time_to_ip_seconds_bucket\\{le="${le.replace('+', '\\+')}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0));
}

/** The bucket bound under which 99 % of the observations between two scrapes fall. */
function histogramP99(before: number[], after: number[]): string {
  const diff = after.map((v, i) => v - (before[i] ?? 0));
  const total = diff[diff.length - 1] ?? 0;
  const i = diff.findIndex((v) => v >= 0.99 * total);
  const le = BUCKETS[i] ?? '+Inf';
  return le === '+Inf' ? '> 30 s' : `${Number(le) * 1000} ms`;
}

const ALLOCATED = /^herald_controller_reconcile_total\{result="allocated"\} (\d+)/m;
const UNCHANGED = /^herald_controller_reconcile_total\{result="unchanged"\} (\d+)/m;

function serviceBody(ns: string, name: string, i: number): object {
  const kind = i % 4;
  // No node ports: 30000-32767 would run out long before 50,000 Services.
  const spec: Record<string, unknown> = { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] };
  if (kind === 2) Object.assign(spec, { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] });
  if (kind === 3) Object.assign(spec, { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] });
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec };
}

async function createServices(c: KubeClient, prefix: string, from: number, n: number, parallel = 64): Promise<void> {
  let next = from;
  const end = from + n;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < end; i = next++) {
      const ns = `bench-${i % NAMESPACE_COUNT}`;
      await c.rest.request('POST', collectionPath(SERVICES, ns), { body: serviceBody(ns, `${prefix}-${i}`, i) });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** Wants per Service: 1 address, 2 for the dual-stack quarter. */
const addressesWanted = (n: number): number => n + Math.floor((n + 0) / 4);

interface Row {
  n: number;
  createS: number;
  coldSpawnS: number;
  bootS: number;
  coldLeaderS: number;
  syncS: number;
  claimS: number;
  ctlCPU: number;
  apiCPU: number;
  peakMB: number;
  settledMB: number;
  heapMB: number;
  externalMB: number;
  p50: number;
  p99: number;
  ctlP99: string;
  warmS: number;
  warmWrites: number;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

async function runSize(n: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const kc = join(dir, 'kubeconfig');
  const api = start(['apiserver', '--listen', '127.0.0.1:0', '--kubeconfig-out', kc, '--log-level', 'warn']);
  const procs: Proc[] = [api];
  try {
    await until('the API server', () => (existsSync(`${kc}.controller`) ? true : undefined), 30_000);
    const admin = createKubeClient(loadKubeConfig({ kubeconfig: kc }).kc, { timeoutMs: 120_000 });
    for (let i = 0; i < NAMESPACE_COUNT; i++) {
      await admin.rest.request('POST', collectionPath(NAMESPACES), { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `bench-${i}` } } });
    }
    await admin.rest.request('POST', collectionPath(heraldResource('IPAddressPool'), 'herald-system'), {
      body: { apiVersion: 'herald.dev/v1beta1', kind: 'IPAddressPool', metadata: { name: 'bench', namespace: 'herald-system' }, spec: { addresses: ['127.1.0.0/16', '2001:db8::/64'] } },
    });
    let t = Date.now();
    await createServices(admin, 'svc', 0, n);
    const createS = (Date.now() - t) / 1000;
    process.stderr.write(`  ${n}: created in ${createS.toFixed(1)} s; controller flags ${controllerFlags(n).join(' ')}\n`);

    // ---- cold start
    const apiCPU0 = cpuSeconds(api.child.pid as number);
    t = Date.now();
    const spawnedAt = t;
    const ctl = start(['controller', '--kubeconfig', `${kc}.controller`, '--metrics-addr', '127.0.0.1:0', '--log-level', 'info'], join(dir, 'controller.log'), n);
    procs.push(ctl);
    const pid = ctl.child.pid as number;
    // Counted from its log ("IP allocated" follows each acknowledged write), read every
    // 10 ms: scraping /metrics that often cost the controller ~4 % of its CPU.
    const allocated = logCounter(join(dir, 'controller.log'), '"msg":"IP allocated"');
    await until(`${n} allocations`, () => (allocated() >= n ? true : undefined), 300_000, 10);
    const done = Date.now();
    const addr = await metricsAddr(ctl);
    if ((await metric(addr, ALLOCATED)) < n) throw new Error('the log shows more allocations than the controller counted');
    const ctlCPU = cpuSeconds(pid);
    const apiCPU = cpuSeconds(api.child.pid as number) - apiCPU0;
    const lines = logLines(ctl);
    const leader = logAt(lines, 'leader election: became leader') ?? t;
    const synced = logAt(lines, 'informers synced') ?? t;
    const claimed = logAt(lines, 'claimed the addresses Services hold') ?? leader;
    const connecting = logAt(lines, 'connecting to the API server') ?? t;
    const bootS = (connecting - t) / 1000;
    const peakMB = procStatus(pid).hwm;
    // Checked through the API, not only by the controller's counter.
    const list = await admin.rest.request<{ items: { status?: { loadBalancer?: { ingress?: unknown[] } } }[] }>('GET', collectionPath(SERVICES));
    const got = list.items.reduce((s, x) => s + (x.status?.loadBalancer?.ingress?.length ?? 0), 0);
    if (got !== addressesWanted(n)) throw new Error(`expected ${addressesWanted(n)} addresses in status, found ${got}`);

    // ---- steady state, one Service at a time
    const before = await histogram(addr);
    const lat: number[] = [];
    const waiting = new Map<string, (t: number) => void>();
    const rv = (await admin.rest.request<{ metadata: { resourceVersion: string } }>('GET', collectionPath(SERVICES), { query: { limit: 1 } })).metadata.resourceVersion;
    const watch = await admin.watch.watch(
      collectionPath(SERVICES),
      { resourceVersion: rv, allowWatchBookmarks: false },
      (_phase, obj: { metadata?: { name?: string }; status?: { loadBalancer?: { ingress?: unknown[] } } }) => {
        const name = obj.metadata?.name ?? '';
        const w = waiting.get(name);
        if (w && (obj.status?.loadBalancer?.ingress?.length ?? 0) > 0) {
          waiting.delete(name);
          w(performance.now());
        }
      },
      () => undefined,
    );
    for (let i = 0; i < STEADY; i++) {
      const name = `new-${i}`;
      const seen = new Promise<number>((r) => waiting.set(name, r));
      const t0 = performance.now();
      await admin.rest.request('POST', collectionPath(SERVICES, 'bench-0'), { body: serviceBody('bench-0', name, i * 4) });
      lat.push((await seen) - t0);
    }
    watch.abort();
    const after = await histogram(addr);
    const ctlP99 = histogramP99(before, after);
    await sleep(3_000);
    const settledMB = procStatus(pid).rss;
    const heapMB = (await metric(addr, /^nodejs_heap_size_used_bytes (\d+)/m)) / 2 ** 20;
    const externalMB = (await metric(addr, /^nodejs_external_memory_bytes (\d+)/m)) / 2 ** 20;

    // ---- warm restart
    ctl.child.kill('SIGTERM');
    await ctl.exited;
    const total2 = n + STEADY;
    t = Date.now();
    const ctl2 = start(['controller', '--kubeconfig', `${kc}.controller`, '--metrics-addr', '127.0.0.1:0', '--log-level', 'info'], join(dir, 'controller2.log'), n);
    procs.push(ctl2);
    const addr2 = await metricsAddr(ctl2);
    await until('every Service reconciled', async () => ((await metric(addr2, UNCHANGED)) >= total2 ? true : undefined), 300_000, 50);
    const warmS = (Date.now() - t) / 1000;
    const warmWrites = await metric(addr2, ALLOCATED);
    ctl2.child.kill('SIGTERM');
    await ctl2.exited;

    admin.close();
    return {
      n,
      createS,
      coldSpawnS: (done - spawnedAt) / 1000,
      bootS,
      coldLeaderS: (done - leader) / 1000,
      syncS: (synced - connecting) / 1000,
      claimS: (claimed - leader) / 1000,
      ctlCPU,
      apiCPU,
      peakMB,
      settledMB,
      heapMB,
      externalMB,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      ctlP99,
      warmS,
      warmWrites,
    };
  } finally {
    // SIGTERM first, so that a process run with --cpu-prof writes its profile.
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    const killer = setTimeout(() => procs.forEach((p) => p.child.exitCode === null && p.child.kill('SIGKILL')), 10_000);
    await Promise.all(procs.map((p) => p.exited));
    clearTimeout(killer);
    if (process.env.HERALD_BENCH_KEEP) process.stderr.write(`  logs kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

async function idleRSS(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const kc = join(dir, 'kubeconfig');
  const api = start(['apiserver', '--listen', '127.0.0.1:0', '--kubeconfig-out', kc, '--log-level', 'warn']);
  try {
    await until('the API server', () => (existsSync(`${kc}.controller`) ? true : undefined), 30_000);
    const ctl = start(['controller', '--kubeconfig', `${kc}.controller`, '--metrics-addr', '127.0.0.1:0', '--log-level', 'info'], join(dir, 'idle.log'));
    try {
      await until('controller started', () => (logAt(logLines(ctl), 'controller started') ? true : undefined), 30_000, 50);
      await sleep(3_000);
      return procStatus(ctl.child.pid as number).rss;
    } finally {
      ctl.child.kill('SIGTERM');
      await ctl.exited;
    }
  } finally {
    api.child.kill('SIGTERM');
    await api.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Compiles the controller with tsc into a scratch directory; returns its entry script. */
function compileController(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-js-'));
  const out = join(dir, 'out');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(REPO, 'tsconfig.json'),
      compilerOptions: { noEmit: false, outDir: out, rootDir: REPO, sourceMap: false, types: ['node'], typeRoots: [join(REPO, 'node_modules', '@types')] },
      files: [join(REPO, 'controller', 'main.ts')],
      include: [],
    }),
  );
  const r = spawnSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(REPO, 'node_modules'), join(out, 'node_modules'));
  const entry = join(out, 'run.js');
  writeFileSync(entry, "import { main } from './controller/main.js';\nprocess.exitCode = await main(process.argv.slice(2));\n");
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return entry;
}

if (COMPILED) {
  process.stderr.write('compiling the controller (tsc)…\n');
  compiledEntry = compileController();
}
const rows: Row[] = [];
const idle = await idleRSS();
for (const n of SIZES) {
  process.stderr.write(`size ${n}\n`);
  rows.push(await runSize(n));
}
const f = (x: number, d = 2): string => x.toFixed(d);
console.log(`\nherald controller benchmark (node ${process.version}; controller run ${COMPILED ? 'as tsc-compiled JavaScript, as the image runs it' : 'with tsx (the image runs compiled JavaScript: --compiled)'}; API server and controller in separate processes; pool 127.1.0.0/16 + 2001:db8::/64)`);
console.log(`controller Node.js flags: ${CONTROLLER_NODE_FLAGS.join(' ') || '(none)'}${process.env.HERALD_BENCH_NODE_FLAGS !== undefined ? ' (HERALD_BENCH_NODE_FLAGS)' : ' (as shipped: Dockerfile ENTRYPOINT + controller.yaml NODE_OPTIONS)'}`);
console.log(`controller idle with no Services: ${f(idle, 0)} MB RSS (Node.js${COMPILED ? '' : ' + tsx'} + informers); load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
console.log('');
const header = ['Services', 'create (driver)', 'cold: spawn→all', '(boot)', 'cold: lead→all', 'list+sync', 'claim', 'ctl CPU', 'API CPU', 'peak RSS', 'settled RSS', 'heap / ext', `new svc p50`, 'p99', 'ctl p99 ≤', 'warm restart', 'writes'];
const table = rows.map((r) => [
  String(r.n),
  `${f(r.createS, 1)} s`,
  `${f(r.coldSpawnS)} s`,
  `${f(r.bootS)} s`,
  `${f(r.coldLeaderS)} s`,
  `${f(r.syncS)} s`,
  `${f(r.claimS)} s`,
  `${f(r.ctlCPU, 1)} s`,
  `${f(r.apiCPU, 1)} s`,
  `${f(r.peakMB, 0)} MB`,
  `${f(r.settledMB, 0)} MB`,
  `${f(r.heapMB, 0)} / ${f(r.externalMB, 0)} MB`,
  `${f(r.p50, 1)} ms`,
  `${f(r.p99, 1)} ms`,
  r.ctlP99,
  `${f(r.warmS)} s`,
  String(r.warmWrites),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? '').length)));
const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ') + ' |';
console.log(line(header));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const r of table) console.log(line(r));
console.log(`
cold: spawn→all   from spawning "herald controller" to the last of the N status writes acknowledged
(boot)            of which Node.js (and tsx) start-up, until the controller's first log line
cold: lead→all    the same from winning the Lease (informers already synced)
list+sync         informers' first list (Services, pools, namespaces)
claim             consistent paged list of every Service and claims, after winning the Lease
heap / ext        once settled: V8 heap in use, and memory outside it (Buffers)
ctl/API CPU       user+system CPU of each process during the cold start (API server: from spawn of the controller)
new svc p50/p99   steady state, one Service at a time: create request sent → watch shows its address (${STEADY} Services)
ctl p99 ≤         the controller's own histogram over the same Services (first seen → write acknowledged), bucket bound
warm restart      SIGTERM, new controller: first log line → every Service reconciled; writes = addresses changed (must be 0)`);
