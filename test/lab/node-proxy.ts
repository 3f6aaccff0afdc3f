// What runs inside every node namespace besides the speaker (one process per node):
// - kube-proxy's part: an HTTP responder on port 80 of every address in the node, the
//   service IPs on kube-ipvs0 included, answering with the node's name; so a client
//   sees which node its traffic reached.
// - the node's way to the API server: a TCP listener on the node's own 127.0.0.1 that
//   relays each connection to the API server's unix socket. A filesystem socket is
//   reachable from any network namespace, so the host needs no route into the lab.
//   node --import tsx test/lab/node-proxy.ts --node hl-node1 [--api-port 6443 --api-socket .lab/api.sock]
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { parseArgs } from 'node:util';

function listen(server: Server, port: number, host: string, extra: { ipv6Only?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ...extra }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function startResponder(nodeName: string, port = 80): Promise<Server> {
  const server = createHttpServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.setHeader('connection', 'close');
    res.end(`${nodeName}\n`);
    req.resume();
  });
  // `::` with ipv6Only off takes IPv4 too (as ::ffff:a.b.c.d).
  await listen(server, port, '::', { ipv6Only: false });
  return server;
}

async function startApiRelay(port: number, socketPath: string): Promise<Server> {
  const server = createServer((client) => {
    const upstream = connect(socketPath);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    client.pipe(upstream).pipe(client);
  });
  await listen(server, port, '127.0.0.1');
  return server;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      node: { type: 'string' },
      'http-port': { type: 'string', default: '80' },
      'api-port': { type: 'string' },
      'api-socket': { type: 'string' },
    },
  });
  if (!values.node) throw new Error('--node is required');
  const servers = [await startResponder(values.node, Number(values['http-port']))];
  if (values['api-port'] && values['api-socket']) servers.push(await startApiRelay(Number(values['api-port']), values['api-socket']));
  // `lab up` waits for this line.
  console.log(`node-proxy ${values.node}: ready`);
  const stop = (): void => {
    for (const s of servers) s.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  console.error(`node-proxy: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
