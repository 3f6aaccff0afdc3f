// The transport over loopback (no root): source ports in 49152–65535 and fixed per
// session (RFC 5881 §4), two BFDSessions reaching Up over real sockets, dropping a
// datagram not sent with TTL 255 and one telling the other AdminDown, and a listening
// port already taken showing in the status.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import type { BFDProfileModel } from '../../../shared/config/types.js';
import { silentLogger } from '../../../shared/log.js';
import { BFDSessions } from '../../../speaker/bfd/session.js';
import { NodeBFDTransport } from '../../../speaker/bfd/transport.js';
import { waitFor } from './lab.js';

const profile: BFDProfileModel = {
  name: 'fast',
  receiveInterval: 50,
  transmitInterval: 50,
  detectMultiplier: 3,
  echoInterval: 50,
  echoMode: false,
  passiveMode: false,
  minimumTtl: 254,
};

/** Ports away from 3784 so a BFD daemon on this machine is not disturbed. */
const base = 20000 + Math.floor(Math.random() * 20000);

function socketOn(port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve(s));
  });
}

describe('speaker/bfd transport over loopback', function () {
  this.timeout(10_000);
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('sends from one source port in 49152–65535 for the whole session', async () => {
    const sink = await socketOn(base);
    cleanups.push(() => sink.close());
    const seen: number[] = [];
    sink.on('message', (_m, rinfo) => seen.push(rinfo.port));
    const errors: Error[] = [];
    const sender = new NodeBFDTransport(silentLogger()).sender({ family: 4, peerAddress: '127.0.0.1', localAddress: '127.0.0.1', port: base, onError: (e) => errors.push(e) });
    cleanups.push(() => sender.close());
    // The first ones while the socket binds, queued; the rest once bound.
    for (let i = 0; i < 3; i++) sender.send(Buffer.from([i]));
    await waitFor('3 datagrams', () => seen.length === 3 || undefined, 3000, 10);
    for (let i = 0; i < 2; i++) sender.send(Buffer.from([i]));
    await waitFor('5 datagrams', () => seen.length === 5 || undefined, 3000, 10);
    assert.equal(new Set(seen).size, 1, `ports ${seen.join(' ')}`);
    assert.ok(seen[0]! >= 49152 && seen[0]! <= 65535, `source port ${seen[0]}`);
    assert.deepEqual(errors, []);
  });

  it('two speakers over real sockets reach Up; closing one tells the other AdminDown', async () => {
    const told: string[] = [];
    const a = new BFDSessions({ log: silentLogger(), ports: { singleHop: { listen: base + 1, peer: base + 2 } }, onDrop: (r) => told.push(r) });
    const b = new BFDSessions({ log: silentLogger(), ports: { singleHop: { listen: base + 2, peer: base + 1 } } });
    cleanups.push(() => a.close(), () => b.close());
    const ha = a.add({ address: '127.0.0.1', profile });
    const hb = b.add({ address: '127.0.0.1', localAddress: '127.0.0.1', profile });
    await waitFor('both Up', () => (ha.state() === 'Up' && hb.state() === 'Up') || undefined, 5000, 10);
    // A datagram sent with TTL 64, as from off the link, is dropped before it is read (RFC 5881 §5).
    const offLink = dgram.createSocket('udp4');
    cleanups.push(() => offLink.close());
    await new Promise<void>((r) => offLink.bind(0, '127.0.0.1', () => r()));
    offLink.setTTL(64);
    offLink.send(Buffer.alloc(24), base + 1, '127.0.0.1');
    await waitFor('the TTL drop', () => a.dropCounts().ttl === 1 || undefined, 3000, 10);
    assert.deepEqual(told, ['ttl'], 'told, for herald_bfd_dropped_total');
    assert.equal(ha.state(), 'Up');
    const downs: string[] = [];
    ha.onState((s, _d, info) => downs.push(`${s}/${info.remoteState}`));
    await b.close();
    await waitFor('A Down', () => ha.state() === 'Down' || undefined, 3000, 10);
    assert.deepEqual(downs, ['Down/AdminDown']);
    assert.equal(ha.status(), 'Down (Neighbor Signaled Session Down)');
    assert.deepEqual(a.dropCounts(), { ttl: 1 });
  });

  it('reports a listening port already taken', async () => {
    const squatter = await socketOn(base + 3);
    cleanups.push(() => squatter.close());
    // Bound to 127.0.0.1 only; BFDSessions binds the wildcard, exclusively.
    const s = new BFDSessions({ log: silentLogger(), ports: { singleHop: { listen: base + 3, peer: base + 4 } } });
    cleanups.push(() => s.close());
    const h = s.add({ address: '127.0.0.1', profile });
    await waitFor('the listen failure', () => h.status().includes('cannot listen') || undefined, 3000, 10);
    assert.equal(h.status(), `Down (cannot listen on UDP ${base + 3}: EADDRINUSE)`);
  });
});
