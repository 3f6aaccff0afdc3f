// The BFD reducer, scenario by scenario (each step builds on the last): the three-way
// handshake, detection timeouts, Poll/Final, passive mode, AdminDown, the interval and
// Detection Time arithmetic; then fast-check properties over random event sequences.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { currentDetectionTime, initialState, isQuiet, step, type BFDConfig, type BFDEvent, type BFDSessionState, type BFDStepResult } from '../../../../speaker/bfd/fsm.js';
import type { BFDControlPacket } from '../../../../speaker/bfd/packet.js';
import { Diag, STATES } from '../../../../speaker/bfd/protocol.js';
import { detectionTime, jittered, txInterval } from '../../../../speaker/bfd/timing.js';

const OURS = 0x0a0a0a0a;
const THEIRS = 0x0b0b0b0b;
const T0 = 1_000_000;

const fast: BFDConfig = { desiredMinTxUs: 100_000, requiredMinRxUs: 100_000, detectMult: 3, passive: false };

/** A packet from the peer; defaults to an Up peer on 100 ms timers that knows us. */
function peer(extra: Partial<BFDControlPacket> = {}): BFDControlPacket {
  return {
    diag: 0,
    state: 'Up',
    poll: false,
    final: false,
    controlPlaneIndependent: true,
    demand: false,
    detectMult: 3,
    myDiscriminator: THEIRS,
    yourDiscriminator: OURS,
    desiredMinTxInterval: 100_000,
    requiredMinRxInterval: 100_000,
    requiredMinEchoRxInterval: 50_000,
    ...extra,
  };
}

/** Steps a session along, keeping the time and everything it did. */
class Sim {
  s: BFDSessionState;
  now = T0;
  last!: BFDStepResult;

  constructor(config: BFDConfig = fast, seed = 42) {
    this.s = initialState(config, OURS, seed, this.now);
  }

  at(ms: number): this {
    this.now = T0 + ms;
    return this;
  }

  on(e: BFDEvent): BFDStepResult {
    this.last = step(this.s, e, this.now);
    this.s = this.last.state;
    return this.last;
  }

  rx(extra: Partial<BFDControlPacket> = {}): BFDStepResult {
    return this.on({ type: 'received', packet: peer(extra) });
  }

  /** The packets the last step sent. */
  get sent(): BFDControlPacket[] {
    return this.last.actions.flatMap((a) => (a.type === 'send' ? [a.packet] : []));
  }

  get changes(): string[] {
    return this.last.actions.flatMap((a) => (a.type === 'changed' ? [`${a.from}>${a.to}/${a.diag}`] : []));
  }

  /** Handshake to Up with the peer on 100 ms timers, and the Poll answered. */
  up(): this {
    this.rx({ state: 'Down', yourDiscriminator: 0, desiredMinTxInterval: 1_000_000 });
    this.rx({ state: 'Up', desiredMinTxInterval: 1_000_000 });
    this.rx({ state: 'Up', final: true });
    assert.equal(this.s.state, 'Up');
    assert.equal(this.s.polling, false);
    return this;
  }
}

describe('speaker/bfd state machine', () => {
  describe('start', () => {
    it('starts Down and sends at once, slowly (RFC 5880 §6.8.3), with Your Discriminator 0', () => {
      const sim = new Sim();
      assert.equal(sim.s.state, 'Down');
      assert.equal(sim.s.txAt, T0);
      assert.equal(sim.s.detectAt, undefined);
      sim.on({ type: 'txDue' });
      assert.deepEqual(sim.sent, [
        {
          diag: 0,
          state: 'Down',
          poll: false,
          final: false,
          controlPlaneIndependent: false,
          demand: false,
          detectMult: 3,
          myDiscriminator: OURS,
          yourDiscriminator: 0,
          desiredMinTxInterval: 1_000_000,
          requiredMinRxInterval: 100_000,
          requiredMinEchoRxInterval: 0,
        },
      ]);
      const next = sim.s.txAt! - T0;
      assert.ok(next >= 750 && next <= 1000, `next packet in ${next} ms`);
    });

    it('refuses discriminator 0', () => {
      assert.throws(() => initialState(fast, 0, 1, T0), RangeError);
    });
  });

  describe('three-way handshake (§6.8.6)', () => {
    it('Down → Init on Down, Init → Up on Up, sending at each change; Up starts a Poll to the fast rate', () => {
      const sim = new Sim();
      sim.at(10).rx({ state: 'Down', yourDiscriminator: 0, desiredMinTxInterval: 1_000_000 });
      assert.deepEqual(sim.changes, ['Down>Init/0']);
      assert.equal(sim.sent.length, 1);
      assert.equal(sim.sent[0]!.state, 'Init');
      assert.equal(sim.sent[0]!.yourDiscriminator, THEIRS, 'the peer learns we heard it');
      assert.equal(sim.sent[0]!.desiredMinTxInterval, 1_000_000, 'still slow while not Up');
      // Detection Time: 3 × max(100 ms, their 1 s) from the last packet.
      assert.equal(sim.s.detectAt, T0 + 10 + 3000);

      sim.at(20).rx({ state: 'Up', desiredMinTxInterval: 1_000_000 });
      assert.deepEqual(sim.changes, ['Init>Up/0']);
      assert.deepEqual(
        sim.sent.map((p) => [p.state, p.poll, p.desiredMinTxInterval]),
        [['Up', true, 100_000]],
        'Up announced with a Poll for the fast rate',
      );
      assert.equal(sim.s.polling, true);
      const next = sim.s.txAt! - (T0 + 20);
      assert.ok(next >= 75 && next <= 100, `fast rate at once (a decrease needs no Final): ${next} ms`);

      sim.at(90).on({ type: 'txDue' });
      assert.equal(sim.sent[0]!.poll, true, 'P on every packet until the Final');

      sim.at(95).rx({ state: 'Up', final: true });
      assert.equal(sim.s.polling, false);
      assert.equal(sim.sent.length, 0, 'a Final needs no answer');
      assert.equal(sim.s.detectAt, T0 + 95 + 300, '3 × 100 ms once the peer sends fast');
      sim.at(170).on({ type: 'txDue' });
      assert.equal(sim.sent[0]!.poll, false);
    });

    it('Down → Up on Init (the peer heard us first)', () => {
      const sim = new Sim();
      sim.rx({ state: 'Init' });
      assert.deepEqual(sim.changes, ['Down>Up/0']);
    });

    it('Init → Up on Init as well as on Up; Down stays Down on Up', () => {
      const a = new Sim();
      a.rx({ state: 'Down', yourDiscriminator: 0 });
      a.rx({ state: 'Init' });
      assert.equal(a.s.state, 'Up');
      const b = new Sim();
      b.rx({ state: 'Up' });
      assert.equal(b.s.state, 'Down', 'an Up peer that we never talked to is stale');
      assert.deepEqual(b.last.actions, []);
    });

    it('answers a Poll at once with Final and without P (§6.8.7)', () => {
      const sim = new Sim().up();
      sim.at(500).rx({ state: 'Up', poll: true, desiredMinTxInterval: 50_000 });
      assert.deepEqual(
        sim.sent.map((p) => [p.poll, p.final, p.state]),
        [[false, true, 'Up']],
      );
      assert.equal(sim.s.detectAt, T0 + 500 + 300, 'their new 50 ms rate is below our 100 ms: max() keeps 100');
    });
  });

  describe('going Down', () => {
    it('expires the Detection Time: Down with Control Detection Time Expired, peer forgotten, slow again', () => {
      const sim = new Sim().up();
      const last = sim.s.lastRxAt!;
      assert.equal(sim.s.detectAt, last + 300);
      sim.at(last - T0 + 300).on({ type: 'detectExpired' });
      assert.deepEqual(sim.changes, [`Up>Down/${Diag.ControlDetectionTimeExpired}`]);
      assert.deepEqual(
        sim.sent.map((p) => [p.state, p.diag, p.yourDiscriminator, p.desiredMinTxInterval, p.poll]),
        [['Down', 1, 0, 1_000_000, false]],
      );
      assert.equal(sim.s.remoteDiscr, 0);
      assert.equal(sim.s.detectAt, undefined);
      const next = sim.s.txAt! - sim.now;
      assert.ok(next >= 750 && next <= 1000, `slow again: ${next}`);
      // And back up through the handshake, diag cleared.
      sim.rx({ state: 'Down', yourDiscriminator: 0 });
      sim.rx({ state: 'Up' });
      assert.equal(sim.s.state, 'Up');
      assert.equal(sim.s.diag, 0);
    });

    it('goes Down with Neighbor Signaled Session Down when the peer says Down or AdminDown', () => {
      const a = new Sim().up();
      a.rx({ state: 'Down', diag: 1, yourDiscriminator: 0 });
      assert.deepEqual(a.changes, [`Up>Down/${Diag.NeighborSignaledSessionDown}`]);
      assert.equal(a.s.state, 'Down');
      // The Down packet also restarts the handshake on the next one.
      a.rx({ state: 'Down', yourDiscriminator: 0 });
      assert.equal(a.s.state, 'Init');

      const b = new Sim().up();
      b.rx({ state: 'AdminDown', diag: 7 });
      assert.equal(b.s.state, 'Down');
      const change = b.last.actions.find((x) => x.type === 'changed');
      assert.deepEqual(change, { type: 'changed', from: 'Up', to: 'Down', diag: 3, remoteState: 'AdminDown' });
      b.rx({ state: 'AdminDown', diag: 7 });
      assert.deepEqual(b.last.actions, [], 'Down stays Down');
    });

    it('in Down, a Detection Time of silence forgets the peer without a state change', () => {
      const sim = new Sim();
      sim.rx({ state: 'AdminDown', yourDiscriminator: 0 });
      assert.equal(sim.s.remoteDiscr, THEIRS);
      sim.at(3000).on({ type: 'detectExpired' });
      assert.deepEqual(sim.changes, []);
      assert.equal(sim.s.remoteDiscr, 0);
    });
  });

  describe('Poll Sequences (§6.8.3)', () => {
    it('a slower transmit rate waits for the Final; a faster receive rate keeps the old Detection Time until then', () => {
      const sim = new Sim().up();
      sim.at(1000).on({ type: 'configure', config: { ...fast, desiredMinTxUs: 300_000, requiredMinRxUs: 50_000 } });
      assert.deepEqual(
        sim.sent.map((p) => [p.poll, p.desiredMinTxInterval, p.requiredMinRxInterval]),
        [[true, 300_000, 50_000]],
        'the new values go out at once, with P',
      );
      assert.equal(sim.s.txDesiredUs, 100_000, 'still sending every 100 ms');
      assert.equal(sim.s.rxRequiredUs, 100_000, 'still detecting on 100 ms');
      // A second change during the Poll waits for the next one.
      sim.at(1010).on({ type: 'configure', config: { ...fast, desiredMinTxUs: 400_000, requiredMinRxUs: 50_000 } });
      assert.equal(sim.s.advertised.desiredMinTxUs, 300_000);
      sim.at(1020).rx({ state: 'Up', final: true, desiredMinTxInterval: 50_000, requiredMinRxInterval: 50_000 });
      assert.equal(sim.s.rxRequiredUs, 50_000);
      assert.equal(sim.s.detectAt, T0 + 1020 + 150, '3 × max(50 ms, 50 ms)');
      assert.equal(sim.s.polling, true, 'the waiting change starts its own Poll');
      assert.equal(sim.s.advertised.desiredMinTxUs, 400_000);
      assert.equal(sim.s.txDesiredUs, 300_000, 'the first change applies, the second waits');
      sim.at(1030).rx({ state: 'Up', final: true, desiredMinTxInterval: 50_000, requiredMinRxInterval: 50_000 });
      assert.equal(sim.s.polling, false);
      assert.equal(sim.s.txDesiredUs, 400_000);
    });

    it('no Poll outside Up: new values go out with the next packet', () => {
      const sim = new Sim();
      sim.on({ type: 'configure', config: { ...fast, requiredMinRxUs: 200_000 } });
      assert.equal(sim.s.polling, false);
      assert.equal(sim.s.rxRequiredUs, 200_000);
      assert.equal(sim.sent.length, 0);
    });

    it('a Poll cut short by going Down ends', () => {
      const sim = new Sim();
      sim.rx({ state: 'Init' });
      assert.equal(sim.s.polling, true);
      sim.rx({ state: 'Down', yourDiscriminator: 0 });
      assert.equal(sim.s.polling, false);
      assert.equal(sim.sent[0]!.poll, false);
    });
  });

  describe('transmission rules (§6.8.7)', () => {
    it('passive: silent until the peer is heard, silent again once it is forgotten', () => {
      const sim = new Sim({ ...fast, passive: true });
      assert.equal(sim.s.txAt, undefined);
      sim.on({ type: 'txDue' });
      assert.deepEqual(sim.last.actions, []);
      sim.at(5).rx({ state: 'Down', yourDiscriminator: 0 });
      assert.equal(sim.sent[0]!.state, 'Init');
      assert.ok(sim.s.txAt !== undefined);
      sim.rx({ state: 'Up' });
      sim.at(400).on({ type: 'detectExpired' });
      assert.equal(sim.s.state, 'Down');
      assert.equal(sim.sent.length, 0, 'a passive side says nothing to a peer it no longer knows');
      assert.equal(sim.s.txAt, undefined);
    });

    it('stops periodic packets when the peer asks for none (Required Min RX 0) or runs Demand mode', () => {
      const a = new Sim().up();
      a.rx({ state: 'Up', requiredMinRxInterval: 0 });
      assert.equal(a.s.txAt, undefined);
      const b = new Sim().up();
      b.rx({ state: 'Up', demand: true });
      assert.equal(b.s.txAt, undefined);
      b.rx({ state: 'Up', poll: true, demand: true });
      assert.equal(b.sent[0]!.final, true, 'a Poll is still answered');
    });

    it('sends no faster than the peer can take', () => {
      const sim = new Sim().up();
      sim.at(1000).rx({ state: 'Up', requiredMinRxInterval: 500_000 });
      sim.at(1001).on({ type: 'txDue' });
      const next = sim.s.txAt! - sim.now;
      assert.ok(next >= 375 && next <= 500, `${next}`);
      sim.at(1002).rx({ state: 'Up', requiredMinRxInterval: 100_000 });
      assert.ok(sim.s.txAt! - sim.now <= 100, 'a shorter interval pulls the next packet in');
    });

    it('drops packets naming another session, and Init/Up without Your Discriminator', () => {
      const sim = new Sim();
      assert.equal(sim.rx({ state: 'Down', yourDiscriminator: OURS + 1 }).dropped, 'discriminator-mismatch');
      assert.equal(sim.rx({ state: 'Up', yourDiscriminator: 0 }).dropped, 'your-discriminator-zero');
      assert.equal(sim.s.remoteDiscr, 0);
    });
  });

  describe('AdminDown (§6.8.16)', () => {
    it('says AdminDown at once and for the peer’s Detection Time, ignores the peer, then falls silent', () => {
      const sim = new Sim().up();
      sim.at(1000).on({ type: 'adminDown' });
      assert.deepEqual(sim.changes, [`Up>AdminDown/${Diag.AdministrativelyDown}`]);
      assert.deepEqual(
        sim.sent.map((p) => [p.state, p.diag]),
        [['AdminDown', 7]],
      );
      assert.equal(sim.s.detectAt, undefined);
      assert.equal(sim.s.adminDownUntil, T0 + 1000 + 3000, '3 × the 1 s rate the peer is told');
      assert.equal(sim.rx({ state: 'Down', yourDiscriminator: 0 }).dropped, 'admin-down');
      assert.equal(sim.s.state, 'AdminDown');
      let sends = 0;
      while (sim.s.txAt !== undefined) {
        sim.at(sim.s.txAt - T0).on({ type: 'txDue' });
        sends += sim.sent.length;
      }
      assert.ok(sends >= 3 && sends <= 5, `${sends} AdminDown packets`);
      assert.ok(isQuiet(sim.s));
      sim.on({ type: 'adminUp' });
      assert.equal(sim.s.state, 'Down');
      assert.equal(sim.sent[0]!.state, 'Down');
      sim.rx({ state: 'Down', yourDiscriminator: 0 });
      assert.equal(sim.s.state, 'Init');
    });
  });

  describe('interval arithmetic', () => {
    it('Detection Time = their Detect Mult × max(our Required Min RX, their Desired Min TX) (§6.8.4)', () => {
      const rows: [number, number, number, number][] = [
        // their mult, our required RX µs, their desired TX µs, expected µs
        [3, 100_000, 100_000, 300_000],
        [3, 300_000, 100_000, 900_000],
        [5, 100_000, 1_000_000, 5_000_000],
        [1, 10_000, 0, 10_000],
        [255, 60_000_000, 1, 15_300_000_000],
      ];
      for (const [mult, rx, tx, want] of rows) assert.equal(detectionTime(mult, rx, tx), want, `${mult} × max(${rx}, ${tx})`);
      const sim = new Sim({ ...fast, requiredMinRxUs: 300_000 }).up();
      sim.rx({ state: 'Up', detectMult: 4, desiredMinTxInterval: 200_000 });
      assert.equal(currentDetectionTime(sim.s), 1_200_000);
      assert.equal(sim.s.detectAt, sim.now + 1200);
    });

    it('transmit interval = max(our Desired Min TX, their Required Min RX) (§6.8.2)', () => {
      assert.equal(txInterval(100_000, 300_000), 300_000);
      assert.equal(txInterval(100_000, 1), 100_000);
    });

    it('jitter: 75–100 % of the interval, 75–90 % with Detect Mult 1', () => {
      fc.assert(
        fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 10_000_000 }), (r, interval) => {
          const j = jittered(interval, 3, r);
          assert.ok(j > 0.75 * interval - 1e-6 && j <= interval);
          const j1 = jittered(interval, 1, r);
          assert.ok(j1 > 0.75 * interval - 1e-6 && j1 <= 0.9 * interval + 1e-6);
        }),
      );
    });
  });

  describe('properties over random event sequences', () => {
    const packetArb: fc.Arbitrary<BFDControlPacket> = fc.record({
      diag: fc.integer({ min: 0, max: 8 }),
      state: fc.constantFrom(...STATES),
      poll: fc.boolean(),
      final: fc.boolean(),
      controlPlaneIndependent: fc.boolean(),
      demand: fc.boolean(),
      detectMult: fc.integer({ min: 1, max: 5 }),
      myDiscriminator: fc.constantFrom(THEIRS, 7),
      yourDiscriminator: fc.constantFrom(0, OURS, OURS + 1),
      desiredMinTxInterval: fc.constantFrom(0, 50_000, 100_000, 1_000_000),
      requiredMinRxInterval: fc.constantFrom(0, 1, 50_000, 100_000, 300_000),
      requiredMinEchoRxInterval: fc.constant(0),
    });
    const eventArb: fc.Arbitrary<{ dt: number; e: BFDEvent }> = fc.record({
      dt: fc.integer({ min: 0, max: 2000 }),
      e: fc.oneof(
        { weight: 6, arbitrary: packetArb.map((packet) => ({ type: 'received' as const, packet })) },
        { weight: 2, arbitrary: fc.constant<BFDEvent>({ type: 'txDue' }) },
        { weight: 2, arbitrary: fc.constant<BFDEvent>({ type: 'detectExpired' }) },
        { weight: 1, arbitrary: fc.constantFrom<BFDEvent>({ type: 'adminDown' }, { type: 'adminUp' }) },
        {
          weight: 1,
          arbitrary: fc.record({ desiredMinTxUs: fc.constantFrom(10_000, 100_000, 2_000_000), requiredMinRxUs: fc.constantFrom(10_000, 300_000), detectMult: fc.integer({ min: 1, max: 5 }), passive: fc.boolean() }).map((config) => ({ type: 'configure' as const, config })),
        },
      ),
    });

    it('never Up without a packet from the peer naming our discriminator; never slow-rule or P+F violations', () => {
      fc.assert(
        fc.property(fc.boolean(), fc.integer(), fc.array(eventArb, { maxLength: 60 }), (passive, seed, events) => {
          let s = initialState({ ...fast, passive }, OURS, seed, T0);
          let now = T0;
          let named = false;
          for (const { dt, e } of events) {
            now += dt;
            const before = s;
            const r = step(s, e, now);
            if (e.type === 'received' && !r.dropped && e.packet.yourDiscriminator === OURS) named = true;
            s = r.state;
            if (s.state === 'Up') assert.ok(named, 'Up without the peer naming us');
            for (const a of r.actions) {
              if (a.type !== 'send') continue;
              const p = a.packet;
              assert.ok(!(p.poll && p.final), 'P and F together');
              assert.equal(p.myDiscriminator, OURS);
              if (p.state !== 'Up') assert.ok(p.desiredMinTxInterval >= 1_000_000, `${p.state} packet with Desired Min TX ${p.desiredMinTxInterval}`);
              if (s.config.passive && !p.final) assert.notEqual(s.remoteDiscr, 0, 'a passive session spoke first');
            }
            // Events come in any order here, so only deadlines this step set are checked.
            if (s.txAt !== undefined && s.txAt !== before.txAt) assert.ok(s.txAt >= now, 'a transmit deadline set in the past');
            if (s.state === 'AdminDown') assert.equal(s.detectAt, undefined);
          }
        }),
        { numRuns: 500 },
      );
    });

    it('periodic packets keep to the jittered negotiated interval', () => {
      fc.assert(
        fc.property(fc.integer(), fc.constantFrom(1, 3), (seed, detectMult) => {
          const sim = new Sim({ ...fast, detectMult }, seed).up();
          for (let i = 0; i < 50; i++) {
            const due = sim.s.txAt!;
            sim.now = due;
            sim.rx({ state: 'Up' });
            sim.on({ type: 'txDue' });
            const gap = sim.s.txAt! - due;
            assert.ok(gap >= 75 && gap <= (detectMult === 1 ? 90 : 100), `gap ${gap} ms with Detect Mult ${detectMult}`);
          }
        }),
        { numRuns: 50 },
      );
    });
  });
});
