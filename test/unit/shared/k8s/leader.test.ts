import { strict as assert } from 'node:assert';
import { FakeClock } from '../../../../shared/k8s/clock.js';
import { LeaderElector } from '../../../../shared/k8s/leader.js';
import { LeaseStore, type FakeLeaseClient } from './fake-leases.js';

const NS = 'herald-system';
const NAME = 'herald-controller';

interface Candidate {
  id: string;
  elector: LeaderElector;
  leases: FakeLeaseClient;
  log: string[];
}

function candidate(store: LeaseStore, clock: FakeClock, id: string, rand = () => 0.5): Candidate {
  const leases = store.client();
  const log: string[] = [];
  const elector = new LeaderElector({
    leases,
    namespace: NS,
    name: NAME,
    identity: id,
    clock,
    rand,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    onStartedLeading: () => void log.push(`start@${clock.now()}`),
    onStoppedLeading: () => void log.push(`stop@${clock.now()}`),
  });
  return { id, elector, leases, log };
}

/** Advances in 100 ms steps, failing if two candidates ever lead at once. */
async function run(clock: FakeClock, ms: number, cs: Candidate[]): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    await clock.advance(100);
    const leaders = cs.filter((c) => c.elector.isLeader()).map((c) => c.id);
    assert.ok(leaders.length <= 1, `two leaders at ${clock.now()}: ${leaders.join(', ')}`);
  }
}

describe('LeaderElector', () => {
  let clock: FakeClock;
  let store: LeaseStore;
  let t0: number;
  beforeEach(() => {
    clock = new FakeClock();
    t0 = clock.now();
    store = new LeaseStore();
  });

  it('creates the Lease and leads, then renews it every retry period', async () => {
    const a = candidate(store, clock, 'a');
    a.elector.start();
    await run(clock, 100, [a]);
    assert.equal(a.elector.isLeader(), true);
    assert.deepEqual(a.log, [`start@${t0}`]);
    const lease = store.get(NS, NAME);
    assert.equal(lease?.spec?.holderIdentity, 'a');
    assert.equal(lease?.spec?.leaseDurationSeconds, 15);
    assert.equal(lease?.spec?.leaseTransitions, 0);
    assert.match(lease?.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const firstRenew = lease?.spec?.renewTime;
    await run(clock, 2_100, [a]);
    assert.notEqual(store.get(NS, NAME)?.spec?.renewTime, firstRenew);
    assert.equal(store.get(NS, NAME)?.spec?.acquireTime, lease?.spec?.acquireTime, 'acquireTime kept on renewal');
  });

  it('keeps the standby waiting while the leader renews', async () => {
    const a = candidate(store, clock, 'a');
    const b = candidate(store, clock, 'b');
    a.elector.start();
    await run(clock, 100, [a, b]);
    b.elector.start();
    assert.equal(b.elector.hasObservedLease(), false);
    await run(clock, 60_000, [a, b]);
    assert.equal(b.elector.hasObservedLease(), true);
    assert.equal(a.elector.isLeader(), true);
    assert.equal(b.elector.isLeader(), false);
    assert.deepEqual(b.log, []);
    assert.equal(b.elector.leader(), 'a');
  });

  it('of two candidates racing for a missing Lease, exactly one leads', async () => {
    const a = candidate(store, clock, 'a');
    const b = candidate(store, clock, 'b');
    a.elector.start();
    b.elector.start();
    await run(clock, 5_000, [a, b]);
    assert.equal([a, b].filter((c) => c.elector.isLeader()).length, 1);
  });

  it('standby takes over after the lease duration when the leader cannot reach the API; the leader stops first', async () => {
    const a = candidate(store, clock, 'a');
    const b = candidate(store, clock, 'b');
    a.elector.start();
    await run(clock, 100, [a, b]);
    b.elector.start();
    await run(clock, 5_000, [a, b]);
    const lastRenew = store.get(NS, NAME)?.spec?.renewTime;
    a.leases.mode = 'fail';
    await run(clock, 30_000, [a, b]);
    assert.equal(a.elector.isLeader(), false);
    assert.equal(b.elector.isLeader(), true);
    const stopAt = Number(a.log[1]?.split('@')[1]);
    const startAt = Number(b.log[0]?.split('@')[1]);
    const renewedAt = Date.parse(lastRenew ?? '');
    // The leader gives up within renewDeadline (+ one retry period) of its last renewal…
    assert.ok(stopAt - renewedAt <= 12_000, `leader stopped ${stopAt - renewedAt} ms after its last renewal`);
    // …the standby waits at least leaseDuration after it last saw the lease change…
    assert.ok(startAt - renewedAt >= 15_000, `standby took over ${startAt - renewedAt} ms after the last renewal`);
    // …and well before twice that.
    assert.ok(startAt - renewedAt <= 15_000 + 2_400 + 100);
    assert.equal(store.get(NS, NAME)?.spec?.leaseTransitions, 1);
  });

  it('a leader whose renewals hang stops leading at the renew deadline', async () => {
    const a = candidate(store, clock, 'a');
    a.elector.start();
    await run(clock, 2_500, [a]);
    const renewedAt = Date.parse(store.get(NS, NAME)?.spec?.renewTime ?? '');
    a.leases.mode = 'hang';
    await run(clock, 15_000, [a]);
    assert.equal(a.elector.isLeader(), false);
    const stopAt = Number(a.log[1]?.split('@')[1]);
    assert.ok(stopAt - renewedAt <= 10_000 + 100, `stopped ${stopAt - renewedAt} ms after the last renewal`);
    // Hung attempts time out too, so the candidacy goes on once the API answers again.
    a.leases.mode = 'ok';
    await run(clock, 15_000, [a]);
    assert.equal(a.elector.isLeader(), true);
    await a.elector.stop();
  });

  it('releases the Lease on stop, so the standby takes over at its next retry', async () => {
    const a = candidate(store, clock, 'a');
    const b = candidate(store, clock, 'b');
    a.elector.start();
    await run(clock, 100, [a, b]);
    b.elector.start();
    await run(clock, 4_000, [a, b]);
    const stoppedAt = clock.now();
    await a.elector.stop();
    assert.equal(a.elector.isLeader(), false);
    assert.deepEqual(a.log, [`start@${t0}`, `stop@${stoppedAt}`]);
    assert.equal(store.get(NS, NAME)?.spec?.holderIdentity, null, 'holderIdentity cleared');
    await run(clock, 2_500, [a, b]);
    assert.equal(b.elector.isLeader(), true);
    const startAt = Number(b.log[0]?.split('@')[1]);
    assert.ok(startAt - stoppedAt <= 2_400, `took over ${startAt - stoppedAt} ms after release`);
  });

  it('stops leading at once when another holder shows up in the Lease', async () => {
    const a = candidate(store, clock, 'a');
    a.elector.start();
    await run(clock, 100, [a]);
    const cur = store.get(NS, NAME);
    assert.ok(cur);
    store.update({ ...cur, spec: { ...cur.spec, holderIdentity: 'intruder' } });
    await run(clock, 2_100, [a]);
    assert.equal(a.elector.isLeader(), false);
    assert.equal(a.log.length, 2);
  });

  it('goes back to candidacy after losing and leads again when the Lease frees up', async () => {
    const a = candidate(store, clock, 'a');
    a.elector.start();
    await run(clock, 100, [a]);
    a.leases.mode = 'fail';
    await run(clock, 13_000, [a]);
    assert.equal(a.elector.isLeader(), false);
    a.leases.mode = 'ok';
    await run(clock, 3_000, [a]);
    assert.equal(a.elector.isLeader(), true, 'its own stale lease is its to renew');
    assert.equal(a.log.length, 3);
  });

  it('refuses timings where the old leader could overlap the new one', () => {
    assert.throws(
      () =>
        new LeaderElector({
          leases: store.client(),
          namespace: NS,
          name: NAME,
          identity: 'x',
          leaseDurationMs: 5_000,
          renewDeadlineMs: 5_000,
          onStartedLeading: () => undefined,
          onStoppedLeading: () => undefined,
        }),
      /renewDeadline/,
    );
  });

  it('renews while onStartedLeading is still running, and aborts its signal when the lead ends', async () => {
    const leases = store.client();
    let startSignal: AbortSignal | undefined;
    let startDone = false;
    const a = new LeaderElector({
      leases,
      namespace: NS,
      name: NAME,
      identity: 'a',
      clock,
      rand: () => 0.5,
      // A start that takes 60 s of the leader's time (reading 50,000 Services, say).
      onStartedLeading: async (signal) => {
        startSignal = signal;
        await new Promise<void>((r) => clock.setTimeout(r, 60_000));
        startDone = true;
      },
      onStoppedLeading: () => undefined,
    });
    const b = candidate(store, clock, 'b');
    const cs: Candidate[] = [{ id: 'a', elector: a, leases, log: [] }, b];
    a.start();
    await run(clock, 100, cs);
    b.elector.start();
    const renewTimes = new Set<string>();
    for (let t = 0; t < 40_000; t += 1_000) {
      await run(clock, 1_000, cs);
      renewTimes.add(store.get(NS, NAME)?.spec?.renewTime ?? '');
    }
    assert.equal(startDone, false, 'the start is still running');
    assert.equal(a.isLeader(), true);
    assert.deepEqual(b.log, [], 'the standby never took over');
    assert.ok(renewTimes.size >= 15, `renewed during the start: ${renewTimes.size} distinct renewTimes`);
    assert.equal(startSignal?.aborted, false);
    // Losing the lead mid-start aborts the start's signal.
    leases.mode = 'fail';
    await run(clock, 11_000, cs);
    assert.equal(a.isLeader(), false);
    assert.equal(startSignal?.aborted, true);
  });
});
