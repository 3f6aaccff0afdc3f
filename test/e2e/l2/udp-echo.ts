// A UDP echo in a lab node: answers every datagram with "<node> <payload>", so a client
// probing a service IP sees which node its traffic reached. Started by the L2 tests and
// the failover benchmark inside each node namespace, stopped by PID.
//   node --import tsx test/e2e/l2/udp-echo.ts --node hl-node1 [--port 9000]
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { node: { type: 'string' }, port: { type: 'string', default: '9000' } } });
if (!values.node) throw new Error('--node is required');
const node = values.node;
// `::` with ipv6Only off takes IPv4 too; the service IPs sit on kube-ipvs0 in each node.
const s = createSocket({ type: 'udp6', ipv6Only: false });
s.on('message', (msg, rinfo) => s.send(Buffer.concat([Buffer.from(`${node} `), msg]), rinfo.port, rinfo.address));
s.on('error', (err) => {
  console.error(`udp-echo ${node}: ${err.message}`);
  process.exit(1);
});
s.bind(Number(values.port), '::', () => console.log(`udp-echo ${node}: ready`));
const stop = (): void => void s.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
