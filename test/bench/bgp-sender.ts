// The herald side of the BGP benchmark, run inside the benchmark's node namespace by
// bgp.ts: what a speaker holds for N Services and the real BGPAnnouncer with real
// BGPSessions. The Services and EndpointSlices come as an API server lists them
// (bgp-objects.ts), parsed from JSON in pages, through the speaker's informer transform
// into informer caches (shared/k8s/object-cache.ts), and the snapshot is built from those
// caches by a SnapshotBuilder, as speaker/start.ts does. Commands on stdin, one JSON line
// per event on stdout:
//   announce 4|6   list N Services of that family and start the session
//   withdraw       every EndpointSlice modified to a not-ready endpoint (parsed, as watch
//                  events are, into the cache): every prefix withdrawn
//   stop           administrative shutdown of the session
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { BGPAdvertisement, BGPPeer, IPAddressPool } from '../../shared/api/types.js';
import { buildConfig } from '../../shared/config/model.js';
import { realClock } from '../../shared/k8s/clock.js';
import type { StatusObject, StatusWriter } from '../../shared/k8s/writers.js';
import { createLogger } from '../../shared/log.js';
import { createMetrics } from '../../shared/metrics.js';
import { BGPAnnouncer } from '../../speaker/bgp/announcer.js';
import { BGPSession } from '../../speaker/bgp/session.js';
import { NodeTransport, type Connection, type Transport } from '../../speaker/bgp/transport.js';
import { ObjectCache } from '../../shared/k8s/object-cache.js';
import { SnapshotBuilder, speakerEndpointSlice, speakerService, type RawEndpointSlice, type RawNode, type RawService } from '../../speaker/snapshot.js';
import type { K8sObject } from '../../shared/k8s/informer.js';
import { readLists, writeLists } from './bgp-objects.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    node: { type: 'string', default: 'bench-node' },
    'node-ip': { type: 'string', default: '192.0.2.11' },
    peer: { type: 'string', default: '192.0.2.1' },
    'peer-asn': { type: 'string', default: '64500' },
    asn: { type: 'string', default: '64512' },
    /** The list pages (bgp-objects.ts writeLists); written to a temporary directory when absent. */
    objects: { type: 'string' },
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

/** The speaker's informer caches of Services and EndpointSlices (speaker/main.ts transforms). */
interface Caches {
  services: ObjectCache<K8sObject>;
  slices: ObjectCache<K8sObject>;
}

/** The informers' first lists: pages parsed one at a time, each object through the transform. */
function list(caches: Caches, family: 4 | 6): void {
  for (const o of readLists<K8sObject>(objects(family), family, 'services')) caches.services.upsert(speakerService(o));
  for (const o of readLists<K8sObject>(objects(family), family, 'slices')) caches.slices.upsert(speakerEndpointSlice(o));
}

/** Where the list pages are: given by the benchmark, or written here (outside any measurement) when run alone. */
function objects(family: 4 | 6): string {
  if (values.objects) return values.objects;
  const dir = join(tmpdir(), `hlt-bgpbench-objects-${process.pid}`);
  if (!written.has(family)) {
    writeLists(dir, family, POOLS[family], count, values.node!);
    written.add(family);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return dir;
}
const written = new Set<number>();

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
let held: Caches | undefined;
let builder = new SnapshotBuilder();
let family: 4 | 6 = 4;

function snapshot(caches: Caches) {
  return builder.build({
    nodeName: values.node!,
    config: model,
    services: caches.services.list() as RawService[],
    endpointSlices: caches.slices.list() as RawEndpointSlice[],
    nodes: [node],
  });
}

async function handle(line: string): Promise<void> {
  const [cmd, arg] = line.trim().split(/\s+/);
  switch (cmd) {
    case 'announce': {
      family = arg === '6' ? 6 : 4;
      held = { services: new ObjectCache(), slices: new ObjectCache() };
      builder = new SnapshotBuilder();
      list(held, family);
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
      if (held) {
        // As watch events would bring them: each parsed, transformed, cached.
        for (const o of readLists<K8sObject>(objects(family), family, 'slices-withdrawn')) held.slices.upsert(speakerEndpointSlice(o));
        announcer?.update(snapshot(held));
      }
      say({ event: 'withdrawing', at: t });
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
