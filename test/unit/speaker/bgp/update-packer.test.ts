// The packed encoder against the reference path: for any prefixes, attributes and
// negotiated context, packAnnouncements / packWithdrawals give exactly the octets of
// encodeMessage over buildAnnouncements / buildWithdrawals; and an NLRI string is the
// prefix's wire encoding.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { EXTENDED_MAX_MESSAGE_SIZE, type CodecContext } from '../../../../speaker/bgp/context.js';
import { encodeMessage } from '../../../../speaker/bgp/messages.js';
import { NlriPrefix, nlriOf, prefixText, writePrefix, type Prefix } from '../../../../speaker/bgp/prefix.js';
import { buildAnnouncements, buildWithdrawals, type RouteAttributes } from '../../../../speaker/bgp/update-builder.js';
import { packAnnouncements, packWithdrawals } from '../../../../speaker/bgp/update-packer.js';
import { Writer } from '../../../../speaker/bgp/writer.js';
import { prefix4, prefix6 } from './arbitraries.js';

const ctxArb: fc.Arbitrary<CodecContext> = fc.record({
  fourOctetAS: fc.boolean(),
  // Small sizes force many messages out of a few prefixes; 65535 is RFC 8654's.
  maxMessageSize: fc.constantFrom(200, 300, 4096, EXTENDED_MAX_MESSAGE_SIZE),
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const attrsArb: fc.Arbitrary<RouteAttributes> = fc.record(
  {
    asPath: fc.array(fc.oneof(fc.integer({ min: 1, max: 65535 }), u32), { maxLength: 3 }),
    nextHop: fc.constantFrom('192.0.2.11', '198.51.100.1'),
    nextHopV6: fc.constantFrom('2001:db8:0:2::11', '2001:db8::1'),
    linkLocalNextHop: fc.constant('fe80::1'),
    med: u32,
    localPref: u32,
    communities: fc.array(u32, { maxLength: 4 }),
    largeCommunities: fc.array(fc.tuple(u32, u32, u32), { maxLength: 3 }),
  },
  { requiredKeys: ['asPath', 'nextHop', 'nextHopV6'] },
);

function wire(p: Prefix): Buffer {
  const w = new Writer(32);
  writePrefix(w, p);
  return w.finish();
}

describe('speaker/bgp update packer', () => {
  it('NLRI strings are the wire encoding of the prefix, and read back as it (property)', () => {
    fc.assert(
      fc.property(fc.oneof(prefix4, prefix6), (p) => {
        const n = nlriOf(p.prefix, p.family, p.length);
        assert.ok(n !== undefined);
        assert.deepEqual(Buffer.from(n, 'latin1'), wire(p));
        const back = new NlriPrefix(p.family, n);
        assert.equal(prefixText(back), prefixText(p));
        assert.deepEqual(wire(back), wire(p));
      }),
      { numRuns: 500 },
    );
  });

  it('NLRI: host bits dropped, bad text and lengths refused', () => {
    assert.equal(prefixText(new NlriPrefix(4, nlriOf('198.51.100.77', 4, 24)!)), '198.51.100.0/24');
    assert.equal(prefixText(new NlriPrefix(6, nlriOf('2001:db8:ff::1', 6, 35)!)), '2001:db8::/35');
    assert.equal(nlriOf('2001:db8::1', 4, 32), undefined);
    assert.equal(nlriOf('198.51.100.1', 6, 32), undefined);
    assert.equal(nlriOf('198.51.100.1', 4, 33), undefined);
    assert.equal(nlriOf('198.51.100.1', 4, 1.5), undefined);
    assert.equal(nlriOf('198.51.100', 4, 24), undefined);
  });

  it('announcements: the same octets as the reference encoder (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(4, 6) as fc.Arbitrary<4 | 6>, fc.array(fc.oneof(prefix4, prefix6), { maxLength: 60 }), attrsArb, ctxArb, (family, all, attrs, ctx) => {
        const prefixes = all.filter((p) => p.family === family);
        const a = family === 4 ? { ...attrs, linkLocalNextHop: undefined } : attrs;
        let expected: Buffer[];
        try {
          expected = buildAnnouncements(prefixes, a, ctx).map((m) => encodeMessage(m, ctx));
        } catch (err) {
          // Attributes too large for the message size: both refuse.
          assert.throws(() => packAnnouncements(family, prefixes.map((p) => nlriOf(p.prefix, p.family, p.length)!), a, ctx), { name: 'BGPEncodeError' });
          assert.equal((err as Error).name, 'BGPEncodeError');
          return;
        }
        const packed = packAnnouncements(family, prefixes.map((p) => nlriOf(p.prefix, p.family, p.length)!), a, ctx);
        assert.deepEqual(packed, expected);
      }),
      { numRuns: 400 },
    );
  });

  it('withdrawals: the same octets as the reference encoder (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(4, 6) as fc.Arbitrary<4 | 6>, fc.array(fc.oneof(prefix4, prefix6), { maxLength: 300 }), ctxArb, (family, all, ctx) => {
        const prefixes = all.filter((p) => p.family === family);
        const expected = buildWithdrawals(prefixes, ctx).map((m) => encodeMessage(m, ctx));
        assert.deepEqual(packWithdrawals(family, prefixes.map((p) => nlriOf(p.prefix, p.family, p.length)!), ctx), expected);
      }),
      { numRuns: 300 },
    );
  });

  it('fills a message to the last octet, and only then starts the next', () => {
    const ctx: CodecContext = { fourOctetAS: true, maxMessageSize: 4096 };
    const attrs: RouteAttributes = { asPath: [64512], nextHop: '192.0.2.11', nextHopV6: '2001:db8::1' };
    for (const family of [4, 6] as const) {
      // /0 takes one octet: any room is filled exactly.
      const one = packAnnouncements(family, ['\x00'], attrs, ctx)[0]!;
      // A full MP_REACH_NLRI takes a 2-octet length, one octet more than the single prefix's.
      const room = ctx.maxMessageSize - one.length + (family === 4 ? 1 : 0);
      const packed = packAnnouncements(family, Array<string>(room + 1).fill('\x00'), attrs, ctx);
      assert.deepEqual(packed.map((b) => b.length), [ctx.maxMessageSize, one.length]);
      const prefixes: Prefix[] = Array.from({ length: room + 1 }, () => ({ family, prefix: family === 4 ? '0.0.0.0' : '::', length: 0 }));
      assert.deepEqual(packed, buildAnnouncements(prefixes, attrs, ctx).map((m) => encodeMessage(m, ctx)));
      const withdrawn = packWithdrawals(family, Array<string>(5000).fill('\x00'), ctx);
      assert.equal(withdrawn[0]!.length, ctx.maxMessageSize);
      assert.deepEqual(withdrawn, buildWithdrawals(prefixes.concat(prefixes).slice(0, 5000), ctx).map((m) => encodeMessage(m, ctx)));
    }
  });

  it('10,000 IPv6 /128s with extended messages: MP_REACH_NLRI with an extended length', () => {
    const ctx: CodecContext = { fourOctetAS: true, maxMessageSize: EXTENDED_MAX_MESSAGE_SIZE };
    const prefixes: Prefix[] = Array.from({ length: 10_000 }, (_, i) => ({ family: 6, prefix: `2001:db8:1000::${(i + 1).toString(16)}`, length: 128 }));
    const attrs: RouteAttributes = { asPath: [64512], nextHopV6: '2001:db8:0:2::11' };
    const packed = packAnnouncements(6, prefixes.map((p) => nlriOf(p.prefix, 6, 128)!), attrs, ctx);
    assert.deepEqual(packed, buildAnnouncements(prefixes, attrs, ctx).map((m) => encodeMessage(m, ctx)));
    assert.equal(packed.length, Math.ceil((10_000 * 17) / 65_000));
  });
});
