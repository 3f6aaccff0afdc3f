import { strict as assert } from 'node:assert';
import { build, expectErrors, expectNoErrors, pool, rangesOf } from './factories.js';

describe('config model: IPAddressPool', () => {
  describe('addresses (accepted)', () => {
    const ok: [string, string[], string[]][] = [
      ['an IPv4 CIDR', ['203.0.113.0/24'], ['203.0.113.0-203.0.113.255']],
      ['a range', ['192.0.2.200-192.0.2.250'], ['192.0.2.200-192.0.2.250']],
      ['a range across octets', ['192.0.2.250-192.0.3.5'], ['192.0.2.250-192.0.3.5']],
      ['a single IP', ['192.0.2.7'], ['192.0.2.7']],
      ['a /32', ['192.0.2.7/32'], ['192.0.2.7']],
      ['an IPv6 /64', ['2001:db8:0:2::/64'], ['2001:db8:0:2::-2001:db8:0:2:ffff:ffff:ffff:ffff']],
      ['an IPv6 /128', ['2001:db8::7/128'], ['2001:db8::7']],
      ['dual stack, sorted IPv4 first', ['2001:db8:ff::/120', '203.0.113.0/24'], ['203.0.113.0-203.0.113.255', '2001:db8:ff::-2001:db8:ff::ff']],
      ['entries sorted by address', ['192.0.2.20-192.0.2.29', '192.0.2.10-192.0.2.19'], ['192.0.2.10-192.0.2.19', '192.0.2.20-192.0.2.29']],
    ];
    for (const [name, addresses, ranges] of ok) {
      it(name, () => {
        const r = build({ pools: [pool('p', { addresses })] });
        expectNoErrors(r);
        assert.deepEqual(rangesOf(r, 'p'), ranges);
      });
    }
  });

  describe('addresses (rejected: the pool is left out and listed as invalid)', () => {
    const bad: [string, unknown, string, RegExp][] = [
      ['no addresses', [], 'spec.addresses', /at least one address/],
      ['addresses missing', undefined, 'spec.addresses', /at least one address/],
      ['addresses not a list', '192.0.2.0/24', 'spec.addresses', /at least one address/],
      ['a number', ['192.0.2.0/24', 42], 'spec.addresses[1]', /must be a string/],
      ['host bits set', ['192.0.2.1/24'], 'spec.addresses[0]', /host bits set; the network is 192\.0\.2\.0\/24/],
      ['leading zeros', ['192.0.2.010'], 'spec.addresses[0]', /not a CIDR, a range or an IP/],
      ['leading zeros in a prefix length', ['192.0.2.0/024'], 'spec.addresses[0]', /prefix length/],
      ['prefix too long', ['2001:db8::/129'], 'spec.addresses[0]', /0\.\.128/],
      ['reversed range', ['192.0.2.20-192.0.2.10'], 'spec.addresses[0]', /start is after its end/],
      ['mixed-family range', ['192.0.2.1-2001:db8::1'], 'spec.addresses[0]', /mixes IPv4 and IPv6/],
      ['IPv4-mapped IPv6', ['::ffff:192.0.2.0/120'], 'spec.addresses[0]', /IPv4-mapped/],
      ['IPv4-mapped single', ['::ffff:192.0.2.9'], 'spec.addresses[0]', /IPv4-mapped/],
      ['overlap inside the pool', ['192.0.2.0/24', '192.0.2.10-192.0.2.20'], 'spec.addresses[1]', /overlaps spec\.addresses\[0\] \("192\.0\.2\.0\/24"\) of the same pool/],
    ];
    for (const [name, addresses, field, why] of bad) {
      it(name, () => {
        const r = build({ pools: [pool('bad', addresses === undefined ? {} : { addresses }), pool('good', { addresses: ['198.51.100.0/24'] })] });
        expectErrors(r, 'IPAddressPool', 'bad', [['Invalid', field, why]]);
        assert.deepEqual(r.model.invalidPools, ['bad']);
        assert.deepEqual(r.model.pools.map((p) => p.name), ['good'], 'the rest of the config still works');
      });
    }
    it('reports every bad entry, not just the first', () => {
      const r = build({ pools: [pool('bad', { addresses: ['nope', '192.0.2.0/24', '198.51.100.1/24'] })] });
      expectErrors(r, 'IPAddressPool', 'bad', [
        ['Invalid', 'spec.addresses[0]'],
        ['Invalid', 'spec.addresses[2]'],
      ]);
    });
    it('a pool without a spec', () => {
      const r = build({ pools: [{ ...pool('x', {}), spec: undefined as never }] });
      expectErrors(r, 'IPAddressPool', 'x', [['Invalid', 'spec'], ['Invalid', 'spec.addresses']]);
    });
  });

  describe('other fields', () => {
    it('defaults: autoAssign true, avoidBuggyIPs false, no serviceAllocation, labels kept', () => {
      const r = build({ pools: [pool('p', { addresses: ['192.0.2.0/24'] }, { labels: { tier: 'web' } })] });
      const p = r.model.pools[0]!;
      assert.equal(p.autoAssign, true);
      assert.equal(p.avoidBuggyIPs, false);
      assert.equal(p.serviceAllocation, undefined);
      assert.deepEqual(p.labels, { tier: 'web' });
    });
    it('takes autoAssign, avoidBuggyIPs and serviceAllocation', () => {
      const r = build({
        pools: [
          pool('p', {
            addresses: ['192.0.2.0/24'],
            autoAssign: false,
            avoidBuggyIPs: true,
            serviceAllocation: { priority: 10, namespaces: ['web', 'shop'], namespaceSelectors: [{ matchLabels: { team: 'a' } }], serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['x'] }] }] },
          }),
        ],
      });
      expectNoErrors(r);
      const p = r.model.pools[0]!;
      assert.equal(p.autoAssign, false);
      assert.equal(p.avoidBuggyIPs, true);
      assert.deepEqual(p.serviceAllocation, {
        priority: 10,
        namespaces: ['web', 'shop'],
        namespaceSelectors: [{ matchLabels: { team: 'a' } }],
        serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['x'] }] }],
      });
    });
    it('serviceAllocation without priority leaves it unset (sorts last)', () => {
      const r = build({ pools: [pool('p', { addresses: ['192.0.2.0/24'], serviceAllocation: { namespaces: ['web'] } })] });
      expectNoErrors(r);
      assert.equal('priority' in r.model.pools[0]!.serviceAllocation!, false);
    });
    const bad: [string, Record<string, unknown>, string, RegExp][] = [
      ['autoAssign not a boolean', { autoAssign: 'yes' }, 'spec.autoAssign', /true or false/],
      ['avoidBuggyIPs not a boolean', { avoidBuggyIPs: 1 }, 'spec.avoidBuggyIPs', /true or false/],
      ['serviceAllocation not an object', { serviceAllocation: [] }, 'spec.serviceAllocation', /must be an object/],
      ['priority not an integer', { serviceAllocation: { priority: 1.5 } }, 'spec.serviceAllocation.priority', /whole number/],
      ['namespace repeated', { serviceAllocation: { namespaces: ['web', 'web'] } }, 'spec.serviceAllocation.namespaces[1]', /twice/],
      ['namespace not a name', { serviceAllocation: { namespaces: ['Web_App'] } }, 'spec.serviceAllocation.namespaces[0]', /not a namespace name/],
      ['bad namespace selector', { serviceAllocation: { namespaceSelectors: [{ matchExpressions: [{ key: 'team', operator: 'In', values: [] }] }] } }, 'spec.serviceAllocation.namespaceSelectors[0].matchExpressions[0].values', /at least one value/],
      ['bad service selector', { serviceAllocation: { serviceSelectors: [{ matchLabels: { 'a b': 'x' } }] } }, 'spec.serviceAllocation.serviceSelectors[0].matchLabels[a b]', /label key/],
    ];
    for (const [name, extra, field, why] of bad) {
      it(`rejects ${name}`, () => {
        const r = build({ pools: [pool('p', { addresses: ['192.0.2.0/24'], ...extra })] });
        expectErrors(r, 'IPAddressPool', 'p', [['Invalid', field, why]]);
        assert.deepEqual(r.model.invalidPools, ['p']);
      });
    }
  });

  describe('overlapping pools', () => {
    it('the later pool (by creationTimestamp) loses the overlap and keeps the rest', () => {
      const first = pool('zz-first', { addresses: ['192.0.2.0/25'] }, { creationTimestamp: '2024-01-01T00:00:00Z' });
      const second = pool('aa-second', { addresses: ['192.0.2.100-192.0.2.150', '2001:db8:ff::/120'] }, { creationTimestamp: '2024-01-02T00:00:00Z' });
      const r = build({ pools: [second, first] });
      expectErrors(r, 'IPAddressPool', 'aa-second', [
        ['Conflict', 'spec.addresses[0]', /192\.0\.2\.100-192\.0\.2\.127 \(from "192\.0\.2\.100-192\.0\.2\.150"\) is already in pool "zz-first" \(its spec\.addresses\[0\]\)/],
      ]);
      expectErrors(r, 'IPAddressPool', 'zz-first', []);
      assert.deepEqual(rangesOf(r, 'zz-first'), ['192.0.2.0-192.0.2.127']);
      assert.deepEqual(rangesOf(r, 'aa-second'), ['192.0.2.128-192.0.2.150', '2001:db8:ff::-2001:db8:ff::ff']);
      assert.deepEqual(r.model.invalidPools, [], 'a conflicting pool is still valid');
    });
    it('with equal creation times the name decides', () => {
      const ts = { creationTimestamp: '2024-01-01T00:00:00Z' };
      const r = build({ pools: [pool('b', { addresses: ['192.0.2.0/24'] }, ts), pool('a', { addresses: ['192.0.2.128/25'] }, ts)] });
      expectErrors(r, 'IPAddressPool', 'b', [['Conflict', 'spec.addresses[0]', /pool "a"/]]);
      assert.deepEqual(rangesOf(r, 'a'), ['192.0.2.128-192.0.2.255']);
      assert.deepEqual(rangesOf(r, 'b'), ['192.0.2.0-192.0.2.127']);
    });
    it('a pool inside an earlier one keeps nothing but stays a pool', () => {
      const r = build({ pools: [pool('big', { addresses: ['198.51.100.0/24'] }), pool('small', { addresses: ['198.51.100.10'] })] });
      expectErrors(r, 'IPAddressPool', 'small', [['Conflict', 'spec.addresses[0]', /198\.51\.100\.10 /]]);
      assert.deepEqual(rangesOf(r, 'small'), []);
    });
    it('a pool overlapping two earlier pools gets one error per overlap and keeps the gaps', () => {
      const r = build({
        pools: [
          pool('one', { addresses: ['192.0.2.10-192.0.2.19'] }),
          pool('two', { addresses: ['192.0.2.30-192.0.2.39'] }),
          pool('three', { addresses: ['192.0.2.0-192.0.2.49'] }),
        ],
      });
      expectErrors(r, 'IPAddressPool', 'three', [
        ['Conflict', 'spec.addresses[0]', /192\.0\.2\.10-192\.0\.2\.19 .*pool "one"/],
        ['Conflict', 'spec.addresses[0]', /192\.0\.2\.30-192\.0\.2\.39 .*pool "two"/],
      ]);
      assert.deepEqual(rangesOf(r, 'three'), ['192.0.2.0-192.0.2.9', '192.0.2.20-192.0.2.29', '192.0.2.40-192.0.2.49']);
    });
    it('an invalid earlier pool keeps its parsable addresses, so no IP is handed out twice', () => {
      const r = build({
        pools: [pool('old', { addresses: ['192.0.2.0/25', 'typo'] }), pool('new', { addresses: ['192.0.2.0/24'] })],
      });
      expectErrors(r, 'IPAddressPool', 'old', [['Invalid', 'spec.addresses[1]']]);
      expectErrors(r, 'IPAddressPool', 'new', [['Conflict', 'spec.addresses[0]', /pool "old".*invalid right now but keeps its addresses/]]);
      assert.deepEqual(rangesOf(r, 'new'), ['192.0.2.128-192.0.2.255']);
      assert.deepEqual(r.model.invalidPools, ['old']);
    });
    it('IPv4 and IPv6 never overlap', () => {
      const r = build({ pools: [pool('v4', { addresses: ['0.0.0.0/0'] }), pool('v6', { addresses: ['::/0'] })] });
      expectNoErrors(r);
    });
    it('a pool not yet stored (no creationTimestamp) comes after stored ones', () => {
      const r = build({ pools: [pool('a-new', { addresses: ['192.0.2.0/24'] }, { creationTimestamp: undefined }), pool('z-old', { addresses: ['192.0.2.0/24'] })] });
      expectErrors(r, 'IPAddressPool', 'a-new', [['Conflict', 'spec.addresses[0]', /pool "z-old"/]]);
    });
  });
});
