// Membership over real UDP sockets on loopback: several in-process speakers, each bound
// to its own 127.0.0.x address (or to ::1 on its own port). No root needed.
import { strict as assert } from 'node:assert';
import { encode, type Message } from '../../../speaker/membership/codec.js';
import { KEY, TestMember, freePort, peersOf, sendRaw, waitFor } from './harness.js';

const NAMES = ['n1', 'n2', 'n3'];
const addr = (i: number) => `127.0.0.${41 + i}`;
// Default timing: 100 ms interval, 350 ms detection. Upper bounds leave room for a loaded
// CI machine; lower bounds show detection is not premature.
const DETECT_MS = 350;
const SLACK_MS = 300;

describe('membership over loopback UDP', function () {
  this.timeout(20_000);
  let members: TestMember[] = [];
  let port = 0;

  beforeEach(async () => {
    port = await freePort(addr(0));
    // n2 leaves without a restart hold (make-before-break); n3 has the default hold.
    members = NAMES.map((name, i) => new TestMember(name, { port, bindAddress: addr(i), ...(name === 'n2' ? { restartHoldMs: 0 } : {}) }));
    const peers = peersOf(NAMES.map((name, i) => ({ name, address: addr(i) })));
    for (const m of members) m.member.setPeers(peers);
    await Promise.all(members.map((m) => m.member.start()));
    await waitFor('all live everywhere', () => members.every((m) => m.live()?.length === 3));
  });

  afterEach(async () => {
    await Promise.all(members.map((m) => m.member.stop()));
    members = [];
  });

  it('speakers started together are ready with each other, and stay that way', async () => {
    // Started within a few ms of each other, they heard each other while listening: no
    // phase in which one believed it was alone.
    for (const m of members) {
      assert.deepEqual(m.changes[0]?.live, NAMES, `${m.name} first report`);
    }
    await new Promise((r) => setTimeout(r, 1000));
    for (const m of members) assert.equal(m.changes.length, 1, `${m.name}: no flapping`);
  });

  it('a speaker that falls silent is down everywhere within the detection time', async () => {
    const [a, b, c] = members as [TestMember, TestMember, TestMember];
    // Silent from a known heartbeat on. Stopped at an arbitrary moment instead, the last
    // heartbeat was up to 100 ms earlier, plus however late a loaded machine ran its timer:
    // ~60 ms of margin left to a lower bound that could only be a guess.
    const { lastSent: t0, stopped } = await c.stopAfterHeartbeat();
    await stopped;
    const downs = await waitFor('n3 down at n1 and n2', () => {
      const x = a.downAt('n3', t0);
      const y = b.downAt('n3', t0);
      return x && y ? [x, y] : undefined;
    });
    for (const d of downs) {
      const ms = d.at - t0;
      // The peers heard it at or after t0, and declare it down 350 ms after they last did.
      assert.ok(ms >= DETECT_MS, `detected too early: ${ms} ms after the last heartbeat`);
      assert.ok(ms <= DETECT_MS + SLACK_MS, `detected after ${ms} ms`);
      assert.deepEqual(d.live, ['n1', 'n2']);
      assert.deepEqual(d.events, [{ type: 'down', node: 'n3', reason: 'timeout' }]);
    }
  });

  it('leave with a restart hold: peers keep the speaker live while its node answers, and its next boot resumes', async () => {
    const [a, b, c] = members as [TestMember, TestMember, TestMember];
    const t0 = performance.now();
    await c.member.leave();
    await c.member.stop();
    // Its host (127.0.0.43) answers the peers' TCP probes with resets: it stays live.
    await new Promise((r) => setTimeout(r, 1500));
    for (const m of [a, b]) {
      assert.deepEqual(m.live(), NAMES, `${m.name} holds n3`);
      assert.equal(m.downAt('n3', t0), undefined);
    }
    const c2 = new TestMember('n3', { port, bindAddress: addr(2) });
    members[2] = c2;
    c2.member.setPeers(peersOf(NAMES.map((name, i) => ({ name, address: addr(i) }))));
    await c2.member.start();
    const resumed = await waitFor('n3 resumed at n1', () => a.changes.find((ch) => ch.at >= t0 && ch.events.some((e) => e.type === 'up' && e.node === 'n3')));
    assert.deepEqual(resumed.events, [{ type: 'up', node: 'n3', reason: 'resumed' }]);
    assert.deepEqual(resumed.live, NAMES);
    assert.equal(a.downAt('n3', t0), undefined, 'never down');
  });

  it('leave without a hold: peers drop the speaker at once, while it keeps going for the grace period', async () => {
    const [a, b] = members as [TestMember, TestMember, TestMember];
    const t0 = performance.now();
    const leaving = b.member.leave();
    const down = await waitFor('n2 down at n1', () => a.downAt('n2', t0));
    assert.ok(down.at - t0 < 100, `leave took ${down.at - t0} ms`);
    assert.deepEqual(down.events, [{ type: 'down', node: 'n2', reason: 'leave' }]);
    await leaving;
    const grace = performance.now() - t0;
    assert.ok(grace >= 950 && grace < 1000 + SLACK_MS, `grace ${grace} ms`);
    // The leaver reported nothing after leaving, and n1 does not see it come back.
    assert.equal(b.changes.length, 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(a.live(), ['n1', 'n3']);
  });

  it('a restarted speaker rejoins; its peers let go only after it is ready (make-before-break)', async () => {
    const [a, , c] = members as [TestMember, TestMember, TestMember];
    await c.member.stop();
    const t0 = performance.now();
    const c2 = new TestMember('n3', { port, bindAddress: addr(2) });
    members[2] = c2;
    c2.member.setPeers(peersOf(NAMES.map((name, i) => ({ name, address: addr(i) }))));
    await c2.member.start();
    const ready = await waitFor('n3 ready', () => c2.changes[0]);
    assert.deepEqual(ready.live, NAMES);
    const up = await waitFor('n3 up at n1', () => a.changes.find((ch) => ch.at >= t0 && ch.events.some((e) => e.type === 'up' && e.node === 'n3')));
    assert.ok(up.at > ready.at, `n1 took n3 back ${ready.at - up.at} ms before n3 was ready`);
    assert.deepEqual(up.live, NAMES);
  });

  it('forged, malformed and replayed datagrams change nothing and are counted', async () => {
    const [a] = members as [TestMember, TestMember, TestMember];
    const wrongKey = Buffer.alloc(32, 0x11);
    const base: Message = { type: 'leave', node: 'n2', boot: { time: Date.now(), nonce: 1 }, seq: 1, sentAt: Date.now(), interval: 100 };
    const forged = [
      encode(base, wrongKey), // n2 "leaving", signed with the wrong key
      encode({ ...base, type: 'alive', node: 'intruder' }, wrongKey),
      Buffer.from('not a membership datagram'),
      Buffer.alloc(0),
    ];
    // Right key, but a replay: the same datagram twice from a stranger "n9"; and a stale one.
    const n9 = encode({ ...base, type: 'alive', node: 'n9' }, KEY);
    const stale = encode({ ...base, type: 'alive', node: 'n8', sentAt: Date.now() - 3_600_000 }, KEY);
    const before = a.changes.length;
    await sendRaw([...forged, n9, n9, stale], port, addr(0));
    const dropped = await waitFor('all counted', async () => {
      const d = await a.dropped();
      return d.badMac === 2 && d.replay === 1 && d.stale === 1 && d.truncated === 2 ? d : undefined;
    });
    assert.equal(dropped.badMagic, undefined);
    await new Promise((r) => setTimeout(r, 700));
    // n2 never left, no intruder; n9 (right key) was heard once, never long enough to join.
    assert.ok(a.changes.slice(before).every((c) => !c.events.some((e) => e.type === 'down' && e.node === 'n2')));
    assert.ok(a.changes.every((c) => !c.live.includes('intruder') && !c.live.includes('n9')));
    assert.deepEqual(a.live(), NAMES);
  });
});

describe('membership over IPv6 loopback', function () {
  this.timeout(10_000);
  const members: TestMember[] = [];

  after(async () => {
    await Promise.all(members.map((m) => m.member.stop()));
  });

  it('works between speakers on ::1 (own ports) and detects a silent one', async () => {
    const ports = [await freePort('::1'), await freePort('::1')];
    const peers = peersOf(['v1', 'v2'].map((name, i) => ({ name, address: '::1', port: ports[i] as number })));
    for (const [i, name] of ['v1', 'v2'].entries()) {
      const m = new TestMember(name, { port: ports[i] as number, bindAddress: '::1' });
      m.member.setPeers(peers);
      members.push(m);
    }
    await Promise.all(members.map((m) => m.member.start()));
    await waitFor('both live', () => members.every((m) => m.live()?.length === 2));
    const t0 = performance.now();
    await (members[1] as TestMember).member.stop();
    const down = await waitFor('v2 down', () => (members[0] as TestMember).downAt('v2', t0));
    assert.ok(down.at - t0 <= DETECT_MS + SLACK_MS);
  });
});
