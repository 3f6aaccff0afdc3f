// Golden bytes, one annotated line per field: each decodes to the expected message and
// the message encodes back to exactly these bytes.
import { strict as assert } from 'node:assert';
import { EXTENDED_MAX_MESSAGE_SIZE, type CodecContext } from '../../../../speaker/bgp/context.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../../../speaker/bgp/family.js';
import { decodeMessage, encodeMessage, type BGPMessage } from '../../../../speaker/bgp/messages.js';
import { buildOpen } from '../../../../speaker/bgp/negotiate.js';
import { shutdownNotification } from '../../../../speaker/bgp/notification.js';
import { toPrefix } from '../../../../speaker/bgp/prefix.js';
import { endOfRib, endOfRibFamily, type UpdateMessage } from '../../../../speaker/bgp/update.js';
import { hex } from './hex.js';

const FOUR: CodecContext = { fourOctetAS: true, maxMessageSize: 4096 };
const TWO: CodecContext = { fourOctetAS: false, maxMessageSize: 4096 };

interface Golden {
  name: string;
  ctx: CodecContext;
  bytes: string;
  message: BGPMessage;
}

const goldens: Golden[] = [
  {
    name: 'KEEPALIVE',
    ctx: TWO,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0013                             // length 19
      04                               // type KEEPALIVE`,
    message: { type: 'keepalive' },
  },
  {
    name: 'OPEN with multiprotocol, route refresh, 4-octet AS, extended messages, graceful restart',
    ctx: TWO,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0041                             // length 65
      01                               // type OPEN
      04                               // version 4
      fc00                             // my AS 64512
      005a                             // hold time 90
      c000020b                         // BGP identifier 192.0.2.11
      24                               // optional parameters length 36
      02 22                            // parameter: capabilities, 34 octets
      01 04 0001 00 01                 //   multiprotocol: AFI 1 (IPv4), reserved, SAFI 1 (unicast)
      01 04 0002 00 01                 //   multiprotocol: AFI 2 (IPv6), reserved, SAFI 1
      02 00                            //   route refresh
      41 04 0000fc00                   //   4-octet AS 64512
      06 00                            //   extended message
      40 0a                            //   graceful restart, 10 octets
      0078                             //     flags R=0 N=0, restart time 120
      0001 01 00                       //     IPv4 unicast, F=0
      0002 01 00                       //     IPv6 unicast, F=0`,
    message: buildOpen({
      asn: 64512,
      bgpIdentifier: '192.0.2.11',
      holdTime: 90,
      families: [IPV4_UNICAST, IPV6_UNICAST],
      gracefulRestart: { restartTime: 120 },
    }),
  },
  {
    name: 'OPEN from a 4-octet AS: AS_TRANS in My AS, R and F bits',
    ctx: TWO,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0033                             // length 51
      01                               // type OPEN
      04                               // version 4
      5ba0                             // my AS 23456 (AS_TRANS)
      0000                             // hold time 0
      c6336401                         // BGP identifier 198.51.100.1
      16                               // optional parameters length 22
      02 14                            // parameter: capabilities, 20 octets
      01 04 0002 00 01                 //   multiprotocol IPv6 unicast
      41 04 fa56ea00                   //   4-octet AS 4200000000
      40 06                            //   graceful restart, 6 octets
      8fff                             //     R=1, restart time 4095
      0002 01 80                       //     IPv6 unicast, F=1`,
    message: buildOpen({
      asn: 4200000000,
      bgpIdentifier: '198.51.100.1',
      holdTime: 0,
      families: [IPV6_UNICAST],
      routeRefresh: false,
      extendedMessages: false,
      gracefulRestart: { restartTime: 4095, restarting: true, forwardingState: true },
    }),
  },
  {
    name: 'UPDATE, IPv4, every attribute herald sends, 4-octet AS',
    ctx: FOUR,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0058                             // length 88
      02                               // type UPDATE
      0000                             // withdrawn routes length 0
      0038                             // total path attribute length 56
      40 01 01 00                      // ORIGIN (well-known transitive), IGP
      40 02 06 02 01 0000fc00          // AS_PATH: AS_SEQUENCE of 1: 64512
      40 03 04 c000020b                // NEXT_HOP 192.0.2.11
      80 04 04 00000000                // MULTI_EXIT_DISC (optional non-transitive) 0
      40 05 04 00000064                // LOCAL_PREF 100
      c0 08 04 fde80064                // COMMUNITIES (optional transitive) 65000:100
      c0 20 0c 0000fc00 00000001 00000002 // LARGE_COMMUNITY 64512:1:2
      20 cb00710a                      // NLRI 203.0.113.10/32
      18 cb0071                        // NLRI 203.0.113.0/24`,
    message: {
      type: 'update',
      withdrawn: [],
      attributes: [
        { type: 'origin', origin: 'igp' },
        { type: 'asPath', segments: [{ type: 'sequence', asns: [64512] }] },
        { type: 'nextHop', nextHop: '192.0.2.11' },
        { type: 'med', med: 0 },
        { type: 'localPref', localPref: 100 },
        { type: 'communities', communities: [0xfde80064] },
        { type: 'largeCommunities', communities: [[64512, 1, 2]] },
      ],
      nlri: [toPrefix('203.0.113.10/32'), toPrefix('203.0.113.0/24')],
    },
  },
  {
    name: 'UPDATE, IPv6 in MP_REACH_NLRI, empty AS_PATH (iBGP)',
    ctx: FOUR,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0047                             // length 71
      02                               // type UPDATE
      0000                             // withdrawn routes length 0
      0030                             // total path attribute length 48
      40 01 01 00                      // ORIGIN IGP
      40 02 00                         // AS_PATH, empty
      80 0e 26                         // MP_REACH_NLRI, 38 octets
      0002 01                          //   AFI 2 (IPv6), SAFI 1
      10 20010db8000000020000000000000011 // next hop, 16 octets: 2001:db8:0:2::11
      00                               //   reserved
      80 20010db800ff00000000000000000001 // NLRI 2001:db8:ff::1/128`,
    message: {
      type: 'update',
      withdrawn: [],
      attributes: [
        { type: 'origin', origin: 'igp' },
        { type: 'asPath', segments: [] },
        { type: 'mpReach', afi: 2, safi: 1, nextHop: '2001:db8:0:2::11', nlri: [toPrefix('2001:db8:ff::1/128')] },
      ],
      nlri: [],
    },
  },
  {
    name: 'UPDATE, IPv6 next hop with link-local (32 octets)',
    ctx: FOUR,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0060                             // length 96
      02                               // type UPDATE
      0000                             // withdrawn routes length 0
      0049                             // total path attribute length 73
      40 01 01 02                      // ORIGIN INCOMPLETE
      40 02 0a 01 02 0000fde8 0000fde9 // AS_PATH: AS_SET {65000, 65001}
      80 0e 35                         // MP_REACH_NLRI, 53 octets
      0002 01                          //   AFI 2, SAFI 1
      20                               //   next hop length 32
      20010db8000000020000000000000011 //   global 2001:db8:0:2::11
      fe800000000000000000000000000011 //   link-local fe80::11
      00                               //   reserved
      78 20010db800ff000000000000000000 // NLRI 2001:db8:ff::/120 (15 octets)`,
    message: {
      type: 'update',
      withdrawn: [],
      attributes: [
        { type: 'origin', origin: 'incomplete' },
        { type: 'asPath', segments: [{ type: 'set', asns: [65000, 65001] }] },
        {
          type: 'mpReach',
          afi: 2,
          safi: 1,
          nextHop: '2001:db8:0:2::11',
          linkLocalNextHop: 'fe80::11',
          nlri: [toPrefix('2001:db8:ff::/120')],
        },
      ],
      nlri: [],
    },
  },
  {
    name: 'UPDATE to a 2-octet AS peer: AS_TRANS in AS_PATH, the real path in AS4_PATH',
    ctx: TWO,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0037                             // length 55
      02                               // type UPDATE
      0000                             // withdrawn routes length 0
      001b                             // total path attribute length 27
      40 01 01 00                      // ORIGIN IGP
      40 02 04 02 01 5ba0              // AS_PATH (2-octet): AS_SEQUENCE of 1: 23456
      40 03 04 c000020b                // NEXT_HOP 192.0.2.11
      c0 11 06 02 01 fa56ea00          // AS4_PATH: AS_SEQUENCE of 1: 4200000000
      20 cb00710a                      // NLRI 203.0.113.10/32`,
    message: {
      type: 'update',
      withdrawn: [],
      attributes: [
        { type: 'origin', origin: 'igp' },
        { type: 'asPath', segments: [{ type: 'sequence', asns: [23456] }] },
        { type: 'nextHop', nextHop: '192.0.2.11' },
        { type: 'as4Path', segments: [{ type: 'sequence', asns: [4200000000] }] },
      ],
      nlri: [toPrefix('203.0.113.10/32')],
    },
  },
  {
    name: 'UPDATE withdrawing IPv4 routes',
    ctx: FOUR,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0020                             // length 32
      02                               // type UPDATE
      0009                             // withdrawn routes length 9
      20 cb00710a                      // 203.0.113.10/32
      18 cb0071                        // 203.0.113.0/24
      0000                             // total path attribute length 0`,
    message: { type: 'update', withdrawn: [toPrefix('203.0.113.10/32'), toPrefix('203.0.113.0/24')], attributes: [], nlri: [] },
  },
  {
    name: 'UPDATE withdrawing IPv6 routes (MP_UNREACH_NLRI)',
    ctx: FOUR,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0026                             // length 38
      02                               // type UPDATE
      0000                             // withdrawn routes length 0
      000f                             // total path attribute length 15
      80 0f 0c                         // MP_UNREACH_NLRI, 12 octets
      0002 01                          //   AFI 2, SAFI 1
      40 20010db800ff0000              //   2001:db8:ff::/64`,
    message: {
      type: 'update',
      withdrawn: [],
      attributes: [{ type: 'mpUnreach', afi: 2, safi: 1, withdrawn: [toPrefix('2001:db8:ff::/64')] }],
      nlri: [],
    },
  },
  {
    name: 'End-of-RIB, IPv4 unicast (RFC 4724 §2)',
    ctx: FOUR,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0017                             // length 23
      02                               // type UPDATE
      0000                             // withdrawn routes length 0
      0000                             // total path attribute length 0`,
    message: endOfRib(IPV4_UNICAST),
  },
  {
    name: 'End-of-RIB, IPv6 unicast',
    ctx: FOUR,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      001d                             // length 29
      02                               // type UPDATE
      0000                             // withdrawn routes length 0
      0006                             // total path attribute length 6
      80 0f 03 0002 01                 // MP_UNREACH_NLRI: AFI 2, SAFI 1, nothing withdrawn`,
    message: endOfRib(IPV6_UNICAST),
  },
  {
    name: 'NOTIFICATION, Cease / Administrative Shutdown with an RFC 8203 message',
    ctx: FOUR,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0021                             // length 33
      03                               // type NOTIFICATION
      06                               // error code 6 (Cease)
      02                               // subcode 2 (Administrative Shutdown)
      0b                               // shutdown communication length 11
      6d61696e74656e616e6365           // "maintenance" (UTF-8)`,
    message: shutdownNotification(2, 'maintenance'),
  },
  {
    name: 'NOTIFICATION, UPDATE Message Error / Malformed AS_PATH, no data',
    ctx: FOUR,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0015                             // length 21
      03                               // type NOTIFICATION
      03                               // error code 3
      0b                               // subcode 11`,
    message: { type: 'notification', code: 3, subcode: 11, data: Buffer.alloc(0) },
  },
  {
    name: 'ROUTE-REFRESH for IPv6 unicast',
    ctx: FOUR,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0017                             // length 23
      05                               // type ROUTE-REFRESH
      0002                             // AFI 2
      00                               // subtype 0 (request; RFC 7313)
      01                               // SAFI 1`,
    message: { type: 'routeRefresh', afi: 2, safi: 1, subtype: 0 },
  },
  {
    name: 'ROUTE-REFRESH, Beginning of Route Refresh (RFC 7313)',
    ctx: FOUR,
    bytes: `
      ffffffffffffffffffffffffffffffff // marker
      0017                             // length 23
      05                               // type ROUTE-REFRESH
      0001                             // AFI 1
      01                               // subtype 1 (BoRR)
      01                               // SAFI 1`,
    message: { type: 'routeRefresh', afi: 1, safi: 1, subtype: 1 },
  },
];

describe('speaker/bgp golden messages', () => {
  for (const g of goldens) {
    it(`decodes and re-encodes: ${g.name}`, () => {
      const bytes = hex(g.bytes);
      assert.deepEqual(decodeMessage(bytes, g.ctx), g.message);
      assert.equal(encodeMessage(g.message, g.ctx).toString('hex'), bytes.toString('hex'));
    });
  }

  it('recognises the End-of-RIB markers and nothing else', () => {
    assert.deepEqual(endOfRibFamily(endOfRib(IPV4_UNICAST)), IPV4_UNICAST);
    assert.deepEqual(endOfRibFamily(endOfRib(IPV6_UNICAST)), IPV6_UNICAST);
    const withdraw = goldens.find((g) => g.name.startsWith('UPDATE withdrawing IPv4'))?.message as UpdateMessage;
    assert.equal(endOfRibFamily(withdraw), undefined);
    const eorL2 = endOfRib({ afi: 25, safi: 70 });
    assert.deepEqual(endOfRibFamily(decodeMessage(encodeMessage(eorL2, FOUR), FOUR) as UpdateMessage), { afi: 25, safi: 70 });
  });

  it('keeps a sender\'s non-standard flags so re-encoding reproduces its octets', () => {
    const bytes = hex(`
      ffffffffffffffffffffffffffffffff 0020 02 // header, length 32
      0000 0009                        // no withdrawn, 9 octets of attributes
      50 01 0001 00                    // ORIGIN with Extended Length set on a 1-octet value
      e0 63 01 07                      // unknown optional transitive type 99, Partial bit set`);
    const m = decodeMessage(bytes, FOUR) as UpdateMessage;
    assert.deepEqual(m.attributes, [
      { type: 'origin', flags: 0x50, origin: 'igp' },
      { type: 'unknown', typeCode: 99, flags: 0xe0, value: Buffer.from([7]) },
    ]);
    assert.equal(encodeMessage(m, FOUR).toString('hex'), bytes.toString('hex'));
  });

  it('writes Extended Length for attributes over 255 octets and accepts 65535-octet messages when negotiated', () => {
    const nlri = Array.from({ length: 2000 }, (_, i) => toPrefix(`2001:db8:ff::${i.toString(16)}/128`));
    const m: UpdateMessage = {
      type: 'update',
      withdrawn: [],
      attributes: [
        { type: 'origin', origin: 'igp' },
        { type: 'asPath', segments: [] },
        { type: 'mpReach', afi: 2, safi: 1, nextHop: '2001:db8::1', nlri },
      ],
      nlri: [],
    };
    const ext: CodecContext = { fourOctetAS: true, maxMessageSize: EXTENDED_MAX_MESSAGE_SIZE };
    const bytes = encodeMessage(m, ext);
    assert.ok(bytes.length > 4096);
    assert.equal(bytes[19 + 4 + 7] , 0x90); // MP_REACH flags: optional + extended length
    assert.deepEqual(decodeMessage(bytes, ext), m);
    assert.throws(() => encodeMessage(m, FOUR), { name: 'BGPEncodeError' });
    assert.throws(() => decodeMessage(bytes, FOUR), { name: 'BGPProtocolError', code: 1, subcode: 2 });
  });
});

describe('speaker/bgp long fields', () => {
  it('writes RFC 9072 extended optional parameters when capabilities exceed 253 octets', () => {
    const open = buildOpen({ asn: 64512, bgpIdentifier: '192.0.2.11', holdTime: 90, families: Array.from({ length: 50 }, (_, i) => ({ afi: 1000 + i, safi: 1 })) });
    const bytes = encodeMessage(open, FOUR);
    assert.deepEqual([bytes[28], bytes[29]], [255, 255]); // Non-Ext OP Len, Non-Ext OP Type
    assert.equal(bytes.readUInt16BE(30), bytes.length - 32);
    assert.deepEqual(decodeMessage(bytes, FOUR), open);
  });

  it('cuts a shutdown communication at 255 octets on a character boundary (RFC 9003 §2)', () => {
    const n = shutdownNotification(2, 'é'.repeat(200));
    assert.equal(n.data[0], 254);
    assert.equal(n.shutdownMessage, 'é'.repeat(127));
    assert.deepEqual(decodeMessage(encodeMessage(n, FOUR), FOUR), n);
    assert.throws(() => shutdownNotification(3, 'x'), { name: 'BGPEncodeError' });
  });

  it('refuses to encode what the wire cannot carry', () => {
    const bad: UpdateMessage[] = [
      { type: 'update', withdrawn: [], attributes: [{ type: 'asPath', segments: [{ type: 'sequence', asns: [] }] }], nlri: [] },
      { type: 'update', withdrawn: [], attributes: [{ type: 'asPath', segments: [{ type: 'sequence', asns: [4200000000] }] }], nlri: [] },
      { type: 'update', withdrawn: [], attributes: [{ type: 'med', med: -1 }], nlri: [] },
      { type: 'update', withdrawn: [], attributes: [], nlri: [toPrefix('2001:db8::/32')] },
      { type: 'update', withdrawn: [], attributes: [{ type: 'nextHop', nextHop: '2001:db8::1' }], nlri: [] },
    ];
    for (const m of bad) assert.throws(() => encodeMessage(m, TWO), { name: 'BGPEncodeError' }, JSON.stringify(m.attributes));
  });
});
