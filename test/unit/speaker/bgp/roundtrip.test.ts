// decode(encode(x)) = x for every message type, as fast-check properties.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { mergeAS4Path, pathLength, toTwoOctetPath } from '../../../../speaker/bgp/as-path.js';
import { effectiveASPath } from '../../../../speaker/bgp/attributes.js';
import { EXTENDED_MAX_MESSAGE_SIZE, type CodecContext } from '../../../../speaker/bgp/context.js';
import { decodeMessage, encodeMessage, type BGPMessage } from '../../../../speaker/bgp/messages.js';
import { AS_TRANS } from '../../../../speaker/bgp/open.js';
import { keepaliveMessage, notificationMessage, openMessage, routeRefreshMessage, updateMessage } from './arbitraries.js';

const FOUR: CodecContext = { fourOctetAS: true, maxMessageSize: EXTENDED_MAX_MESSAGE_SIZE };
const TWO: CodecContext = { fourOctetAS: false, maxMessageSize: EXTENDED_MAX_MESSAGE_SIZE };

/** fast-check builds some records without a prototype; compare as plain objects. */
function plain(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(plain);
  if (x === null || typeof x !== 'object' || Buffer.isBuffer(x)) return x;
  return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
}

function roundTrip(m: BGPMessage, ctx: CodecContext): void {
  const bytes = encodeMessage(m, ctx);
  assert.deepEqual(decodeMessage(bytes, ctx), plain(m));
  // And the octets are stable: re-encoding the decoded message changes nothing.
  assert.equal(encodeMessage(decodeMessage(bytes, ctx), ctx).toString('hex'), bytes.toString('hex'));
}

describe('speaker/bgp round trips (fast-check)', () => {
  it('OPEN', () => {
    fc.assert(fc.property(openMessage, (m) => roundTrip(m, FOUR)), { numRuns: 500 });
  });

  it('UPDATE on a 4-octet AS session', () => {
    fc.assert(fc.property(updateMessage(true), (m) => roundTrip(m, FOUR)), { numRuns: 1000 });
  });

  it('UPDATE on a 2-octet AS session', () => {
    fc.assert(fc.property(updateMessage(false), (m) => roundTrip(m, TWO)), { numRuns: 1000 });
  });

  it('NOTIFICATION', () => {
    fc.assert(fc.property(notificationMessage, (m) => roundTrip(m, FOUR)), { numRuns: 300 });
  });

  it('ROUTE-REFRESH and KEEPALIVE', () => {
    fc.assert(fc.property(fc.oneof(routeRefreshMessage, keepaliveMessage), (m) => roundTrip(m, FOUR)), { numRuns: 200 });
  });

  it('AS4_PATH carries a 4-octet path across a 2-octet session and merges back (RFC 6793 §4.2)', () => {
    const asn = fc.integer({ min: 1, max: 0xffffffff });
    fc.assert(
      fc.property(fc.array(asn, { minLength: 1, maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 0xffff }), { maxLength: 5 }), (path, prepended) => {
        const segments = [{ type: 'sequence' as const, asns: path }];
        const two = toTwoOctetPath(segments);
        assert.ok(two.asPath.every((s) => s.asns.every((a) => a <= 0xffff)));
        assert.equal(two.as4Path === undefined, path.every((a) => a <= 0xffff));
        // A 2-octet speaker on the way prepends its own AS to AS_PATH only.
        const received = [{ type: 'sequence' as const, asns: [...prepended, ...(two.asPath[0]?.asns ?? [])] }];
        const merged = two.as4Path ? mergeAS4Path(received, two.as4Path) : received;
        assert.deepEqual(merged.flatMap((s) => s.asns), [...prepended, ...path]);
        assert.equal(pathLength(merged), prepended.length + path.length);
      }),
      { numRuns: 300 },
    );
  });

  it('ignores AS4_PATH when it is longer than AS_PATH, or when AGGREGATOR holds a real 2-octet AS', () => {
    assert.deepEqual(mergeAS4Path([{ type: 'sequence', asns: [AS_TRANS] }], [{ type: 'sequence', asns: [4200000000, 4200000001] }]), [
      { type: 'sequence', asns: [AS_TRANS] },
    ]);
    const attrs = [
      { type: 'asPath' as const, segments: [{ type: 'sequence' as const, asns: [AS_TRANS] }] },
      { type: 'as4Path' as const, segments: [{ type: 'sequence' as const, asns: [4200000000] }] },
    ];
    assert.deepEqual(effectiveASPath(attrs), [{ type: 'sequence', asns: [4200000000] }]);
    assert.deepEqual(effectiveASPath([...attrs, { type: 'aggregator', asn: 65000, address: '192.0.2.1' }]), [
      { type: 'sequence', asns: [AS_TRANS] },
    ]);
  });
});
