// The RFC 4271 §8 state machine as transition tables, plus backoff and collision rules.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { backoffDelay, nextRandom } from '../../../../speaker/bgp/backoff.js';
import { collisionWinner, resolveCollision } from '../../../../speaker/bgp/collision.js';
import { BGPProtocolError } from '../../../../speaker/bgp/errors.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../../../speaker/bgp/family.js';
import { errorEvent, initialState, messageEvent, step, type FSMAction, type FSMConfig, type FSMEvent, type FSMState, type SessionState, type StepResult } from '../../../../speaker/bgp/fsm.js';
import { KEEPALIVE } from '../../../../speaker/bgp/messages.js';
import type { NotificationMessage } from '../../../../speaker/bgp/notification.js';
import type { OpenMessage } from '../../../../speaker/bgp/open.js';

const config: FSMConfig = {
  local: { asn: 64512, bgpIdentifier: '192.0.2.11', holdTime: 90, families: [IPV4_UNICAST, IPV6_UNICAST], peerASN: 64500 },
  passive: false,
  connectTime: 120,
};
const peerOpen: OpenMessage = {
  type: 'open',
  version: 4,
  myAS: 64500,
  holdTime: 180,
  bgpIdentifier: '192.0.2.1',
  capabilities: [{ type: 'multiprotocol', afi: 1, safi: 1 }, { type: 'fourOctetAS', asn: 64500 }],
};
const ev = {
  start: { type: 'ManualStart' } as FSMEvent,
  stop: { type: 'ManualStop', shutdownMessage: 'upgrade' } as FSMEvent,
  connected: { type: 'TcpConnectionSucceeded' } as FSMEvent,
  incoming: { type: 'TcpConnectionConfirmed' } as FSMEvent,
  fails: { type: 'TcpConnectionFails' } as FSMEvent,
  open: { type: 'BGPOpen', message: peerOpen } as FSMEvent,
  badOpen: { type: 'BGPOpen', message: { ...peerOpen, myAS: 65999, capabilities: [] } } as FSMEvent,
  keepalive: { type: 'KeepAliveMsg' } as FSMEvent,
  update: { type: 'UpdateMsg', message: { type: 'update', withdrawn: [], attributes: [], nlri: [] } } as FSMEvent,
  refresh: { type: 'RouteRefreshMsg', message: { type: 'routeRefresh', afi: 1, safi: 1, subtype: 0 } } as FSMEvent,
  notif: { type: 'NotifMsg', message: { type: 'notification', code: 6, subcode: 2, data: Buffer.alloc(0) } } as FSMEvent,
  hold: { type: 'HoldTimerExpires' } as FSMEvent,
  kaTimer: { type: 'KeepaliveTimerExpires' } as FSMEvent,
  retry: { type: 'ConnectRetryTimerExpires' } as FSMEvent,
  idleHold: { type: 'IdleHoldTimerExpires' } as FSMEvent,
  headerErr: errorEvent(new BGPProtocolError(1, 2, 'bad length', Buffer.from([0, 18]))),
  updateErr: errorEvent(new BGPProtocolError(3, 11, 'bad AS_PATH')),
  dump: { type: 'OpenCollisionDump' } as FSMEvent,
};

function drive(events: FSMEvent[], s: FSMState = initialState(config, 42)): { state: FSMState; results: StepResult[] } {
  const results: StepResult[] = [];
  for (const e of events) {
    const r = step(s, e);
    results.push(r);
    s = r.state;
  }
  return { state: s, results };
}

const paths: Record<SessionState, FSMEvent[]> = {
  Idle: [],
  Connect: [ev.start],
  Active: [ev.start, ev.fails],
  OpenSent: [ev.start, ev.connected],
  OpenConfirm: [ev.start, ev.connected, ev.open],
  Established: [ev.start, ev.connected, ev.open, ev.keepalive],
};

function summary(actions: readonly FSMAction[]): string[] {
  return actions.map((a) => {
    switch (a.type) {
      case 'startTimer':
        return `start:${a.timer}`;
      case 'stopTimer':
        return `stop:${a.timer}`;
      case 'send':
        return a.message.type === 'notification' ? `send:notification ${a.message.code}/${a.message.subcode}` : `send:${a.message.type}`;
      default:
        return a.type;
    }
  });
}

const STOP3 = ['stop:connectRetry', 'stop:hold', 'stop:keepalive'];

interface Row {
  from: SessionState;
  event: keyof typeof ev;
  to: SessionState;
  actions: string[];
  reason: StepResult['reason'];
}

const table: Row[] = [
  { from: 'Idle', event: 'start', to: 'Connect', actions: ['stop:idleHold', 'start:connectRetry', 'connect'], reason: 'manual-start' },
  { from: 'Idle', event: 'incoming', to: 'Idle', actions: ['drop'], reason: 'connection-refused' },
  { from: 'Idle', event: 'keepalive', to: 'Idle', actions: [], reason: 'ignored' },
  { from: 'Idle', event: 'stop', to: 'Idle', actions: ['stop:idleHold'], reason: 'manual-stop' },
  { from: 'Connect', event: 'connected', to: 'OpenSent', actions: ['stop:connectRetry', 'send:open', 'start:hold'], reason: 'tcp-connected' },
  { from: 'Connect', event: 'incoming', to: 'OpenSent', actions: ['stop:connectRetry', 'send:open', 'start:hold'], reason: 'tcp-connected' },
  { from: 'Connect', event: 'fails', to: 'Active', actions: ['drop', 'stop:hold', 'start:connectRetry'], reason: 'tcp-failed' },
  { from: 'Connect', event: 'retry', to: 'Connect', actions: ['drop', 'start:connectRetry', 'connect'], reason: 'connect-retry' },
  { from: 'Connect', event: 'stop', to: 'Idle', actions: ['drop', ...STOP3, 'stop:idleHold'], reason: 'manual-stop' },
  { from: 'Connect', event: 'keepalive', to: 'Idle', actions: ['drop', ...STOP3, 'start:idleHold'], reason: 'unexpected-message' },
  { from: 'Connect', event: 'hold', to: 'Connect', actions: [], reason: 'ignored' },
  { from: 'Active', event: 'retry', to: 'Connect', actions: ['start:connectRetry', 'connect'], reason: 'connect-retry' },
  { from: 'Active', event: 'incoming', to: 'OpenSent', actions: ['stop:connectRetry', 'send:open', 'start:hold'], reason: 'tcp-connected' },
  { from: 'Active', event: 'fails', to: 'Active', actions: ['drop', 'stop:hold', 'start:connectRetry'], reason: 'tcp-failed' },
  { from: 'OpenSent', event: 'open', to: 'OpenConfirm', actions: ['stop:connectRetry', 'send:keepalive', 'start:keepalive', 'start:hold'], reason: 'open-accepted' },
  { from: 'OpenSent', event: 'badOpen', to: 'Idle', actions: ['send:notification 2/2', 'drop', ...STOP3, 'start:idleHold'], reason: 'open-rejected' },
  { from: 'OpenSent', event: 'hold', to: 'Idle', actions: ['send:notification 4/0', 'drop', ...STOP3, 'start:idleHold'], reason: 'hold-timer-expired' },
  { from: 'OpenSent', event: 'fails', to: 'Active', actions: ['drop', 'stop:hold', 'start:connectRetry'], reason: 'tcp-failed' },
  { from: 'OpenSent', event: 'notif', to: 'Idle', actions: ['drop', ...STOP3, 'start:idleHold'], reason: 'notification-received' },
  { from: 'OpenSent', event: 'headerErr', to: 'Idle', actions: ['send:notification 1/2', 'drop', ...STOP3, 'start:idleHold'], reason: 'protocol-error' },
  { from: 'OpenSent', event: 'keepalive', to: 'Idle', actions: ['send:notification 5/1', 'drop', ...STOP3, 'start:idleHold'], reason: 'unexpected-message' },
  { from: 'OpenSent', event: 'stop', to: 'Idle', actions: ['send:notification 6/2', 'drop', ...STOP3, 'stop:idleHold'], reason: 'manual-stop' },
  { from: 'OpenSent', event: 'kaTimer', to: 'OpenSent', actions: [], reason: 'ignored' },
  { from: 'OpenSent', event: 'incoming', to: 'OpenSent', actions: [], reason: 'ignored' },
  { from: 'OpenConfirm', event: 'keepalive', to: 'Established', actions: ['start:hold', 'established'], reason: 'established' },
  { from: 'OpenConfirm', event: 'kaTimer', to: 'OpenConfirm', actions: ['send:keepalive', 'start:keepalive'], reason: 'keepalive-sent' },
  { from: 'OpenConfirm', event: 'update', to: 'Idle', actions: ['send:notification 5/2', 'drop', ...STOP3, 'start:idleHold'], reason: 'unexpected-message' },
  { from: 'OpenConfirm', event: 'dump', to: 'Idle', actions: ['send:notification 6/7', 'drop', ...STOP3, 'start:idleHold'], reason: 'collision-dump' },
  { from: 'OpenConfirm', event: 'hold', to: 'Idle', actions: ['send:notification 4/0', 'drop', ...STOP3, 'start:idleHold'], reason: 'hold-timer-expired' },
  { from: 'OpenConfirm', event: 'fails', to: 'Idle', actions: ['drop', ...STOP3, 'start:idleHold'], reason: 'tcp-failed' },
  { from: 'Established', event: 'keepalive', to: 'Established', actions: ['start:hold'], reason: 'keepalive-received' },
  { from: 'Established', event: 'update', to: 'Established', actions: ['start:hold', 'receive'], reason: 'update-received' },
  { from: 'Established', event: 'refresh', to: 'Established', actions: ['start:hold', 'receive'], reason: 'route-refresh-received' },
  { from: 'Established', event: 'kaTimer', to: 'Established', actions: ['send:keepalive', 'start:keepalive'], reason: 'keepalive-sent' },
  { from: 'Established', event: 'hold', to: 'Idle', actions: ['send:notification 4/0', 'drop', ...STOP3, 'down', 'start:idleHold'], reason: 'hold-timer-expired' },
  { from: 'Established', event: 'notif', to: 'Idle', actions: ['drop', ...STOP3, 'down', 'start:idleHold'], reason: 'notification-received' },
  { from: 'Established', event: 'updateErr', to: 'Idle', actions: ['send:notification 3/11', 'drop', ...STOP3, 'down', 'start:idleHold'], reason: 'protocol-error' },
  { from: 'Established', event: 'open', to: 'Idle', actions: ['send:notification 5/3', 'drop', ...STOP3, 'down', 'start:idleHold'], reason: 'unexpected-message' },
  { from: 'Established', event: 'fails', to: 'Idle', actions: ['drop', ...STOP3, 'down', 'start:idleHold'], reason: 'tcp-failed' },
  { from: 'Established', event: 'stop', to: 'Idle', actions: ['send:notification 6/2', 'drop', ...STOP3, 'down', 'stop:idleHold'], reason: 'manual-stop' },
  { from: 'Established', event: 'incoming', to: 'Established', actions: [], reason: 'ignored' },
  { from: 'Established', event: 'start', to: 'Established', actions: [], reason: 'ignored' },
];

describe('speaker/bgp FSM', () => {
  describe('transition table (RFC 4271 §8.2.2)', () => {
    for (const r of table) {
      it(`${r.from} + ${ev[r.event].type} → ${r.to}: ${r.actions.join(', ') || 'nothing'}`, () => {
        const { state } = drive(paths[r.from]);
        assert.equal(state.state, r.from);
        const res = step(state, ev[r.event]);
        assert.equal(res.state.state, r.to);
        assert.deepEqual(summary(res.actions), r.actions);
        assert.equal(res.reason, r.reason);
      });
    }
  });

  it('waits for the peer in passive mode', () => {
    const s = initialState({ ...config, passive: true }, 1);
    const started = step(s, ev.start);
    assert.equal(started.state.state, 'Active');
    assert.deepEqual(summary(started.actions), ['stop:idleHold']);
    assert.equal(step(started.state, ev.retry).reason, 'ignored');
    const failed = drive([ev.incoming, ev.fails], started.state);
    assert.equal(failed.state.state, 'Active');
    assert.ok(!failed.results.some((r) => r.actions.some((a) => a.type === 'connect' || (a.type === 'startTimer' && a.timer === 'connectRetry'))));
  });

  it('uses the negotiated timers: OPEN hold 240 s, then min(ours, theirs) and a third of it', () => {
    const { results } = drive(paths.Established);
    const timers = results.flatMap((r) => r.actions.filter((a) => a.type === 'startTimer').map((a) => a.type === 'startTimer' && `${a.timer}=${a.seconds}`));
    assert.deepEqual(timers, ['connectRetry=120', 'hold=240', 'keepalive=30', 'hold=90', 'hold=90']);
    const est = results[results.length - 1]?.actions.find((a) => a.type === 'established');
    assert.equal(est?.type === 'established' && est.negotiated.peerASN, 64500);
  });

  it('runs no timers with a hold time of 0 (RFC 4271 §4.4)', () => {
    const zero = initialState({ ...config, local: { ...config.local, holdTime: 0 } }, 3);
    const { state, results } = drive(paths.Established, zero);
    assert.equal(state.state, 'Established');
    assert.deepEqual(summary(results[2]?.actions ?? []), ['stop:connectRetry', 'send:keepalive', 'stop:keepalive', 'stop:hold']);
    assert.deepEqual(summary(step(state, ev.keepalive).actions), []);
    assert.equal(step(state, ev.kaTimer).reason, 'ignored');
  });

  it('sends the RFC 8203 shutdown message on ManualStop, or closes silently', () => {
    const { state } = drive(paths.Established);
    const loud = step(state, ev.stop).actions.find((a) => a.type === 'send');
    const n = loud?.type === 'send' ? (loud.message as NotificationMessage) : undefined;
    assert.deepEqual([n?.code, n?.subcode, n?.shutdownMessage], [6, 2, 'upgrade']);
    // A reset (a configuration change): Administrative Reset, RFC 4486 §3, still with the message.
    const reset = step(state, { type: 'ManualStop', shutdownMessage: 'config', reset: true }).actions.find((a) => a.type === 'send');
    const r = reset?.type === 'send' ? (reset.message as NotificationMessage) : undefined;
    assert.deepEqual([r?.code, r?.subcode, r?.shutdownMessage], [6, 4, 'config']);
    const quiet = step(state, { type: 'ManualStop', notify: false });
    assert.ok(!quiet.actions.some((a) => a.type === 'send'));
    assert.equal(quiet.state.enabled, false);
    assert.equal(step(quiet.state, ev.idleHold).reason, 'ignored');
  });

  it('restarts after the idle-hold backoff, never at once after a NOTIFICATION (MetalLB #780, #1114)', () => {
    let s = drive(paths.Established).state;
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      const down = step(s, ev.notif);
      assert.ok(!down.actions.some((a) => a.type === 'connect'));
      const t = down.actions.find((a) => a.type === 'startTimer' && a.timer === 'idleHold');
      assert.ok(t?.type === 'startTimer');
      delays.push(t.seconds);
      const restarted = step(down.state, ev.idleHold);
      assert.equal(restarted.reason, 'automatic-start');
      assert.ok(restarted.actions.some((a) => a.type === 'connect'));
      // The peer accepts the OPEN and hangs up again before any traffic.
      s = drive([ev.connected, ev.open, ev.keepalive], restarted.state).state;
    }
    delays.forEach((d, i) => {
      const nominal = Math.min(120, 2 ** i);
      assert.ok(d >= nominal * 0.75 && d <= nominal, `retry ${i + 1}: ${d}s not in [${nominal * 0.75}, ${nominal}]`);
    });
    // Traffic on an Established session resets the backoff.
    const healthy = step(s, ev.update).state;
    assert.equal(healthy.attempts, 0);
    const t = step(healthy, ev.notif).actions.find((a) => a.type === 'startTimer' && a.timer === 'idleHold');
    assert.ok(t?.type === 'startTimer' && t.seconds <= 1);
  });

  it('backs off failed connection attempts up to connectTime', () => {
    let s = drive(paths.Connect).state;
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const f = step(s, ev.fails);
      const t = f.actions.find((a) => a.type === 'startTimer');
      assert.ok(t?.type === 'startTimer' && t.timer === 'connectRetry');
      delays.push(t.seconds);
      s = step(f.state, ev.retry).state;
    }
    assert.ok(delays[0] !== undefined && delays[0] >= 0.75 && delays[0] <= 1);
    assert.ok(delays.every((d) => d <= 120));
    assert.ok((delays[9] ?? 0) >= 90, `last delay ${delays[9]}`);
  });

  it('is deterministic for a given seed, and the jitter follows the seed', () => {
    const a = drive([...paths.Established, ev.notif], initialState(config, 7));
    const b = drive([...paths.Established, ev.notif], initialState(config, 7));
    assert.deepEqual(a.results, b.results);
    const seconds = (seed: number): number[] =>
      Array.from({ length: 5 }, (_, i) => {
        const r = drive([...paths.Established, ev.notif], initialState(config, seed + i));
        const t = r.results[r.results.length - 1]?.actions.find((x) => x.type === 'startTimer');
        return t?.type === 'startTimer' ? t.seconds : 0;
      });
    assert.ok(new Set(seconds(100)).size > 1, 'jitter varies with the seed');
  });

  it('maps decoded messages and decode errors to events', () => {
    assert.deepEqual(messageEvent(KEEPALIVE), { type: 'KeepAliveMsg' });
    assert.equal(messageEvent(peerOpen).type, 'BGPOpen');
    assert.equal(errorEvent(new BGPProtocolError(1, 1, 'x')).type, 'BGPHeaderErr');
    assert.equal(errorEvent(new BGPProtocolError(2, 6, 'x')).type, 'BGPOpenMsgErr');
    assert.equal(errorEvent(new BGPProtocolError(3, 1, 'x')).type, 'UpdateMsgErr');
  });

  it('never connects except on a start or a timer, and never throws (property)', () => {
    const events = Object.values(ev);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...events), { maxLength: 60 }), fc.boolean(), fc.integer(), (seq, passive, seed) => {
        let s = initialState({ ...config, passive }, seed);
        for (const e of seq) {
          const r = step(s, e);
          if (r.actions.some((a) => a.type === 'connect')) {
            assert.ok(['ManualStart', 'AutomaticStart', 'IdleHoldTimerExpires', 'ConnectRetryTimerExpires'].includes(e.type), e.type);
            assert.ok(!passive);
          }
          for (const a of r.actions) {
            if (a.type === 'startTimer' && (a.timer === 'idleHold' || a.timer === 'connectRetry')) assert.ok(a.seconds >= 0.75, `${a.timer} ${a.seconds}`);
          }
          assert.equal(r.state.negotiated !== undefined, r.state.state === 'OpenConfirm' || r.state.state === 'Established');
          s = r.state;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('speaker/bgp backoff and collision', () => {
  it('doubles from the base and caps at connectTime, jitter in [0.75, 1]', () => {
    assert.equal(backoffDelay(1, 1, 120, 1), 1);
    assert.equal(backoffDelay(1, 1, 120, 0), 0.75);
    assert.equal(backoffDelay(4, 1, 120, 1), 8);
    assert.equal(backoffDelay(30, 1, 120, 1), 120);
    assert.equal(backoffDelay(500, 1, 120, 0.5), 105);
    assert.equal(backoffDelay(1, 5, 2, 1), 5); // a cap below the base never shortens the base
  });

  it('draws uniform-looking values in [0, 1)', () => {
    let seed = 1;
    const values: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const [v, next] = nextRandom(seed);
      values.push(v);
      seed = next;
    }
    assert.ok(values.every((v) => v >= 0 && v < 1));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    assert.ok(mean > 0.45 && mean < 0.55, `mean ${mean}`);
  });

  const low = { bgpIdentifier: '192.0.2.1', asn: 64500 };
  const high = { bgpIdentifier: '192.0.2.200', asn: 64512 };
  const rows: { name: string; local: typeof low; remote: typeof low; existingState: SessionState; existingInitiatedLocally: boolean; keep: 'keepExisting' | 'keepNew' }[] = [
    { name: 'we are higher, existing is ours', local: high, remote: low, existingState: 'OpenConfirm', existingInitiatedLocally: true, keep: 'keepExisting' },
    { name: 'we are higher, existing is theirs', local: high, remote: low, existingState: 'OpenConfirm', existingInitiatedLocally: false, keep: 'keepNew' },
    { name: 'we are lower, existing is ours', local: low, remote: high, existingState: 'OpenSent', existingInitiatedLocally: true, keep: 'keepNew' },
    { name: 'we are lower, existing is theirs', local: low, remote: high, existingState: 'OpenSent', existingInitiatedLocally: false, keep: 'keepExisting' },
    { name: 'existing is Established', local: low, remote: high, existingState: 'Established', existingInitiatedLocally: true, keep: 'keepExisting' },
    { name: 'existing has not sent OPEN', local: high, remote: low, existingState: 'Connect', existingInitiatedLocally: true, keep: 'keepNew' },
  ];
  for (const r of rows) {
    it(`collision (RFC 4271 §6.8): ${r.name} → ${r.keep}`, () => {
      assert.equal(resolveCollision(r), r.keep);
    });
  }

  it('compares identifiers as unsigned integers, then AS numbers (RFC 6286 §2.3)', () => {
    assert.equal(collisionWinner({ bgpIdentifier: '10.0.0.9', asn: 1 }, { bgpIdentifier: '9.255.255.255', asn: 2 }), 'local');
    assert.equal(collisionWinner({ bgpIdentifier: '200.0.0.1', asn: 1 }, { bgpIdentifier: '100.0.0.1', asn: 2 }), 'local');
    assert.equal(collisionWinner({ bgpIdentifier: '192.0.2.1', asn: 64512 }, { bgpIdentifier: '192.0.2.1', asn: 64500 }), 'local');
    assert.equal(collisionWinner({ bgpIdentifier: '192.0.2.1', asn: 64500 }, { bgpIdentifier: '192.0.2.1', asn: 64512 }), 'remote');
  });
});
