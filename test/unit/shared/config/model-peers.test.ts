import { strict as assert } from 'node:assert';
import { formatIP } from '../../../../shared/ip/ip.js';
import { bfd, build, expectErrors, expectNoErrors, NS, peer, secret } from './factories.js';

describe('config model: BGPPeer', () => {
  it('a minimal eBGP peer gets MetalLB defaults', () => {
    const r = build({ peers: [peer('router')] });
    expectNoErrors(r);
    const p = r.model.peers[0]!;
    assert.equal(p.name, 'router');
    assert.equal(p.myASN, 64512);
    assert.equal(p.peerASN, 64500);
    assert.equal(formatIP(p.peerAddress), '192.0.2.1');
    assert.equal(p.peerPort, 179);
    assert.equal(p.holdTime, 90);
    assert.equal(p.keepaliveTime, 30);
    assert.equal(p.connectTime, 120);
    assert.equal(p.vrf, '');
    assert.deepEqual([p.enableGracefulRestart, p.ebgpMultiHop, p.disableMP], [false, false, false]);
    assert.deepEqual(p.nodeSelectors, []);
    assert.equal(p.password, undefined);
    assert.equal(p.bfdProfile, undefined);
    assert.equal(p.routerID, undefined);
  });

  it('takes every field', () => {
    const r = build({
      bfdProfiles: [bfd('fast', { receiveInterval: 100, transmitInterval: 100 })],
      peers: [
        peer('router', {
          myASN: 4200000000,
          peerASN: 4200000001,
          peerAddress: '2001:db8:0:2::1',
          sourceAddress: '2001:db8:0:2::11',
          peerPort: 1179,
          holdTime: '3m',
          keepaliveTime: '1m',
          connectTime: '10s',
          routerID: '192.0.2.11',
          nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node1' } }],
          password: 'sesame',
          bfdProfile: 'fast',
          enableGracefulRestart: true,
          ebgpMultiHop: true,
          vrf: 'red',
          disableMP: true,
        }),
      ],
    });
    expectNoErrors(r);
    const p = r.model.peers[0]!;
    assert.equal(formatIP(p.sourceAddress!), '2001:db8:0:2::11');
    assert.deepEqual([p.peerPort, p.holdTime, p.keepaliveTime, p.connectTime], [1179, 180, 60, 10]);
    assert.equal(p.routerID, '192.0.2.11');
    assert.equal(p.password, 'sesame');
    assert.equal(p.bfdProfile?.name, 'fast');
    assert.equal(p.bfdProfile?.receiveInterval, 100);
    assert.deepEqual([p.enableGracefulRestart, p.ebgpMultiHop, p.vrf, p.disableMP], [true, true, 'red', true]);
  });

  describe('timers', () => {
    const ok: [string, Record<string, string>, [number, number]][] = [
      ['hold 90s → keepalive 30s', { holdTime: '90s' }, [90, 30]],
      ['hold 1m30s', { holdTime: '1m30s' }, [90, 30]],
      ['hold 3000ms is whole seconds', { holdTime: '3000ms' }, [3, 1]],
      ['hold 10s → keepalive 3s (rounded down)', { holdTime: '10s' }, [10, 3]],
      ['hold 0 disables both', { holdTime: '0s' }, [0, 0]],
      ['hold 0 and keepalive 0', { holdTime: '0', keepaliveTime: '0s' }, [0, 0]],
      ['hold 3s is the least', { holdTime: '3s' }, [3, 1]],
      ['hold 65535s is the most', { holdTime: '65535s' }, [65535, 21845]],
      ['keepalive equal to hold', { holdTime: '30s', keepaliveTime: '30s' }, [30, 30]],
      ['keepalive alone → hold 3 × keepalive (MetalLB)', { keepaliveTime: '20s' }, [60, 20]],
    ];
    for (const [name, timers, [hold, keepalive]] of ok) {
      it(`accepts ${name}`, () => {
        const r = build({ peers: [peer('p', timers)] });
        expectNoErrors(r);
        assert.deepEqual([r.model.peers[0]!.holdTime, r.model.peers[0]!.keepaliveTime], [hold, keepalive]);
      });
    }
    const bad: [string, Record<string, unknown>, string, RegExp][] = [
      ['hold 2s', { holdTime: '2s' }, 'spec.holdTime', /0 \(disabled\) or between 3s and 65535s/],
      ['hold 1s', { holdTime: '1s' }, 'spec.holdTime', /between 3s/],
      ['hold too long', { holdTime: '65536s' }, 'spec.holdTime', /65535s/],
      ['hold sub-second', { holdTime: '500ms' }, 'spec.holdTime', /whole, non-negative number of seconds/],
      ['hold with a fraction', { holdTime: '3.5s' }, 'spec.holdTime', /3\.5s.*whole/],
      ['hold negative', { holdTime: '-90s' }, 'spec.holdTime', /non-negative/],
      ['hold without a unit', { holdTime: '90' }, 'spec.holdTime', /missing unit/],
      ['hold as a number', { holdTime: 90 }, 'spec.holdTime', /duration string/],
      ['keepalive above hold', { holdTime: '30s', keepaliveTime: '31s' }, 'spec.keepaliveTime', /must not exceed holdTime 30s/],
      ['keepalive with hold 0', { holdTime: '0s', keepaliveTime: '10s' }, 'spec.keepaliveTime', /must not exceed holdTime 0s/],
      ['keepalive 0 with a hold time', { holdTime: '90s', keepaliveTime: '0s' }, 'spec.keepaliveTime', /hold timer expire/],
      ['keepalive sub-second', { keepaliveTime: '500ms' }, 'spec.keepaliveTime', /whole/],
      ['keepalive alone too large', { keepaliveTime: '30000s' }, 'spec.keepaliveTime', /default holdTime/],
      ['connect 0', { connectTime: '0s' }, 'spec.connectTime', /between 1s and 65535s/],
      ['connect sub-second', { connectTime: '100ms' }, 'spec.connectTime', /whole/],
      ['connect garbage', { connectTime: 'soon' }, 'spec.connectTime', /not a duration/],
    ];
    for (const [name, timers, field, why] of bad) {
      it(`rejects ${name}`, () => {
        const r = build({ peers: [peer('p', timers)] });
        expectErrors(r, 'BGPPeer', 'p', [['Invalid', field, why]]);
        assert.deepEqual(r.model.peers, []);
      });
    }
  });

  describe('per-object rules', () => {
    const ok: [string, Record<string, unknown>][] = [
      ['iBGP', { peerASN: 64512 }],
      ['dynamicASN external', { peerASN: undefined, dynamicASN: 'external' }],
      ['dynamicASN internal', { peerASN: undefined, dynamicASN: 'internal' }],
      ['4-byte ASNs', { myASN: 4294967295, peerASN: 4200000000 }],
      ['IPv6 peer', { peerAddress: '2001:db8:0:2::1' }],
      ['source address of the same family', { sourceAddress: '192.0.2.11' }],
      ['port 1', { peerPort: 1 }],
      ['eBGP multi-hop', { ebgpMultiHop: true }],
      ['router ID on an IPv6 session', { peerAddress: '2001:db8::1', routerID: '192.0.2.11' }],
      ['password of 80 bytes', { password: 'x'.repeat(80) }],
      ['empty password means none', { password: '' }],
      ['VRF of 15 bytes', { vrf: 'v'.repeat(15) }],
      ['node selectors', { nodeSelectors: [{ matchExpressions: [{ key: 'node-role.kubernetes.io/worker', operator: 'Exists' }] }] }],
    ];
    for (const [name, spec] of ok) {
      it(`accepts ${name}`, () => {
        const r = build({ peers: [peer('p', spec)] });
        expectNoErrors(r);
        assert.equal(r.model.peers.length, 1);
      });
    }
    const bad: [string, Record<string, unknown>, string, RegExp][] = [
      ['no myASN', { myASN: undefined }, 'spec.myASN', /required/],
      ['myASN 0', { myASN: 0 }, 'spec.myASN', /1 to 4294967295/],
      ['myASN too large', { myASN: 4294967296 }, 'spec.myASN', /1 to 4294967295/],
      ['myASN as text', { myASN: '64512' }, 'spec.myASN', /whole number/],
      ['neither peerASN nor dynamicASN', { peerASN: undefined }, 'spec.peerASN', /set peerASN .* or dynamicASN/],
      ['both peerASN and dynamicASN', { dynamicASN: 'external' }, 'spec.dynamicASN', /either peerASN or dynamicASN, not both/],
      ['unknown dynamicASN', { peerASN: undefined, dynamicASN: 'auto' }, 'spec.dynamicASN', /"internal" or "external"/],
      ['ebgpMultiHop on iBGP', { peerASN: 64512, ebgpMultiHop: true }, 'spec.ebgpMultiHop', /eBGP only/],
      ['ebgpMultiHop on dynamic internal', { peerASN: undefined, dynamicASN: 'internal', ebgpMultiHop: true }, 'spec.ebgpMultiHop', /eBGP only/],
      ['no peer address', { peerAddress: undefined }, 'spec.peerAddress', /required/],
      ['peer address not an IP', { peerAddress: 'router.example' }, 'spec.peerAddress', /not an IPv4 or IPv6 address/],
      ['peer address a CIDR', { peerAddress: '192.0.2.1/32' }, 'spec.peerAddress', /not an IPv4/],
      ['source address of the other family', { sourceAddress: '2001:db8::11' }, 'spec.sourceAddress', /same IP family/],
      ['source address garbage', { sourceAddress: 'eth0' }, 'spec.sourceAddress', /not an IPv4/],
      ['port 0', { peerPort: 0 }, 'spec.peerPort', /1 to 65535/],
      ['port 65536', { peerPort: 65536 }, 'spec.peerPort', /1 to 65535/],
      ['router ID IPv6', { routerID: '2001:db8::1' }, 'spec.routerID', /non-zero IPv4/],
      ['router ID zero', { routerID: '0.0.0.0' }, 'spec.routerID', /non-zero IPv4/],
      ['router ID garbage', { routerID: 'node1' }, 'spec.routerID', /non-zero IPv4/],
      ['password and passwordSecret', { password: 'a', passwordSecret: { name: 's' } }, 'spec.passwordSecret', /not both/],
      ['password with a line break', { password: 'a\nb' }, 'spec.password', /line break/],
      ['password longer than 80 bytes', { password: 'é'.repeat(41) }, 'spec.password', /80 bytes/],
      ['passwordSecret without a name', { passwordSecret: {} }, 'spec.passwordSecret', /needs the name/],
      ['passwordSecret in another namespace', { passwordSecret: { name: 's', namespace: 'default' } }, 'spec.passwordSecret.namespace', /herald-system/],
      ['VRF with a slash', { vrf: 'red/blue' }, 'spec.vrf', /interface name/],
      ['VRF too long', { vrf: 'v'.repeat(16) }, 'spec.vrf', /1 to 15 bytes/],
      ['bad node selector', { nodeSelectors: [{ matchExpressions: [{ key: 'zone', operator: 'Exists', values: ['a'] }] }] }, 'spec.nodeSelectors[0].matchExpressions[0].values', /no values/],
      ['VRF not a string', { vrf: 7 }, 'spec.vrf', /must be a string/],
      ['graceful restart not a boolean', { enableGracefulRestart: 'true' }, 'spec.enableGracefulRestart', /true or false/],
    ];
    for (const [name, spec, field, why] of bad) {
      it(`rejects ${name}`, () => {
        const r = build({ peers: [peer('p', spec), peer('other', { peerAddress: '192.0.2.2' })], secrets: [secret('s', { password: 'x' })] });
        expectErrors(r, 'BGPPeer', 'p', [['Invalid', field, why]]);
        assert.deepEqual(r.model.peers.map((p) => p.name), ['other'], 'the other peer still works');
      });
    }
    it('a peer without a spec', () => {
      const r = build({ peers: [{ ...peer('p'), spec: undefined as never }] });
      const fields = r.errors.map((e) => e.field);
      assert.deepEqual(fields.slice(0, 2), ['spec', 'spec.myASN']);
      assert.deepEqual(r.model.peers, []);
    });
  });

  describe('password Secret', () => {
    const ref = { passwordSecret: { name: 'bgp-auth' } };
    it('reads data.password of a basic-auth Secret', () => {
      const r = build({ peers: [peer('p', ref)], secrets: [secret('bgp-auth', { username: 'u', password: 's3cret' })] });
      expectNoErrors(r);
      assert.equal(r.model.peers[0]!.password, 's3cret');
    });
    it('accepts the install namespace spelled out', () => {
      const r = build({ peers: [peer('p', { passwordSecret: { name: 'bgp-auth', namespace: NS } })], secrets: [secret('bgp-auth', { password: 'x' })] });
      expectNoErrors(r);
    });
    it('reads stringData too', () => {
      const r = build({ peers: [peer('p', ref)], secrets: [{ metadata: { name: 'bgp-auth', namespace: NS }, type: 'kubernetes.io/basic-auth', stringData: { password: 'plain' } }] });
      assert.equal(r.model.peers[0]!.password, 'plain');
    });
    const bad: [string, Parameters<typeof build>[0]['secrets'], RegExp][] = [
      ['missing', [], /does not exist; create it \(type kubernetes\.io\/basic-auth, key "password"\)/],
      ['in another namespace only', [secret('bgp-auth', { password: 'x' }, 'kubernetes.io/basic-auth', 'default')], /does not exist/],
      ['of type Opaque', [secret('bgp-auth', { password: 'x' }, 'Opaque')], /type "Opaque"; it must be kubernetes\.io\/basic-auth/],
      ['without a type', [secret('bgp-auth', { password: 'x' }, null)], /type "Opaque"/],
      ['without the password key', [secret('bgp-auth', { username: 'u' })], /no "password" key/],
      ['with an empty password', [secret('bgp-auth', { password: '' })], /is empty/],
      ['with a password too long', [secret('bgp-auth', { password: 'p'.repeat(81) })], /80 bytes/],
      ['with bad base64', [{ metadata: { name: 'bgp-auth', namespace: NS }, type: 'kubernetes.io/basic-auth', data: { password: 'not base64!' } }], /not valid base64/],
    ];
    for (const [name, secrets, why] of bad) {
      it(`a Secret ${name} is a Reference error and leaves the peer out`, () => {
        const r = build({ peers: [peer('p', ref)], secrets });
        expectErrors(r, 'BGPPeer', 'p', [['Reference', 'spec.passwordSecret', why]]);
        assert.deepEqual(r.model.peers, []);
      });
    }
  });

  describe('BFD profile reference', () => {
    it('resolves the profile into the peer', () => {
      const r = build({ bfdProfiles: [bfd('slow')], peers: [peer('p', { bfdProfile: 'slow' })] });
      expectNoErrors(r);
      assert.deepEqual(r.model.peers[0]!.bfdProfile, r.model.bfdProfiles[0]);
    });
    it('an unknown profile is a Reference error and leaves the peer out', () => {
      const r = build({ peers: [peer('p', { bfdProfile: 'nope' })] });
      expectErrors(r, 'BGPPeer', 'p', [['Reference', 'spec.bfdProfile', /BFDProfile "nope" does not exist in namespace herald-system/]]);
      assert.deepEqual(r.model.peers, []);
    });
    it('an invalid profile is named as invalid, not missing', () => {
      const r = build({ bfdProfiles: [bfd('bad', { detectMultiplier: 1 })], peers: [peer('p', { bfdProfile: 'bad' })] });
      expectErrors(r, 'BGPPeer', 'p', [['Reference', 'spec.bfdProfile', /BFDProfile "bad" is invalid/]]);
    });
  });

  describe('two peers for the same session', () => {
    it('the later peer loses when nodes may overlap', () => {
      const r = build({ peers: [peer('zz-first'), peer('aa-second', { myASN: 64513 })] });
      expectErrors(r, 'BGPPeer', 'aa-second', [['Conflict', 'spec.peerAddress', /BGPPeer "zz-first" .* already peers with 192\.0\.2\.1 port 179/]]);
      assert.deepEqual(r.model.peers.map((p) => p.name), ['zz-first']);
    });
    const fine: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['disjoint node selectors', { nodeSelectors: [{ matchLabels: { rack: '1' } }] }, { nodeSelectors: [{ matchLabels: { rack: '2' } }] }],
      ['different ports', {}, { peerPort: 1179 }],
      ['different VRFs', {}, { vrf: 'red' }],
      ['different source addresses', { sourceAddress: '192.0.2.11' }, { sourceAddress: '192.0.2.12' }],
      ['different addresses', {}, { peerAddress: '192.0.2.2' }],
    ];
    for (const [name, a, b] of fine) {
      it(`both stay with ${name}`, () => {
        const r = build({ peers: [peer('a', a), peer('b', b)] });
        expectNoErrors(r);
        assert.equal(r.model.peers.length, 2);
      });
    }
  });
});

describe('config model: BFDProfile', () => {
  it('defaults as MetalLB', () => {
    const r = build({ bfdProfiles: [bfd('default')] });
    expectNoErrors(r);
    assert.deepEqual(r.model.bfdProfiles, [
      { name: 'default', receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3, echoInterval: 50, echoMode: false, passiveMode: false, minimumTtl: 254 },
    ]);
  });
  it('accepts the edges of every range', () => {
    for (const spec of [
      { receiveInterval: 10, transmitInterval: 10, detectMultiplier: 2, echoInterval: 10, minimumTtl: 1 },
      { receiveInterval: 60000, transmitInterval: 60000, detectMultiplier: 255, echoInterval: 60000, minimumTtl: 254, echoMode: true, passiveMode: true },
    ]) {
      const r = build({ bfdProfiles: [bfd('p', spec)] });
      expectNoErrors(r);
      assert.deepEqual({ ...r.model.bfdProfiles[0], name: undefined }, { echoMode: false, passiveMode: false, ...spec, name: undefined });
    }
  });
  const bad: [string, Record<string, unknown>, string][] = [
    ['receiveInterval 9', { receiveInterval: 9 }, 'spec.receiveInterval'],
    ['receiveInterval 60001', { receiveInterval: 60001 }, 'spec.receiveInterval'],
    ['transmitInterval 0', { transmitInterval: 0 }, 'spec.transmitInterval'],
    ['detectMultiplier 1', { detectMultiplier: 1 }, 'spec.detectMultiplier'],
    ['detectMultiplier 256', { detectMultiplier: 256 }, 'spec.detectMultiplier'],
    ['echoInterval 5', { echoInterval: 5 }, 'spec.echoInterval'],
    ['minimumTtl 0', { minimumTtl: 0 }, 'spec.minimumTtl'],
    ['minimumTtl 255', { minimumTtl: 255 }, 'spec.minimumTtl'],
    ['interval not an integer', { receiveInterval: 100.5 }, 'spec.receiveInterval'],
    ['echoMode not a boolean', { echoMode: 'on' }, 'spec.echoMode'],
  ];
  for (const [name, spec, field] of bad) {
    it(`rejects ${name}`, () => {
      const r = build({ bfdProfiles: [bfd('p', spec), bfd('ok')] });
      expectErrors(r, 'BFDProfile', 'p', [['Invalid', field]]);
      assert.deepEqual(r.model.bfdProfiles.map((p) => p.name), ['ok']);
    });
  }
});
