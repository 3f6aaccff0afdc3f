// The Node transport on loopback, with real sockets from herald-native: TCP-MD5 on both
// ends (the listener keyed per peer), source address, TTL, and the listener handing each
// connection to the session registered for its peer. Needs no root.
import { strict as assert } from 'node:assert';
import { silentLogger } from '../../../shared/log.js';
import { nativeAvailable } from '../../../speaker/native/index.js';
import { BGPListener, NodeTransport, type Connection, type ConnectResult } from '../../../speaker/bgp/transport.js';

function connect(t: NodeTransport, req: Parameters<NodeTransport['connect']>[0], withinMs: number): Promise<ConnectResult | 'timeout'> {
  return new Promise((resolve) => {
    const attempt = t.connect(req, resolve);
    setTimeout(() => {
      attempt.cancel();
      resolve('timeout');
    }, withinMs);
  });
}

function nextData(c: Connection): Promise<Buffer> {
  return new Promise((resolve) => c.setHandlers({ data: resolve, close: () => {} }));
}

describe('speaker/bgp transport on loopback', function () {
  let listener: BGPListener | undefined;
  const open: Connection[] = [];

  before(function () {
    if (!nativeAvailable()) this.skip();
  });

  afterEach(async () => {
    for (const c of open.splice(0)) c.destroy();
    await listener?.close();
    listener = undefined;
  });

  it('connects with the right TCP-MD5 key, from the source address, and carries bytes both ways', async () => {
    listener = new BGPListener({ log: silentLogger(), port: 0, addresses: { 4: '127.0.0.1' } });
    const accepted: Connection[] = [];
    listener.register({ peerAddress: '127.0.0.2', password: 'k3y' }, (c) => accepted.push(c));
    const port = await listener.localPort(4);
    assert.ok(port);
    const r = await connect(new NodeTransport(), { peerAddress: '127.0.0.1', peerPort: port, sourceAddress: '127.0.0.2', password: 'k3y', ttl: 1 }, 3000);
    assert.ok(r !== 'timeout' && r.ok, `connected: ${JSON.stringify(r)}`);
    const ours = r.connection;
    open.push(ours);
    assert.equal(ours.localAddress, '127.0.0.2');
    assert.equal(ours.remoteAddress, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(accepted.length, 1);
    const theirs = accepted[0]!;
    open.push(theirs);
    assert.equal(theirs.remoteAddress, '127.0.0.2');
    const got = nextData(theirs);
    ours.write(Buffer.from('hello'));
    assert.equal((await got).toString(), 'hello');
    const back = nextData(ours);
    theirs.write(Buffer.from('olleh'));
    assert.equal((await back).toString(), 'olleh');
    // end() resolves once the peer has closed too.
    const closed = new Promise<void>((resolve) => theirs.setHandlers({ data: () => {}, close: () => resolve() }));
    await Promise.all([ours.end(), closed, new Promise<void>((r2) => setTimeout(r2, 10)).then(() => theirs.end())]);
  });

  it('never connects with a wrong key or without one: the SYN is dropped', async () => {
    listener = new BGPListener({ log: silentLogger(), port: 0, addresses: { 4: '127.0.0.1' } });
    const accepted: Connection[] = [];
    listener.register({ peerAddress: '127.0.0.3', password: 'right' }, (c) => accepted.push(c));
    const port = (await listener.localPort(4))!;
    const t = new NodeTransport();
    assert.equal(await connect(t, { peerAddress: '127.0.0.1', peerPort: port, sourceAddress: '127.0.0.3', password: 'wrong' }, 1500), 'timeout');
    assert.equal(await connect(t, { peerAddress: '127.0.0.1', peerPort: port, sourceAddress: '127.0.0.3' }, 1500), 'timeout');
    assert.equal(accepted.length, 0);
  });

  it('hands a connection to the session of its peer and local address, and refuses unknown peers', async () => {
    listener = new BGPListener({ log: silentLogger(), port: 0, addresses: { 4: '127.0.0.1' } });
    const seen: string[] = [];
    listener.register({ peerAddress: '127.0.0.4' }, () => seen.push('any-local'));
    const unregister = listener.register({ peerAddress: '127.0.0.5' }, () => seen.push('five'));
    const port = (await listener.localPort(4))!;
    const t = new NodeTransport();
    const a = await connect(t, { peerAddress: '127.0.0.1', peerPort: port, sourceAddress: '127.0.0.4' }, 2000);
    assert.ok(a !== 'timeout' && a.ok);
    open.push(a.connection);
    unregister();
    const b = await connect(t, { peerAddress: '127.0.0.1', peerPort: port, sourceAddress: '127.0.0.5' }, 2000);
    assert.ok(b !== 'timeout' && b.ok, 'TCP completes (the kernel accepts), then the listener closes it');
    open.push(b.connection);
    const closed = await new Promise<boolean>((resolve) => {
      b.connection.setHandlers({ data: () => {}, close: () => resolve(true) });
      setTimeout(() => resolve(false), 2000);
    });
    assert.ok(closed, 'a connection from an unregistered peer is closed');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(seen, ['any-local']);
  });

  it('reports a refused connection as an error', async () => {
    const r = await connect(new NodeTransport(), { peerAddress: '127.0.0.1', peerPort: 1 }, 2000);
    assert.ok(r !== 'timeout' && !r.ok);
    assert.match(r.error.message, /ECONNREFUSED/);
  });
});
