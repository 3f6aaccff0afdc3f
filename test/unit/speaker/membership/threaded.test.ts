// The membership in its own thread, two speakers over loopback, with the main thread
// (which both share here) blocked on purpose: heartbeats must go on regardless (no flap),
// and stop only when the main thread stays silent past the stall limit.
import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createMetrics } from '../../../../shared/metrics.js';
import type { MembershipEvent } from '../../../../speaker/membership/core.js';
import { ThreadedMembership, type ThreadedMembershipConfig } from '../../../../speaker/membership/threaded.js';

const key = Buffer.alloc(32, 5);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps the main thread busy, as a burst of cluster changes does. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

async function until(what: string, pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

describe('membership thread (threaded.ts, thread.ts)', function () {
  this.timeout(20_000);
  const started: ThreadedMembership[] = [];
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));

  afterEach(async () => {
    for (const m of started.splice(0)) await m.stop();
    lines.length = 0;
  });

  async function pair(a: Partial<ThreadedMembershipConfig> = {}, b: Partial<ThreadedMembershipConfig> = {}) {
    const metrics = createMetrics({ defaultMetrics: false });
    const make = (node: string, over: Partial<ThreadedMembershipConfig>) => {
      const m = new ThreadedMembership({ node, key, port: 0, bindAddress: '127.0.0.1', leaveGraceMs: 0, logger: logger.child({ node }), ...over });
      started.push(m);
      return m;
    };
    const ma = make('a', { metrics, ...a });
    const mb = make('b', b);
    await Promise.all([ma.start(), mb.start()]);
    ma.setPeers([{ name: 'b', address: '127.0.0.1', port: mb.port() as number }]);
    mb.setPeers([{ name: 'a', address: '127.0.0.1', port: ma.port() as number }]);
    const seenByB: MembershipEvent[] = [];
    mb.onChange((_live, events) => seenByB.push(...events.filter((e) => e.type !== 'ready')));
    await until('both live', () => ma.live()?.has('b') === true && mb.live()?.has('a') === true);
    // What b saw while the two found each other (a joined, on a loaded machine) is not the test's.
    seenByB.length = 0;
    return { ma, mb, metrics, seenByB };
  }

  it('reports the live set, relays logs and counters, and leaves', async () => {
    const { ma, mb, metrics, seenByB } = await pair({}, { restartHoldMs: 0 });
    assert.deepEqual([...(ma.live() ?? [])].sort(), ['a', 'b']);
    await sleep(1200);
    const sent = (await metrics.registry.getSingleMetric('herald_membership_sent_total')?.get())?.values ?? [];
    assert.ok(sent.some((v) => v.labels.type === 'alive' && v.value >= 5), JSON.stringify(sent));
    assert.ok(lines.some((l) => l.includes('"msg":"membership: listening"') && l.includes('"node":"a"')), 'the thread logs through the main logger');
    // b has no hold: a sees it leave at once.
    const events: MembershipEvent[] = [];
    ma.onChange((_live, ev) => events.push(...ev));
    await mb.leave();
    await until('a sees b leave', () => ma.live()?.has('b') === false, 1000);
    assert.deepEqual(events, [{ type: 'down', node: 'b', reason: 'leave' }]);
    assert.deepEqual(seenByB, []);
  });

  it('a main thread busy for 1.5 s flaps nothing: heartbeats leave from their own thread', async () => {
    const { ma, seenByB } = await pair();
    block(1500);
    await sleep(500);
    assert.deepEqual(seenByB, [], 'b never saw a go down');
    assert.ok(ma.live()?.has('b'));
  });

  it('a main thread silent past the stall limit stops the heartbeats until it answers again', async () => {
    const { seenByB } = await pair({ mainStallMs: 400 });
    block(1500);
    await until('b sees a back', () => seenByB.some((e) => e.type === 'up' && e.reason === 'recovered'), 3000);
    assert.deepEqual(seenByB, [
      { type: 'down', node: 'a', reason: 'timeout' },
      { type: 'up', node: 'a', reason: 'recovered' },
    ]);
    assert.ok(lines.some((l) => l.includes('the main thread is not answering')));
  });
});
