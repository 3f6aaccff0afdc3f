// The speaker's memory holding N BGP routes, measured on the real thing: `herald speaker`
// compiled as the image runs it (tsc output, the Node flags of the Dockerfile and
// speaker.yaml), in a one-node lab with the embedded API server, the controller and FRR
// (with zebra). N LoadBalancer Services are created at once (64 requests in flight, no
// node ports) from a pool in the benchmarking range 198.18.0.0/18 (RFC 2544; no packet is
// sent to it); once FRR holds all N routes from the node, the speaker's RSS is read (VmRSS
// and, for the peak, VmHWM, from /proc), and again once it is idle. RssAnon is what the
// process itself allocated; RssFile is mostly the pages of the node binary it has touched
// (shared with any other Node process on the machine, and reclaimable).
import { readFileSync } from 'node:fs';
import { collectionPath, SERVICES } from '../../shared/k8s/resources.js';
import { apply, bgpAdvertisement, bgpPeer, pool } from '../e2e/bgp/helpers.js';
import { acquireLab, compileHerald, paths, releaseLab, restartSpeaker, signalSpeaker, speakerRecord } from '../e2e/l2/harness.js';
import { sleep, waitFor } from '../lab/exec.js';
import { connect } from '../lab/lab-api.js';
import { vtysh } from '../lab/router-frr.js';

const NODE = 'hl-node1';
const NODE_IP = '192.0.2.11';
const SETTLE_MS = 60_000;

export interface MemoryReading {
  rss: number;
  anon: number;
  file: number;
}

export interface SpeakerRss {
  count: number;
  /** Before any Service: the speaker connected, synced, with a BGP session up. */
  idle: MemoryReading;
  /** When FRR holds every route. */
  announced: MemoryReading;
  /** VmHWM: the most the RSS reached, up to the idle reading. */
  peak: number;
  /** Once idle: a minute after the routes were in. */
  settled: MemoryReading & { afterSeconds: number };
  /** First create → every route in FRR, seconds. */
  routesInS: number;
}

/** VmRSS, RssAnon, RssFile and VmHWM of a process, bytes. */
function readStatus(pid: number): MemoryReading & { hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), hwm: kb('VmHWM') };
}

const reading = ({ rss, anon, file }: MemoryReading): MemoryReading => ({ rss, anon, file });

async function createServices(count: number): Promise<void> {
  const client = connect(paths.kubeconfig);
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const name = `rss-${next++}`;
        await client.rest.request('POST', collectionPath(SERVICES, 'default'), {
          body: {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name, namespace: 'default', annotations: { 'herald.dev/address-pool': 'bench-rss' } },
            spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
          },
        });
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
  } finally {
    client.close();
  }
}

/** Routes FRR has received from the node. */
async function routesFromNode(): Promise<number> {
  const out = JSON.parse(await vtysh({ paths }, ['show bgp summary json'])) as { ipv4Unicast?: { peers?: Record<string, { pfxRcd?: number }> } };
  return out.ipv4Unicast?.peers?.[NODE_IP]?.pfxRcd ?? 0;
}

export async function speakerRss(count: number, say: (line: string) => void): Promise<SpeakerRss> {
  if (count > 16_384) throw new Error('the pool 198.18.0.0/18 holds 16,384 addresses');
  const plan = await acquireLab({ nodes: 1, components: true });
  const build = compileHerald();
  try {
    await signalSpeaker(NODE, 'SIGTERM');
    await restartSpeaker(plan, NODE, { entry: build.entry, awaitMembership: false });
    const pid = speakerRecord(NODE).pid;
    await apply(
      pool('bench-rss', { addresses: ['198.18.0.0/18'], autoAssign: false }),
      bgpPeer('hl-router', { myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.1' }),
      bgpAdvertisement('bench-rss', { ipAddressPools: ['bench-rss'] }),
    );
    await waitFor('the BGP session', async () => {
      const out = JSON.parse(await vtysh({ paths }, ['show bgp summary json'])) as { ipv4Unicast?: { peers?: Record<string, { state?: string }> } };
      return out.ipv4Unicast?.peers?.[NODE_IP]?.state === 'Established' ? true : undefined;
    }, 30_000, 200);
    await sleep(5000);
    const idle = reading(readStatus(pid));
    say(`  speaker idle: RSS ${mib(idle.rss)} (anon ${mib(idle.anon)}, file ${mib(idle.file)})`);
    const t0 = performance.now();
    await createServices(count);
    say(`  ${count} Services created in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await waitFor(`${count} routes in FRR`, async () => ((await routesFromNode()) >= count ? true : undefined), 300_000, 250);
    const routesInS = (performance.now() - t0) / 1000;
    const announced = reading(readStatus(pid));
    say(`  all ${count} routes in FRR ${routesInS.toFixed(1)} s after the first create: RSS ${mib(announced.rss)} (anon ${mib(announced.anon)})`);
    // Idle: the status objects written, V8's memory reducer gives back what the burst
    // grew some 20–40 s after the work stops. Read after a minute.
    const start = performance.now();
    await sleep(SETTLE_MS);
    const last = readStatus(pid);
    const settled = { ...reading(last), afterSeconds: Math.round((performance.now() - start) / 1000) };
    if ((await routesFromNode()) < count) throw new Error('routes were withdrawn while the speaker settled');
    return { count, idle, announced, peak: last.hwm, settled, routesInS };
  } finally {
    build.remove();
    await releaseLab();
  }
}

export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
