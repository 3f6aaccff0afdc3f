// What a BGPPeer configuration means for the session: TTL, the OPEN's graceful restart
// capability, and which changes need a new session.
import { strict as assert } from 'node:assert';
import { findCapability } from '../../../../speaker/bgp/capabilities.js';
import { buildOpen } from '../../../../speaker/bgp/negotiate.js';
import { fsmConfigFor, isExternal, restartReasons, ttlFor, type SessionConfig } from '../../../../speaker/bgp/session-config.js';
import { nextHopFromInterfaces, type InterfaceTable } from '../../../../speaker/bgp/session-next-hop.js';

const cfg: SessionConfig = {
  name: 'r1',
  myASN: 64512,
  peerASN: 64500,
  peerAddress: '192.0.2.1',
  peerPort: 179,
  holdTime: 90,
  keepaliveTime: 0,
  connectTime: 0,
  routerID: '192.0.2.11',
  ebgpMultiHop: false,
  enableGracefulRestart: true,
  families: [4, 6],
};

describe('speaker/bgp session configuration', () => {
  it('TTL 1 for single-hop eBGP, 255 for multihop and iBGP (dynamicASN decides when set)', () => {
    const table: [Partial<SessionConfig>, boolean, number][] = [
      [{}, true, 1],
      [{ ebgpMultiHop: true }, true, 255],
      [{ peerASN: 64512 }, false, 255],
      [{ peerASN: undefined, dynamicASN: 'internal' }, false, 255],
      [{ peerASN: undefined, dynamicASN: 'external' }, true, 1],
    ];
    for (const [over, external, ttl] of table) {
      const c = { ...cfg, ...over };
      assert.equal(isExternal(c), external, JSON.stringify(over));
      assert.equal(ttlFor(c), ttl, JSON.stringify(over));
    }
  });

  it('offers graceful restart with the R bit only while restarting, F bits set, restart time clamped', () => {
    const open = buildOpen(fsmConfigFor({ ...cfg, gracefulRestartTime: 9999 }, true).local);
    const gr = findCapability(open.capabilities, 'gracefulRestart');
    assert.equal(gr?.restartState, true);
    assert.equal(gr?.restartTime, 4095);
    assert.deepEqual(gr?.families.map((f) => [f.afi, f.forwardingState]), [[1, true], [2, true]]);
    assert.equal(findCapability(buildOpen(fsmConfigFor(cfg, false).local).capabilities, 'gracefulRestart')?.restartState, false);
    assert.equal(findCapability(buildOpen(fsmConfigFor({ ...cfg, enableGracefulRestart: false }, true).local).capabilities, 'gracefulRestart'), undefined);
    const c = fsmConfigFor({ ...cfg, families: [6], keepaliveTime: 10 }, false);
    assert.deepEqual(c.local.families, [{ afi: 2, safi: 1 }]);
    assert.equal(c.local.keepaliveTime, 10);
    assert.equal(c.connectTime, 120, 'connectTime 0 means the default');
  });

  it('restarts for what the OPEN or the connection carries, not for timers or the name', () => {
    assert.deepEqual(restartReasons(cfg, { ...cfg, holdTime: 30, keepaliveTime: 10, connectTime: 5, name: 'x' }), []);
    assert.deepEqual(restartReasons(cfg, { ...cfg, families: [6, 4] }), []);
    assert.deepEqual(restartReasons(cfg, { ...cfg, password: '' }), [], 'empty password is no password');
    assert.deepEqual(restartReasons(cfg, { ...cfg, passive: false }), []);
    assert.deepEqual(restartReasons(cfg, { ...cfg, password: 'x', myASN: 1 }), ['myASN', 'password']);
    assert.deepEqual(restartReasons(cfg, { ...cfg, families: [4] }), ['families']);
    assert.deepEqual(restartReasons(cfg, { ...cfg, gracefulRestartTime: 300 }), ['gracefulRestartTime']);
    assert.deepEqual(restartReasons({ ...cfg, enableGracefulRestart: false }, { ...cfg, enableGracefulRestart: false, gracefulRestartTime: 300 }), []);
  });

  it('takes the next hop of the other family from the interface of the session', () => {
    const table: InterfaceTable = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '', cidr: null }],
      eth0: [
        { address: '192.0.2.2', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '', cidr: null },
        { address: 'fe80::1', family: 'IPv6', internal: false, netmask: 'ffff:ffff:ffff:ffff::', mac: '', cidr: null, scopeid: 2 },
        { address: '2001:db8:a::2', family: 'IPv6', internal: false, netmask: 'ffff:ffff:ffff:ffff::', mac: '', cidr: null, scopeid: 0 },
      ],
      eth1: [
        { address: '198.51.100.2', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '', cidr: null },
        { address: 'fe80::2', family: 'IPv6', internal: false, netmask: 'ffff:ffff:ffff:ffff::', mac: '', cidr: null, scopeid: 3 },
      ],
    };
    assert.equal(nextHopFromInterfaces('192.0.2.2', 4, table), '192.0.2.2');
    assert.equal(nextHopFromInterfaces('::ffff:192.0.2.2', 4, table), '192.0.2.2');
    assert.equal(nextHopFromInterfaces('192.0.2.2', 6, table), '2001:db8:a::2', 'global, not link-local');
    assert.equal(nextHopFromInterfaces('2001:db8:a::2', 4, table), '192.0.2.2');
    assert.equal(nextHopFromInterfaces('198.51.100.2', 6, table), undefined, 'link-local only: none');
    assert.equal(nextHopFromInterfaces('203.0.113.9', 6, table), undefined, 'address on no interface');
  });
});
