// L2 failover, measured in the lab the way a user would feel it: a client in hl-client
// sends a UDP probe to a service IP every 10 ms (a UDP echo in each node answers with the
// node's name), and the outage is the longest time the client goes without an answer
// (less one probe interval) around the moment the leader is broken:
//   - link: the leader's link goes down (`ip link set eth0 down` in its namespace);
//   - kill: the leader's speaker (or keepalived) gets SIGKILL.
// For each: median, p99 and max over the trials, and the switch time (break → first
// answer from another node). Run for herald at its defaults, then for keepalived between
// the same node namespaces (the lab's components stopped) at its defaults (VRRPv2,
// advert_int 1) and with VRRPv3 at advert_int 0.1. Then the speakers, compiled as the image
// runs them (--tsx: under tsx as the lab runs them), while 1,000 L2 Services are created
// at once: no membership flap, and their RSS with the 1,000 IPs. Targets (DESIGN.md): median ≤ 0.5 s, worst ≤ 1 s, ≥ 5× better than
// keepalived's defaults. Needs root; owns the lab while it runs.
//   npm run bench:failover -- [--trials 20] [--only herald|keepalived|rss]... [--rss-ips 1000] [--tsx] [--json FILE]
//
// keepalived runs with `nopreempt` (all BACKUP), so that a node coming back does not take
// the VIP back between trials; that changes nothing in how fast a backup takes over.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tryRun } from '../lab/exec.js';
import { logFile } from '../lab/processes.js';
import type { LabPlan } from '../lab/plan.js';
import {
  acquireLab,
  answeringNodes,
  applyL2Config,
  compileHerald,
  createService,
  createServicesAtOnce,
  forgetNeighbour,
  IMAGE_NODE_FLAGS,
  listL2Statuses,
  metricSum,
  nowMs,
  paths,
  Prober,
  releaseLab,
  restartSpeaker,
  servicesWithIPs,
  setLink,
  signalSpeaker,
  sleep,
  speakerLogSize,
  speakerMetrics,
  speakerRecord,
  startEchoes,
  stopChildren,
  waitFor,
} from '../e2e/l2/harness.js';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '20' },
    only: { type: 'string', multiple: true },
    json: { type: 'string' },
    'rss-ips': { type: 'string', default: '1000' },
    tsx: { type: 'boolean', default: false },
  },
});
const TRIALS = Number(values.trials);
const only = new Set(values.only ?? ['herald', 'keepalived', 'rss']);
const say = (s: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

interface Trial {
  outageMs: number;
  switchMs: number;
  from: string;
  to: string;
}

interface Row {
  system: string;
  scenario: 'link' | 'kill';
  trials: Trial[];
  failed: number;
}

const rows: Row[] = [];
/** herald_layer2_failover_seconds over the herald trials (the speakers' own view). */
let reaction: { meanMs: number; count: number } | undefined;
const cleanups: (() => Promise<void>)[] = [];

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}

/**
 * One trial: waits until the prober has been answered by one node for `settleMs`, breaks
 * it, and waits for answers from another node.
 */
async function trial(p: Prober, breakIt: (leader: string) => Promise<void>, settleMs: number): Promise<Trial> {
  const from = await p.waitFor(() => true, 'a steady leader', 20_000, settleMs);
  const t0 = nowMs();
  await breakIt(from);
  const to = await p.waitFor((n) => n !== from, 'answers from another node', 15_000, 200);
  const first = p.answers.find((a) => a.t >= t0 && a.n === to);
  return { outageMs: p.outage(t0 - 50, nowMs()), switchMs: (first?.t ?? nowMs()) - t0, from, to };
}

async function runTrials(system: string, scenario: Row['scenario'], p: Prober, breakIt: (leader: string) => Promise<void>, restore: (leader: string) => Promise<void>, settleMs: number): Promise<void> {
  const row: Row = { system, scenario, trials: [], failed: 0 };
  rows.push(row);
  for (let i = 0; i < TRIALS; i++) {
    try {
      const t = await trial(p, breakIt, settleMs);
      row.trials.push(t);
      say(`${system} ${scenario} #${i + 1}: outage ${t.outageMs.toFixed(0)} ms, switch ${t.switchMs.toFixed(0)} ms (${t.from} → ${t.to})`);
      await restore(t.from);
    } catch (err) {
      row.failed++;
      say(`${system} ${scenario} #${i + 1} failed: ${(err as Error).message}`);
      const leader = p.last()?.n;
      if (leader) await restore(leader).catch(() => {});
    }
  }
}

// ---------------------------------------------------------------- herald

async function benchHerald(): Promise<void> {
  say('herald: bringing the lab up (3 nodes, controller and speakers)');
  const plan = await acquireLab({ nodes: 3, components: true });
  cleanups.push(releaseLab);
  await applyL2Config();
  const echoes = await startEchoes(plan);
  cleanups.unshift(() => stopChildren(echoes));
  const [ip = ''] = await createService('bench');
  await waitFor(`one node answering for ${ip}`, async () => ((await answeringNodes(plan, ip, 500)).length === 1 ? true : undefined), 20_000, 200);
  const p = await Prober.start(ip);
  cleanups.unshift(() => p.stop());
  say(`herald: probing ${ip} from hl-client every 10 ms`);

  await runTrials(
    'herald',
    'link',
    p,
    (leader) => setLink(plan, leader, false),
    async (leader) => {
      await setLink(plan, leader, true);
      // The node comes back, re-announces, and takes its IP back; settle before the next.
      await sleep(1500);
    },
    800,
  );
  await runTrials(
    'herald',
    'kill',
    p,
    (leader) => signalSpeaker(leader, 'SIGKILL'),
    async (leader) => {
      await restartSpeaker(plan, leader);
      await sleep(1500);
    },
    800,
  );
  await p.stop();
  // The speakers' own measure of the takeover: peer detected down → announcements sent.
  let sum = 0;
  let count = 0;
  for (const n of plan.nodes) {
    const text = await speakerMetrics(n.name).catch(() => '');
    sum += metricSum(text, 'herald_layer2_failover_seconds_sum');
    count += metricSum(text, 'herald_layer2_failover_seconds_count');
  }
  if (count > 0) reaction = { meanMs: (sum / count) * 1000, count };
  await stopChildren(echoes);
  if (only.has('rss')) await benchRss(plan);
  await releaseLab();
  cleanups.length = 0;
}

// ---------------------------------------------------------------- speaker RSS, and a burst of Services

interface RssResult {
  ips: number;
  compiled: boolean;
  nodeFlags: string[];
  baselineMiB: number[];
  perSpeakerMiB: number[];
  peakMiB: number[];
  heapUsedMiB: number[];
  createS: number;
  settleS: number;
  answered: boolean;
  /** Peers declared down by some speaker while the Services were being created. */
  flaps: number;
  /** The longest event-loop stall each speaker saw meanwhile, ms. */
  loopMaxMs: number[];
}

let rss: RssResult | undefined;

function procStatusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/**
 * The speakers, compiled as the image runs them (unless --tsx), idle, then while
 * `--rss-ips` IPv6 L2 Services are created all at once (64 requests in flight, nobody
 * waiting for IPs): membership must not flap (each speaker's
 * herald_membership_transitions_total{direction="down"} and its log), every IP must be
 * announced and reported, and the RSS is read when they are (VmRSS) and at its peak (VmHWM).
 */
async function benchRss(plan: LabPlan): Promise<void> {
  const compiled = !values.tsx;
  let build: { entry: string; remove: () => void } | undefined;
  try {
    if (compiled) {
      say('rss: compiling herald (tsc, as npm run build) and restarting each speaker compiled, with the image\'s Node flags');
      const b = compileHerald();
      build = b;
      // An interrupted run removes it too (the callers drop this list once they are done).
      cleanups.push(async () => b.remove());
      for (const x of plan.nodes) {
        await signalSpeaker(x.name, 'SIGTERM');
        await restartSpeaker(plan, x.name, { entry: b.entry });
      }
    }
    await measureRss(plan, compiled);
  } finally {
    build?.remove();
  }
}

async function measureRss(plan: LabPlan, compiled: boolean): Promise<void> {
  const n = Number(values['rss-ips']);
  // 2001:db8:0:2::1000 onwards: inside the LAN, outside the default pool ranges.
  const last = (0x1000 + n - 1).toString(16);
  await applyL2Config([`2001:db8:0:2::1000-2001:db8:0:2::${last}`]);
  await sleep(5000);
  const pids = plan.nodes.map((x) => speakerRecord(x.name).pid);
  const baselineMiB = pids.map((pid) => procStatusMiB(pid, 'VmRSS'));
  say(`rss: idle ${baselineMiB.map((m) => `${m.toFixed(1)} MiB`).join(', ')}`);
  const logFrom = plan.nodes.map((x) => speakerLogSize(x.name));
  const downs = async (): Promise<number[]> =>
    Promise.all(plan.nodes.map(async (x) => metricSum(await speakerMetrics(x.name), 'herald_membership_transitions_total', { direction: 'down' })));
  const downsBefore = await downs();
  // prom-client resets the event-loop delay histogram at each scrape: this one starts the window.
  await Promise.all(plan.nodes.map((x) => speakerMetrics(x.name)));
  const t0 = Date.now();
  const names = Array.from({ length: n }, (_, i) => `rss-${i}`);
  await createServicesAtOnce(names, { families: ['IPv6'] });
  const createS = (Date.now() - t0) / 1000;
  say(`rss: ${n} Services created in ${createS.toFixed(1)} s`);
  await waitFor(`IPs for the ${n} Services`, async () => ((await servicesWithIPs('rss-')) >= n ? true : undefined), 300_000, 1000);
  await waitFor(
    `ServiceL2Status objects for the ${n} Services`,
    async () => ((await listL2Statuses()).filter((s) => s.status?.serviceName?.startsWith('rss-')).length >= n ? true : undefined),
    300_000,
    1000,
  );
  const settleS = (Date.now() - t0) / 1000;
  const metricsNow = await Promise.all(plan.nodes.map((x) => speakerMetrics(x.name)));
  const loopMaxMs = metricsNow.map((t) => metricSum(t, 'nodejs_eventloop_lag_max_seconds') * 1000);
  await sleep(5000);
  const ips = (await listL2Statuses()).filter((s) => s.status?.serviceName?.startsWith('rss-')).map((s) => s.status?.ip ?? '');
  // A sample of the IPs: each answered by exactly one node.
  const sample = [ips[0], ips[Math.floor(ips.length / 3)], ips[Math.floor((2 * ips.length) / 3)], ips.at(-1)].filter((x): x is string => !!x);
  let answered = sample.length > 0;
  for (const ip of sample) if ((await answeringNodes(plan, ip, 1000)).length !== 1) answered = false;
  const downsAfter = await downs();
  const logDowns = plan.nodes.reduce((sum, x, i) => sum + (readFileSync(logFile(paths, `speaker-${x.name}`), 'utf8').slice(logFrom[i]).match(/membership: peer down/g)?.length ?? 0), 0);
  const flaps = Math.max(logDowns, downsAfter.reduce((a, b) => a + b, 0) - downsBefore.reduce((a, b) => a + b, 0));
  const heapUsedMiB = await Promise.all(plan.nodes.map(async (x) => metricSum(await speakerMetrics(x.name), 'nodejs_heap_size_used_bytes') / 2 ** 20));
  rss = {
    ips: n,
    compiled,
    nodeFlags: compiled ? IMAGE_NODE_FLAGS : ['--import', 'tsx'],
    baselineMiB,
    perSpeakerMiB: pids.map((pid) => procStatusMiB(pid, 'VmRSS')),
    peakMiB: pids.map((pid) => procStatusMiB(pid, 'VmHWM')),
    heapUsedMiB,
    createS,
    settleS,
    answered,
    flaps,
    loopMaxMs,
  };
  say(
    `rss: ${rss.perSpeakerMiB.map((m) => `${m.toFixed(1)} MiB`).join(', ')} (peak ${rss.peakMiB.map((m) => m.toFixed(1)).join(', ')}; idle ${baselineMiB.map((m) => m.toFixed(1)).join(', ')}); ` +
      `all announced and reported ${settleS.toFixed(1)} s after the first create; ${flaps} peer-down events meanwhile; longest event-loop stall ${loopMaxMs.map((m) => `${m.toFixed(0)} ms`).join(', ')}`,
  );
}

// ---------------------------------------------------------------- keepalived

const VIP = '192.0.2.199';

interface Keepalived {
  node: string;
  child: ChildProcess;
}

function keepalivedConf(node: string, priority: number, fast: boolean): string {
  return `global_defs {
  router_id ${node}
${fast ? '  vrrp_version 3\n' : ''}}
vrrp_instance bench {
  state BACKUP
  nopreempt
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int ${fast ? '0.1' : '1'}
  virtual_ipaddress {
    ${VIP}/32 dev eth0
  }
}
`;
}

/** keepalived's processes under `pid` (the parent and its VRRP child). */
function processTree(pid: number): number[] {
  const out = [pid];
  try {
    for (const t of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) out.push(...processTree(Number(t)));
  } catch {
    // gone
  }
  return out;
}

/**
 * Signals keepalived's processes, the VRRP child first: its parent then reaps it (this
 * machine's init does not reap orphans, and a zombie holding a pid file makes the next
 * keepalived believe it is already running). The child is the one sending adverts, so
 * the failover starts the moment it dies either way.
 */
async function killTree(k: Keepalived, signal: NodeJS.Signals): Promise<void> {
  if (k.child.pid === undefined) return;
  const pids = processTree(k.child.pid).reverse();
  for (const [i, pid] of pids.entries()) {
    if (i > 0) await sleep(50);
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

async function benchKeepalived(): Promise<void> {
  say('keepalived: bringing the lab up without herald (3 nodes)');
  const plan = await acquireLab({ nodes: 3, components: false });
  cleanups.push(releaseLab);
  const echoes = await startEchoes(plan);
  cleanups.unshift(() => stopChildren(echoes));
  const dir = mkdtempSync(join(tmpdir(), 'hlt-keepalived-'));
  if (!process.env.KEEP_KEEPALIVED_LOGS) cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  say(`keepalived: configs and logs in ${dir}`);
  const running = new Map<string, Keepalived>();
  let starts = 0;
  cleanups.unshift(async () => {
    for (const k of running.values()) await killTree(k, 'SIGKILL');
  });

  const start = async (node: string, fast: boolean): Promise<void> => {
    const i = plan.nodes.findIndex((n) => n.name === node);
    const conf = join(dir, `${node}.conf`);
    writeFileSync(conf, keepalivedConf(node, 150 - 50 * i, fast));
    // A VIP left behind by a killed instance is not this instance's to find.
    await tryRun('ip', ['-n', node, 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);
    const log = openSync(join(dir, `${node}.log`), 'a');
    // Fresh pid files per start: an old one may name a process not yet gone.
    const n = ++starts;
    const child = spawn(
      'ip',
      ['netns', 'exec', node, 'keepalived', '-n', '-P', '-l', '-G', '-R', '-f', conf, '-p', join(dir, `${node}-${n}.pid`), '-r', join(dir, `${node}-${n}.vrrp.pid`)],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    running.set(node, { node, child });
  };
  const stopAll = async (): Promise<void> => {
    for (const k of running.values()) await killTree(k, 'SIGTERM');
    await sleep(500);
    for (const k of running.values()) await killTree(k, 'SIGKILL');
    running.clear();
    for (const n of plan.nodes) await tryRun('ip', ['-n', n.name, 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);
  };

  for (const fast of [false, true]) {
    const system = fast ? 'keepalived VRRPv3 0.1 s' : 'keepalived defaults';
    for (const n of plan.nodes) await start(n.name, fast);
    await forgetNeighbour(VIP);
    const p = await Prober.start(VIP);
    cleanups.unshift(() => p.stop());
    await p.waitFor(() => true, `${system}: a master`, 20_000, 500);
    say(`${system}: probing ${VIP}; master ${p.last()?.n}`);
    const settle = fast ? 500 : 1500;
    await runTrials(
      system,
      'link',
      p,
      (leader) => setLink(plan, leader, false),
      async (leader) => {
        await setLink(plan, leader, true);
        await sleep(fast ? 500 : 2500);
      },
      settle,
    );
    await runTrials(
      system,
      'kill',
      p,
      async (leader) => {
        const k = running.get(leader);
        if (k) await killTree(k, 'SIGKILL');
      },
      async (leader) => {
        await sleep(200);
        await start(leader, fast);
        await sleep(fast ? 500 : 2500);
      },
      settle,
    );
    await p.stop();
    await stopAll();
  }
  await stopChildren(echoes);
  await releaseLab();
  if (!process.env.KEEP_KEEPALIVED_LOGS) rmSync(dir, { recursive: true, force: true });
  cleanups.length = 0;
}

// ---------------------------------------------------------------- report

function report(): void {
  const fmt = (ms: number): string => (Number.isNaN(ms) ? '-' : `${(ms / 1000).toFixed(3)} s`);
  console.log('\nL2 failover: outage seen by a client probing every 10 ms (UDP), and time to the first answer from the new node');
  console.log('| system | scenario | trials | outage median | outage p99 | outage max | switch median | switch max |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const o = r.trials.map((t) => t.outageMs);
    const s = r.trials.map((t) => t.switchMs);
    console.log(
      `| ${r.system} | ${r.scenario === 'link' ? 'link down' : 'SIGKILL'} | ${r.trials.length}${r.failed ? ` (+${r.failed} failed)` : ''} | ${fmt(quantile(o, 0.5))} | ${fmt(quantile(o, 0.99))} | ${fmt(Math.max(...o))} | ${fmt(quantile(s, 0.5))} | ${fmt(Math.max(...s))} |`,
    );
  }
  const row = (sys: string, sc: string) => rows.find((r) => r.system === sys && r.scenario === sc);
  const h = row('herald', 'link');
  const k = row('keepalived defaults', 'link');
  if (h && h.trials.length > 0) {
    const all = rows.filter((r) => r.system === 'herald').flatMap((r) => r.trials.map((t) => t.outageMs));
    const med = Math.max(...rows.filter((r) => r.system === 'herald').map((r) => quantile(r.trials.map((t) => t.outageMs), 0.5)));
    console.log(`\ntargets: median ≤ 0.5 s: ${fmt(med)} ${med <= 500 ? 'PASS' : 'FAIL'}; worst ≤ 1 s: ${fmt(Math.max(...all))} ${Math.max(...all) <= 1000 ? 'PASS' : 'FAIL'}`);
    if (k && k.trials.length > 0) {
      const ratio = quantile(k.trials.map((t) => t.outageMs), 0.5) / Math.max(1, quantile(h.trials.map((t) => t.outageMs), 0.5));
      console.log(`link down, median outage: keepalived defaults / herald = ${ratio.toFixed(1)}× ${ratio >= 5 ? 'PASS' : 'FAIL'} (target ≥ 5×)`);
    }
  }
  if (reaction) {
    console.log(`herald_layer2_failover_seconds (peer detected down → first announcements sent): mean ${reaction.meanMs.toFixed(2)} ms over ${reaction.count} takeovers`);
  }
  if (rss) {
    const mib = (xs: number[]): string => xs.map((m) => `${m.toFixed(1)} MiB`).join(', ');
    console.log(
      `\nspeaker RSS with ${rss.ips} L2 service IPs (IPv6, NDP), ${rss.compiled ? 'compiled' : 'under tsx'} (node ${rss.nodeFlags.join(' ')}), per node: ${mib(rss.perSpeakerMiB)}` +
        ` (peak ${mib(rss.peakMiB)}; idle before the Services ${mib(rss.baselineMiB)}; V8 heap in use after ${mib(rss.heapUsedMiB)});` +
        ` ${rss.ips} Services created at once in ${rss.createS.toFixed(1)} s, all announced and reported after ${rss.settleS.toFixed(1)} s;` +
        ` a sample of the IPs each answered by exactly one node: ${rss.answered};` +
        ` membership peer-down events meanwhile: ${rss.flaps} ${rss.flaps === 0 ? 'PASS' : 'FAIL'};` +
        ` longest event-loop stall per speaker: ${rss.loopMaxMs.map((m) => `${m.toFixed(0)} ms`).join(', ')}`,
    );
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ rows, rss, reaction }, null, 2));
}

async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0)) await c().catch(() => {});
}

process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));
process.on('SIGTERM', () => void cleanup().finally(() => process.exit(143)));

if (process.getuid?.() !== 0) {
  console.error('bench:failover needs root (the lab: network namespaces, veth pairs)');
  process.exit(2);
}
const t0 = Date.now();
try {
  if (only.has('herald') || only.has('rss')) {
    if (!only.has('herald')) {
      const plan = await acquireLab({ nodes: 3, components: true });
      cleanups.push(releaseLab);
      await applyL2Config();
      await benchRss(plan);
      await releaseLab();
      cleanups.length = 0;
    } else await benchHerald();
  }
  if (only.has('keepalived')) await benchKeepalived();
} catch (err) {
  console.error(`bench:failover: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
report();
say(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
