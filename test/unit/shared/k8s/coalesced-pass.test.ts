import { strict as assert } from 'node:assert';
import { FakeClock } from '../../../../shared/k8s/clock.js';
import { CoalescedPass } from '../../../../shared/k8s/coalesced-pass.js';

/** A pass the test ends by hand, reporting success or failure. */
function harness(delayMs = 250) {
  const clock = new FakeClock(0);
  const started: number[] = [];
  let finish: ((ok: boolean) => void) | undefined;
  const runner = new CoalescedPass({
    clock,
    delayMs,
    pass: () => {
      started.push(clock.now());
      return new Promise<boolean>((r) => (finish = r));
    },
  });
  const end = async (ok = true): Promise<void> => {
    assert.ok(finish, 'a pass is running');
    const f = finish;
    finish = undefined;
    f(ok);
    await clock.advance(0);
  };
  return { clock, started, runner, end };
}

describe('shared/k8s CoalescedPass', () => {
  it('requests within the delay make one pass', async () => {
    const h = harness();
    h.runner.request();
    await h.clock.advance(100);
    h.runner.request();
    h.runner.request();
    await h.clock.advance(149);
    assert.deepEqual(h.started, []);
    await h.clock.advance(1);
    assert.deepEqual(h.started, [250]);
    await h.end();
    await h.clock.advance(1000);
    assert.deepEqual(h.started, [250], 'nothing more was asked');
  });

  it('runs one pass at a time: a request during a pass runs another right after it', async () => {
    const h = harness();
    h.runner.request(0);
    await h.clock.advance(0);
    h.runner.request();
    await h.clock.advance(500);
    assert.deepEqual(h.started, [0], 'not while the first runs');
    await h.end();
    assert.deepEqual(h.started, [0, 500]);
    await h.end();
  });

  it('a failed pass runs again after a doubling backoff, reset by a success', async () => {
    const h = harness();
    h.runner.request(0);
    await h.clock.advance(0);
    await h.end(false);
    await h.clock.advance(500);
    await h.end(false);
    await h.clock.advance(1000);
    await h.end(true);
    await h.clock.advance(60_000);
    assert.deepEqual(h.started, [0, 500, 1500]);
    h.runner.request(0);
    await h.clock.advance(0);
    await h.end(false);
    await h.clock.advance(500);
    assert.deepEqual(h.started, [0, 500, 1500, 61_500, 62_000], 'the backoff starts over after a success');
    await h.end();
  });

  it('stop waits for the pass running, and cancels what is due', async () => {
    const h = harness();
    h.runner.request(0);
    await h.clock.advance(0);
    h.runner.request();
    let stopped = false;
    const stopping = h.runner.stop().then(() => (stopped = true));
    await h.clock.advance(0);
    assert.equal(stopped, false);
    await h.end(false);
    await stopping;
    h.runner.request(0);
    await h.clock.advance(60_000);
    assert.deepEqual(h.started, [0]);
    assert.equal(h.clock.pending, 0, 'no timer left behind');
  });
});
