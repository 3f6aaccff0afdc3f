// BFD tearing down BGP (RFC 5882 §4.3, RFC 9384): BGPSession.linkDown() on its own, the
// rules of attachBFD (only Up → Down, never for AdminDown), and the two together on one
// fake clock: a BFD session losing its peer takes the BGP session out of Established
// within the Detection Time while the hold time is 90 s.
import { strict as assert } from 'node:assert';
import { FakeClock } from '../../../../shared/k8s/clock.js';
import { silentLogger } from '../../../../shared/log.js';
import { attachBFD } from '../../../../speaker/bfd/attach.js';
import { Diag, type BFDState } from '../../../../speaker/bfd/protocol.js';
import { BFDSessions, type BFDStateCallback, type BFDStateInfo } from '../../../../speaker/bfd/session.js';
import { CeaseSubcode, ErrorCode } from '../../../../speaker/bgp/errors.js';
import { BGPSession, type SessionConfig } from '../../../../speaker/bgp/session.js';
import { FakeTransport } from '../bgp/session-fakes.js';
import { FakeNetwork } from './fakes.js';

const cfg: SessionConfig = {
  name: 'router1',
  myASN: 64512,
  peerASN: 64500,
  peerAddress: '192.0.2.1',
  peerPort: 179,
  holdTime: 90,
  keepaliveTime: 0,
  connectTime: 10,
  routerID: '192.0.2.11',
  ebgpMultiHop: false,
  enableGracefulRestart: false,
  families: [4],
};

function bgp(clock: FakeClock): { session: BGPSession; transport: FakeTransport } {
  const transport = new FakeTransport();
  const session = new BGPSession(cfg, { log: silentLogger(), clock, transport, rand: () => 0.5, nextHop: (local) => local });
  return { session, transport };
}

async function established(clock: FakeClock, s: { session: BGPSession; transport: FakeTransport }): Promise<void> {
  s.session.start();
  await clock.advance(0);
  s.transport.peer.open({ holdTime: 90 });
  await clock.advance(0);
  assert.equal(s.session.status().state, 'Established');
}

/** A BFD handle the test drives by hand. */
class FakeHandle {
  current: BFDState = 'Down';
  private cb: BFDStateCallback | undefined;
  state(): BFDState {
    return this.current;
  }
  onState(cb: BFDStateCallback): () => void {
    this.cb = cb;
    return () => (this.cb = undefined);
  }
  emit(state: BFDState, diag: number, remoteState: BFDState = 'Up'): void {
    this.current = state;
    const info: BFDStateInfo = { remoteState, remoteDiag: 0 };
    this.cb?.(state, diag, info);
  }
}

describe('speaker/bfd with BGP', () => {
  describe('BGPSession.linkDown', () => {
    it('ends an Established session at once with Cease / BFD Down, then reconnects after the backoff', async () => {
      const clock = new FakeClock();
      const s = bgp(clock);
      await established(clock, s);
      const peer = s.transport.peer;
      s.session.linkDown('BFD down: Control Detection Time Expired');
      await clock.advance(0);
      assert.deepEqual(
        peer.notifications.map((n) => [n.code, n.subcode]),
        [[ErrorCode.Cease, CeaseSubcode.BFDDown]],
      );
      assert.ok(peer.closed);
      const st = s.session.status();
      assert.equal(st.state, 'Idle');
      assert.equal(st.lastError, 'BFD down: Control Detection Time Expired');
      assert.equal(s.transport.requests.length, 1);
      await clock.advance(1000);
      assert.equal(s.transport.requests.length, 2, 'reconnects after the normal backoff');
    });

    it('does nothing without a session (Connect)', async () => {
      const clock = new FakeClock();
      const s = bgp(clock);
      s.transport.behaviour = 'hang';
      s.session.start();
      await clock.advance(0);
      s.session.linkDown('BFD down');
      await clock.advance(0);
      assert.equal(s.session.status().state, 'Connect');
      assert.equal(s.session.status().lastError, undefined);
    });
  });

  describe('attachBFD', () => {
    it('tears BGP down only when BFD goes from Up to Down, and not for AdminDown', () => {
      const calls: string[] = [];
      const h = new FakeHandle();
      const detach = attachBFD({ linkDown: (r) => calls.push(r) }, h);
      h.emit('Init', 0);
      h.emit('Down', Diag.ControlDetectionTimeExpired);
      assert.deepEqual(calls, [], 'never Up: BGP does not depend on BFD');
      h.emit('Up', 0);
      h.emit('Down', Diag.ControlDetectionTimeExpired);
      assert.deepEqual(calls, ['BFD down: Control Detection Time Expired']);
      h.emit('Down', Diag.ControlDetectionTimeExpired);
      assert.equal(calls.length, 1, 'once per Up');
      h.emit('Up', 0);
      h.emit('Down', Diag.NeighborSignaledSessionDown, 'AdminDown');
      assert.equal(calls.length, 1, 'the peer took BFD down administratively (RFC 5882 §3.2)');
      h.emit('Up', 0);
      h.emit('AdminDown', Diag.AdministrativelyDown);
      assert.equal(calls.length, 1, 'we took it down ourselves');
      h.emit('Up', 0);
      h.emit('Down', Diag.NeighborSignaledSessionDown, 'Down');
      assert.deepEqual(calls.at(-1), 'BFD down: Neighbor Signaled Session Down', 'the peer lost us: a one-way failure');
      detach();
      h.emit('Up', 0);
      h.emit('Down', 1);
      assert.equal(calls.length, 2);
    });

    it('a handle already Up counts as Up', () => {
      const calls: string[] = [];
      const h = new FakeHandle();
      h.current = 'Up';
      attachBFD({ linkDown: (r) => calls.push(r) }, h);
      h.emit('Down', 1);
      assert.equal(calls.length, 1);
    });
  });

  it('end to end on one clock: BFD loses the peer, BGP leaves Established within the Detection Time', async () => {
    const clock = new FakeClock();
    const net = new FakeNetwork();
    const ours = new BFDSessions({ log: silentLogger(), clock, rand: () => 0.3, transport: net.host('192.0.2.11') });
    const theirs = new BFDSessions({ log: silentLogger(), clock, rand: () => 0.7, transport: net.host('192.0.2.1') });
    const profile = { name: 'fast', receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3, echoInterval: 50, echoMode: false, passiveMode: false, minimumTtl: 254 };
    const h = ours.add({ address: '192.0.2.1', profile });
    theirs.add({ address: '192.0.2.11', profile });
    const s = bgp(clock);
    attachBFD(s.session, h);
    await established(clock, s);
    while (h.state() !== 'Up') await clock.advance(10);
    await clock.advance(2000);
    assert.equal(s.session.status().state, 'Established');
    net.cut = true;
    const cutAt = clock.now();
    while (s.session.status().state === 'Established') {
      assert.ok(clock.now() - cutAt < 1000, 'BGP still Established a second after the cut');
      await clock.advance(1);
    }
    const ms = clock.now() - cutAt;
    assert.ok(ms <= 300, `BGP down ${ms} ms after the cut`);
    assert.equal(s.session.status().lastError, 'BFD down: Control Detection Time Expired');
    await ours.close();
    await theirs.close();
    await s.session.stop();
  });
});
