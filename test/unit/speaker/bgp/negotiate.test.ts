// OPEN checks (RFC 4271 §6.2) and capability intersection, as tables.
import { strict as assert } from 'node:assert';
import type { Capability } from '../../../../speaker/bgp/capabilities.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../../../speaker/bgp/family.js';
import { buildOpen, codecContext, keepaliveFor, negotiate, type LocalSpeaker, type Negotiated } from '../../../../speaker/bgp/negotiate.js';
import type { OpenMessage } from '../../../../speaker/bgp/open.js';

const local: LocalSpeaker = {
  asn: 64512,
  bgpIdentifier: '192.0.2.11',
  holdTime: 90,
  families: [IPV4_UNICAST, IPV6_UNICAST],
  peerASN: 64500,
};

const mp = (afi: number): Capability => ({ type: 'multiprotocol', afi, safi: 1 });
function peerOpen(over: Partial<OpenMessage> = {}, caps?: Capability[]): OpenMessage {
  return {
    type: 'open',
    version: 4,
    myAS: 64500,
    holdTime: 180,
    bgpIdentifier: '192.0.2.1',
    capabilities: caps ?? [mp(1), mp(2), { type: 'fourOctetAS', asn: 64500 }, { type: 'routeRefresh' }, { type: 'extendedMessage' }],
    ...over,
  };
}

function ok(l: LocalSpeaker, o: OpenMessage): Negotiated {
  const r = negotiate(l, o);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.negotiated;
}

describe('speaker/bgp negotiation', () => {
  const rejections: { name: string; local?: Partial<LocalSpeaker>; open: OpenMessage; code: [number, number]; data?: string }[] = [
    { name: 'version 3', open: peerOpen({ version: 3 }), code: [2, 1], data: '0004' },
    { name: 'peer AS other than configured', open: peerOpen({ myAS: 64501 }, [mp(1)]), code: [2, 2] },
    { name: 'peer AS from the 4-octet capability', open: peerOpen({ myAS: 23456 }, [mp(1), { type: 'fourOctetAS', asn: 4200000000 }]), code: [2, 2] },
    { name: 'peer AS 0 (RFC 7607)', local: { peerASN: undefined }, open: peerOpen({ myAS: 0 }, [mp(1)]), code: [2, 2] },
    { name: 'dynamicASN internal, external peer', local: { peerASN: undefined, dynamicASN: 'internal' }, open: peerOpen(), code: [2, 2] },
    { name: 'dynamicASN external, internal peer', local: { peerASN: undefined, dynamicASN: 'external' }, open: peerOpen({ myAS: 64512 }, [mp(1)]), code: [2, 2] },
    { name: 'BGP identifier 0.0.0.0', open: peerOpen({ bgpIdentifier: '0.0.0.0' }), code: [2, 3] },
    { name: 'internal peer with our identifier (RFC 6286 §2.2)', local: { peerASN: 64512 }, open: peerOpen({ myAS: 64512, bgpIdentifier: '192.0.2.11' }, [mp(1)]), code: [2, 3] },
    { name: 'hold time 1', open: peerOpen({ holdTime: 1 }), code: [2, 6] },
    { name: 'hold time 2', open: peerOpen({ holdTime: 2 }), code: [2, 6] },
    { name: 'no family in common (RFC 5492 §3)', local: { families: [IPV6_UNICAST] }, open: peerOpen({}, [mp(1)]), code: [2, 7], data: '010400020001' },
    { name: 'no multiprotocol capability means IPv4 only (RFC 4760 §8)', local: { families: [IPV6_UNICAST] }, open: peerOpen({}, []), code: [2, 7] },
  ];
  for (const r of rejections) {
    it(`rejects: ${r.name} → ${r.code.join('/')}`, () => {
      const res = negotiate({ ...local, ...r.local }, r.open);
      assert.ok(!res.ok, 'expected a rejection');
      assert.deepEqual([res.error.code, res.error.subcode], r.code, res.error.message);
      if (r.data !== undefined) assert.equal(res.error.data.toString('hex'), r.data);
    });
  }

  it('accepts any AS without peerASN or dynamicASN, and dynamicASN matches', () => {
    assert.equal(ok({ ...local, peerASN: undefined }, peerOpen({ myAS: 65123 }, [mp(1)])).peerASN, 65123);
    assert.equal(ok({ ...local, peerASN: undefined, dynamicASN: 'external' }, peerOpen()).internal, false);
    assert.equal(ok({ ...local, peerASN: undefined, dynamicASN: 'internal' }, peerOpen({ myAS: 64512 }, [mp(1)])).internal, true);
  });

  it('lets an external peer share our identifier (RFC 6286 §2.2)', () => {
    assert.equal(ok(local, peerOpen({ bgpIdentifier: '192.0.2.11' })).peerBgpIdentifier, '192.0.2.11');
  });

  const timing: { localHold: number; localKeepalive?: number; peerHold: number; hold: number; keepalive: number }[] = [
    { localHold: 90, peerHold: 180, hold: 90, keepalive: 30 },
    { localHold: 90, peerHold: 9, hold: 9, keepalive: 3 },
    { localHold: 90, peerHold: 3, hold: 3, keepalive: 1 },
    { localHold: 90, localKeepalive: 10, peerHold: 180, hold: 90, keepalive: 10 },
    { localHold: 90, localKeepalive: 60, peerHold: 30, hold: 30, keepalive: 10 },
    { localHold: 90, peerHold: 0, hold: 0, keepalive: 0 },
    { localHold: 0, peerHold: 90, hold: 0, keepalive: 0 },
  ];
  for (const t of timing) {
    it(`hold ${t.localHold}/${t.peerHold}, keepalive ${t.localKeepalive ?? 'default'} → hold ${t.hold}, keepalive ${t.keepalive}`, () => {
      const n = ok({ ...local, holdTime: t.localHold, ...(t.localKeepalive !== undefined ? { keepaliveTime: t.localKeepalive } : {}) }, peerOpen({ holdTime: t.peerHold }));
      assert.equal(n.holdTime, t.hold);
      assert.equal(n.keepaliveTime, t.keepalive);
    });
  }

  it('computes keepalives as hold/3, never 0 while a hold timer runs', () => {
    assert.equal(keepaliveFor(0), 0);
    assert.equal(keepaliveFor(4), 1);
    assert.equal(keepaliveFor(90, 0), 30);
  });

  it('intersects capabilities', () => {
    const both = ok({ ...local, enhancedRouteRefresh: true }, peerOpen({}, [mp(1), mp(2), { type: 'fourOctetAS', asn: 64500 }, { type: 'routeRefresh' }, { type: 'enhancedRouteRefresh' }, { type: 'extendedMessage' }]));
    assert.deepEqual(both.families, [IPV4_UNICAST, IPV6_UNICAST]);
    assert.deepEqual([both.fourOctetAS, both.routeRefresh, both.enhancedRouteRefresh, both.extendedMessages, both.maxMessageSize], [true, true, true, true, 65535]);
    assert.deepEqual(codecContext(both), { fourOctetAS: true, maxMessageSize: 65535, internal: false });

    const bare = ok(local, peerOpen({}, [mp(2)]));
    assert.deepEqual(bare.families, [IPV6_UNICAST]);
    assert.deepEqual([bare.fourOctetAS, bare.routeRefresh, bare.enhancedRouteRefresh, bare.extendedMessages, bare.maxMessageSize], [false, false, false, false, 4096]);

    // RFC 8654: only when both sides offer it.
    assert.equal(ok({ ...local, extendedMessages: false }, peerOpen()).maxMessageSize, 4096);
    // Enhanced route refresh is off unless we offer it.
    assert.equal(ok(local, peerOpen({}, [mp(1), { type: 'enhancedRouteRefresh' }])).enhancedRouteRefresh, false);
  });

  it('records graceful restart only when both sides offer it', () => {
    const gr: Capability = { type: 'gracefulRestart', restartState: true, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] };
    assert.equal(ok(local, peerOpen({}, [mp(1), gr])).gracefulRestart, undefined);
    const n = ok({ ...local, gracefulRestart: { restartTime: 90 } }, peerOpen({}, [mp(1), gr]));
    assert.deepEqual(n.gracefulRestart, { peerRestartTime: 120, peerRestarting: true, notification: false, peerFamilies: [{ afi: 1, safi: 1, forwardingState: true }] });
    assert.equal(ok({ ...local, gracefulRestart: { restartTime: 90, notification: true } }, peerOpen({}, [mp(1), gr])).gracefulRestart?.notification, true);
  });

  it('builds our OPEN with AS_TRANS for a 4-octet AS and every capability we offer', () => {
    const o = buildOpen({ ...local, asn: 4200000000, enhancedRouteRefresh: true, gracefulRestart: { restartTime: 120, restarting: true, forwardingState: true } });
    assert.equal(o.myAS, 23456);
    assert.deepEqual(o.capabilities, [
      mp(1),
      mp(2),
      { type: 'routeRefresh' },
      { type: 'enhancedRouteRefresh' },
      { type: 'fourOctetAS', asn: 4200000000 },
      { type: 'extendedMessage' },
      { type: 'gracefulRestart', restartState: true, notification: false, restartTime: 120, families: [{ ...IPV4_UNICAST, forwardingState: true }, { ...IPV6_UNICAST, forwardingState: true }] },
    ]);
  });
});
