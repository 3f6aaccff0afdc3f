import assert from 'node:assert/strict';
import { formatIP, parseIP } from '../../../../shared/ip/ip.js';
import { L2DecodeError } from '../../../../speaker/l2/ethernet.js';
import {
  ALL_NODES,
  decodeNdp,
  decodeNdpFrame,
  encodeNdp,
  encodeNdpFrame,
  icmpv6Checksum,
  isSolicitedNodeAddress,
  multicastMAC,
  neighborAdvertisementFrame,
  solicitedNodeAddress,
  unsolicitedNeighborAdvertisementFrame,
  type NdpFrame,
  type NdpPacket,
} from '../../../../speaker/l2/ndp.js';
import { CAPTURED_ARP_REQUEST, CAPTURED_NA, CAPTURED_NS, CAPTURED_RS } from './fixtures.js';
import { hex, toHex } from './hex.js';

const ip6 = (text: string): bigint => {
  const ip = parseIP(text);
  assert.ok(ip && ip.family === 6, text);
  return ip.value;
};
const text6 = (value: bigint) => formatIP({ family: 6, value });
const A = '02:00:00:00:0a:01';
const B = '02:00:00:00:0b:01';

function decoded(frame: Uint8Array): NdpFrame {
  const r = decodeNdpFrame(frame);
  assert.ok(r.ok, `dropped: ${r.ok ? '' : r.drop}`);
  return r.value;
}

function dropOf(packet: Uint8Array): string | undefined {
  const r = decodeNdp(packet);
  return r.ok ? undefined : r.drop;
}

/** An IPv6 packet with its ICMPv6 checksum recomputed (after deliberate edits). */
function fixChecksum(packet: Uint8Array, icmpOffset = 40): Uint8Array {
  const p = Uint8Array.from(packet);
  const icmp = p.subarray(icmpOffset, 40 + ((p[4]! << 8) | p[5]!));
  icmp[2] = 0;
  icmp[3] = 0;
  const sum = icmpv6Checksum(decodeAddr(p, 8), decodeAddr(p, 24), icmp);
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
  return p;
}
const decodeAddr = (b: Uint8Array, o: number) => BigInt('0x' + toHex(b.subarray(o, o + 16)));

const nsPacket = CAPTURED_NS.subarray(14);
const solicitation: NdpPacket = {
  ip: { trafficClass: 0, flowLabel: 0, hopLimit: 255, source: ip6('2001:db8::2'), destination: solicitedNodeAddress(ip6('2001:db8::10')) },
  message: { type: 'neighbor-solicitation', target: ip6('2001:db8::10'), sourceLinkLayerAddress: B },
};

describe('l2/ndp', () => {
  it("decodes ndisc6's solicitation", () => {
    const { ethernet, ip, message } = decoded(CAPTURED_NS);
    assert.equal(ethernet.destination, '33:33:ff:00:00:01');
    assert.deepEqual(
      { ...ip, source: text6(ip.source), destination: text6(ip.destination) },
      { trafficClass: 0, flowLabel: 0x8062a, hopLimit: 255, source: 'fe80::ff:fe00:b01', destination: 'ff02::1:ff00:1' },
    );
    assert.deepEqual(message, { type: 'neighbor-solicitation', target: ip6('2001:db8::1'), sourceLinkLayerAddress: B });
  });

  it("answers it with exactly the Linux kernel's advertisement bytes", () => {
    assert.equal(toHex(neighborAdvertisementFrame(decoded(CAPTURED_NS), A)), toHex(CAPTURED_NA));
  });

  it("decodes the kernel's advertisement", () => {
    const { ip, message } = decoded(CAPTURED_NA);
    assert.equal(text6(ip.source), '2001:db8::1');
    assert.deepEqual(message, {
      type: 'neighbor-advertisement',
      router: false,
      solicited: true,
      override: true,
      target: ip6('2001:db8::1'),
      targetLinkLayerAddress: A,
    });
  });

  it('computes the RFC 4443 §2.3 checksum the captured frames carry', () => {
    const icmp = Uint8Array.from(nsPacket.subarray(40));
    icmp[2] = 0;
    icmp[3] = 0;
    assert.equal(icmpv6Checksum(ip6('fe80::ff:fe00:b01'), ip6('ff02::1:ff00:1'), icmp), 0x3661);
    // Summed with its checksum in place, a valid message comes to zero.
    assert.equal(icmpv6Checksum(ip6('fe80::ff:fe00:b01'), ip6('ff02::1:ff00:1'), nsPacket.subarray(40)), 0);
  });

  it('derives solicited-node groups and their MACs (RFC 4291 §2.7.1, RFC 2464 §7)', () => {
    // RFC 4291 §2.7.1's own example.
    assert.equal(text6(solicitedNodeAddress(ip6('4037::1:800:200e:8c6c'))), 'ff02::1:ff0e:8c6c');
    assert.equal(text6(solicitedNodeAddress(ip6('2001:db8::1'))), 'ff02::1:ff00:1');
    assert.equal(multicastMAC(ip6('ff02::1:ff0e:8c6c')), '33:33:ff:0e:8c:6c');
    assert.equal(multicastMAC(ALL_NODES), '33:33:00:00:00:01');
    assert.equal(isSolicitedNodeAddress(ip6('ff02::1:ff00:1')), true);
    assert.equal(isSolicitedNodeAddress(ip6('ff02::1:fe00:1')), false);
    assert.equal(isSolicitedNodeAddress(ip6('ff02::2')), false);
  });

  it('answers a DAD solicitation (source ::) to all-nodes with Solicited clear (§7.2.4)', () => {
    const dad = encodeNdpFrame({
      ethernet: { destination: multicastMAC(solicitation.ip.destination), source: B },
      ip: { ...solicitation.ip, source: 0n },
      message: { type: 'neighbor-solicitation', target: ip6('2001:db8::10') },
    });
    const na = decoded(neighborAdvertisementFrame(decoded(dad), A));
    assert.equal(na.ethernet.destination, '33:33:00:00:00:01');
    assert.equal(na.ip.destination, ALL_NODES);
    assert.equal(na.message.type === 'neighbor-advertisement' && na.message.solicited, false);
  });

  it('falls back to the Ethernet source when the solicitation has no link-layer option', () => {
    const ns = encodeNdpFrame({ ethernet: { destination: A, source: B }, ip: solicitation.ip, message: { type: 'neighbor-solicitation', target: ip6('2001:db8::10') } });
    assert.equal(decoded(neighborAdvertisementFrame(decoded(ns), A)).ethernet.destination, B);
  });

  it('builds the unsolicited takeover advertisement (§7.2.6, Override set)', () => {
    assert.equal(
      toHex(unsolicitedNeighborAdvertisementFrame(ip6('2001:db8::10'), A)),
      toHex(hex(`
        33 33 00 00 00 01  02 00 00 00 0a 01  86 dd   # all-nodes MAC from A, IPv6
        60 00 00 00  00 20  3a ff                     # v6, length 32, ICMPv6, hop limit 255
        20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 10   # source: the service IP
        ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 01   # destination: ff02::1
        88 00  ef 0c  20 00 00 00                     # NA, code 0, checksum (tcpdump: sum ok), flags O
        20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 10   # target: the service IP
        02 01  02 00 00 00 0a 01                      # target link-layer address: A
      `)),
    );
  });

  it('skips Hop-by-Hop and Destination Options headers before ICMPv6', () => {
    const withExt = (kind: number) => {
      const inner = nsPacket.subarray(40, 72);
      const p = new Uint8Array(40 + 8 + inner.length);
      p.set(nsPacket.subarray(0, 40));
      p[4] = 0;
      p[5] = 8 + inner.length;
      p[6] = kind;
      p.set([58, 0, 1, 4, 0, 0, 0, 0], 40); // next header ICMPv6, length 0, PadN of 4
      p.set(inner, 48);
      return p;
    };
    for (const kind of [0, 60]) {
      const r = decodeNdp(withExt(kind));
      assert.ok(r.ok, `kind ${kind}: ${r.ok ? '' : r.drop}`);
      assert.equal(r.value.message.target, ip6('2001:db8::1'));
    }
  });

  // RFC 4861 §7.1.1 and §7.1.2: each a silent discard, hence a drop reason.
  const base = encodeNdp(solicitation);
  const advert = encodeNdp({
    ip: { ...solicitation.ip, destination: ip6('2001:db8::2') },
    message: { type: 'neighbor-advertisement', router: false, solicited: true, override: true, target: ip6('2001:db8::10'), targetLinkLayerAddress: A },
  });
  const edit = (p: Uint8Array, edits: Record<number, number>) => {
    const c = Uint8Array.from(p);
    for (const [o, v] of Object.entries(edits)) c[Number(o)] = v;
    return c;
  };
  const drops: [string, Uint8Array, string][] = [
    ['an ARP frame', CAPTURED_ARP_REQUEST, 'not-ipv6'],
    ['UDP', edit(base, { 6: 17 }), 'not-icmpv6'],
    ['a Routing header', edit(base, { 6: 43 }), 'not-icmpv6'],
    ['a router solicitation', CAPTURED_RS.subarray(14), 'not-neighbor-discovery'],
    ['hop limit 64', edit(base, { 7: 64 }), 'hop-limit'],
    ['a corrupted target', edit(base, { 63: 0x11 }), 'bad-checksum'],
    ['code 1', fixChecksum(edit(base, { 41: 1 })), 'bad-code'],
    ['a 20-byte message', fixChecksum(edit(base.subarray(0, 60), { 5: 20 })), 'too-short'],
    ['a multicast target', fixChecksum(edit(base, { 48: 0xff })), 'target-multicast'],
    ['an option of length 0', fixChecksum(edit(base, { 65: 0 })), 'option-length-zero'],
    ['a 16-byte link-layer option', fixChecksum(concat(edit(base, { 5: 40, 65: 2 }), new Uint8Array(8))), 'bad-link-layer-option'],
    ['a DAD solicitation to a unicast address', fixChecksum(encodeNdp({ ip: { ...solicitation.ip, source: 0n, destination: ip6('2001:db8::10') }, message: { type: 'neighbor-solicitation', target: ip6('2001:db8::10') } })), 'unspecified-source-not-solicited-node'],
    ['a DAD solicitation with a source link-layer option', encodeNdp({ ...solicitation, ip: { ...solicitation.ip, source: 0n } }), 'unspecified-source-with-slla'],
    ['a solicited advertisement to a multicast group', encodeNdp({ ip: { ...solicitation.ip, destination: ALL_NODES }, message: { type: 'neighbor-advertisement', router: false, solicited: true, override: false, target: ip6('2001:db8::10') } }), 'solicited-to-multicast'],
  ];
  for (const [what, packet, reason] of drops) {
    it(`drops ${what} as "${reason}"`, () => {
      const r = packet === CAPTURED_ARP_REQUEST ? decodeNdpFrame(packet) : decodeNdp(packet);
      assert.equal(r.ok ? 'accepted' : r.drop, reason);
    });
  }

  it('accepts what those drops were edited from', () => {
    assert.equal(dropOf(base), undefined);
    assert.equal(dropOf(advert), undefined);
    assert.equal(dropOf(fixChecksum(base)), undefined);
  });

  it('ignores unknown options and trailing Ethernet padding (RFC 4861 §4.6)', () => {
    const nonce = fixChecksum(concat(edit(base, { 5: 40 }), Uint8Array.of(14, 1, 1, 2, 3, 4, 5, 6)));
    const r = decodeNdp(concat(nonce, new Uint8Array(5)));
    assert.ok(r.ok);
    assert.equal(r.value.message.type === 'neighbor-solicitation' && r.value.message.sourceLinkLayerAddress, B);
  });

  const malformed: [string, Uint8Array][] = [
    ['39 bytes', base.subarray(0, 39)],
    ['IP version 4', edit(base, { 0: 0x45 })],
    ['a payload length past the end', edit(base, { 5: 33 })],
    ['an ICMPv6 message under 4 bytes', edit(base.subarray(0, 43), { 5: 3 })],
    ['an extension header past the end', edit(base, { 6: 0, 41: 9 })],
    ['a payload ending inside an extension header', edit(base.subarray(0, 41), { 5: 1, 6: 60 })],
    ['an option past the end', fixChecksum(edit(base, { 65: 2 }))],
    ['a message ending inside an option header', fixChecksum(concat(edit(base, { 5: 33 }), Uint8Array.of(1)))],
  ];
  for (const [what, packet] of malformed) {
    it(`throws L2DecodeError for ${what}`, () => {
      assert.throws(() => decodeNdp(packet), L2DecodeError);
    });
  }

  it('rejects out-of-range header fields on encode', () => {
    assert.throws(() => encodeNdp({ ...solicitation, ip: { ...solicitation.ip, flowLabel: 1 << 20 } }), RangeError);
    assert.throws(() => encodeNdp({ ...solicitation, ip: { ...solicitation.ip, source: 1n << 128n } }), RangeError);
  });
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
