import { strict as assert } from 'node:assert';
import { createServer, type AddressInfo } from 'node:net';
import { Membership, tcpNodeProbe, type NodeProbe } from '../../../../speaker/membership/member.js';
import { MembershipError } from '../../../../speaker/membership/codec.js';
import type { MembershipEvent } from '../../../../speaker/membership/core.js';

const key = Buffer.alloc(32, 3);

describe('membership adapter options', () => {
  it('refuses options that would break detection or make-before-break', () => {
    const bad: [string, ConstructorParameters<typeof Membership>[0]][] = [
      ['node name', { node: 'Bad_Name', key }],
      ['short key', { node: 'n1', key: Buffer.alloc(8) }],
      ['interval too short', { node: 'n1', key, intervalMs: 5 }],
      ['fractional interval', { node: 'n1', key, intervalMs: 100.5 }],
      ['multiplier', { node: 'n1', key, detectMultiplier: 1 }],
      ['join delay within the listening time', { node: 'n1', key, joinDelayMs: 350 }],
      ['port', { node: 'n1', key, port: 70000 }],
      ['restart hold beyond 16 bits', { node: 'n1', key, restartHoldMs: 70_000 }],
      ['negative restart hold', { node: 'n1', key, restartHoldMs: -1 }],
      ['bind address', { node: 'n1', key, bindAddress: 'localhost' }],
    ];
    for (const [name, cfg] of bad) assert.throws(() => new Membership(cfg), MembershipError, name);
    assert.doesNotThrow(() => new Membership({ node: 'n1', key, intervalMs: 200, joinDelayMs: 800 }));
  });

  it('reports nothing before it is ready, and fails to start on an address it cannot bind', async () => {
    const m = new Membership({ node: 'n1', key, port: 0, bindAddress: '127.0.0.1' });
    assert.equal(m.live(), undefined);
    assert.equal(m.ready, false);
    await m.start();
    try {
      assert.ok((m.port() ?? 0) > 0);
      await assert.rejects(m.start(), MembershipError);
    } finally {
      await m.stop();
    }
    // 192.0.2.1 is not an address of this host.
    const n = new Membership({ node: 'n1', key, port: 0, bindAddress: '192.0.2.1' });
    await assert.rejects(n.start(), (e: unknown) => e instanceof MembershipError && e.code === 'socket');
    await n.stop();
  });

  describe('restart holds over loopback', function () {
    this.timeout(10_000);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const until = async (what: string, pred: () => boolean, ms = 3000): Promise<void> => {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out: ${what}`);
        await sleep(10);
      }
    };
    const started: Membership[] = [];
    afterEach(async () => {
      for (const m of started.splice(0)) await m.stop();
    });
    const member = async (node: string, over: Partial<ConstructorParameters<typeof Membership>[0]> = {}): Promise<Membership> => {
      const m = new Membership({ node, key, port: 0, bindAddress: '127.0.0.1', leaveGraceMs: 0, ...over });
      started.push(m);
      await m.start();
      return m;
    };
    /** Makes a and b each other's peer; resolves once a sees b, with the events a sees from then on. */
    const peered = async (a: Membership, b: Membership): Promise<MembershipEvent[]> => {
      a.setPeers([{ name: 'b', address: '127.0.0.1', port: b.port() as number }]);
      b.setPeers([{ name: 'a', address: '127.0.0.1', port: a.port() as number }]);
      const events: MembershipEvent[] = [];
      a.onChange((_live, ev) => events.push(...ev.filter((e) => e.type !== 'ready')));
      await until('a sees b', () => a.live()?.has('b') === true);
      return events;
    };

    it('keeps a leaving peer live while its node answers probes, and its next boot resumes without a change', async () => {
      const probed: string[] = [];
      const probe: NodeProbe = async (address, port) => {
        probed.push(`${address}:${port}`);
        return true;
      };
      const a = await member('a', { probeNode: probe });
      const b = await member('b', { restartHoldMs: 5000 });
      const bPort = b.port() as number;
      a.setPeers([{ name: 'b', address: '127.0.0.1', port: bPort }]);
      b.setPeers([{ name: 'a', address: '127.0.0.1', port: a.port() as number }]);
      const events: MembershipEvent[] = [];
      a.onChange((_live, ev) => events.push(...ev.filter((e) => e.type !== 'ready')));
      await until('a sees b', () => a.live()?.has('b') === true);
      assert.deepEqual(probed, [], 'no probes while b heartbeats');
      await b.leave();
      await b.stop();
      await sleep(1000);
      assert.ok(a.live()?.has('b'), 'b held live for a second without a heartbeat');
      assert.ok(probed.length >= 5, `b's node probed every interval (${probed.length})`);
      assert.ok(probed.every((x) => x === `127.0.0.1:${bPort}`), 'at its address and membership port');
      assert.deepEqual(events.filter((e) => e.type === 'down'), []);
      const b2 = await member('b');
      b2.setPeers([{ name: 'a', address: '127.0.0.1', port: a.port() as number }]);
      await until('b resumed', () => events.some((e) => e.type === 'up' && e.node === 'b'));
      assert.deepEqual(events, [
        { type: 'hold', node: 'b', ms: 5000 },
        { type: 'up', node: 'b', reason: 'resumed' },
      ], 'the hold is reported, the live set unchanged, then the resumption');
      assert.ok(a.live()?.has('b'));
    });

    it('takes a held peer down one detection time after its node stops answering', async () => {
      let nodeUp = true;
      const a = await member('a', { probeNode: async () => nodeUp });
      const b = await member('b', { restartHoldMs: 10_000 });
      const events = await peered(a, b);
      await b.leave();
      await b.stop();
      await sleep(500);
      assert.ok(a.live()?.has('b'));
      nodeUp = false;
      const t0 = Date.now();
      await until('b down', () => a.live()?.has('b') === false, 2000);
      const took = Date.now() - t0;
      assert.ok(took >= 200 && took < 1000, `down after ${took} ms`);
      assert.deepEqual(events, [
        { type: 'hold', node: 'b', ms: 10_000 },
        { type: 'down', node: 'b', reason: 'nodeGone' },
      ]);
    });

    it('with no hold, a leave takes the peer down at once', async () => {
      const a = await member('a', { probeNode: async () => true });
      const b = await member('b', { restartHoldMs: 0 });
      const events = await peered(a, b);
      await b.leave();
      await until('b down', () => a.live()?.has('b') === false, 500);
      assert.deepEqual(events, [{ type: 'down', node: 'b', reason: 'leave' }]);
    });

    it('the TCP node probe counts a reset or an accept as up', async () => {
      const server = createServer((c) => c.destroy());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const open = (server.address() as AddressInfo).port;
      try {
        assert.equal(await tcpNodeProbe('127.0.0.1', open, 1000), true, 'accepted');
      } finally {
        await new Promise((r) => server.close(r));
      }
      assert.equal(await tcpNodeProbe('127.0.0.1', open, 1000), true, 'reset by a closed port');
    });
  });
});
