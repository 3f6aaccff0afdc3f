// herald-native's TCP sockets against the kernel over loopback: TCP-MD5 (RFC 2385) with
// matching, wrong and missing keys, keys changed on a live listener, IPv6 and IPv4-mapped
// peers, the source port, and TTL with GTSM (RFC 5082). No root needed.
import assert from 'node:assert/strict';
import type net from 'node:net';
import { connectTcp, listenTcp, nativeAvailable, type ConnectOptions, type TcpListener } from '../../../speaker/native/index.js';

/** How long a connect whose SYN the listener drops is given before it counts as refused. */
const DROP_WAIT_MS = 1200;

/** Connects, sends "ping", and resolves with the echo, 'timeout' or 'error <code>'. */
function exchange(options: ConnectOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = connectTcp(options);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, DROP_WAIT_MS);
    socket.on('connect', () => socket.write('ping'));
    socket.on('data', (d) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(String(d));
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(`error ${e.code}`);
    });
  });
}

function echo(peers: string[]) {
  return (socket: net.Socket) => {
    socket.on('data', (d) => socket.end(`pong ${d} from ${socket.remotePort}`));
    socket.on('error', () => {});
    peers.push(`${socket.remoteAddress}:${socket.remotePort}`);
  };
}

const portOf = (l: TcpListener) => (l.server.address() as net.AddressInfo).port;

describe('herald-native TCP sockets: TCP-MD5, source port, TTL (loopback)', function () {
  this.timeout(20_000);
  const listeners: TcpListener[] = [];
  before(function () {
    if (!nativeAvailable()) this.skip();
  });
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((l) => l.close()));
  });

  async function listen(options: Partial<Parameters<typeof listenTcp>[0]>, peers: string[] = []) {
    const l = await listenTcp({ family: 4, localAddress: '127.0.0.1', localPort: 0, ...options }, echo(peers));
    listeners.push(l);
    return l;
  }

  it('connects and exchanges bytes with the right key; a wrong or missing key never connects', async () => {
    const l = await listen({ md5: [{ peerAddress: '127.0.0.1', key: 'right-key' }] });
    const to = { family: 4 as const, host: '127.0.0.1', port: portOf(l) };
    const [right, wrong, none] = await Promise.all([
      exchange({ ...to, md5Key: 'right-key' }),
      exchange({ ...to, md5Key: 'wrong-key' }),
      exchange(to),
    ]);
    assert.match(right, /^pong ping/);
    assert.equal(wrong, 'timeout');
    assert.equal(none, 'timeout');
  });

  it('takes a new key on the listening socket for later connections', async () => {
    const l = await listen({ md5: [{ peerAddress: '127.0.0.1', key: 'old' }] });
    const to = { family: 4 as const, host: '127.0.0.1', port: portOf(l) };
    l.setMD5('127.0.0.1', 'new');
    const [oldKey, newKey] = await Promise.all([exchange({ ...to, md5Key: 'old' }), exchange({ ...to, md5Key: 'new' })]);
    assert.equal(oldKey, 'timeout');
    assert.match(newKey, /^pong/);
    l.setMD5('127.0.0.1', undefined);
    assert.match(await exchange(to), /^pong/);
  });

  it('signs IPv6 sessions, and IPv4 peers of a dual-stack listener', async () => {
    const l6 = await listen({ family: 6, localAddress: '::1', md5: [{ peerAddress: '::1', key: 'six' }] });
    assert.match(await exchange({ family: 6, host: '::1', port: portOf(l6), md5Key: 'six' }), /^pong/);
    assert.equal(await exchange({ family: 6, host: '::1', port: portOf(l6), md5Key: 'four' }), 'timeout');

    const dual = await listen({ family: 6, localAddress: '::', v6Only: false, md5: [{ peerAddress: '127.0.0.1', key: 'mapped' }] });
    assert.match(await exchange({ family: 4, host: '127.0.0.1', port: portOf(dual), md5Key: 'mapped' }), /^pong/);
    assert.equal(await exchange({ family: 4, host: '127.0.0.1', port: portOf(dual) }), 'timeout');
  });

  it('connects from the requested source address and port', async () => {
    const peers: string[] = [];
    const l = await listen({}, peers);
    // A free port: bind one with the addon, note it, close it, reuse it.
    const probe = await listenTcp({ family: 4, localAddress: '127.0.0.1', localPort: 0 }, () => {});
    const source = portOf(probe);
    await probe.close();
    const reply = await exchange({ family: 4, host: '127.0.0.1', port: portOf(l), localAddress: '127.0.0.1', localPort: source, reuseAddress: true });
    assert.equal(reply, `pong ping from ${source}`);
    assert.deepEqual(peers, [`127.0.0.1:${source}`]);
  });

  it('sets the outgoing TTL before connecting: a GTSM listener (min TTL 255) takes only TTL 255', async () => {
    const l = await listen({ minTtl: 255 });
    const to = { family: 4 as const, host: '127.0.0.1', port: portOf(l) };
    const [ttl255, ttl64] = await Promise.all([exchange({ ...to, ttl: 255 }), exchange({ ...to, ttl: 64 })]);
    assert.match(ttl255, /^pong/);
    assert.equal(ttl64, 'timeout');
    const l6 = await listen({ family: 6, localAddress: '::1', minTtl: 255 });
    const [hops255, hops1] = await Promise.all([
      exchange({ family: 6, host: '::1', port: portOf(l6), ttl: 255 }),
      exchange({ family: 6, host: '::1', port: portOf(l6), ttl: 1 }),
    ]);
    assert.match(hops255, /^pong/);
    assert.equal(hops1, 'timeout');
  });

  it('reports a refused connection as an error on the socket', async () => {
    const probe = await listenTcp({ family: 4, localAddress: '127.0.0.1', localPort: 0 }, () => {});
    const port = portOf(probe);
    await probe.close();
    assert.equal(await exchange({ family: 4, host: '127.0.0.1', port }), 'error ECONNREFUSED');
  });

  it('rejects a host of the other family before creating a socket', () => {
    assert.throws(() => connectTcp({ family: 4, host: '::1', port: 179 }), TypeError);
  });
});
