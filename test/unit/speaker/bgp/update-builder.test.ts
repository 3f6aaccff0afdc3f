// Packing announcements and withdrawals into as few UPDATEs as the message size allows.
import { strict as assert } from 'node:assert';
import { formatIP } from '../../../../shared/ip/ip.js';
import { attributeTypeCode, findAttribute } from '../../../../speaker/bgp/attributes.js';
import { EXTENDED_MAX_MESSAGE_SIZE, type CodecContext } from '../../../../speaker/bgp/context.js';
import { decodeMessage, encodeMessage } from '../../../../speaker/bgp/messages.js';
import { prefixFromIP, prefixText, toPrefix, type Prefix } from '../../../../speaker/bgp/prefix.js';
import { buildAnnouncements, buildWithdrawals, type RouteAttributes } from '../../../../speaker/bgp/update-builder.js';
import { announcedPrefixes, withdrawnPrefixes, type UpdateMessage } from '../../../../speaker/bgp/update.js';

const FOUR: CodecContext = { fourOctetAS: true, maxMessageSize: 4096 };
const TWO: CodecContext = { fourOctetAS: false, maxMessageSize: 4096 };
const EXT: CodecContext = { fourOctetAS: true, maxMessageSize: EXTENDED_MAX_MESSAGE_SIZE };

const v4 = (n: number): Prefix[] => Array.from({ length: n }, (_, i) => ({ family: 4, prefix: formatIP({ family: 4, value: 0xcb000000n + BigInt(i) }), length: 32 }));
const v6 = (n: number): Prefix[] => Array.from({ length: n }, (_, i) => prefixFromIP({ family: 6, value: (0x20010db8n << 96n) + BigInt(i) }, 128));

const attrs: RouteAttributes = {
  asPath: [64512],
  nextHop: '192.0.2.11',
  nextHopV6: '2001:db8:0:2::11',
  localPref: 100,
  communities: [0xfde80064],
  largeCommunities: [[64512, 1, 2]],
};

function sendAndReceive(updates: UpdateMessage[], ctx: CodecContext): UpdateMessage[] {
  return updates.map((u) => {
    const bytes = encodeMessage(u, ctx);
    assert.ok(bytes.length <= ctx.maxMessageSize, `${bytes.length} octets`);
    return decodeMessage(bytes, ctx) as UpdateMessage;
  });
}

describe('speaker/bgp update builder', () => {
  it('packs 10,000 IPv4 /32s into the fewest 4096-octet UPDATEs', () => {
    const prefixes = v4(10_000);
    const updates = sendAndReceive(buildAnnouncements(prefixes, attrs, FOUR), FOUR);
    assert.deepEqual(updates.flatMap(announcedPrefixes), prefixes);
    const overhead = encodeMessage({ ...(updates[0] as UpdateMessage), nlri: [] }, FOUR).length;
    assert.equal(updates.length, Math.ceil(prefixes.length / Math.floor((4096 - overhead) / 5)));
    assert.ok(updates.length < 20, `${updates.length} UPDATEs`);
  });

  it('packs 10,000 IPv6 /128s into MP_REACH_NLRI, fewer still with extended messages', () => {
    const prefixes = v6(10_000);
    const small = sendAndReceive(buildAnnouncements(prefixes, attrs, FOUR), FOUR);
    assert.deepEqual(small.flatMap(announcedPrefixes), prefixes);
    assert.ok(small.every((u) => u.nlri.length === 0 && findAttribute(u.attributes, 'mpReach')?.nextHop === '2001:db8:0:2::11'));
    const big = sendAndReceive(buildAnnouncements(prefixes, attrs, EXT), EXT);
    assert.deepEqual(big.flatMap(announcedPrefixes), prefixes);
    assert.ok(big.length * 10 < small.length * 2, `${big.length} vs ${small.length}`);
  });

  it('sends IPv4 and IPv6 together, attributes in ascending type order (RFC 4271 §5)', () => {
    const updates = sendAndReceive(buildAnnouncements([toPrefix('203.0.113.7/32'), toPrefix('2001:db8:ff::7/128')], { ...attrs, linkLocalNextHop: 'fe80::1', med: 0 }, FOUR), FOUR);
    assert.equal(updates.length, 2);
    for (const u of updates) {
      const codes = u.attributes.map(attributeTypeCode);
      assert.deepEqual(codes, [...codes].sort((a, b) => a - b));
      assert.equal(u.treatAsWithdraw, undefined);
    }
    assert.deepEqual(updates.flatMap(announcedPrefixes).map(prefixText), ['203.0.113.7/32', '2001:db8:ff::7/128']);
    assert.equal(findAttribute(updates[1]?.attributes ?? [], 'mpReach')?.linkLocalNextHop, 'fe80::1');
  });

  it('uses AS_TRANS and AS4_PATH towards a 2-octet AS peer (RFC 6793 §4.2.2)', () => {
    const [u] = sendAndReceive(buildAnnouncements([toPrefix('203.0.113.7/32')], { asPath: [4200000000], nextHop: '192.0.2.11' }, TWO), TWO);
    assert.deepEqual(findAttribute(u?.attributes ?? [], 'asPath')?.segments, [{ type: 'sequence', asns: [23456] }]);
    assert.deepEqual(findAttribute(u?.attributes ?? [], 'as4Path')?.segments, [{ type: 'sequence', asns: [4200000000] }]);
    const [small] = buildAnnouncements([toPrefix('203.0.113.7/32')], { asPath: [64512], nextHop: '192.0.2.11' }, TWO);
    assert.equal(findAttribute(small?.attributes ?? [], 'as4Path'), undefined);
  });

  it('sends an empty AS_PATH for iBGP and the origin asked for', () => {
    const [u] = buildAnnouncements([toPrefix('203.0.113.7/32')], { asPath: [], nextHop: '192.0.2.11', origin: 'incomplete' }, FOUR);
    assert.deepEqual(u?.attributes.slice(0, 2), [
      { type: 'origin', origin: 'incomplete' },
      { type: 'asPath', segments: [] },
    ]);
  });

  it('withdraws IPv4 and IPv6 prefixes in packed UPDATEs', () => {
    const prefixes = [...v4(3000), ...v6(3000)];
    const updates = sendAndReceive(buildWithdrawals(prefixes, FOUR), FOUR);
    assert.deepEqual(updates.flatMap(withdrawnPrefixes), prefixes);
    assert.ok(updates.length <= 18, `${updates.length} UPDATEs`);
    assert.deepEqual(buildWithdrawals([], FOUR), []);
  });

  it('refuses prefixes without a next hop of their family', () => {
    assert.throws(() => buildAnnouncements(v4(1), { asPath: [] }, FOUR), { name: 'BGPEncodeError' });
    assert.throws(() => buildAnnouncements(v6(1), { asPath: [], nextHop: '192.0.2.1' }, FOUR), { name: 'BGPEncodeError' });
  });
});
