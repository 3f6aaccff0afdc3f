import assert from 'node:assert/strict';
import { FakeClock } from '../../../../shared/k8s/clock.js';
import {
  AnnouncementDriver,
  AnnouncementSchedule,
  DEFAULT_ANNOUNCE_POLICY,
  DEFAULT_TAKEOVER_MS,
  policyProblem,
  type AnnounceTarget,
} from '../../../../speaker/l2/announce.js';

const A: AnnounceTarget = { ipText: '192.0.2.200', ifindex: 2 };
const B: AnnounceTarget = { ipText: '2001:db8:0:2::200', ifindex: 2 };

/** Runs the schedule on exact due times until nothing is left (or `until`), recording (time, ip). */
function drain(s: AnnouncementSchedule, until = 1e9): [number, string][] {
  const out: [number, string][] = [];
  for (let next = s.nextDue(); next !== undefined && next <= until; next = s.nextDue()) {
    for (const t of s.takeDue(next)) out.push([next, t.ipText]);
  }
  return out;
}

describe('speaker/l2/announce', () => {
  describe('the schedule', () => {
    it('announces at once, 100 ms later, then every 1.1 s until 4.4 s (MetalLB #172), then stops', () => {
      assert.deepEqual(DEFAULT_TAKEOVER_MS, [0, 100, 1100, 2200, 3300, 4400]);
      const s = new AnnouncementSchedule();
      s.start(A, 10_000);
      assert.deepEqual(drain(s), DEFAULT_TAKEOVER_MS.map((t) => [10_000 + t, A.ipText]));
      assert.equal(s.size, 0);
      assert.equal(s.nextDue(), undefined);
    });

    it('keeps IPs apart; cancelling one leaves the other', () => {
      const s = new AnnouncementSchedule();
      s.start(A, 0);
      s.start(B, 50);
      assert.deepEqual(s.takeDue(0), [A]);
      assert.deepEqual(s.takeDue(50), [B]);
      s.cancel(A);
      assert.deepEqual(drain(s).map(([t]) => t), [150, 1150, 2250, 3350, 4450]);
    });

    it('a second start restarts the burst rather than adding one', () => {
      const s = new AnnouncementSchedule();
      s.start(A, 0);
      s.takeDue(0);
      s.takeDue(100);
      s.start(A, 1000);
      assert.equal(s.size, 1);
      assert.deepEqual(drain(s).map(([t]) => t), [1000, 1100, 2100, 3200, 4300, 5400]);
    });

    it('cancelWhere drops every pair of a lost IP, on every interface', () => {
      const s = new AnnouncementSchedule();
      s.start(A, 0);
      s.start({ ...A, ifindex: 3 }, 0);
      s.start(B, 0);
      s.cancelWhere((t) => t.ipText === A.ipText);
      assert.deepEqual(s.takeDue(0), [B]);
      assert.ok(!s.has(A) && !s.has({ ...A, ifindex: 3 }));
    });

    it('a late wake-up sends once, not a catch-up burst', () => {
      const s = new AnnouncementSchedule();
      s.start(A, 0);
      s.takeDue(0);
      // The event loop stalled for 3 s: one announcement now, the rest from here on.
      assert.deepEqual(s.takeDue(3000), [A]);
      assert.equal(s.nextDue(), 3300, 'offsets 1100 and 2200 are past: skipped');
      assert.deepEqual(drain(s).map(([t]) => t), [3300, 4400]);
    });

    it('with a refresh period keeps announcing after the burst', () => {
      const s = new AnnouncementSchedule({ takeoverMs: [0, 1000], refreshMs: 60_000 });
      s.start(A, 0);
      assert.deepEqual(drain(s, 200_000).map(([t]) => t), [0, 1000, 61_000, 121_000, 181_000]);
      assert.equal(s.size, 1);
    });

    it('refuses policies that make no sense', () => {
      assert.equal(policyProblem(DEFAULT_ANNOUNCE_POLICY), undefined);
      assert.match(policyProblem({ takeoverMs: [], refreshMs: 0 }) ?? '', /at least one/);
      assert.match(policyProblem({ takeoverMs: [0, 100, 50], refreshMs: 0 }) ?? '', /ascend/);
      assert.match(policyProblem({ takeoverMs: [-1], refreshMs: 0 }) ?? '', /not a time/);
      assert.match(policyProblem({ takeoverMs: [0], refreshMs: 10 }) ?? '', /at least 1000/);
      assert.throws(() => new AnnouncementSchedule({ takeoverMs: [], refreshMs: 0 }), RangeError);
    });
  });

  describe('the driver', () => {
    it('sends the first announcement synchronously, the rest on its timer', async () => {
      const clock = new FakeClock(0);
      const sent: [number, string][] = [];
      const d = new AnnouncementDriver(new AnnouncementSchedule(), clock, (t) => {
        sent.push([clock.now(), t.ipText]);
        return 2;
      });
      assert.equal(d.announce([A]), 2, 'frames of the first announcement');
      assert.deepEqual(sent, [[0, A.ipText]], 'before any timer ran');
      await clock.advance(10_000);
      assert.deepEqual(sent.map(([t]) => t), DEFAULT_TAKEOVER_MS);
      assert.equal(clock.pending, 0, 'no timer left once the burst is over');
    });

    it('an earlier target re-arms the timer; a cancelled one is never sent', async () => {
      const clock = new FakeClock(0);
      const sent: [number, string][] = [];
      const d = new AnnouncementDriver(new AnnouncementSchedule({ takeoverMs: [0, 1000], refreshMs: 0 }), clock, (t) => {
        sent.push([clock.now(), t.ipText]);
        return 1;
      });
      d.announce([A]);
      await clock.advance(500);
      d.announce([B]);
      d.cancelWhere((t) => t.ipText === A.ipText);
      await clock.advance(5000);
      assert.deepEqual(sent, [
        [0, A.ipText],
        [500, B.ipText],
        [1500, B.ipText],
      ]);
    });

    it('stop() cancels what is pending and ignores later requests', async () => {
      const clock = new FakeClock(0);
      let n = 0;
      const d = new AnnouncementDriver(new AnnouncementSchedule(), clock, () => ++n);
      d.announce([A]);
      d.stop();
      assert.equal(d.announce([B]), 0);
      await clock.advance(10_000);
      assert.equal(n, 1);
    });
  });
});
