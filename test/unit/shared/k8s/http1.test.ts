import { strict as assert } from 'node:assert';
import http from 'node:http';
import net from 'node:net';
import { createHttp1Client, Http1Timeout, type Http1Client } from '../../../../shared/k8s/http1.js';
import type { Http1Response } from '../../../../shared/k8s/http1-parser.js';

/** A plain-TCP server speaking raw bytes: `answer` decides per request on a connection. */
async function rawServer(answer: (n: { conn: number; req: number }, socket: net.Socket) => void): Promise<{ port: number; conns: () => number; close: () => Promise<void> }> {
  let conns = 0;
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    const conn = ++conns;
    let req = 0;
    let buf = '';
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n\r\n'); i >= 0; i = buf.indexOf('\r\n\r\n')) {
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, i))?.[1] ?? 0);
        if (buf.length < i + 4 + len) return;
        buf = buf.slice(i + 4 + len);
        answer({ conn, req: ++req }, s);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    conns: () => conns,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

const ok = (s: net.Socket, body = '{}'): void => void s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`);

describe('shared/k8s/http1', () => {
  let client: Http1Client | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    client?.close();
    client = undefined;
    for (const c of closers.splice(0)) await c();
  });

  it('sends method, path, Host, headers and body, and reuses one connection for sequential requests', async () => {
    const seen: { method?: string; url?: string; host?: string; auth?: string; body: string }[] = [];
    let connections = 0;
    const srv = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, host: req.headers.host, auth: req.headers.authorization, body });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ n: seen.length }));
      });
    });
    srv.on('connection', () => connections++);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => srv.close(() => r())));
    const port = (srv.address() as net.AddressInfo).port;
    client = createHttp1Client({ hostname: '127.0.0.1', port, host: `127.0.0.1:${port}` });
    for (let i = 1; i <= 3; i++) {
      const r: Http1Response = await client.request('PATCH', `/api/v1/x?i=${i}`, { authorization: 'Bearer t' }, `{"i":${i}}`, 5000);
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body.toString()), { n: i });
    }
    assert.deepEqual(seen[2], { method: 'PATCH', url: '/api/v1/x?i=3', host: `127.0.0.1:${port}`, auth: 'Bearer t', body: '{"i":3}' });
    assert.equal(connections, 1);
    client.close();
    srv.closeAllConnections();
  });

  it('opens at most maxSockets connections and queues the rest', async () => {
    const srv = await rawServer((_n, s) => setTimeout(() => ok(s), 5));
    closers.push(srv.close);
    client = createHttp1Client({ hostname: '127.0.0.1', port: srv.port, host: 'x' }, { maxSockets: 2 });
    const rs = await Promise.all(Array.from({ length: 10 }, () => client!.request('GET', '/', {}, undefined, 5000)));
    assert.ok(rs.every((r) => r.status === 200));
    assert.equal(srv.conns(), 2);
  });

  it('sends a GET again on a new connection when a reused one closes before answering (keep-alive race)', async () => {
    // Each connection answers its first request and hangs up on the second.
    const srv = await rawServer((n, s) => (n.req === 1 ? ok(s, `{"conn":${n.conn}}`) : s.destroy()));
    closers.push(srv.close);
    client = createHttp1Client({ hostname: '127.0.0.1', port: srv.port, host: 'x' });
    assert.equal((await client.request('GET', '/', {}, undefined, 5000)).body.toString(), '{"conn":1}');
    assert.equal((await client.request('GET', '/', {}, undefined, 5000)).body.toString(), '{"conn":2}');
  });

  it('does not send a POST again: it may have been acted on', async () => {
    const srv = await rawServer((n, s) => (n.req === 1 ? ok(s) : s.destroy()));
    closers.push(srv.close);
    client = createHttp1Client({ hostname: '127.0.0.1', port: srv.port, host: 'x' });
    await client.request('POST', '/', {}, '{}', 5000);
    await assert.rejects(client.request('POST', '/', {}, '{}', 5000), /closed/);
    assert.equal(srv.conns(), 1);
  });

  it('times out a request with no answer, drops that connection, and serves the next one', async () => {
    const srv = await rawServer((n, s) => (n.conn === 1 ? undefined : ok(s)));
    closers.push(srv.close);
    client = createHttp1Client({ hostname: '127.0.0.1', port: srv.port, host: 'x' });
    await assert.rejects(client.request('GET', '/', {}, undefined, 50), Http1Timeout);
    assert.equal((await client.request('GET', '/', {}, undefined, 5000)).status, 200);
    assert.equal(srv.conns(), 2);
  });

  it('rejects when nothing listens, and when the server sends what it cannot read', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    client = createHttp1Client({ hostname: '127.0.0.1', port, host: 'x' });
    await assert.rejects(client.request('GET', '/', {}, undefined, 5000), /ECONNREFUSED/);
    client.close();
    const srv = await rawServer((_n, s) => void s.write('SSH-2.0-OpenSSH\r\n\r\n'));
    closers.push(srv.close);
    client = createHttp1Client({ hostname: '127.0.0.1', port: srv.port, host: 'x' });
    await assert.rejects(client.request('GET', '/', {}, undefined, 5000), /bad status line/);
  });

  it('fails queued and pending requests on close', async () => {
    const srv = await rawServer(() => undefined);
    closers.push(srv.close);
    client = createHttp1Client({ hostname: '127.0.0.1', port: srv.port, host: 'x' }, { maxSockets: 1 });
    const a = client.request('GET', '/a', {}, undefined, 5000);
    const b = client.request('GET', '/b', {}, undefined, 5000);
    await new Promise((r) => setTimeout(r, 20));
    client.close();
    await assert.rejects(a, /client closed/);
    await assert.rejects(b, /client closed/);
  });
});
