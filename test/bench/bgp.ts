// BGP benchmark (DESIGN.md, "Targets"). In one run:
//  1. 10,000 IPv4 /32 (then IPv6 /128) prefixes sent to FRR from one node namespace by
//     herald (the speaker's planner, announcer and BGPSession), by GoBGP (routes loaded
//     from an MRT dump) and by BIRD (a static protocol exported): time from the session
//     reaching Established to all prefixes in FRR's table, and from the withdrawal to
//     none left, FRR's summary polled every few ms over its vty socket (with, for a sender
//     done within one poll, the most it can have taken). Namespaces hlt-bgpbench-r (FRR
//     bgpd) and hlt-bgpbench-n.
//  2. Single-Service latency in the lab (controller, speakers, FRR with zebra): Service
//     created → route in hl-router's kernel table, p50/p99.
//  3. The speaker's RSS holding --count routes: the real `herald speaker`, compiled, in a
//     one-node lab (bgp-speaker-rss.ts).
//   node --import tsx test/bench/bgp.ts [--count 10000] [--reps 3] [--samples 50] [--no-lab]
// Root only. 10,000 IPv4 host prefixes do not fit in the documentation ranges, so IPv4
// uses the benchmarking range 198.18.0.0/15 (RFC 2544 §C.2.2); they exist only in bgpd's
// table inside hlt-bgpbench-r (bgpd runs without zebra, so no kernel ever holds them) and
// no packet is sent to them. IPv6 uses 2001:db8:1000::/108.
import { spawn, type ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { chownSync, chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { formatIP, parseCIDR } from '../../shared/ip/ip.js';
import { SERVICES, collectionPath, objectPath } from '../../shared/k8s/resources.js';
import { run, sleep, tryRun, waitFor } from '../lab/exec.js';
import { connect } from '../lab/lab-api.js';
import { labDown } from '../lab/lab-down.js';
import { labUp } from '../lab/lab-up.js';
import { labPaths, REPO_ROOT } from '../lab/paths.js';
import { shippedNodeFlags } from '../shipped-flags.js';
import { writeLists } from './bgp-objects.js';
import { mrtHostRoutes } from './bgp-mrt.js';
import { peerSummary, VtyClient } from './bgp-vty.js';
import { mib, speakerRss, type MemoryReading } from './bgp-speaker-rss.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    reps: { type: 'string', default: '3' },
    samples: { type: 'string', default: '50' },
    'no-lab': { type: 'boolean', default: false },
    /** Comma-separated subset of senders (herald,gobgp,bird) and families (4,6), for a quick look. */
    only: { type: 'string' },
    /** Run herald's side with tsx instead of as compiled JavaScript (the image runs the latter). */
    tsx: { type: 'boolean', default: false },
  },
});
const COUNT = Number(values.count);
const REPS = Number(values.reps);
const SAMPLES = Number(values.samples);

const NS_R = 'hlt-bgpbench-r';
const NS_N = 'hlt-bgpbench-n';
const ROUTER = { v4: '192.0.2.1', v6: '2001:db8:0:2::1', asn: 64500 };
const NODE = { v4: '192.0.2.11', v6: '2001:db8:0:2::11', asn: 64512 };
const POOLS = { 4: '198.18.0.0/17', 6: '2001:db8:1000::/108' } as const;
const POLL_MS = 5;

type Family = 4 | 6;

interface Sender {
  readonly name: string;
  /** Starts the daemon with the routes loaded, session not yet up. */
  prepare(family: Family): Promise<void>;
  /** Brings the session up. */
  up(): Promise<void>;
  /** Withdraws every prefix. */
  withdraw(): Promise<void>;
  teardown(): Promise<void>;
}

// ---------------------------------------------------------------- processes and cleanup

const children = new Set<ChildProcess>();
let workDir = '';

/** A process in a namespace. Output nobody reads must not fill a pipe and block the daemon. */
function start(netns: string, cmd: string, args: string[], opts: { stdio?: boolean } = {}): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', netns, cmd, ...args], { stdio: [opts.stdio ? 'pipe' : 'ignore', opts.stdio ? 'pipe' : 'ignore', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stderr?.on('data', (d: Buffer) => {
    if (process.env.BENCH_DEBUG) process.stderr.write(`[${cmd}] ${d.toString()}`);
  });
  return child;
}

async function stop(child: ChildProcess | undefined, graceMs = 0): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  if (graceMs > 0) await Promise.race([exited, sleep(graceMs)]);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

async function cleanup(): Promise<void> {
  await Promise.all([...children].map(stop));
  for (const ns of [NS_R, NS_N]) await tryRun('ip', ['netns', 'del', ns]);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- the namespace pair and FRR

async function setupPair(): Promise<void> {
  for (const ns of [NS_R, NS_N]) await tryRun('ip', ['netns', 'del', ns]);
  await run('ip', ['netns', 'add', NS_R]);
  await run('ip', ['netns', 'add', NS_N]);
  await run('ip', ['-n', NS_R, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS_N]);
  for (const [ns, a] of [[NS_R, ROUTER], [NS_N, NODE]] as const) {
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // No link-local address: BIRD would add one as a second IPv6 next hop once it
    // exists, which bgpd without zebra rejects (Invalid Network Field); every sender
    // then sends the same 16-octet next hop.
    await run('sysctl', ['-q', '-w', 'net.ipv6.conf.eth0.addr_gen_mode=1'], { netns: ns });
    await run('ip', ['-n', ns, 'addr', 'add', `${a.v4}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', ns, 'addr', 'add', `${a.v6}/64`, 'dev', 'eth0', 'nodad']);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }
}

async function startFrr(): Promise<VtyClient> {
  const dir = join(workDir, 'frr');
  await run('mkdir', ['-p', dir]);
  const uid = Number((await run('id', ['-u', 'frr'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'frr'])).stdout.trim());
  chmodSync(workDir, 0o755);
  chownSync(dir, uid, gid);
  const conf = join(dir, 'bgpd.conf');
  writeFileSync(
    conf,
    [
      'frr defaults traditional',
      'hostname bench-router',
      'log stdout warnings',
      `router bgp ${ROUTER.asn}`,
      ` bgp router-id ${ROUTER.v4}`,
      ' no bgp ebgp-requires-policy',
      ' no bgp default ipv4-unicast',
      ` neighbor ${NODE.v4} remote-as ${NODE.asn}`,
      // Passive: every sender connects, so no connection collision (RFC 4271 §6.8) adds noise.
      ` neighbor ${NODE.v4} passive`,
      // Without zebra bgpd knows no connected networks: a single-hop eBGP peer would wait forever.
      ` neighbor ${NODE.v4} disable-connected-check`,
      ' address-family ipv4 unicast',
      `  neighbor ${NODE.v4} activate`,
      ' exit-address-family',
      ' address-family ipv6 unicast',
      `  neighbor ${NODE.v4} activate`,
      ' exit-address-family',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  // -Z: no zebra, so the prefixes stay in bgpd's table and never reach a kernel.
  start(NS_R, '/usr/lib/frr/bgpd', ['-u', 'frr', '-g', 'frr', '-P', '0', '-Z', '--vty_socket', dir, '-i', join(dir, 'bgpd.pid'), '-f', conf, '--log', `file:${join(dir, 'bgpd.log')}`]);
  return waitFor('bgpd vty', async () => {
    try {
      const vty = await VtyClient.connect(join(dir, 'bgpd.vty'));
      await vty.run('show version');
      return vty;
    } catch {
      return undefined;
    }
  }, 15_000, 100);
}

function hostAddresses(family: Family): Buffer[] {
  const base = parseCIDR(POOLS[family]);
  if (!base.ok) throw new Error(base.error);
  const out: Buffer[] = [];
  for (let i = 0; i < COUNT; i++) {
    const v = base.value.first + BigInt(i + 1);
    const b = Buffer.alloc(family === 4 ? 4 : 16);
    let x = v;
    for (let j = b.length - 1; j >= 0; j--) {
      b[j] = Number(x & 0xffn);
      x >>= 8n;
    }
    out.push(b);
  }
  return out;
}

function addressText(family: Family, i: number): string {
  const base = parseCIDR(POOLS[family]);
  if (!base.ok) throw new Error(base.error);
  return formatIP({ family, value: base.value.first + BigInt(i + 1) });
}

// ---------------------------------------------------------------- the three senders

/**
 * herald's side as the image runs it: tsc output under plain Node with the speaker's
 * flags as the image and the DaemonSet set them (test/shipped-flags.ts). tsx's loader alone adds
 * ~40 MB of RSS.
 */
function senderCommand(): string[] {
  const flags = process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ') : [];
  if (process.env.BENCH_CPU_PROF) flags.push('--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF);
  if (values.tsx) return [...flags, '--import', 'tsx', join(REPO_ROOT, 'test/bench/bgp-sender.ts')];
  const out = join(workDir, 'js');
  const conf = join(workDir, 'tsconfig.json');
  writeFileSync(
    conf,
    JSON.stringify({
      extends: join(REPO_ROOT, 'tsconfig.json'),
      compilerOptions: { noEmit: false, outDir: out, rootDir: REPO_ROOT, sourceMap: false, types: ['node'], typeRoots: [join(REPO_ROOT, 'node_modules', '@types')] },
      files: [join(REPO_ROOT, 'test', 'bench', 'bgp-sender.ts')],
      include: [],
    }),
  );
  console.error('compiling the herald side (tsc)…');
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', conf], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(out, 'node_modules'));
  const image = shippedNodeFlags(REPO_ROOT, 'speaker');
  console.error(`herald side: node ${image.join(' ')} (the speaker's flags: Dockerfile ENTRYPOINT, manifests/base/speaker.yaml)`);
  return [...image, ...flags, join(out, 'test', 'bench', 'bgp-sender.js')];
}

function heraldSender(): Sender {
  let child: ChildProcess | undefined;
  let lines: AsyncIterator<string> | undefined;
  let command: string[] | undefined;
  const next = async (event: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const r = await lines!.next();
      if (r.done) throw new Error('the herald sender exited');
      if (process.env.BENCH_DEBUG) console.error(`  [herald] ${r.value}`);
      if (!r.value.startsWith('{')) continue;
      const o = JSON.parse(r.value) as Record<string, unknown>;
      if (o.event === 'error') throw new Error(`herald sender: ${String(o.message)}`);
      if (o.event === event) return o;
    }
  };
  const send = (cmd: string): void => void child!.stdin!.write(`${cmd}\n`);
  let family: Family = 4;
  const listed = new Set<Family>();
  return {
    name: 'herald',
    async prepare(f) {
      family = f;
      command ??= senderCommand();
      // The API server's side: the list pages, written before herald's process starts (bgp-objects.ts).
      const objects = join(workDir, 'objects');
      if (!listed.has(f)) writeLists(objects, f, POOLS[f], COUNT, 'bench-node');
      listed.add(f);
      child = start(NS_N, process.execPath, [...command, '--count', String(COUNT), '--node-ip', NODE.v4, '--peer', ROUTER.v4, '--node', 'bench-node', '--objects', objects], { stdio: true });
      lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      await next('ready');
    },
    async up() {
      send(`announce ${family}`);
      await next('started');
    },
    async withdraw() {
      send('withdraw');
      await next('withdrawing');
    },
    async teardown() {
      send('stop');
      await next('stopped');
      send('exit');
      await stop(child, 3000);
    },
  };
}

function gobgpSender(): Sender {
  let daemon: ChildProcess | undefined;
  let family: Family = 4;
  const api = ['-u', '127.0.0.1', '-p', '50061'];
  const cli = (args: string[]) => run('gobgp', [...api, ...args], { netns: NS_N, timeoutMs: 60_000 });
  return {
    name: 'GoBGP',
    async prepare(f) {
      family = f;
      const conf = join(workDir, 'gobgpd.toml');
      writeFileSync(
        conf,
        [
          '[global.config]',
          `  as = ${NODE.asn}`,
          `  router-id = "${NODE.v4}"`,
          '  port = -1',
          '[[neighbors]]',
          '  [neighbors.config]',
          `    neighbor-address = "${ROUTER.v4}"`,
          `    peer-as = ${ROUTER.asn}`,
          '    admin-down = true',
          '  [[neighbors.afi-safis]]',
          '    [neighbors.afi-safis.config]',
          '      afi-safi-name = "ipv4-unicast"',
          '  [[neighbors.afi-safis]]',
          '    [neighbors.afi-safis.config]',
          '      afi-safi-name = "ipv6-unicast"',
          '',
        ].join('\n'),
      );
      daemon = start(NS_N, 'gobgpd', ['-f', conf, '--api-hosts', '127.0.0.1:50061', '--pprof-disable', '-l', 'warn']);
      await waitFor('gobgpd API', async () => ((await tryRun('gobgp', [...api, 'global'], { netns: NS_N })).code === 0 ? true : undefined), 15_000, 100);
      // `gobgp mrt inject` exits without waiting for its stream to drain, so the server
      // gets only a first part of the file. Records arrive in order: each round sends
      // the routes still missing first, then already loaded ones as padding for the cut
      // to fall in, until GoBGP holds them all.
      const afi = f === 4 ? 'ipv4' : 'ipv6';
      const held = async (): Promise<number> => Number(/Destination: (\d+)/.exec((await cli(['global', 'rib', 'summary', '-a', afi])).stdout)?.[1] ?? 0);
      const all = hostAddresses(f);
      const nextHop = f === 4 ? Buffer.from([192, 0, 2, 11]) : hostAddressOf(NODE.v6);
      const mrt = join(workDir, `routes-${f}.mrt`);
      let loaded = 0;
      for (let round = 0; loaded < COUNT; round++) {
        if (round > 200) throw new Error(`GoBGP holds ${loaded} of ${COUNT} paths`);
        const padding = all.slice(0, Math.max(1000, COUNT - loaded));
        writeFileSync(mrt, mrtHostRoutes(f, [...all.slice(loaded), ...padding], NODE.v4, nextHop));
        await cli(['mrt', 'inject', 'global', mrt]);
        let prev = -1;
        for (;;) {
          await sleep(100);
          const n = await held();
          if (n === prev) break;
          prev = n;
        }
        loaded = prev;
      }
    },
    async up() {
      await cli(['neighbor', ROUTER.v4, 'enable']);
    },
    async withdraw() {
      await cli(['global', 'rib', '-a', family === 4 ? 'ipv4' : 'ipv6', 'del', 'all']);
    },
    async teardown() {
      await stop(daemon);
    },
  };
}

function hostAddressOf(v6: string): Buffer {
  const base = parseCIDR(`${v6}/128`);
  if (!base.ok) throw new Error(base.error);
  const b = Buffer.alloc(16);
  let x = base.value.first;
  for (let j = 15; j >= 0; j--) {
    b[j] = Number(x & 0xffn);
    x >>= 8n;
  }
  return b;
}

function birdSender(): Sender {
  let daemon: ChildProcess | undefined;
  let family: Family = 4;
  const sock = () => join(workDir, 'bird.ctl');
  const birdc = (args: string[]) => run('birdc', ['-s', sock(), ...args], { timeoutMs: 30_000 });
  return {
    name: 'BIRD',
    async prepare(f) {
      family = f;
      const routes: string[] = [];
      for (let i = 0; i < COUNT; i++) routes.push(`  route ${addressText(f, i)}/${f === 4 ? 32 : 128} blackhole;`);
      const conf = join(workDir, 'bird.conf');
      writeFileSync(
        conf,
        [
          `router id ${NODE.v4};`,
          'protocol device { }',
          `protocol static s4 { ipv4;`,
          ...(f === 4 ? routes : []),
          '}',
          `protocol static s6 { ipv6;`,
          ...(f === 6 ? routes : []),
          '}',
          'protocol bgp r {',
          `  local ${NODE.v4} as ${NODE.asn};`,
          `  neighbor ${ROUTER.v4} as ${ROUTER.asn};`,
          '  disabled;',
          '  connect delay time 1; connect retry time 1; error wait time 1, 5;',
          '  ipv4 { import none; export where proto = "s4"; };',
          `  ipv6 { import none; export where proto = "s6"; next hop address ${NODE.v6}; };`,
          '}',
          '',
        ].join('\n'),
      );
      daemon = start(NS_N, 'bird', ['-f', '-c', conf, '-s', sock(), '-P', join(workDir, 'bird.pid')]);
      await waitFor('BIRD', async () => ((await tryRun('birdc', ['-s', sock(), 'show', 'status'])).stdout.includes('Daemon is up') ? true : undefined), 15_000, 100);
      await waitFor('BIRD static routes', async () => {
        const r = await tryRun('birdc', ['-s', sock(), 'show', 'route', 'count', 'protocol', f === 4 ? 's4' : 's6']);
        return new RegExp(`\\b${COUNT} of ${COUNT} routes`).test(r.stdout) ? true : undefined;
      }, 30_000, 100);
    },
    async up() {
      await birdc(['enable', 'r']);
    },
    async withdraw() {
      await birdc(['disable', family === 4 ? 's4' : 's6']);
    },
    async teardown() {
      await stop(daemon);
    },
  };
}

// ---------------------------------------------------------------- measuring

interface Run {
  /** Established (as FRR reports it) → all prefixes in FRR's table, ms, as polled. */
  up: number;
  /** The most it can have been: from the last poll that found the session not yet Established. */
  upAtMost: number;
  /** Withdrawal started → none left, ms. */
  withdraw: number;
}

async function measure(vty: VtyClient, s: Sender, family: Family): Promise<Run> {
  const fam = family === 4 ? 'v4' : 'v6';
  await waitFor('FRR to be idle with no prefixes', async () => {
    const p = (await peerSummary(vty, NODE.v4))[fam];
    return !p || (p.state !== 'Established' && p.pfxRcd === 0) ? true : undefined;
  }, 30_000, 50);
  await s.prepare(family);
  if (process.env.BENCH_DEBUG) console.error(`  ${s.name} IPv${family}: prepared`);
  await s.up();
  if (process.env.BENCH_DEBUG) console.error(`  ${s.name} IPv${family}: up`);
  let established = 0;
  let all = 0;
  // When the last poll that found the session not yet Established was sent: the session
  // came up after it, so all prefixes in by `all` took at most `all - notYet`. A sender
  // done within one poll shows up 0 ms; this bound says how small that is.
  let notYet = performance.now();
  const deadline = Date.now() + 120_000;
  while (!all) {
    const sent = performance.now();
    const p = (await peerSummary(vty, NODE.v4))[fam];
    if (Date.now() > deadline) throw new Error(`${s.name}: not all ${COUNT} prefixes arrived (FRR: ${JSON.stringify(p)})`);
    const now = performance.now();
    if (p?.state === 'Established' && !established) established = now;
    if (!established) notYet = sent;
    if (established && (p?.pfxRcd ?? 0) >= COUNT) all = now;
    if (!all) await sleep(POLL_MS);
  }
  const w0 = performance.now();
  await s.withdraw();
  let gone = 0;
  const wDeadline = Date.now() + 120_000;
  while (!gone) {
    if (Date.now() > wDeadline) throw new Error(`${s.name}: prefixes not withdrawn`);
    const p = (await peerSummary(vty, NODE.v4))[fam];
    if ((p?.pfxRcd ?? 0) === 0) gone = performance.now();
    else await sleep(POLL_MS);
  }
  await s.teardown();
  return { up: all - established, upAtMost: all - notYet, withdraw: gone - w0 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};
const ms = (x: number): string => `${x.toFixed(0)} ms`;

// ---------------------------------------------------------------- single-Service latency in the lab

async function serviceLatency(samples: number): Promise<number[]> {
  const paths = labPaths();
  await labUp(paths, { nodes: 3, router: { kind: 'frr', ibgp: false }, components: true });
  const client = connect(paths.kubeconfig);
  const monitor = spawn('ip', ['-n', 'hl-router', 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.add(monitor);
  const seen = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  createInterface({ input: monitor.stdout }).on('line', (line) => {
    const t = performance.now();
    const m = /^(Deleted )?(203\.0\.113\.\d+)\b/.exec(line);
    if (!m) return;
    const key = `${m[1] ? 'del' : 'add'} ${m[2]}`;
    if (!seen.has(key)) seen.set(key, t);
    waiters.get(key)?.();
  });
  const waitKey = (key: string, timeoutMs: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(key);
        resolve(seen.get(key)!);
      };
      const timer = setTimeout(() => reject(new Error(`timed out waiting for route ${key}`)), timeoutMs);
      if (seen.has(key)) done();
      else waiters.set(key, done);
    });
  const ns = 'herald-system';
  const obj = (kind: string, name: string, spec: object) => ({ apiVersion: 'herald.dev/v1beta1', kind, metadata: { name, namespace: ns }, spec });
  const post = (kind: string, plural: string, body: object) => client.rest.request('POST', `/apis/herald.dev/v1beta1/namespaces/${ns}/${plural}`, { body: { ...body, kind } });
  try {
    await post('IPAddressPool', 'ipaddresspools', obj('IPAddressPool', 'bench', { addresses: ['203.0.113.0/24'] }));
    await post('BGPPeer', 'bgppeers', obj('BGPPeer', 'hl-router', { myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.1' }));
    await post('BGPAdvertisement', 'bgpadvertisements', obj('BGPAdvertisement', 'bench', { ipAddressPools: ['bench'] }));
    await waitFor('three sessions', async () => {
      const out = await tryRun('vtysh', ['--vty_socket', join(paths.router, 'frr'), '-c', 'show bgp summary json']);
      const doc = JSON.parse(out.stdout || '{}') as { ipv4Unicast?: { peers?: Record<string, { state?: string }> } };
      return Object.values(doc.ipv4Unicast?.peers ?? {}).filter((p) => p.state === 'Established').length === 3 ? true : undefined;
    }, 60_000, 200);
    const out: number[] = [];
    for (let i = 0; i < samples; i++) {
      const ip = `203.0.113.${10 + (i % 200)}`;
      const name = `lat-${i}`;
      seen.delete(`add ${ip}`);
      seen.delete(`del ${ip}`);
      const t0 = performance.now();
      await client.rest.request('POST', collectionPath(SERVICES, 'default'), {
        body: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name, namespace: 'default', annotations: { 'herald.dev/loadBalancerIPs': ip } },
          spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
        },
      });
      out.push((await waitKey(`add ${ip}`, 15_000)) - t0);
      await client.rest.request('DELETE', objectPath(SERVICES, 'default', name));
      await waitKey(`del ${ip}`, 15_000);
    }
    return out;
  } finally {
    await stop(monitor);
    client.close();
    await labDown(paths);
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the BGP benchmark needs root (network namespaces, routing daemons)');
  workDir = mkdtempSync('/tmp/hlt-bgpbench-');
  const results: { sender: string; family: Family; runs: Run[] }[] = [];
  try {
    await setupPair();
    const vty = await startFrr();
    console.error(`namespaces ${NS_R}, ${NS_N} and FRR bgpd ready`);
    const only = new Set((values.only ?? 'herald,gobgp,bird,4,6').toLowerCase().split(','));
    const senders = [heraldSender(), gobgpSender(), birdSender()].filter((s) => only.has(s.name.toLowerCase()));
    for (const family of ([4, 6] as const).filter((f) => only.has(String(f)))) {
      for (const s of senders) {
        const runs: Run[] = [];
        for (let r = 0; r < REPS; r++) {
          const res = await measure(vty, s, family);
          runs.push(res);
          console.error(`  ${s.name} IPv${family} run ${r + 1}: up ${ms(res.up)} (at most ${ms(res.upAtMost)}), withdraw ${ms(res.withdraw)}`);
        }
        results.push({ sender: s.name, family, runs });
      }
    }
    vty.close();
  } finally {
    await cleanup();
  }

  console.log(`\n${COUNT} prefixes to FRR 8.4 (bgpd), one session from one node namespace; median of ${REPS} runs (min–max)`);
  console.log('sender  family  Established → all in FRR [at most]   withdraw → none left');
  for (const r of results) {
    const up = r.runs.map((x) => x.up);
    const upAtMost = median(r.runs.map((x) => x.upAtMost));
    const wd = r.runs.map((x) => x.withdraw);
    const span = (xs: number[]) => `${ms(median(xs)).padStart(8)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
    console.log(`${r.sender.padEnd(7)} IPv${r.family}    ${`${span(up)} [${upAtMost.toFixed(0)}]`.padEnd(37)}${span(wd)}`);
  }

  if (!values['no-lab']) {
    const lat = await serviceLatency(SAMPLES);
    console.log(`\nsingle Service in the lab (controller + 3 speakers + FRR with zebra), created → route in hl-router's kernel: n=${lat.length}, p50 ${ms(quantile(lat, 0.5))}, p99 ${ms(quantile(lat, 0.99))}, max ${ms(Math.max(...lat))}`);
    console.error(`speaker RSS holding ${COUNT} routes (compiled, ${shippedNodeFlags(REPO_ROOT, 'speaker').join(' ')}; one-node lab)…`);
    const r = await speakerRss(COUNT, (l) => console.error(l));
    const m = (x: MemoryReading): string => `${mib(x.rss)} (anon ${mib(x.anon)}, file ${mib(x.file)})`;
    console.log(`\nherald speaker holding ${r.count} routes (compiled, the image's Node flags; ${r.count} Services created at once, all routes in FRR after ${r.routesInS.toFixed(1)} s):`);
    console.log(`  idle before ${m(r.idle)}; all announced ${m(r.announced)}; peak ${mib(r.peak)}; idle after ${r.settled.afterSeconds} s ${m(r.settled)}`);
  }
}

main().catch(async (err: unknown) => {
  console.error(err);
  await cleanup();
  process.exit(1);
});
