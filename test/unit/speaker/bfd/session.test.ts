// The BFD driver on a fake clock and an in-memory network: two herald speakers bring a
// session Up, notice a cut within the Detection Time, come back; demultiplexing and its
// drop counts; remove() and close() saying AdminDown; a port already taken.
import { strict as assert } from 'node:assert';
import type { BFDProfileModel } from '../../../../shared/config/types.js';
import { FakeClock } from '../../../../shared/k8s/clock.js';
import { silentLogger } from '../../../../shared/log.js';
import { decodeControl, encodeControl, type BFDControlPacket } from '../../../../speaker/bfd/packet.js';
import { Diag, type BFDState } from '../../../../speaker/bfd/protocol.js';
import { BFDSessions, type BFDHandle } from '../../../../speaker/bfd/session.js';
import { FakeNetwork, type FakeHost } from './fakes.js';

const A = '192.0.2.1';
const B = '192.0.2.2';
const A6 = '2001:db8::1';
const B6 = '2001:db8::2';

const profile: BFDProfileModel = {
  name: 'fast',
  receiveInterval: 100,
  transmitInterval: 100,
  detectMultiplier: 3,
  echoInterval: 50,
  echoMode: false,
  passiveMode: false,
  minimumTtl: 254,
};

/** A deterministic [0, 1) sequence. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

interface Side {
  host: FakeHost;
  sessions: BFDSessions;
}

function pair(): { clock: FakeClock; net: FakeNetwork; a: Side; b: Side } {
  const clock = new FakeClock();
  const net = new FakeNetwork();
  const side = (seed: number, ...addrs: string[]): Side => {
    const host = net.host(...addrs);
    return { host, sessions: new BFDSessions({ log: silentLogger(), clock, rand: rng(seed), transport: host }) };
  };
  return { clock, net, a: side(1, A, A6), b: side(2, B, B6) };
}

function watch(h: BFDHandle): { states: BFDState[]; diags: number[]; remote: BFDState[] } {
  const seen = { states: [] as BFDState[], diags: [] as number[], remote: [] as BFDState[] };
  h.onState((s, d, info) => {
    seen.states.push(s);
    seen.diags.push(d);
    seen.remote.push(info.remoteState);
  });
  return seen;
}

/** Advances in small steps until cond holds; returns the ms it took. */
async function until(clock: FakeClock, cond: () => boolean, limitMs = 10_000, stepMs = 5): Promise<number> {
  const start = clock.now();
  while (!cond()) {
    if (clock.now() - start > limitMs) assert.fail(`condition not met within ${limitMs} ms`);
    await clock.advance(stepMs);
  }
  return clock.now() - start;
}

const packets = (net: FakeNetwork, from: string): BFDControlPacket[] =>
  net.sent.filter((d) => d.from === from).flatMap((d) => {
    const r = decodeControl(d.data);
    return r.ok ? [r.value] : [];
  });

describe('speaker/bfd sessions (driver)', () => {
  it('two speakers reach Up, notice a cut within the Detection Time, and come back', async () => {
    const { clock, net, a, b } = pair();
    const ha = a.sessions.add({ address: B, localAddress: A, profile });
    const hb = b.sessions.add({ address: A, profile });
    const wa = watch(ha);
    const took = await until(clock, () => ha.state() === 'Up' && hb.state() === 'Up');
    assert.ok(took < 100, `Up after ${took} ms: both send at once, and on every state change`);
    assert.equal(ha.status(), 'Up');
    assert.deepEqual(a.host.listens.map((l) => [l.family, l.port]), [[4, 3784]], 'one listening socket, on 3784');
    const s = a.host.senders[0]!;
    assert.equal(s.opts.port, 3784);
    assert.equal(s.from, A);

    // At the fast rate once the Polls are through: 75–100 ms apart.
    await clock.advance(1000);
    const before = packets(net, A).length;
    await clock.advance(1000);
    const perSecond = packets(net, A).length - before;
    assert.ok(perSecond >= 10 && perSecond <= 14, `${perSecond} packets in a second`);

    net.cut = true;
    const cutAt = clock.now();
    await until(clock, () => ha.state() === 'Down' && hb.state() === 'Down', 1000, 1);
    const detected = clock.now() - cutAt;
    assert.ok(detected >= 200 && detected <= 300, `Down ${detected} ms after the cut`);
    assert.equal(ha.diag(), Diag.ControlDetectionTimeExpired);
    assert.equal(ha.status(), 'Down (Control Detection Time Expired)');
    assert.deepEqual(
      wa.states.filter((x) => x !== 'Init'),
      ['Up', 'Down'],
    );

    // Slow while Down: about one packet a second.
    const slowFrom = packets(net, A).length;
    await clock.advance(3000);
    const slow = packets(net, A).length - slowFrom;
    assert.ok(slow >= 3 && slow <= 4, `${slow} packets in 3 s while Down`);

    net.cut = false;
    const back = await until(clock, () => ha.state() === 'Up' && hb.state() === 'Up', 5000);
    assert.ok(back <= 2100, `Up again ${back} ms after the repair`);
    await a.sessions.close();
    await b.sessions.close();
    assert.equal(clock.pending, 0, 'no timer left');
  });

  it('runs IPv4 and IPv6 sessions side by side, one listening socket per family', async () => {
    const { clock, a, b } = pair();
    const h4 = a.sessions.add({ address: B, profile });
    const h6 = a.sessions.add({ address: B6, profile });
    b.sessions.add({ address: A, profile });
    b.sessions.add({ address: A6, profile });
    await until(clock, () => h4.state() === 'Up' && h6.state() === 'Up');
    assert.deepEqual(a.host.listens.map((l) => l.family).sort(), [4, 6]);
    assert.notEqual(h4.localDiscriminator, h6.localDiscriminator);
    assert.throws(() => a.sessions.add({ address: B, localAddress: A6, profile }), TypeError);
    await a.sessions.close();
    await b.sessions.close();
  });

  it('counts what it drops: malformed, other versions, unknown discriminators, a discriminator from the wrong address', async () => {
    const { clock, net, a, b } = pair();
    const ha = a.sessions.add({ address: B, profile });
    b.sessions.add({ address: A, profile });
    await until(clock, () => ha.state() === 'Up');
    const good = (p: Partial<BFDControlPacket>): Buffer =>
      encodeControl({
        diag: 0,
        state: 'Down',
        poll: false,
        final: false,
        controlPlaneIndependent: false,
        demand: false,
        detectMult: 3,
        myDiscriminator: 99,
        yourDiscriminator: 0,
        desiredMinTxInterval: 1_000_000,
        requiredMinRxInterval: 100_000,
        requiredMinEchoRxInterval: 0,
        ...p,
      });
    net.inject(B, A, 3784, Buffer.alloc(10));
    const v2 = good({});
    v2[0] = 0x40;
    net.inject(B, A, 3784, v2);
    net.inject(B, A, 3784, good({ state: 'Up', yourDiscriminator: (ha.localDiscriminator + 1) >>> 0 || 1 }));
    net.inject('192.0.2.66', A, 3784, good({ yourDiscriminator: 0 }));
    net.inject('192.0.2.66', A, 3784, good({ state: 'Down', yourDiscriminator: ha.localDiscriminator }));
    await clock.advance(1);
    assert.deepEqual(a.sessions.dropCounts(), {
      'malformed:short': 1,
      'unsupported-version': 1,
      'no-session': 2,
      'address-mismatch': 1,
    });
    assert.equal(ha.state(), 'Up', 'the forged Down naming our discriminator from elsewhere changed nothing');
    await a.sessions.close();
    await b.sessions.close();
  });

  it('remove(): the peer sees AdminDown (and keeps its BGP session, RFC 5882 §3.2); the socket closes after a Detection Time', async () => {
    const { clock, net, a, b } = pair();
    const ha = a.sessions.add({ address: B, profile });
    const hb = b.sessions.add({ address: A, profile });
    const wb = watch(hb);
    await until(clock, () => ha.state() === 'Up' && hb.state() === 'Up');
    ha.remove();
    await clock.advance(1);
    assert.equal(hb.state(), 'Down');
    assert.equal(hb.diag(), Diag.NeighborSignaledSessionDown);
    assert.equal(wb.remote.at(-1), 'AdminDown');
    const sender = a.host.senders[0]!;
    assert.equal(sender.closed, false, 'AdminDown goes on for a while');
    await clock.advance(3100);
    assert.equal(sender.closed, true);
    const admin = packets(net, A).filter((p) => p.state === 'AdminDown');
    assert.ok(admin.length >= 3, `${admin.length} AdminDown packets`);
    assert.ok(admin.every((p) => p.diag === Diag.AdministrativelyDown));
    // B's packets now name a discriminator nobody holds.
    await clock.advance(2000);
    assert.ok((a.sessions.dropCounts()['no-session'] ?? 0) > 0);
    await a.sessions.close();
    await b.sessions.close();
    assert.equal(clock.pending, 0);
  });

  it('a session added to a peer whose removed session still says AdminDown silences that one', async () => {
    const { clock, net, a, b } = pair();
    const ha = a.sessions.add({ address: B, profile });
    const hb = b.sessions.add({ address: A, profile });
    await until(clock, () => ha.state() === 'Up' && hb.state() === 'Up');
    ha.remove();
    await clock.advance(1);
    const old = a.host.senders[0]!;
    assert.equal(old.closed, false);
    const hn = a.sessions.add({ address: B, profile: { ...profile, passiveMode: true } });
    assert.equal(old.closed, true, 'no more AdminDown naming the old discriminator');
    await until(clock, () => hn.state() === 'Up' && hb.state() === 'Up', 5000);
    const stale = packets(net, A).filter((p) => p.myDiscriminator === ha.localDiscriminator && p.state === 'AdminDown');
    assert.equal(stale.length, 1);
    await a.sessions.close();
    await b.sessions.close();
  });

  it('close(): one AdminDown to each peer, every socket closed', async () => {
    const { clock, net, a, b } = pair();
    const ha = a.sessions.add({ address: B, profile });
    const hb = b.sessions.add({ address: A, profile });
    await until(clock, () => ha.state() === 'Up');
    const sent = net.sent.length;
    await a.sessions.close();
    const after = net.sent.slice(sent).filter((d) => d.from === A);
    assert.equal(after.length, 1);
    const r = decodeControl(after[0]!.data);
    assert.ok(r.ok && r.value.state === 'AdminDown');
    assert.ok(a.host.senders.every((s) => s.closed));
    assert.ok(a.host.listens.every((l) => l.closed));
    await clock.advance(1);
    assert.equal(hb.state(), 'Down');
    assert.throws(() => a.sessions.add({ address: B, profile }), /closed/);
    await b.sessions.close();
  });

  it('reports a port it cannot listen on in the status', async () => {
    const { clock, a } = pair();
    a.host.listenError = 'EADDRINUSE';
    const h = a.sessions.add({ address: B, profile });
    await clock.advance(1);
    assert.equal(h.status(), 'Down (cannot listen on UDP 3784: EADDRINUSE)');
    const later = a.sessions.add({ address: '192.0.2.3', profile });
    assert.equal(later.status(), 'Down (cannot listen on UDP 3784: EADDRINUSE)', 'sessions added later learn it too');
    await a.sessions.close();
  });

  it('a passive session waits for the peer; a changed profile goes through a Poll', async () => {
    const { clock, net, a, b } = pair();
    const ha = a.sessions.add({ address: B, profile: { ...profile, passiveMode: true } });
    await clock.advance(3000);
    assert.equal(packets(net, A).length, 0, 'passive: nothing sent to a silent peer');
    const hb = b.sessions.add({ address: A, profile, multihop: false });
    await until(clock, () => ha.state() === 'Up' && hb.state() === 'Up');
    await clock.advance(500);
    const from = net.sent.length;
    ha.reconfigure({ ...profile, transmitInterval: 300, receiveInterval: 300 });
    await clock.advance(1);
    const polls = net.sent.slice(from).filter((d) => d.from === A).map((d) => decodeControl(d.data)).filter((r) => r.ok && r.value.poll);
    assert.ok(polls.length >= 1, 'new timers announced with P');
    await clock.advance(1000);
    const last = packets(net, A).at(-1)!;
    assert.equal(last.poll, false, 'the peer answered with F');
    assert.equal(last.desiredMinTxInterval, 300_000);
    const gapsFrom = packets(net, A).length;
    await clock.advance(3000);
    const n = packets(net, A).length - gapsFrom;
    assert.ok(n >= 10 && n <= 14, `${n} packets in 3 s at 300 ms`);
    await a.sessions.close();
    await b.sessions.close();
  });

  it('multihop sessions use port 4784 (RFC 5883)', async () => {
    const { clock, a, b } = pair();
    const ha = a.sessions.add({ address: B, profile, multihop: true });
    const hb = b.sessions.add({ address: A, profile, multihop: true });
    await until(clock, () => ha.state() === 'Up' && hb.state() === 'Up');
    assert.deepEqual(a.host.listens.map((l) => l.port), [4784]);
    assert.equal(a.host.senders[0]!.opts.port, 4784);
    await a.sessions.close();
    await b.sessions.close();
  });

  it('GTSM: single-hop packets not sent with TTL 255 are dropped (a session past a router goes Down); multihop ones below minimumTtl too', async () => {
    const { clock, net, a, b } = pair();
    const ha = a.sessions.add({ address: B, profile });
    const hb = b.sessions.add({ address: A, profile });
    await until(clock, () => ha.state() === 'Up' && hb.state() === 'Up');
    net.ttlOnArrival = 254;
    await until(clock, () => ha.state() === 'Down' && hb.state() === 'Down', 2000);
    assert.ok((a.sessions.dropCounts().ttl ?? 0) >= 3, JSON.stringify(a.sessions.dropCounts()));
    net.ttlOnArrival = 255;
    await until(clock, () => ha.state() === 'Up' && hb.state() === 'Up');
    await a.sessions.close();
    await b.sessions.close();

    const m = pair();
    const hop = { ...profile, minimumTtl: 250 };
    const ma = m.a.sessions.add({ address: B, profile: hop, multihop: true });
    const mb = m.b.sessions.add({ address: A, profile: hop, multihop: true });
    m.net.ttlOnArrival = 250;
    await until(m.clock, () => ma.state() === 'Up' && mb.state() === 'Up');
    m.net.ttlOnArrival = 249;
    await until(m.clock, () => ma.state() === 'Down', 2000);
    assert.ok((m.a.sessions.dropCounts().ttl ?? 0) >= 3);
    await m.a.sessions.close();
    await m.b.sessions.close();
  });
});
