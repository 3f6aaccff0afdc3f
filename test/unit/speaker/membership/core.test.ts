import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { decode, encode, type BootId, type Message } from '../../../../speaker/membership/codec.js';
import {
  heldPeers,
  initialState,
  liveNodes,
  newSender,
  nextDeadline,
  nextMessage,
  onMessage,
  onNodeSeen,
  onTick,
  type CoreOptions,
  type MembershipEvent,
  type MembershipState,
} from '../../../../speaker/membership/core.js';

const WALL0 = 1_700_000_000_000;
const BOOT_A: BootId = { time: WALL0 - 5_000, nonce: 1 };

/** A fake world: a monotonic clock starting at 0 and a wall clock WALL0 ahead of it. */
class World {
  state: MembershipState;
  now = 0;
  events: MembershipEvent[] = [];
  seq = new Map<string, number>();

  constructor(opts: Partial<CoreOptions> = {}) {
    this.state = initialState({ self: 'me', ...opts }, 0);
  }

  msg(node: string, over: Partial<Message> = {}): Message {
    const seq = (this.seq.get(node) ?? 0) + 1;
    this.seq.set(node, seq);
    return { type: 'alive', node, boot: BOOT_A, seq, sentAt: WALL0 + this.now, interval: 100, ...over };
  }

  deliver(m: Message): string | undefined {
    const step = onMessage(this.state, m, { mono: this.now, wall: WALL0 + this.now });
    this.state = step.state;
    this.events.push(...step.events);
    return step.drop;
  }

  tick(to: number): void {
    this.now = to;
    const step = onTick(this.state, to);
    this.state = step.state;
    this.events.push(...step.events);
  }

  /** Heartbeats from `nodes` every `every` ms from now until `until`, ticking at each step. */
  run(nodes: string[], until: number, every = 100): void {
    while (this.now + every <= until) {
      this.tick(this.now + every);
      for (const n of nodes) this.deliver(this.msg(n));
    }
    this.tick(until);
  }

  take(): MembershipEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  live(): string[] {
    return [...liveNodes(this.state)].sort();
  }
}

/** A ready world in which `peers` are live. */
function settled(peers: string[], opts: Partial<CoreOptions> = {}): World {
  const w = new World(opts);
  w.run(peers, 400);
  assert.equal(w.state.ready, true);
  assert.deepEqual(w.live(), [...peers, 'me'].sort());
  w.take();
  return w;
}

describe('membership core', () => {
  it('listens one detection time before ready; peers heard meanwhile are live at once', () => {
    const w = new World();
    assert.deepEqual(nextDeadline(w.state), 350);
    w.tick(50);
    w.deliver(w.msg('a'));
    assert.deepEqual(w.take(), [{ type: 'up', node: 'a', reason: 'settled' }]);
    w.tick(349);
    assert.equal(w.state.ready, false);
    w.deliver(w.msg('a'));
    w.tick(350);
    assert.deepEqual(w.take(), [{ type: 'ready' }]);
    assert.deepEqual(w.live(), ['a', 'me']);
  });

  it('a speaker alone is ready with itself only', () => {
    const w = new World();
    w.tick(350);
    assert.deepEqual(w.take(), [{ type: 'ready' }]);
    assert.deepEqual(w.live(), ['me']);
    assert.equal(nextDeadline(w.state), undefined);
  });

  it('declares a silent peer down after 3.5 intervals, not before', () => {
    const w = settled(['a', 'b']);
    const lastA = w.now;
    w.deliver(w.msg('a'));
    assert.equal(nextDeadline(w.state), lastA + 350);
    // b keeps talking, a goes quiet.
    w.run(['b'], lastA + 349, 50);
    assert.deepEqual(w.take(), []);
    assert.deepEqual(w.live(), ['a', 'b', 'me']);
    w.tick(lastA + 350);
    assert.deepEqual(w.take(), [{ type: 'down', node: 'a', reason: 'timeout' }]);
    assert.deepEqual(w.live(), ['b', 'me']);
  });

  it('uses the interval each peer announces for its detection time', () => {
    const w = settled([]);
    const t = w.now;
    w.deliver(w.msg('slow', { interval: 1000 }));
    w.tick(t + 600);
    w.deliver(w.msg('slow', { interval: 1000 }));
    w.tick(t + 1100); // joined (500 ms unbroken)
    assert.deepEqual(w.take(), [{ type: 'up', node: 'slow', reason: 'joined' }]);
    w.tick(t + 600 + 3499);
    assert.deepEqual(w.take(), []);
    w.tick(t + 600 + 3500);
    assert.deepEqual(w.take(), [{ type: 'down', node: 'slow', reason: 'timeout' }]);
  });

  it('nextDeadline is the earliest expiry or pending join', () => {
    const w = settled(['a']);
    const t = w.now;
    w.deliver(w.msg('a'));
    assert.equal(nextDeadline(w.state), t + 350);
    w.tick(t + 10);
    w.deliver(w.msg('b'));
    assert.equal(nextDeadline(w.state), t + 350, 'a expires before b may join');
    w.tick(t + 300);
    w.deliver(w.msg('a'));
    w.deliver(w.msg('b'));
    assert.equal(nextDeadline(w.state), t + 10 + 500, 'b joins before anyone expires');
  });

  it('a peer that comes back after a timeout is live again at once (hold-down 0)', () => {
    const w = settled(['a']);
    w.tick(w.now + 400);
    assert.deepEqual(w.take(), [{ type: 'down', node: 'a', reason: 'timeout' }]);
    w.deliver(w.msg('a'));
    assert.deepEqual(w.take(), [{ type: 'up', node: 'a', reason: 'recovered' }]);
  });

  it('with a hold-down, a flapping peer must be heard without a break for that long', () => {
    const w = settled(['a'], { holdDownMs: 300 });
    w.tick(w.now + 400);
    w.take();
    const back = w.now;
    w.deliver(w.msg('a'));
    w.run(['a'], back + 200);
    // Another break (≥ 350 ms) restarts the count.
    w.tick(back + 600);
    w.deliver(w.msg('a'));
    w.run(['a'], back + 899);
    assert.deepEqual(w.take(), []);
    w.tick(back + 900);
    assert.deepEqual(w.take(), [{ type: 'up', node: 'a', reason: 'recovered' }]);
  });

  it('a new speaker joins only after 500 ms of unbroken heartbeats (make-before-break)', () => {
    const w = settled(['a']);
    const t = w.now;
    w.deliver(w.msg('new'));
    w.run(['a', 'new'], t + 499, 100);
    assert.ok(!w.live().includes('new'));
    assert.deepEqual(w.take(), []);
    w.tick(t + 500);
    assert.deepEqual(w.take(), [{ type: 'up', node: 'new', reason: 'joined' }]);
  });

  it('a joiner that falls silent before its join delay never comes up', () => {
    const w = settled([]);
    const t = w.now;
    w.deliver(w.msg('new'));
    w.tick(t + 100);
    w.deliver(w.msg('new'));
    w.tick(t + 2000);
    assert.deepEqual(w.take(), []);
    assert.deepEqual(w.live(), ['me']);
  });

  it('leave takes a peer down at once, and nothing more from that boot is believed', () => {
    const w = settled(['a', 'b']);
    assert.equal(w.deliver(w.msg('a', { type: 'leave' })), undefined);
    assert.deepEqual(w.take(), [{ type: 'down', node: 'a', reason: 'leave' }]);
    assert.deepEqual(w.live(), ['b', 'me']);
    // The other two leave datagrams (repeats) and a late alive.
    assert.equal(w.deliver(w.msg('a', { type: 'leave' })), 'left');
    assert.equal(w.deliver(w.msg('a')), 'left');
    w.tick(w.now + 1000);
    assert.ok(!w.live().includes('a'));
    assert.equal(nextDeadline(w.state) !== undefined, true, 'b still expires');
    // The restarted speaker (a new boot) joins normally.
    const t = w.now;
    for (let i = 0; i <= 5; i++) {
      w.tick(t + i * 100);
      w.deliver(w.msg('a', { boot: { time: WALL0 + 10, nonce: 9 }, seq: i + 1 }));
    }
    assert.deepEqual(
      w.take().filter((e) => e.type !== 'ready' && e.node === 'a'),
      [{ type: 'up', node: 'a', reason: 'joined' }],
    );
  });

  describe('restart holds (a leave asking its node be kept live)', () => {
    const NEXT_BOOT: BootId = { time: WALL0 + 10, nonce: 9 };

    it('keeps the leaver live while its node is seen up; its next boot takes its place at once', () => {
      const w = settled(['a', 'b']);
      const t = w.now;
      assert.equal(w.deliver(w.msg('a', { type: 'leave', hold: 5000 })), undefined);
      assert.deepEqual(w.take(), [{ type: 'hold', node: 'a', ms: 5000 }]);
      assert.deepEqual(heldPeers(w.state), ['a']);
      // The leave's repeats and the old boot's heartbeats change nothing.
      assert.equal(w.deliver(w.msg('a', { type: 'leave', hold: 5000 })), 'left');
      assert.equal(w.deliver(w.msg('a')), 'left');
      // Two seconds of silence from the speaker, its node answering probes every 100 ms.
      for (let at = t + 100; at <= t + 2000; at += 100) {
        w.state = onNodeSeen(w.state, 'a', at);
        w.run(['b'], at, 100);
      }
      assert.deepEqual(w.take(), []);
      assert.deepEqual(w.live(), ['a', 'b', 'me']);
      // The restarted speaker: live from its first heartbeat, no join delay, no down.
      w.deliver(w.msg('a', { boot: NEXT_BOOT, seq: 1 }));
      assert.deepEqual(w.take(), [{ type: 'up', node: 'a', reason: 'resumed' }]);
      assert.deepEqual(heldPeers(w.state), []);
      assert.deepEqual(w.live(), ['a', 'b', 'me']);
      // From then on it is an ordinary live peer: silence is a timeout.
      w.run(['b'], w.now + 400, 50);
      assert.deepEqual(w.take(), [{ type: 'down', node: 'a', reason: 'timeout' }]);
    });

    it('ends the hold one detection time after the node was last seen (its node went away)', () => {
      const w = settled(['a']);
      const t = w.now;
      w.deliver(w.msg('a', { type: 'leave', hold: 10_000 }));
      w.take();
      w.state = onNodeSeen(w.state, 'a', t + 100);
      assert.equal(nextDeadline(w.state), t + 100 + 350);
      w.run([], t + 449, 50);
      assert.deepEqual(w.take(), []);
      w.tick(t + 450);
      assert.deepEqual(w.take(), [{ type: 'down', node: 'a', reason: 'nodeGone' }]);
      assert.deepEqual(w.live(), ['me']);
      // A late probe answer does not bring it back; its next boot joins as a newcomer.
      w.state = onNodeSeen(w.state, 'a', t + 500);
      assert.deepEqual(w.live(), ['me']);
      const from = w.now;
      for (let i = 0; i <= 5; i++) {
        w.tick(from + i * 100);
        w.deliver(w.msg('a', { boot: NEXT_BOOT, seq: i + 1 }));
      }
      assert.deepEqual(w.take(), [{ type: 'up', node: 'a', reason: 'joined' }]);
    });

    it('ends the hold when it runs out, node seen or not (the speaker is not coming back)', () => {
      const w = settled(['a']);
      const t = w.now;
      w.deliver(w.msg('a', { type: 'leave', hold: 1000 }));
      w.take();
      for (let at = t + 100; at < t + 1000; at += 100) {
        w.state = onNodeSeen(w.state, 'a', at);
        w.tick(at);
      }
      assert.deepEqual(w.take(), []);
      w.state = onNodeSeen(w.state, 'a', t + 1000);
      assert.ok((nextDeadline(w.state) ?? Infinity) <= t + 1000);
      w.tick(t + 1000);
      assert.deepEqual(w.take(), [{ type: 'down', node: 'a', reason: 'holdExpired' }]);
      assert.deepEqual(w.live(), ['me']);
    });

    it('a leave without a hold, or from a peer not yet live, takes it down as before', () => {
      const w = settled(['a']);
      w.deliver(w.msg('a', { type: 'leave' }));
      assert.deepEqual(w.take(), [{ type: 'down', node: 'a', reason: 'leave' }]);
      // A newcomer still in its join delay leaving with a hold is simply gone.
      const t = w.now;
      w.tick(t + 100);
      w.deliver(w.msg('c'));
      w.tick(t + 200);
      w.deliver(w.msg('c', { type: 'leave', hold: 5000 }));
      w.tick(t + 2000);
      assert.deepEqual(w.take(), []);
      assert.deepEqual(w.live(), ['me']);
      assert.deepEqual(heldPeers(w.state), []);
    });
  });

  it('a restart (new boot while live) is a down, then a join', () => {
    const w = settled(['a']);
    const t = w.now;
    w.deliver(w.msg('a', { boot: { time: WALL0 + 1, nonce: 2 }, seq: 1 }));
    assert.deepEqual(w.take(), [{ type: 'down', node: 'a', reason: 'restarted' }]);
    w.tick(t + 300);
    w.deliver(w.msg('a', { boot: { time: WALL0 + 1, nonce: 2 }, seq: 2 }));
    w.tick(t + 500);
    assert.deepEqual(w.take(), [{ type: 'up', node: 'a', reason: 'joined' }]);
  });

  it('drops replayed and reordered datagrams without touching the state', () => {
    const w = settled(['a']);
    const m = w.msg('a');
    assert.equal(w.deliver(m), undefined);
    const before = w.state;
    assert.equal(w.deliver(m), 'replay');
    assert.equal(w.deliver({ ...m, seq: m.seq - 1 }), 'replay');
    assert.equal(w.state, before);
    // A replay cannot keep a dead peer alive.
    const recorded = [w.msg('a'), w.msg('a'), w.msg('a')];
    recorded.forEach((r) => w.deliver(r));
    w.tick(w.now + 400);
    assert.deepEqual(w.take(), [{ type: 'down', node: 'a', reason: 'timeout' }]);
    for (const r of recorded) assert.equal(w.deliver(r), 'replay');
    w.tick(w.now + 100);
    assert.deepEqual(w.live(), ['me']);
    assert.deepEqual(w.take(), []);
  });

  it('drops an older boot while the newer one is around, believes it after a long silence', () => {
    const w = settled(['a']);
    const old: BootId = { time: BOOT_A.time - 60_000, nonce: 7 };
    assert.equal(w.deliver(w.msg('a', { boot: old, seq: 999_999 })), 'oldBoot');
    // Same time, smaller nonce: also older.
    assert.equal(w.deliver(w.msg('a', { boot: { time: BOOT_A.time, nonce: 0 } })), 'oldBoot');
    w.tick(w.now + 30_000);
    assert.equal(w.deliver(w.msg('a', { boot: old })), 'oldBoot', 'silent for less than maxClockSkewMs');
    w.tick(w.now + 31_000);
    // The node restarted with its clock stepped back: believed once a's boot is long silent.
    assert.equal(w.deliver(w.msg('a', { boot: old })), undefined);
  });

  it('a first datagram of a boot must be fresh (maxClockSkewMs); 0 turns that off', () => {
    const w = settled([]);
    assert.equal(w.deliver(w.msg('a', { sentAt: WALL0 + w.now - 60_001 })), 'stale');
    assert.equal(w.deliver(w.msg('a', { sentAt: WALL0 + w.now + 60_001 })), 'stale');
    assert.equal(w.state.peers.size, 0);
    assert.equal(w.deliver(w.msg('a', { sentAt: WALL0 + w.now - 59_000 })), undefined);
    // Once the boot is known, sequence numbers protect it; sentAt is not checked again.
    assert.equal(w.deliver(w.msg('a', { sentAt: 0 })), undefined);

    const off = settled([], { maxClockSkewMs: 0 });
    assert.equal(off.deliver(off.msg('b', { sentAt: 0 })), undefined);
  });

  it('drops its own datagrams reflected back', () => {
    const w = settled([]);
    assert.equal(w.deliver(w.msg('me')), 'self');
    assert.deepEqual(w.live(), ['me']);
  });

  it('a heartbeat after a long gap with no tick in between breaks the run', () => {
    const w = settled(['a']);
    w.now += 1000;
    w.deliver(w.msg('a'));
    assert.deepEqual(w.take(), [
      { type: 'down', node: 'a', reason: 'timeout' },
      { type: 'up', node: 'a', reason: 'recovered' },
    ]);
  });

  it('forged, wrongly keyed and malformed datagrams never reach the state', () => {
    const key = Buffer.alloc(32, 1);
    const wrong = Buffer.alloc(32, 2);
    const w = settled(['a']);
    const before = w.state;
    const forged = encode(w.msg('b'), wrong);
    const tampered = encode(w.msg('a', { type: 'leave' }), key);
    tampered[tampered.length - 40] = (tampered[tampered.length - 40] as number) ^ 0xff;
    for (const buf of [forged, tampered, Buffer.from('hello'), Buffer.alloc(90)]) {
      const d = decode(buf, [key]);
      assert.equal(d.ok, false);
    }
    assert.equal(w.state, before);
    assert.deepEqual(w.live(), ['a', 'me']);
  });

  it('the sender numbers its messages from 1, one sequence over all destinations', () => {
    let s = newSender('me', WALL0 + 0.7, 0x1_0000_0005);
    assert.deepEqual(s.boot, { time: WALL0, nonce: 5 });
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const n = nextMessage(s, i === 2 ? 'leave' : 'alive', 100, WALL0 + i);
      s = n.sender;
      seqs.push(n.message.seq);
      assert.equal(n.message.sentAt, WALL0 + i);
    }
    assert.deepEqual(seqs, [1, 2, 3]);
  });

  it('invariants under any interleaving of datagrams, replays and ticks (property)', () => {
    type Op = { kind: 'send'; node: number; boot: number; type: 'alive' | 'leave' } | { kind: 'replay'; index: number } | { kind: 'wait'; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), node: fc.integer({ min: 0, max: 2 }), boot: fc.integer({ min: 0, max: 2 }), type: fc.constantFrom<'alive' | 'leave'>('alive', 'alive', 'alive', 'leave') }),
      fc.record({ kind: fc.constant('replay' as const), index: fc.nat() }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 400 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const w = new World();
        const sent: Message[] = [];
        const seqs = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'wait') {
            w.tick(w.now + o.ms);
            // Every live peer was heard within its detection time.
            for (const [node, p] of w.state.peers) {
              if (p.live) assert.ok(w.now - p.lastHeard < p.interval * 3.5, `${node} live but silent`);
            }
            continue;
          }
          if (o.kind === 'replay') {
            if (sent.length === 0) continue;
            const m = sent[o.index % sent.length] as Message;
            const before = w.state;
            const drop = w.deliver(m);
            assert.ok(drop !== undefined, 'a replay is never accepted');
            assert.equal(w.state, before);
            continue;
          }
          const node = `p${o.node}`;
          const boot = { time: WALL0 - 1000 + o.boot, nonce: o.boot };
          const k = `${node}/${o.boot}`;
          const seq = (seqs.get(k) ?? 0) + 1;
          seqs.set(k, seq);
          const m: Message = { type: o.type, node, boot, seq, sentAt: WALL0 + w.now, interval: 100 };
          const liveBefore = liveNodes(w.state);
          const eventsBefore = w.events.length;
          const drop = w.deliver(m);
          sent.push(m);
          // Events describe exactly the change of the live set.
          const liveAfter = liveNodes(w.state);
          const ev = w.events.slice(eventsBefore);
          const ups = ev.filter((e) => e.type === 'up').map((e) => (e as { node: string }).node);
          const downs = ev.filter((e) => e.type === 'down').map((e) => (e as { node: string }).node);
          for (const n of liveAfter) if (!liveBefore.has(n)) assert.ok(ups.includes(n));
          for (const n of liveBefore) if (!liveAfter.has(n)) assert.ok(downs.includes(n));
          if (o.type === 'leave' && drop === undefined) assert.ok(!liveAfter.has(node));
          if (drop !== undefined) assert.equal(ev.length, 0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
