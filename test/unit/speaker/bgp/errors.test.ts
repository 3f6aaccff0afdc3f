// Every malformed input and the handling RFC 4271 §6 / RFC 7606 prescribe: a
// NOTIFICATION (code, subcode, data), treat-as-withdraw, or attribute discard.
import { strict as assert } from 'node:assert';
import type { CodecContext } from '../../../../speaker/bgp/context.js';
import { BGPProtocolError, describeNotification } from '../../../../speaker/bgp/errors.js';
import { Framer } from '../../../../speaker/bgp/framer.js';
import { decodeMessage } from '../../../../speaker/bgp/messages.js';
import type { NotificationMessage } from '../../../../speaker/bgp/notification.js';
import { announcedPrefixes, withdrawnPrefixes, type UpdateMessage } from '../../../../speaker/bgp/update.js';
import { hex, message, updateBody } from './hex.js';

const FOUR: CodecContext = { fourOctetAS: true, maxMessageSize: 4096 };
const TWO: CodecContext = { fourOctetAS: false, maxMessageSize: 4096 };

const ORIGIN = '40 01 01 00';
const AS_PATH4 = '40 02 06 02 01 0000fc00';
const NEXT_HOP = '40 03 04 c000020b';
const WELL_KNOWN = `${ORIGIN} ${AS_PATH4} ${NEXT_HOP}`;
const NLRI = '20 cb00710a'; // 203.0.113.10/32
const MP_REACH_V6 = '80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8'; // 2001:db8::/32 via 2001:db8::1

const update = (attrs: string, nlri = NLRI, withdrawn = ''): Buffer => message(2, updateBody(withdrawn, attrs, nlri));
function withHeader(length: number, type: number, body = ''): Buffer {
  const h = Buffer.alloc(19, 0xff);
  h.writeUInt16BE(length, 16);
  h[18] = type;
  return Buffer.concat([h, hex(body)]);
}
const open = (rest: string): Buffer => message(1, `04 fc00 005a c000020b ${rest}`);

type Expect =
  | { notify: [code: number, subcode: number]; data?: string }
  | { withdraw: number; typeCode?: number }
  | { discard: number[] };

interface Row {
  name: string;
  bytes: Buffer;
  ctx?: CodecContext;
  expect: Expect;
}

const rows: Row[] = [
  // RFC 4271 §6.1 message header errors
  { name: 'marker not all ones', bytes: Buffer.concat([Buffer.from([0xfe]), hex('ff'.repeat(15) + '0013 04')]), expect: { notify: [1, 1] } },
  { name: 'length below 19', bytes: withHeader(18, 4), expect: { notify: [1, 2], data: '0012' } },
  { name: 'length above 4096 without extended messages', bytes: withHeader(4097, 2), expect: { notify: [1, 2], data: '1001' } },
  { name: 'unknown message type 6', bytes: withHeader(19, 6), expect: { notify: [1, 3], data: '06' } },
  { name: 'message type 0', bytes: withHeader(19, 0), expect: { notify: [1, 3], data: '00' } },
  { name: 'OPEN shorter than 29', bytes: withHeader(28, 1, '04 fc00 005a c000020b'), expect: { notify: [1, 2], data: '001c' } },
  { name: 'UPDATE shorter than 23', bytes: withHeader(22, 2, '0000 00'), expect: { notify: [1, 2], data: '0016' } },
  { name: 'NOTIFICATION shorter than 21', bytes: withHeader(20, 3, '06'), expect: { notify: [1, 2], data: '0014' } },
  { name: 'KEEPALIVE with a body', bytes: withHeader(20, 4, '00'), expect: { notify: [1, 2], data: '0014' } },
  { name: 'ROUTE-REFRESH of 24 octets, subtype 0', bytes: withHeader(24, 5, '0001 00 01 00'), expect: { notify: [1, 2], data: '0018' } },
  {
    name: 'ROUTE-REFRESH of 24 octets, subtype BoRR (RFC 7313 §5)',
    bytes: withHeader(24, 5, '0001 01 01 00'),
    expect: { notify: [7, 1], data: 'ff'.repeat(16) + '0018 05 0001 01 01 00' },
  },
  { name: 'length field disagrees with the octets given', bytes: withHeader(30, 4), expect: { notify: [1, 2], data: '001e' } },

  // RFC 4271 §6.2 OPEN message errors (syntax; negotiation has its own table)
  { name: 'OPEN version 3: data is our version', bytes: message(1, '03 fc00 005a c000020b 00'), expect: { notify: [2, 1], data: '0004' } },
  { name: 'optional parameters longer than the message', bytes: open('08 02 04 41 02 0000'), expect: { notify: [2, 0] } },
  { name: 'optional parameters shorter than the message', bytes: open('00 02 00'), expect: { notify: [2, 0] } },
  { name: 'unsupported optional parameter (1, authentication)', bytes: open('03 01 01 00'), expect: { notify: [2, 4] } },
  { name: 'capability running past its parameter', bytes: open('04 02 02 41 04'), expect: { notify: [2, 0] } },
  { name: '4-octet AS capability of 2 octets', bytes: open('06 02 04 41 02 fc00'), expect: { notify: [2, 0] } },
  { name: 'multiprotocol capability of 3 octets', bytes: open('07 02 05 01 03 0001 00'), expect: { notify: [2, 0] } },
  { name: 'graceful restart capability of 3 octets', bytes: open('07 02 05 40 03 0078 00'), expect: { notify: [2, 0] } },
  { name: 'route refresh capability with a value', bytes: open('05 02 03 02 01 00'), expect: { notify: [2, 0] } },

  // RFC 4271 §6.3 / RFC 7606: errors that still reset the session
  { name: 'withdrawn routes length past the message', bytes: message(2, '00 10 0000'), expect: { notify: [3, 1] } },
  { name: 'total path attribute length past the message', bytes: message(2, '0000 0010 40010100'), expect: { notify: [3, 1] } },
  { name: 'withdrawn prefix longer than 32 bits', bytes: update('', '', '21 cb00710a00'), expect: { notify: [3, 10] } },
  { name: 'NLRI prefix overrunning the message', bytes: update(WELL_KNOWN, '20 cb0071'), expect: { notify: [3, 10] } },
  { name: 'NLRI prefix length 33', bytes: update(WELL_KNOWN, '21 cb00710a00'), expect: { notify: [3, 10] } },
  {
    name: 'unrecognized well-known attribute: data is the attribute',
    bytes: update(`${WELL_KNOWN} 40 63 02 abcd`),
    expect: { notify: [3, 2], data: '40 63 02 abcd' },
  },
  { name: 'MP_REACH_NLRI twice (RFC 7606 §3(g))', bytes: update(`${ORIGIN} ${AS_PATH4} ${MP_REACH_V6} ${MP_REACH_V6}`, ''), expect: { notify: [3, 1] } },
  { name: 'MP_UNREACH_NLRI twice', bytes: update('80 0f 03 000201 80 0f 03 000201', ''), expect: { notify: [3, 1] } },
  {
    name: 'MP_REACH_NLRI with well-known flags',
    bytes: update(`${ORIGIN} ${AS_PATH4} 40 0e 05 0002 01 00 00`, ''),
    expect: { notify: [3, 4], data: '40 0e 05 0002 01 00 00' },
  },
  {
    name: 'MP_REACH_NLRI next hop length 5 (RFC 7606 §7.11)',
    bytes: update(`${ORIGIN} ${AS_PATH4} 80 0e 0a 0002 01 05 0102030405 00`, ''),
    expect: { notify: [3, 9] },
  },
  { name: 'MP_REACH_NLRI prefix length 129', bytes: update(`${ORIGIN} ${AS_PATH4} 80 0e 16 0002 01 10 20010db8000000000000000000000001 00 81`, ''), expect: { notify: [3, 9] } },
  { name: 'MP_REACH_NLRI shorter than AFI, SAFI', bytes: update(`${ORIGIN} ${AS_PATH4} 80 0e 02 0002`, ''), expect: { notify: [3, 9] } },
  { name: 'MP_UNREACH_NLRI prefix overrun', bytes: update('80 0f 06 0002 01 40 2001', ''), expect: { notify: [3, 9] } },

  // RFC 7606 treat-as-withdraw
  { name: 'ORIGIN of length 2 (§7.1)', bytes: update(`40 01 02 0000 ${AS_PATH4} ${NEXT_HOP}`), expect: { withdraw: 5, typeCode: 1 } },
  { name: 'ORIGIN value 3 (§7.1)', bytes: update(`40 01 01 03 ${AS_PATH4} ${NEXT_HOP}`), expect: { withdraw: 6, typeCode: 1 } },
  { name: 'ORIGIN flagged optional (§3(c))', bytes: update(`c0 01 01 00 ${AS_PATH4} ${NEXT_HOP}`), expect: { withdraw: 4, typeCode: 1 } },
  { name: 'AS_PATH segment type 5 (§7.2)', bytes: update(`${ORIGIN} 40 02 06 05 01 0000fc00 ${NEXT_HOP}`), expect: { withdraw: 11, typeCode: 2 } },
  { name: 'AS_PATH segment of length 0 (§7.2)', bytes: update(`${ORIGIN} 40 02 02 02 00 ${NEXT_HOP}`), expect: { withdraw: 11, typeCode: 2 } },
  { name: 'AS_PATH segment overrun (§7.2)', bytes: update(`${ORIGIN} 40 02 06 02 02 0000fc00 ${NEXT_HOP}`), expect: { withdraw: 11, typeCode: 2 } },
  { name: 'AS_PATH with a lone trailing octet (§7.2)', bytes: update(`${ORIGIN} 40 02 07 02 01 0000fc00 02 ${NEXT_HOP}`), expect: { withdraw: 11, typeCode: 2 } },
  { name: '2-octet AS_PATH read on a 2-octet session overruns', ctx: TWO, bytes: update(`${ORIGIN} 40 02 03 02 01 fc ${NEXT_HOP}`), expect: { withdraw: 11, typeCode: 2 } },
  { name: 'NEXT_HOP of length 5 (§7.3)', bytes: update(`${ORIGIN} ${AS_PATH4} 40 03 05 c000020b00`), expect: { withdraw: 5, typeCode: 3 } },
  { name: 'NEXT_HOP 0.0.0.0 (RFC 4271 §6.3 semantic)', bytes: update(`${ORIGIN} ${AS_PATH4} 40 03 04 00000000`), expect: { withdraw: 8, typeCode: 3 } },
  { name: 'NEXT_HOP multicast 224.0.0.5', bytes: update(`${ORIGIN} ${AS_PATH4} 40 03 04 e0000005`), expect: { withdraw: 8, typeCode: 3 } },
  { name: 'MULTI_EXIT_DISC of length 3 (§7.4)', bytes: update(`${WELL_KNOWN} 80 04 03 000000`), expect: { withdraw: 5, typeCode: 4 } },
  { name: 'LOCAL_PREF of length 2 from an internal peer (§7.5)', bytes: update(`${WELL_KNOWN} 40 05 02 0064`), expect: { withdraw: 5, typeCode: 5 } },
  { name: 'COMMUNITIES of length 5 (§7.8)', bytes: update(`${WELL_KNOWN} c0 08 05 fde8006400`), expect: { withdraw: 5, typeCode: 8 } },
  { name: 'COMMUNITIES of length 0 (§7.8)', bytes: update(`${WELL_KNOWN} c0 08 00`), expect: { withdraw: 5, typeCode: 8 } },
  { name: 'COMMUNITIES flagged non-transitive (§3(c))', bytes: update(`${WELL_KNOWN} 80 08 04 fde80064`), expect: { withdraw: 4, typeCode: 8 } },
  { name: 'LARGE_COMMUNITY of length 13 (RFC 8092 §6)', bytes: update(`${WELL_KNOWN} c0 20 0d ${'00'.repeat(13)}`), expect: { withdraw: 5, typeCode: 32 } },
  { name: 'ORIGINATOR_ID of length 3 (§7.9)', bytes: update(`${WELL_KNOWN} 80 09 03 c00002`), expect: { withdraw: 5, typeCode: 9 } },
  { name: 'CLUSTER_LIST of length 6 (§7.10)', bytes: update(`${WELL_KNOWN} 80 0a 06 c0000201 0000`), expect: { withdraw: 5, typeCode: 10 } },
  { name: 'ORIGIN missing with NLRI (§3(d))', bytes: update(`${AS_PATH4} ${NEXT_HOP}`), expect: { withdraw: 3, typeCode: 1 } },
  { name: 'AS_PATH missing with NLRI', bytes: update(`${ORIGIN} ${NEXT_HOP}`), expect: { withdraw: 3, typeCode: 2 } },
  { name: 'NEXT_HOP missing with NLRI', bytes: update(`${ORIGIN} ${AS_PATH4}`), expect: { withdraw: 3, typeCode: 3 } },
  { name: 'AS_PATH missing with MP_REACH_NLRI prefixes', bytes: update(`${ORIGIN} ${MP_REACH_V6}`, ''), expect: { withdraw: 3, typeCode: 2 } },
  { name: 'attribute length past the attribute list (§4)', bytes: update(`${WELL_KNOWN} c0 08 08 fde80064`), expect: { withdraw: 5, typeCode: 8 } },
  { name: 'two stray octets after the last attribute (§4)', bytes: update(`${WELL_KNOWN} c0 08`), expect: { withdraw: 1 } },
  { name: 'extended-length header cut short (§4)', bytes: update(`${WELL_KNOWN} d0 08 00`), expect: { withdraw: 1, typeCode: 8 } },

  // RFC 7606 attribute discard
  { name: 'ATOMIC_AGGREGATE of length 1 (§7.6)', bytes: update(`${WELL_KNOWN} 40 06 01 00`), expect: { discard: [5] } },
  { name: 'AGGREGATOR of 6 octets on a 4-octet session (§7.7)', bytes: update(`${WELL_KNOWN} c0 07 06 fc00 c000020b`), expect: { discard: [5] } },
  { name: 'AGGREGATOR of 8 octets on a 2-octet session (§7.7)', ctx: TWO, bytes: update(`${ORIGIN} 40 02 04 02 01 fc00 ${NEXT_HOP} c0 07 08 0000fc00 c000020b`), expect: { discard: [5] } },
  { name: 'AS4_PATH from a 4-octet speaker (RFC 6793 §3)', bytes: update(`${WELL_KNOWN} c0 11 06 02 01 fa56ea00`), expect: { discard: [0] } },
  { name: 'malformed AS4_PATH from a 2-octet speaker (RFC 6793 §6)', ctx: TWO, bytes: update(`${ORIGIN} 40 02 04 02 01 5ba0 ${NEXT_HOP} c0 11 02 02 00`), expect: { discard: [11] } },
  { name: 'AS4_AGGREGATOR of 6 octets (RFC 6793 §6)', ctx: TWO, bytes: update(`${ORIGIN} 40 02 04 02 01 5ba0 ${NEXT_HOP} c0 12 06 fc00 c000020b`), expect: { discard: [5] } },
  { name: 'AS4_PATH flagged non-transitive (RFC 6793 §6)', ctx: TWO, bytes: update(`${ORIGIN} 40 02 04 02 01 5ba0 ${NEXT_HOP} 80 11 06 02 01 fa56ea00`), expect: { discard: [4] } },
  { name: 'LOCAL_PREF from an external peer (§7.5)', ctx: { ...FOUR, internal: false }, bytes: update(`${WELL_KNOWN} 40 05 04 00000064`), expect: { discard: [0] } },
  { name: 'COMMUNITIES twice: the second is dropped (§3(g))', bytes: update(`${WELL_KNOWN} c0 08 04 fde80064 c0 08 04 fde80065`), expect: { discard: [1] } },
];

function decodeRow(r: Row): unknown {
  return decodeMessage(r.bytes, r.ctx ?? FOUR);
}

describe('speaker/bgp error handling (RFC 4271 §6, RFC 7606)', () => {
  for (const r of rows) {
    const e = r.expect;
    if ('notify' in e) {
      it(`${r.name} → NOTIFICATION ${describeNotification(...e.notify)}`, () => {
        let thrown: unknown;
        try {
          decodeRow(r);
        } catch (err) {
          thrown = err;
        }
        assert.ok(thrown instanceof BGPProtocolError, `expected BGPProtocolError, got ${String(thrown)}`);
        assert.deepEqual([thrown.code, thrown.subcode], e.notify, thrown.message);
        if (e.data !== undefined) assert.equal(thrown.data.toString('hex'), hex(e.data).toString('hex'));
      });
    } else if ('withdraw' in e) {
      it(`${r.name} → treat-as-withdraw (would be subcode ${e.withdraw})`, () => {
        const m = decodeRow(r) as UpdateMessage;
        assert.equal(m.type, 'update');
        assert.ok(m.treatAsWithdraw, 'treatAsWithdraw expected');
        assert.equal(m.treatAsWithdraw.subcode, e.withdraw, m.treatAsWithdraw.reason);
        if (e.typeCode !== undefined) assert.equal(m.treatAsWithdraw.typeCode, e.typeCode);
        assert.deepEqual(announcedPrefixes(m), []);
        const announced = [...m.nlri, ...(m.attributes.find((a) => a.type === 'mpReach')?.nlri ?? [])];
        assert.ok(announced.length > 0);
        assert.deepEqual(withdrawnPrefixes(m), announced);
      });
    } else {
      it(`${r.name} → attribute discarded`, () => {
        const m = decodeRow(r) as UpdateMessage;
        assert.equal(m.treatAsWithdraw, undefined, m.treatAsWithdraw?.reason);
        assert.deepEqual(
          (m.discarded ?? []).map((d) => d.subcode),
          e.discard,
        );
        assert.ok(announcedPrefixes(m).length > 0);
      });
    }
  }

  it('keeps the first of two COMMUNITIES', () => {
    const m = decodeMessage(update(`${WELL_KNOWN} c0 08 04 fde80064 c0 08 04 fde80065`), FOUR) as UpdateMessage;
    assert.deepEqual(m.attributes.find((a) => a.type === 'communities'), { type: 'communities', communities: [0xfde80064] });
  });

  it('does not require mandatory attributes of an UPDATE that only withdraws', () => {
    const m = decodeMessage(update('', '', NLRI), FOUR) as UpdateMessage;
    assert.equal(m.treatAsWithdraw, undefined);
    assert.equal(m.withdrawn.length, 1);
  });

  it('accepts a malformed shutdown communication without a message (RFC 8203 §4)', () => {
    const cases = ['06 02 0b 6d61', '06 02 02 ff fe', '06 04 00'];
    for (const body of cases) {
      const n = decodeMessage(message(3, body)) as NotificationMessage;
      assert.equal(n.code, 6);
      assert.equal(n.shutdownMessage, undefined);
      assert.equal(n.data.toString('hex'), hex(body).subarray(2).toString('hex'));
    }
  });

  it('decodes the shutdown communication of Cease / Administrative Reset', () => {
    const n = decodeMessage(message(3, '06 04 06 68c3a96c6c6f')) as NotificationMessage;
    assert.equal(n.shutdownMessage, 'héllo');
  });

  it('delivers ROUTE-REFRESH with an unknown subtype for the session to ignore (RFC 7313 §5)', () => {
    assert.deepEqual(decodeMessage(message(5, '0001 07 01')), { type: 'routeRefresh', afi: 1, safi: 1, subtype: 7 });
  });

  it('reads RFC 9072 extended optional parameters', () => {
    const m = decodeMessage(open('ff ff 0009 02 0006 41 04 fa56ea00'));
    assert.deepEqual(m, {
      type: 'open',
      version: 4,
      myAS: 64512,
      holdTime: 90,
      bgpIdentifier: '192.0.2.11',
      capabilities: [{ type: 'fourOctetAS', asn: 4200000000 }],
    });
  });

  it('keeps unknown capabilities and MP attributes of other families raw', () => {
    const o = decodeMessage(open('07 02 05 49 03 616263'));
    assert.deepEqual(o.type === 'open' && o.capabilities, [{ type: 'unknown', code: 73, value: Buffer.from('abc') }]);
    const u = decodeMessage(update(`${ORIGIN} ${AS_PATH4} 80 0e 05 0019 46 00 00`, ''), FOUR) as UpdateMessage;
    assert.deepEqual(u.attributes[2], { type: 'unknown', typeCode: 14, flags: 0x80, value: hex('0019 46 00 00') });
  });

  it('fails the framer for good after a header error', () => {
    const f = new Framer();
    assert.throws(() => f.push(withHeader(19, 9)), { name: 'BGPProtocolError', code: 1, subcode: 3 });
    assert.throws(() => f.push(withHeader(19, 4)), { name: 'BGPProtocolError', code: 1, subcode: 3 });
  });
});
