// The session driver against a router played with herald's own codec over in-memory
// TCP, on a fake clock: OPEN exchange, timers, errors and backoff, the Adj-RIB-Out diff
// and packing, graceful restart and shutdown, route refresh, collisions.
import { strict as assert } from 'node:assert';
import { FakeClock } from '../../../../shared/k8s/clock.js';
import { silentLogger } from '../../../../shared/log.js';
import { findAttribute } from '../../../../speaker/bgp/attributes.js';
import { findCapability } from '../../../../speaker/bgp/capabilities.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../../../speaker/bgp/family.js';
import { encodeMessage, KEEPALIVE } from '../../../../speaker/bgp/messages.js';
import { shutdownNotification } from '../../../../speaker/bgp/notification.js';
import { BGPSession, type Advertisement, type SessionConfig, type SessionStatus } from '../../../../speaker/bgp/session.js';
import { endOfRibFamily, announcedPrefixes, withdrawnPrefixes } from '../../../../speaker/bgp/update.js';
import { FakeRegistry, FakeTransport, type FakePeer } from './session-fakes.js';

const baseConfig: SessionConfig = {
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
  enableGracefulRestart: true,
  families: [4, 6],
};

const nextHop = (local: string, family: 4 | 6): string | undefined => (family === 4 ? local : '2001:db8::11');

function ad(prefix: string, extra: Partial<Advertisement> = {}): Advertisement {
  const [p, l] = prefix.split('/') as [string, string];
  return { family: p.includes(':') ? 6 : 4, prefix: p, length: Number(l), communities: [], largeCommunities: [], ...extra };
}

function v4Ads(n: number, extra: Partial<Advertisement> = {}): Advertisement[] {
  // In memory only: no packet leaves the test.
  return Array.from({ length: n }, (_, i) => ad(`203.0.${(i >> 8) & 0xff}.${i & 0xff}/32`, extra));
}

interface Harness {
  clock: FakeClock;
  transport: FakeTransport;
  session: BGPSession;
  statuses: SessionStatus[];
}

function harness(cfg: Partial<SessionConfig> = {}, extra: { registry?: FakeRegistry } = {}): Harness {
  const clock = new FakeClock();
  const transport = new FakeTransport();
  const session = new BGPSession(
    { ...baseConfig, ...cfg },
    { log: silentLogger(), clock, transport, rand: () => 0.5, nextHop, ...(extra.registry ? { listener: extra.registry } : {}) },
  );
  const statuses: SessionStatus[] = [];
  session.onStatus((s) => statuses.push(s));
  return { clock, transport, session, statuses };
}

/** Starts the session and plays a router that accepts it. */
async function established(h: Harness, open: Parameters<FakePeer['open']>[0] = {}): Promise<FakePeer> {
  h.session.start();
  await h.clock.advance(0);
  const peer = h.transport.peer;
  assert.equal(peer.messages('open').length, 1, 'the session sends OPEN first');
  peer.open(open);
  await h.clock.advance(0);
  assert.equal(h.session.status().state, 'Established');
  return peer;
}

const states = (h: Harness): string[] => h.statuses.map((s) => s.state).filter((s, i, a) => i === 0 || a[i - 1] !== s);

describe('speaker/bgp session', () => {
  describe('OPEN exchange', () => {
    it('connects, sends its capabilities, and reaches Established with the negotiated values', async () => {
      const h = harness();
      const peer = await established(h, { holdTime: 30, gracefulRestart: true, extendedMessages: true });
      const req = h.transport.requests[0]!;
      assert.deepEqual(req, { peerAddress: '192.0.2.1', peerPort: 179, ttl: 1 });
      const open = peer.messages('open')[0]!;
      assert.equal(open.myAS, 64512);
      assert.equal(open.holdTime, 90);
      assert.equal(open.bgpIdentifier, '192.0.2.11');
      const gr = findCapability(open.capabilities, 'gracefulRestart');
      assert.ok(gr, 'graceful restart offered');
      assert.equal(gr.restartTime, 120);
      assert.equal(gr.restartState, true, 'R bit on the first OPEN of the process');
      assert.deepEqual(
        gr.families.map((f) => f.forwardingState),
        [true, true],
        'F bit for each family',
      );
      assert.equal(findCapability(open.capabilities, 'fourOctetAS')?.asn, 64512);
      assert.deepEqual(peer.messages('keepalive').length, 1, 'OPEN confirmed with KEEPALIVE');
      const s = h.session.status();
      assert.deepEqual(s.negotiated, { holdTime: 30, families: [4, 6], gracefulRestart: true, fourOctetAS: true, extendedMessages: true, peerRouterID: '192.0.2.1', peerASN: 64500 });
      assert.equal(s.establishedSince?.getTime(), h.clock.now());
      assert.deepEqual(states(h), ['Connect', 'OpenSent', 'OpenConfirm', 'Established']);
      // Nothing wanted yet: End-of-RIB for each family all the same.
      assert.deepEqual(
        peer.updates.map((u) => endOfRibFamily(u)),
        [IPV4_UNICAST, IPV6_UNICAST],
      );
    });

    it('uses TTL 255 for iBGP and for eBGP multihop, and passes password and source address', async () => {
      const ibgp = harness({ peerASN: 64512 });
      ibgp.session.start();
      const multihop = harness({ ebgpMultiHop: true, password: 's3cret', sourceAddress: '192.0.2.12' });
      multihop.session.start();
      await ibgp.clock.advance(0);
      await multihop.clock.advance(0);
      assert.equal(ibgp.transport.requests[0]?.ttl, 255);
      assert.deepEqual(multihop.transport.requests[0], { peerAddress: '192.0.2.1', peerPort: 179, ttl: 255, sourceAddress: '192.0.2.12', password: 's3cret' });
    });

    it('refuses a peer with the wrong AS with OPEN Message Error / Bad Peer AS, then backs off', async () => {
      const h = harness();
      h.session.start();
      await h.clock.advance(0);
      h.transport.peer.open({ asn: 65999 });
      await h.clock.advance(0);
      const n = h.transport.peer.notifications;
      assert.deepEqual(
        n.map((m) => [m.code, m.subcode]),
        [[2, 2]],
      );
      assert.ok(h.transport.peer.closed);
      const s = h.session.status();
      assert.equal(s.state, 'Idle');
      assert.match(s.lastError ?? '', /^sent NOTIFICATION OPEN Message Error \/ Bad Peer AS: peer AS 65999, expected 64500/);
      assert.equal(h.transport.requests.length, 1);
      await h.clock.advance(700);
      assert.equal(h.transport.requests.length, 1, 'no reconnect before the backoff');
      await h.clock.advance(400);
      assert.equal(h.transport.requests.length, 2, 'reconnects after the backoff');
    });
  });

  describe('timers', () => {
    it('sends keepalives at a third of the negotiated hold time and stays up while the peer does', async () => {
      const h = harness();
      const peer = await established(h, { holdTime: 30 });
      const before = peer.messages('keepalive').length;
      for (let i = 0; i < 10; i++) {
        await h.clock.advance(10_000);
        peer.send(KEEPALIVE);
      }
      await h.clock.advance(0);
      assert.equal(peer.messages('keepalive').length - before, 10);
      assert.equal(h.session.status().state, 'Established');
    });

    it('expires the hold timer: Hold Timer Expired, session down, reconnect only after the backoff', async () => {
      const h = harness();
      await established(h, { holdTime: 30 });
      const peer = h.transport.peer;
      await h.clock.advance(29_000);
      assert.equal(h.session.status().state, 'Established');
      await h.clock.advance(1_000);
      assert.deepEqual(
        peer.notifications.map((m) => [m.code, m.subcode]),
        [[4, 0]],
      );
      assert.ok(peer.closed);
      const s = h.session.status();
      assert.equal(s.state, 'Idle');
      assert.equal(s.lastError, 'sent NOTIFICATION Hold Timer Expired');
      assert.equal(s.establishedSince, undefined);
      assert.equal(h.transport.requests.length, 1);
      await h.clock.advance(1_000);
      assert.equal(h.transport.requests.length, 2);
    });

    it('sends no keepalives and runs no hold timer when the hold time is 0', async () => {
      const h = harness({ holdTime: 0 });
      const peer = await established(h, { holdTime: 0 });
      const before = peer.messages('keepalive').length;
      await h.clock.advance(3_600_000);
      assert.equal(peer.messages('keepalive').length, before);
      assert.equal(h.session.status().state, 'Established');
      assert.equal(h.session.status().negotiated?.holdTime, 0);
    });

    it('gives up a connection attempt after connectTime and tries again', async () => {
      const h = harness({ connectTime: 5 });
      h.transport.behaviour = 'hang';
      h.session.start();
      await h.clock.advance(4_900);
      assert.equal(h.transport.requests.length, 1);
      await h.clock.advance(200);
      assert.equal(h.transport.requests.length, 2);
      // A wrong TCP-MD5 key looks exactly like this; listeners hear of it without a state change.
      assert.equal(h.statuses.at(-1)?.state, 'Connect');
      assert.equal(h.statuses.at(-1)?.lastError, 'connection to 192.0.2.1:179: no answer within 5s');
    });
  });

  describe('errors', () => {
    it('answers garbage with the right NOTIFICATION and reconnects with a growing backoff, never in a loop', async () => {
      const h = harness({ connectTime: 60 });
      // Every connection: the "router" sends 19 octets without the all-ones marker.
      h.transport.onPeer = (p) => p.sendRaw(Buffer.alloc(19, 0x42));
      h.session.start();
      const times: number[] = [];
      let seen = 0;
      const start = h.clock.now();
      for (let t = 0; t < 40_000; t += 100) {
        await h.clock.advance(100);
        if (h.transport.requests.length > seen) {
          seen = h.transport.requests.length;
          times.push(h.clock.now() - start);
        }
      }
      for (const p of h.transport.peers) {
        assert.deepEqual(
          p.notifications.map((m) => [m.code, m.subcode]),
          [[1, 1]],
          'Message Header Error / Connection Not Synchronized',
        );
      }
      assert.ok(times.length >= 4 && times.length <= 7, `${times.length} connects in 40 s: ${times.join(', ')}`);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i]! > gaps[i - 1]!, `gaps grow: ${gaps.join(', ')}`);
      assert.match(h.session.status().lastError ?? '', /^sent NOTIFICATION Message Header Error \/ Connection Not Synchronized/);
    });

    it('answers a malformed UPDATE while Established and keeps going after the backoff', async () => {
      const h = harness();
      const peer = await established(h);
      // An UPDATE whose withdrawn-routes length runs past the message.
      const bad = encodeMessage({ type: 'update', withdrawn: [], attributes: [], nlri: [] });
      bad.writeUInt16BE(50, 19);
      peer.sendRaw(bad);
      await h.clock.advance(0);
      assert.deepEqual(
        peer.notifications.map((m) => [m.code, m.subcode]),
        [[3, 1]],
      );
      assert.equal(h.session.status().state, 'Idle');
      await h.clock.advance(1_000);
      assert.equal(h.transport.requests.length, 2);
      h.transport.peer.open();
      await h.clock.advance(0);
      assert.equal(h.session.status().state, 'Established');
    });

    it('reports a NOTIFICATION from the peer, with its shutdown message, and backs off', async () => {
      const h = harness();
      const peer = await established(h);
      peer.send(shutdownNotification(2, 'maintenance'));
      await h.clock.advance(0);
      const s = h.session.status();
      assert.equal(s.state, 'Idle');
      assert.equal(s.lastError, 'received NOTIFICATION Cease / Administrative Shutdown: "maintenance"');
      assert.equal(s.lastErrorTime?.getTime(), h.clock.now());
      assert.equal(h.transport.requests.length, 1, 'no reconnect at once after a NOTIFICATION (MetalLB #780)');
      await h.clock.advance(1_000);
      assert.equal(h.transport.requests.length, 2);
    });

    it('reports a refused connection', async () => {
      const h = harness();
      h.transport.behaviour = 'refuse';
      h.session.start();
      await h.clock.advance(0);
      assert.equal(h.session.status().state, 'Active');
      assert.match(h.session.status().lastError ?? '', /^connection to 192\.0\.2\.1:179: connect ECONNREFUSED/);
    });
  });

  describe('Adj-RIB-Out', () => {
    it('sends the wanted set on Established before End-of-RIB, then only differences', async () => {
      const h = harness();
      h.session.setWanted([ad('203.0.113.1/32', { communities: [0xfc000064] }), ad('203.0.113.2/32'), ad('2001:db8:ff::1/128', { largeCommunities: [[64512, 1, 2]] })]);
      assert.equal(h.session.status().pendingPrefixes, 3);
      const peer = await established(h);
      const eorAt = peer.updates.findIndex((u) => endOfRibFamily(u) !== undefined);
      assert.deepEqual(
        peer.updates.slice(0, eorAt).flatMap(announcedPrefixes).map((p) => `${p.prefix}/${p.length}`).sort(),
        ['2001:db8:ff::1/128', '203.0.113.1/32', '203.0.113.2/32'],
      );
      assert.ok(peer.updates.slice(eorAt).every((u) => endOfRibFamily(u) !== undefined));
      let s = h.session.status();
      assert.equal(s.prefixesSent, 3);
      assert.equal(s.pendingPrefixes, 0);

      const rib = peer.rib();
      const one = rib.get('203.0.113.1/32')!;
      assert.deepEqual(findAttribute(one.attributes, 'communities')?.communities, [0xfc000064]);
      assert.deepEqual(findAttribute(one.attributes, 'asPath')?.segments, [{ type: 'sequence', asns: [64512] }]);
      assert.equal(findAttribute(one.attributes, 'nextHop')?.nextHop, '192.0.2.11');
      assert.equal(findAttribute(one.attributes, 'localPref'), undefined, 'no LOCAL_PREF to an external peer');
      assert.equal(findAttribute(one.attributes, 'origin')?.origin, 'igp');
      const six = rib.get('2001:db8:ff::1/128')!;
      assert.equal(findAttribute(six.attributes, 'mpReach')?.nextHop, '2001:db8::11');
      assert.deepEqual(findAttribute(six.attributes, 'largeCommunities')?.communities, [[64512, 1, 2]]);

      const sentBefore = peer.updates.length;
      // Change one, keep one, drop one, add one.
      h.session.setWanted([ad('203.0.113.1/32', { communities: [0xfc0000c8] }), ad('2001:db8:ff::1/128', { largeCommunities: [[64512, 1, 2]] }), ad('203.0.113.3/32')]);
      await h.clock.advance(0);
      const delta = peer.updates.slice(sentBefore);
      assert.deepEqual(delta.flatMap(withdrawnPrefixes).map((p) => p.prefix), ['203.0.113.2']);
      assert.deepEqual(delta.flatMap(announcedPrefixes).map((p) => p.prefix).sort(), ['203.0.113.1', '203.0.113.3']);
      assert.deepEqual(findAttribute(peer.rib().get('203.0.113.1/32')!.attributes, 'communities')?.communities, [0xfc0000c8]);
      s = h.session.status();
      assert.equal(s.prefixesSent, 3);
      assert.equal(s.updatesSent, peer.updates.length);

      // The same set again: nothing to say.
      const n = peer.updates.length;
      h.session.setWanted([ad('203.0.113.3/32'), ad('2001:db8:ff::1/128', { largeCommunities: [[64512, 1, 2]] }), ad('203.0.113.1/32', { communities: [0xfc0000c8] })]);
      await h.clock.advance(0);
      assert.equal(peer.updates.length, n);

      h.session.setWanted([]);
      await h.clock.advance(0);
      assert.equal(peer.rib().size, 0);
      assert.equal(h.session.status().prefixesSent, 0);
    });

    it('packs 10,000 prefixes with one attribute set into the fewest UPDATEs', async () => {
      const h = harness();
      const peer = await established(h);
      const before = peer.updates.length;
      const ads = v4Ads(10_000, { communities: [0xfc000064], largeCommunities: [[64512, 7, 7]] });
      h.session.setWanted(ads);
      await h.clock.advance(0);
      const updates = peer.updates.slice(before);
      assert.equal(updates.flatMap(announcedPrefixes).length, 10_000);
      // Every UPDATE but the last is full: no further /32 (5 octets) would have fit.
      const sizes = updates.map((u) => encodeMessage(u, peer.ctx).length);
      for (const size of sizes.slice(0, -1)) assert.ok(size > 4096 - 5, `UPDATE of ${size} octets could hold another prefix`);
      const overhead = encodeMessage({ ...updates[0]!, nlri: [] }, peer.ctx).length;
      assert.equal(updates.length, Math.ceil(10_000 / Math.floor((4096 - overhead) / 5)));
      assert.equal(h.session.status().updatesSent, peer.updates.length);

      h.session.setWanted([]);
      await h.clock.advance(0);
      const withdrawals = peer.updates.slice(before + updates.length);
      assert.equal(withdrawals.flatMap(withdrawnPrefixes).length, 10_000);
      assert.equal(withdrawals.length, Math.ceil(10_000 / Math.floor((4096 - 23) / 5)));
    });

    it('uses 65535-octet UPDATEs when the peer offers extended messages', async () => {
      const h = harness();
      const peer = await established(h, { extendedMessages: true });
      const before = peer.updates.length;
      h.session.setWanted(v4Ads(10_000));
      await h.clock.advance(0);
      const updates = peer.updates.slice(before);
      assert.equal(updates.flatMap(announcedPrefixes).length, 10_000);
      assert.equal(updates.length, 1);
    });

    it('sends LOCAL_PREF (100 unless set) and an empty AS_PATH to an internal peer', async () => {
      const h = harness({ peerASN: 64512 });
      h.session.setWanted([ad('203.0.113.1/32'), ad('203.0.113.2/32', { localPref: 250 })]);
      const peer = await established(h, { asn: 64512 });
      const rib = peer.rib();
      assert.equal(findAttribute(rib.get('203.0.113.1/32')!.attributes, 'localPref')?.localPref, 100);
      assert.equal(findAttribute(rib.get('203.0.113.2/32')!.attributes, 'localPref')?.localPref, 250);
      assert.deepEqual(findAttribute(rib.get('203.0.113.1/32')!.attributes, 'asPath')?.segments, []);
    });

    it('merges two advertisements of one prefix into one route with both communities', async () => {
      const h = harness();
      h.session.setWanted([ad('203.0.113.1/32', { communities: [1] }), ad('203.0.113.1/32', { communities: [2], largeCommunities: [[1, 2, 3]] })]);
      const peer = await established(h);
      const u = peer.rib().get('203.0.113.1/32')!;
      assert.deepEqual(findAttribute(u.attributes, 'communities')?.communities, [1, 2]);
      assert.deepEqual(findAttribute(u.attributes, 'largeCommunities')?.communities, [[1, 2, 3]]);
      assert.equal(h.session.status().prefixesSent, 1);
    });

    it('keeps IPv6 prefixes pending when the session has no IPv6 next hop, or the peer no IPv6', async () => {
      const clock = new FakeClock();
      const transport = new FakeTransport();
      const session = new BGPSession(baseConfig, { log: silentLogger(), clock, transport, nextHop: (l, f) => (f === 4 ? l : undefined) });
      session.setWanted([ad('203.0.113.1/32'), ad('2001:db8:ff::1/128')]);
      session.start();
      await clock.advance(0);
      transport.peer.open();
      await clock.advance(0);
      assert.deepEqual([...transport.peer.rib().keys()], ['203.0.113.1/32']);
      assert.equal(session.status().pendingPrefixes, 1);

      const h = harness();
      h.session.setWanted([ad('203.0.113.1/32'), ad('2001:db8:ff::1/128')]);
      const peer = await established(h, { families: [IPV4_UNICAST] });
      assert.deepEqual([...peer.rib().keys()], ['203.0.113.1/32']);
      assert.deepEqual(h.session.status().negotiated?.families, [4]);
      assert.deepEqual(
        peer.updates.map((u) => endOfRibFamily(u)).filter(Boolean),
        [IPV4_UNICAST],
      );
    });

    it('sends everything again after the session comes back', async () => {
      const h = harness();
      h.session.setWanted([ad('203.0.113.1/32'), ad('203.0.113.2/32')]);
      const first = await established(h);
      assert.equal(first.rib().size, 2);
      first.send(shutdownNotification(4, 'reset'));
      await h.clock.advance(0);
      assert.equal(h.session.status().prefixesSent, 0);
      assert.equal(h.session.status().pendingPrefixes, 2);
      await h.clock.advance(1_000);
      const second = h.transport.peer;
      assert.notEqual(second, first);
      second.open();
      await h.clock.advance(0);
      assert.equal(second.rib().size, 2);
      // The Restart State bit belongs to the first OPEN of the process only.
      assert.equal(findCapability(second.messages('open')[0]!.capabilities, 'gracefulRestart')?.restartState, false);
    });
  });

  describe('route refresh', () => {
    it('re-sends the Adj-RIB-Out of the asked family (RFC 2918), and ignores other families', async () => {
      const h = harness();
      h.session.setWanted([ad('203.0.113.1/32'), ad('203.0.113.2/32'), ad('2001:db8:ff::1/128')]);
      const peer = await established(h, { families: [IPV4_UNICAST, IPV6_UNICAST] });
      const before = peer.updates.length;
      peer.send({ type: 'routeRefresh', afi: 1, safi: 1, subtype: 0 });
      await h.clock.advance(0);
      const again = peer.updates.slice(before);
      assert.deepEqual(again.flatMap(announcedPrefixes).map((p) => p.prefix).sort(), ['203.0.113.1', '203.0.113.2']);
      const n = peer.updates.length;
      peer.send({ type: 'routeRefresh', afi: 2, safi: 1, subtype: 0 });
      await h.clock.advance(0);
      assert.deepEqual(peer.updates.slice(n).flatMap(announcedPrefixes).map((p) => p.prefix), ['2001:db8:ff::1']);
      const m = peer.updates.length;
      peer.send({ type: 'routeRefresh', afi: 25, safi: 70, subtype: 0 });
      await h.clock.advance(0);
      assert.equal(peer.updates.length, m);
      assert.equal(h.session.status().state, 'Established');
    });
  });

  describe('stop', () => {
    it('graceful-restart: closes without NOTIFICATION when graceful restart was negotiated', async () => {
      const h = harness();
      h.session.setWanted([ad('203.0.113.1/32')]);
      const peer = await established(h, { gracefulRestart: true });
      const stopped = h.session.stop({ mode: 'graceful-restart' });
      await h.clock.advance(0);
      await stopped;
      assert.equal(peer.notifications.length, 0);
      assert.ok(peer.closed);
      assert.equal(peer.conn.other.endedBy, 'end', 'a FIN after everything queued');
      assert.equal(h.session.status().state, 'Idle');
      await h.clock.advance(600_000);
      assert.equal(h.transport.requests.length, 1, 'a stopped session stays stopped');
    });

    it('graceful-restart falls back to Administrative Shutdown when the peer has no graceful restart', async () => {
      const h = harness();
      const peer = await established(h, { gracefulRestart: false });
      const stopped = h.session.stop({ mode: 'graceful-restart', message: 'bye' });
      await h.clock.advance(0);
      await stopped;
      assert.deepEqual(
        peer.notifications.map((m) => [m.code, m.subcode, m.shutdownMessage]),
        [[6, 2, 'bye']],
      );
    });

    it('shutdown: Cease / Administrative Shutdown with the RFC 8203 message', async () => {
      const h = harness();
      const peer = await established(h, { gracefulRestart: true });
      const stopped = h.session.stop({ mode: 'shutdown', message: 'maintenance' });
      await h.clock.advance(0);
      await stopped;
      assert.deepEqual(
        peer.notifications.map((m) => [m.code, m.subcode, m.shutdownMessage]),
        [[6, 2, 'maintenance']],
      );
      assert.ok(peer.closed);
      assert.equal(h.session.status().lastError, undefined, 'our own shutdown is no error');
    });

    it('can start again after a stop', async () => {
      const h = harness();
      await established(h);
      const stopped = h.session.stop();
      await h.clock.advance(0);
      await stopped;
      h.session.start();
      await h.clock.advance(0);
      assert.equal(h.transport.requests.length, 2);
      assert.equal(h.session.status().state, 'OpenSent');
    });
  });

  describe('reconfigure', () => {
    it('applies hold time at the next OPEN without touching the session', async () => {
      const h = harness();
      const peer = await established(h);
      h.session.reconfigure({ ...baseConfig, holdTime: 30, keepaliveTime: 10, name: 'renamed' });
      await h.clock.advance(0);
      assert.equal(h.session.status().state, 'Established');
      assert.equal(peer.notifications.length, 0);
      assert.equal(h.transport.requests.length, 1);
      peer.send(shutdownNotification(4, 'reset'));
      await h.clock.advance(1_000);
      assert.equal(h.transport.peer.messages('open')[0]?.holdTime, 30);
    });

    it('restarts the session when the password changes, and keeps the wanted set', async () => {
      const h = harness();
      h.session.setWanted([ad('203.0.113.1/32')]);
      const peer = await established(h);
      h.session.reconfigure({ ...baseConfig, password: 'new' });
      await h.clock.advance(0);
      // RFC 4486 §3 Administrative Reset: the session comes back at once; with the RFC 9003 message.
      assert.deepEqual(
        peer.notifications.map((m) => [m.code, m.subcode, m.shutdownMessage]),
        [[6, 4, 'herald: peer configuration changed']],
      );
      assert.equal(h.transport.requests.length, 2);
      assert.equal(h.transport.requests[1]?.password, 'new');
      h.transport.peer.open();
      await h.clock.advance(0);
      assert.deepEqual([...h.transport.peer.rib().keys()], ['203.0.113.1/32']);
    });

    it('reconnects only once the peer has closed the old connection, that is, acted on the NOTIFICATION', async () => {
      // FRR 8.4 with a dynamic neighbour: a new connection accepted before it reads our
      // NOTIFICATION outlives the neighbour it deletes, and comes up missing from its table.
      const h = harness();
      const peer = await established(h);
      peer.conn.lingers = true;
      h.session.reconfigure({ ...baseConfig, password: 'new' });
      await h.clock.advance(500);
      assert.ok(peer.conn.finReceived, 'NOTIFICATION and FIN sent');
      assert.deepEqual(peer.notifications.map((m) => m.subcode), [4]);
      assert.equal(h.transport.requests.length, 1, 'no new connection while the peer holds the old one');
      assert.equal(h.session.status().state, 'Idle');
      void peer.conn.end();
      await h.clock.advance(0);
      assert.equal(h.transport.requests.length, 2, 'at once after the peer closed');
      assert.equal(h.transport.requests[1]?.password, 'new');
      h.transport.peer.open();
      await h.clock.advance(0);
      assert.equal(h.session.status().state, 'Established');
    });

    it('reconnects after CLOSE_GRACE_MS (2 s) when the peer never closes the old connection, cutting it', async () => {
      const h = harness();
      const peer = await established(h);
      peer.conn.lingers = true;
      h.session.reconfigure({ ...baseConfig, password: 'new' });
      await h.clock.advance(1_999);
      assert.equal(h.transport.requests.length, 1);
      assert.equal(peer.closed, false);
      await h.clock.advance(1);
      assert.equal(h.transport.requests.length, 2);
      assert.equal(peer.conn.endedBy, 'remote', 'the old connection cut');
    });

    it('a second change while waiting restarts once, with the last configuration; stop() while waiting restarts nothing', async () => {
      const h = harness();
      const peer = await established(h);
      peer.conn.lingers = true;
      h.session.reconfigure({ ...baseConfig, password: 'new' });
      await h.clock.advance(100);
      h.session.reconfigure({ ...baseConfig, password: 'newer' });
      await h.clock.advance(100);
      void peer.conn.end();
      await h.clock.advance(10_000);
      assert.deepEqual(h.transport.requests.map((r) => r.password), [undefined, 'newer']);

      const h2 = harness();
      const peer2 = await established(h2);
      peer2.conn.lingers = true;
      h2.session.reconfigure({ ...baseConfig, password: 'new' });
      await h2.clock.advance(100);
      const stopped = h2.session.stop();
      await h2.clock.advance(10_000);
      await stopped;
      assert.equal(h2.transport.requests.length, 1);
      assert.equal(h2.session.status().state, 'Idle');
    });

    it('a restart is no failure: the backoff grown by refused connections starts again from its base', async () => {
      const h = harness({ connectTime: 30 });
      h.transport.behaviour = 'refuse';
      h.session.start();
      // Refused at 0, then retries after 0.875, 1.75, 3.5, 7 s (base 1 s doubling, jitter factor 0.875).
      await h.clock.advance(14_000);
      assert.equal(h.transport.requests.length, 5);
      h.session.reconfigure({ ...baseConfig, connectTime: 30, password: 'new' });
      await h.clock.advance(0);
      assert.equal(h.transport.requests.length, 6, 'connects at once');
      await h.clock.advance(875);
      assert.equal(h.transport.requests.length, 7, 'first retry after the base delay, not 14 s');
    });
  });

  describe('connections from the peer', () => {
    it('passive: waits for the peer and never connects out', async () => {
      const registry = new FakeRegistry();
      const h = harness({ passive: true, password: 'pw' }, { registry });
      h.session.start();
      await h.clock.advance(60_000);
      assert.equal(h.transport.requests.length, 0);
      assert.equal(h.session.status().state, 'Active');
      assert.deepEqual(registry.registered, [{ peerAddress: '192.0.2.1', password: 'pw' }]);
      const peer = registry.dial()!;
      await h.clock.advance(0);
      assert.equal(peer.messages('open').length, 1);
      peer.open();
      await h.clock.advance(0);
      assert.equal(h.session.status().state, 'Established');
      const stopped = h.session.stop();
      await h.clock.advance(0);
      await stopped;
      assert.equal(registry.registered.length, 0, 'unregistered on stop');
    });

    it('collision: the connection opened by the higher BGP identifier survives (RFC 4271 §6.8)', async () => {
      // The peer's identifier is higher: its connection wins, ours gets Cease / Connection Collision Resolution.
      const registry = new FakeRegistry();
      const h = harness({}, { registry });
      h.session.setWanted([ad('203.0.113.1/32')]);
      h.session.start();
      await h.clock.advance(0);
      const outgoing = h.transport.peer;
      assert.equal(h.session.status().state, 'OpenSent');
      const incoming = registry.dial()!;
      await h.clock.advance(0);
      assert.equal(incoming.messages('open').length, 1, 'OPEN on the new connection too');
      incoming.open({ bgpIdentifier: '192.0.2.200' });
      await h.clock.advance(0);
      assert.deepEqual(
        outgoing.notifications.map((m) => [m.code, m.subcode]),
        [[6, 7]],
      );
      assert.ok(outgoing.closed);
      assert.equal(h.session.status().state, 'Established');
      assert.deepEqual([...incoming.rib().keys()], ['203.0.113.1/32']);
    });

    it('collision: our own connection survives when our identifier is higher', async () => {
      const registry = new FakeRegistry();
      const h = harness({ routerID: '192.0.2.250' }, { registry });
      h.session.start();
      await h.clock.advance(0);
      const outgoing = h.transport.peer;
      const incoming = registry.dial()!;
      await h.clock.advance(0);
      incoming.open({ bgpIdentifier: '192.0.2.1' });
      await h.clock.advance(0);
      assert.deepEqual(
        incoming.notifications.map((m) => [m.code, m.subcode]),
        [[6, 7]],
      );
      assert.equal(outgoing.notifications.length, 0);
      outgoing.open({ bgpIdentifier: '192.0.2.1' });
      await h.clock.advance(0);
      assert.equal(h.session.status().state, 'Established');
    });

    it('takes a new connection while Established with graceful restart as the peer restarting (RFC 4724 §4.2)', async () => {
      const registry = new FakeRegistry();
      const h = harness({}, { registry });
      h.session.setWanted([ad('203.0.113.1/32')]);
      const old = await established(h, { gracefulRestart: true });
      const fresh = registry.dial()!;
      await h.clock.advance(0);
      assert.ok(old.closed, 'the old session is gone');
      assert.equal(fresh.messages('open').length, 1);
      fresh.open({ gracefulRestart: true });
      await h.clock.advance(0);
      assert.equal(h.session.status().state, 'Established');
      assert.deepEqual([...fresh.rib().keys()], ['203.0.113.1/32']);
      assert.equal(h.transport.requests.length, 1, 'no outgoing attempt meanwhile');
      // Later failures still reconnect actively.
      fresh.send(shutdownNotification(2, 'again'));
      await h.clock.advance(2_000);
      assert.equal(h.transport.requests.length, 2);
    });

    it('refuses a second connection while Established', async () => {
      const registry = new FakeRegistry();
      const h = harness({}, { registry });
      await established(h);
      const extra = registry.dial()!;
      await h.clock.advance(0);
      assert.ok(extra.closed);
      assert.equal(extra.messages('open').length, 0);
      assert.equal(h.session.status().state, 'Established');
    });
  });

  describe('status', () => {
    it('reports each state transition and coalesces counter changes', async () => {
      const h = harness();
      const peer = await established(h);
      const n = h.statuses.length;
      h.session.setWanted(v4Ads(3000));
      await h.clock.advance(0);
      const after = h.statuses.slice(n);
      assert.equal(after.length, 1, 'one report for one burst of UPDATEs');
      assert.equal(after[0]!.prefixesSent, 3000);
      assert.equal(after[0]!.updatesSent, peer.updates.length);
    });

    it('stops reporting to an unsubscribed listener', async () => {
      const h = harness();
      const seen: SessionStatus[] = [];
      const off = h.session.onStatus((s) => seen.push(s));
      h.session.start();
      await h.clock.advance(0);
      const n = seen.length;
      assert.ok(n > 0);
      off();
      h.transport.peer.open();
      await h.clock.advance(0);
      assert.equal(seen.length, n);
    });
  });
});
