import { strict as assert } from 'node:assert';
import { FakeClock } from '../../../../shared/k8s/clock.js';
import { ApiError } from '../../../../shared/k8s/errors.js';
import { Backoff, backoffDelay, withRetry, type BackoffOptions } from '../../../../shared/k8s/retry.js';

const O: BackoffOptions = { initialMs: 100, maxMs: 2000, factor: 2, jitter: 0.2 };

describe('backoff', () => {
  it('doubles from the initial delay up to the cap (no jitter at rand = 0.5)', () => {
    const d = [0, 1, 2, 3, 4, 5, 10].map((a) => backoffDelay(a, O, () => 0.5));
    assert.deepEqual(d, [100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it('spreads each delay by ±jitter and never past the cap', () => {
    assert.equal(backoffDelay(2, O, () => 0), 320);
    assert.equal(backoffDelay(2, O, () => 0.999999), 480);
    assert.equal(backoffDelay(9, O, () => 0.999999), 2000);
    for (let i = 0; i < 200; i++) {
      const v = backoffDelay(3, O);
      assert.ok(v >= 640 && v <= 960, String(v));
    }
  });

  it('Backoff walks the schedule and starts over on reset', () => {
    const b = new Backoff(O, () => 0.5);
    assert.deepEqual([b.next(), b.next(), b.next()], [100, 200, 400]);
    b.reset();
    assert.equal(b.next(), 100);
  });
});

describe('withRetry', () => {
  const err = (code: ConstructorParameters<typeof ApiError>[0], status: number, retryAfter?: number) =>
    new ApiError(code, status, code, undefined, retryAfter);

  async function drive<T>(clock: FakeClock, p: Promise<T>, ms = 60_000): Promise<T> {
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let t = 0; t < ms && !settled; t += 50) await clock.advance(50);
    return p;
  }

  it('retries 5xx and 429 with growing delays, then succeeds', async () => {
    const clock = new FakeClock();
    const at: number[] = [];
    const t0 = clock.now();
    const r = withRetry(
      async (attempt) => {
        at.push(clock.now() - t0);
        if (attempt === 0) throw err('ServerError', 500);
        if (attempt === 1) throw err('TooManyRequests', 429);
        return 'ok';
      },
      { clock, backoff: O, rand: () => 0.5 },
    );
    assert.equal(await drive(clock, r), 'ok');
    assert.equal(at.length, 3);
    assert.ok(at[1]! >= 100 && at[1]! < 150, `first retry after ${at[1]} ms`);
    assert.ok(at[2]! - at[1]! >= 200 && at[2]! - at[1]! < 250, `second retry after ${at[2]! - at[1]!} ms`);
  });

  it('honours Retry-After when it asks for longer', async () => {
    const clock = new FakeClock();
    const t0 = clock.now();
    let second = 0;
    const r = withRetry(
      async (attempt) => {
        if (attempt === 0) throw err('TooManyRequests', 429, 3);
        second = clock.now() - t0;
        return 1;
      },
      { clock, backoff: O, rand: () => 0.5 },
    );
    await drive(clock, r);
    assert.ok(second >= 3000 && second < 3100, String(second));
  });

  it('does not retry what retrying cannot fix', async () => {
    for (const [code, status] of [
      ['Forbidden', 403],
      ['NotFound', 404],
      ['Invalid', 422],
    ] as const) {
      let calls = 0;
      await assert.rejects(
        withRetry(
          async () => {
            calls++;
            throw err(code, status);
          },
          { clock: new FakeClock() },
        ),
        (e: ApiError) => e.code === code,
      );
      assert.equal(calls, 1, code);
    }
  });

  it('retries conflicts only when asked to, re-running the read-modify-write', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const failTwice = async () => {
      calls++;
      if (calls <= 2) throw err('Conflict', 409);
      return calls;
    };
    await assert.rejects(withRetry(failTwice, { clock }), (e: ApiError) => e.code === 'Conflict');
    assert.equal(calls, 1);
    calls = 0;
    assert.equal(await drive(clock, withRetry(failTwice, { clock, retryConflicts: true })), 3);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const r = withRetry(
      async () => {
        calls++;
        throw err('ServerError', 503);
      },
      { clock, maxAttempts: 3, backoff: O },
    );
    await assert.rejects(drive(clock, r), (e: ApiError) => e.status === 503);
    assert.equal(calls, 3);
  });

  it('stops waiting when aborted', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    let calls = 0;
    const r = withRetry(
      async () => {
        calls++;
        throw err('ServerError', 500);
      },
      { clock, signal: ac.signal, backoff: { ...O, initialMs: 10_000 } },
    );
    await clock.advance(10);
    ac.abort();
    await assert.rejects(r, (e: ApiError) => e.status === 500);
    assert.equal(calls, 1);
  });
});
