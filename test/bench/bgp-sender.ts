// The herald side of the BGP benchmark, run inside the benchmark's node namespace by
// bgp.ts: what a speaker holds for N Services (the raw objects, as its informers would,
// the config model and snapshot, the planner's output) and the real BGPAnnouncer with
// real BGPSessions. Commands on stdin, one JSON line per event on stdout:
//   announce 4|6   build N Services of that family and start the session
//   withdraw       the same Services without endpoints: every prefix withdrawn
//   rss            memory now
//   rss-settled    memory after 5 idle seconds
//   stop           administrative shutdown of the session
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import type { BGPAdvertisement, BGPPeer, IPAddressPool } from '../../shared/api/types.js';
import { buildConfig } from '../../shared/config/model.js';
import { realClock } from '../../shared/k8s/clock.js';
import type { StatusObject, StatusWriter } from '../../shared/k8s/writers.js';
import { createLogger } from '../../shared/log.js';
import { createMetrics } from '../../shared/metrics.js';
import { formatIP, parseCIDR } from '../../shared/ip/ip.js';
import { BGPAnnouncer } from '../../speaker/bgp/announcer.js';
import { BGPSession } from '../../speaker/bgp/session.js';
import { NodeTransport, type Connection, type Transport } from '../../speaker/bgp/transport.js';
import { buildSnapshot, type RawEndpointSlice, type RawNode, type RawService } from '../../speaker/snapshot.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    node: { type: 'string', default: 'bench-node' },
    'node-ip': { type: 'string', default: '192.0.2.11' },
    peer: { type: 'string', default: '192.0.2.1' },
    'peer-asn': { type: 'string', default: '64500' },
    asn: { type: 'string', default: '64512' },
  },
});
const count = Number(values.count);
const NS = 'herald-system';
const POOLS = { 4: '198.18.0.0/17', 6: '2001:db8:1000::/108' } as const;

const say = (o: object): void => void process.stdout.write(`${JSON.stringify({ t: Date.now(), ...o })}\n`);
const log = createLogger({ level: process.env.BENCH_LOG === 'debug' ? 'debug' : process.env.BENCH_LOG === 'info' ? 'info' : 'warn', component: 'bench-sender' });
const meta = (name: string) => ({ name, namespace: NS, creationTimestamp: '2025-01-01T00:00:00Z' });

/** Status writes go nowhere: the benchmark measures the routing path, not the API server. */
const nullWriter: StatusWriter = {
  apply: <T extends StatusObject>(_r: unknown, obj: T) => Promise.resolve(obj),
  patchStatus: <T extends StatusObject>() => Promise.resolve({} as T),
  delete: () => Promise.resolve(),
};

function config() {
  const pools: IPAddressPool[] = [{ apiVersion: 'herald.dev/v1beta1', kind: 'IPAddressPool', metadata: meta('bench'), spec: { addresses: [POOLS[4], POOLS[6]] } }];
  const peers: BGPPeer[] = [
    { apiVersion: 'herald.dev/v1beta1', kind: 'BGPPeer', metadata: meta('router'), spec: { myASN: Number(values.asn), peerASN: Number(values['peer-asn']), peerAddress: values.peer!, connectTime: '2s' } },
  ];
  const ads: BGPAdvertisement[] = [{ apiVersion: 'herald.dev/v1beta1', kind: 'BGPAdvertisement', metadata: meta('bench'), spec: { ipAddressPools: ['bench'] } }];
  const { model, errors } = buildConfig({ pools, peers, bgpAdvertisements: ads, l2Advertisements: [], communities: [], bfdProfiles: [], secrets: [], namespace: NS });
  if (errors.length > 0) throw new Error(JSON.stringify(errors));
  return model;
}

/** N Services with one IP each, and an EndpointSlice each with a ready endpoint (or none). */
function rawObjects(family: 4 | 6, ready: boolean): { services: RawService[]; slices: RawEndpointSlice[] } {
  const base = parseCIDR(POOLS[family]);
  if (!base.ok) throw new Error(base.error);
  const services: RawService[] = [];
  const slices: RawEndpointSlice[] = [];
  for (let i = 0; i < count; i++) {
    const ip = formatIP({ family, value: base.value.first + BigInt(i + 1) });
    const name = `svc-${i}`;
    services.push({ metadata: { name, namespace: 'bench' }, spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' }, status: { loadBalancer: { ingress: [{ ip }] } } });
    slices.push({
      metadata: { namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      endpoints: ready ? [{ nodeName: values.node!, conditions: { ready: true } }] : [],
    });
  }
  return { services, slices };
}

/** BENCH_TRACE=1: every write on the session, timed (where the time after Established goes). */
function tracingTransport(): Transport {
  const inner = new NodeTransport(log);
  return {
    connect: (req, done) =>
      inner.connect(req, (res) => {
        if (!res.ok) return done(res);
        const c = res.connection;
        const traced: Connection = {
          localAddress: c.localAddress,
          localPort: c.localPort,
          remoteAddress: c.remoteAddress,
          remotePort: c.remotePort,
          setHandlers: (h) => c.setHandlers(h),
          write: (data) => {
            say({ event: 'write', bytes: data.length, hr: performance.now() });
            c.write(data);
          },
          end: () => c.end(),
          destroy: () => c.destroy(),
        };
        done({ ok: true, connection: traced });
      }),
  };
}

const node: RawNode = { metadata: { name: values.node!, labels: {} }, status: { addresses: [{ type: 'InternalIP', address: values['node-ip']! }] } };
const model = config();
let announcer: BGPAnnouncer | undefined;
/** Kept referenced, as a speaker's informer caches keep them. */
let held: { services: RawService[]; slices: RawEndpointSlice[] } | undefined;
let family: 4 | 6 = 4;

function snapshot(objs: { services: RawService[]; slices: RawEndpointSlice[] }) {
  return buildSnapshot({ nodeName: values.node!, config: model, services: objs.services, endpointSlices: objs.slices, nodes: [node] });
}

async function handle(line: string): Promise<void> {
  const [cmd, arg] = line.trim().split(/\s+/);
  switch (cmd) {
    case 'announce': {
      family = arg === '6' ? 6 : 4;
      held = rawObjects(family, true);
      const t0 = Date.now();
      const snap = snapshot(held);
      let established = false;
      announcer = new BGPAnnouncer({
        log,
        clock: realClock,
        nodeName: values.node!,
        namespace: NS,
        status: nullWriter,
        events: { event: () => {} },
        metrics: createMetrics({ defaultMetrics: false }),
        newSession: (cfg) => {
          const s = new BGPSession(cfg, { log, clock: realClock, ...(process.env.BENCH_TRACE ? { transport: tracingTransport() } : {}) });
          s.onStatus((st) => {
            if (st.state === 'Established' && !established) {
              established = true;
              say({ event: 'established', hr: performance.now() });
            }
          });
          return s;
        },
      });
      announcer.update(snap);
      if (process.env.BENCH_TRACE) void announcer.settled().then(() => say({ event: 'status-settled', hr: performance.now() }));
      say({ event: 'started', hr: performance.now(), planMs: Date.now() - t0, prefixes: announcer.plan()?.peers[0]?.advertisements.length ?? 0 });
      return;
    }
    case 'withdraw': {
      const t = Date.now();
      announcer?.update(snapshot(rawObjects(family, false)));
      say({ event: 'withdrawing', at: t });
      return;
    }
    case 'rss': {
      const m = process.memoryUsage();
      say({ event: 'rss', rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, services: held?.services.length ?? 0 });
      // BENCH_HEAP_SNAPSHOT=dir: what the routes cost, by object (after the RSS is read: a snapshot costs memory itself).
      if (process.env.BENCH_HEAP_SNAPSHOT) say({ event: 'heap-snapshot', file: writeHeapSnapshot(join(process.env.BENCH_HEAP_SNAPSHOT, `sender-${family}-${Date.now()}.heapsnapshot`)) });
      return;
    }
    case 'rss-settled': {
      // After a few idle seconds, as a speaker holding its routes spends most of its life
      // (V8's memory reducer collects when the process goes idle).
      await new Promise((r) => setTimeout(r, 5000));
      const m = process.memoryUsage();
      say({ event: 'rss-settled', rss: m.rss, heapUsed: m.heapUsed });
      return;
    }
    case 'stop': {
      await announcer?.stop();
      announcer = undefined;
      held = undefined;
      say({ event: 'stopped' });
      return;
    }
    case 'exit':
      process.exit(0);
  }
}

const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(() => handle(line)).catch((err: unknown) => say({ event: 'error', message: String(err) }));
});
rl.on('close', () => process.exit(0));
say({ event: 'ready' });
