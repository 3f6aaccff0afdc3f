// A membership speaker as a process, for the network-namespace test: prints one JSON line
// per live-set change ({at, live, events}) and, for each "stats" line on stdin, one line
// with the drop counters. SIGTERM: leave, then exit.
//   node --import tsx member-main.ts --node n1 --peers n1=192.0.2.31,n2=... [--port 7946]
// The key comes from HLT_MEMBER_KEY (hex).
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { Membership } from '../../../speaker/membership/member.js';
import { promMembershipMetrics } from '../../../speaker/membership/prom-metrics.js';
import { createMetrics } from '../../../shared/metrics.js';

const { values } = parseArgs({
  options: {
    node: { type: 'string' },
    peers: { type: 'string', default: '' },
    port: { type: 'string', default: '7946' },
    bind: { type: 'string' },
  },
});
if (!values.node) throw new Error('--node is required');
const metrics = createMetrics({ defaultMetrics: false });
const member = new Membership({
  node: values.node,
  key: Buffer.from(process.env.HLT_MEMBER_KEY ?? '', 'hex'),
  port: Number(values.port),
  ...(values.bind ? { bindAddress: values.bind } : {}),
  metrics: promMembershipMetrics(metrics),
});
member.setPeers(
  values.peers
    .split(',')
    .filter(Boolean)
    .map((p) => {
      const [name, address] = p.split('=') as [string, string];
      return { name, address };
    }),
);
const out = (o: unknown): void => void process.stdout.write(JSON.stringify(o) + '\n');
member.onChange((live, events) => out({ at: Date.now(), live: [...live].sort(), events }));
await member.start();
out({ at: Date.now(), started: true });

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'stats') return;
  void metrics.registry
    .getSingleMetric('herald_membership_dropped_total')
    ?.get()
    .then((m) => out({ dropped: Object.fromEntries(m.values.map((v) => [String(v.labels.reason), v.value])) }));
});
process.on('SIGTERM', () => {
  void member
    .leave()
    .then(() => member.stop())
    .then(() => process.exit(0));
});
