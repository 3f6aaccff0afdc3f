import assert from 'node:assert/strict';
import fc from 'fast-check';
import { endianness } from 'node:os';
import { decodeArpFrame, encodeArpFrame } from '../../../../speaker/l2/arp.js';
import { formatMAC } from '../../../../speaker/l2/ethernet.js';
import { decodeNdpFrame, encodeNdpFrame, solicitedNodeAddress } from '../../../../speaker/l2/ndp.js';
import {
  assemble,
  encodeProgram,
  NEIGHBOR_REQUEST_FILTER,
  PACKET_BROADCAST,
  PACKET_HOST,
  PACKET_MULTICAST,
  PACKET_OTHERHOST,
  PACKET_OUTGOING,
} from '../../../../speaker/native/bpf.js';
import { CAPTURED_ARP_REPLY, CAPTURED_ARP_REQUEST, CAPTURED_NA, CAPTURED_NS, CAPTURED_RS } from '../l2/fixtures.js';
import { runFilter } from './bpf-interpreter.js';

const accept = (frame: Uint8Array, pkttype = PACKET_BROADCAST, vlanTagPresent = false) =>
  runFilter(NEIGHBOR_REQUEST_FILTER, frame, { pkttype, vlanTagPresent }) > 0;

/** The captured NS with a `kind` extension header (8 bytes, next header `inner`) in front of ICMPv6. */
function nsWithExtension(kind: number, inner = 58): Uint8Array {
  const out = new Uint8Array(CAPTURED_NS.length + 8);
  out.set(CAPTURED_NS.subarray(0, 54));
  out[19] = CAPTURED_NS[19]! + 8; // payload length
  out[20] = kind;
  out.set([inner, 0, 1, 4, 0, 0, 0, 0], 54);
  out.set(CAPTURED_NS.subarray(54), 62);
  return out;
}

describe('native/bpf', () => {
  it('assembles labels into forward relative jumps', () => {
    const p = assemble([{ op: 'ldh', abs: 12 }, { op: 'jeq', k: 0x0806, jt: 'yes', jf: 'no' }, 'yes', { op: 'ret', k: 1 }, 'no', { op: 'ret', k: 0 }]);
    assert.deepEqual(p, [
      { code: 0x28, jt: 0, jf: 0, k: 12 },
      { code: 0x15, jt: 0, jf: 1, k: 0x0806 },
      { code: 0x06, jt: 0, jf: 0, k: 1 },
      { code: 0x06, jt: 0, jf: 0, k: 0 },
    ]);
    assert.throws(() => assemble([{ op: 'jeq', k: 0, jt: 'nowhere' }]), /unknown label/);
  });

  it('encodes struct sock_filter in host byte order', () => {
    const buf = encodeProgram([{ code: 0x15, jt: 2, jf: 3, k: 0x86dd }]);
    // u16 code, u8 jt, u8 jf, u32 k
    assert.equal(buf.toString('hex'), endianness() === 'LE' ? '1500' + '02' + '03' + 'dd860000' : '0015' + '02' + '03' + '000086dd');
  });

  it('lets ARP requests and neighbor solicitations through', () => {
    assert.ok(accept(CAPTURED_ARP_REQUEST, PACKET_BROADCAST));
    assert.ok(accept(CAPTURED_ARP_REQUEST, PACKET_HOST));
    assert.ok(accept(CAPTURED_NS, PACKET_MULTICAST));
    assert.ok(accept(CAPTURED_NS, PACKET_HOST));
  });

  it('lets solicitations behind one Hop-by-Hop or Destination Options header through', () => {
    assert.ok(decodeNdpFrame(nsWithExtension(0)).ok);
    assert.ok(accept(nsWithExtension(0), PACKET_MULTICAST));
    assert.ok(accept(nsWithExtension(60), PACKET_MULTICAST));
    assert.equal(accept(nsWithExtension(0, 17), PACKET_MULTICAST), false);
  });

  it('keeps everything else out', () => {
    assert.equal(accept(CAPTURED_ARP_REPLY, PACKET_HOST), false, 'ARP reply');
    assert.equal(accept(CAPTURED_NA, PACKET_HOST), false, 'neighbor advertisement');
    assert.equal(accept(CAPTURED_RS, PACKET_MULTICAST), false, 'router solicitation');
    assert.equal(accept(CAPTURED_ARP_REQUEST, PACKET_OUTGOING), false, 'our own outgoing frame');
    assert.equal(accept(CAPTURED_ARP_REQUEST, PACKET_OTHERHOST), false, 'promiscuous: for another host');
    assert.equal(accept(CAPTURED_NS, PACKET_MULTICAST, true), false, 'VLAN-tagged on the parent');
    const ipv4 = Uint8Array.from(CAPTURED_ARP_REQUEST);
    ipv4[13] = 0x00; // EtherType 0x0800
    assert.equal(accept(ipv4), false, 'IPv4');
    const arpForIPv6 = Uint8Array.from(CAPTURED_ARP_REQUEST);
    arpForIPv6[16] = 0x86;
    assert.equal(accept(arpForIPv6), false, 'ARP for another protocol');
    assert.equal(accept(CAPTURED_NS.subarray(0, 54), PACKET_MULTICAST), false, 'truncated before ICMPv6');
    assert.equal(accept(CAPTURED_ARP_REQUEST.subarray(0, 13)), false, 'runt');
  });

  it('agrees with the codecs on every valid ARP and NDP frame', () => {
    const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => formatMAC(b));
    const arpFrame = fc
      .record({ dst: mac, src: mac, op: fc.constantFrom('request' as const, 'reply' as const), ip: fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }) })
      .map((r) => encodeArpFrame({ ethernet: { destination: r.dst, source: r.src }, arp: { operation: r.op, senderMAC: r.src, senderIP: r.ip, targetMAC: r.dst, targetIP: r.ip ^ 1n } }));
    const ndpFrame = fc
      .record({ src: mac, target: fc.bigInt({ min: 1n, max: 2n ** 120n }), ns: fc.boolean() })
      .map((r) =>
        encodeNdpFrame({
          ethernet: { destination: '33:33:ff:00:00:01', source: r.src },
          ip: { trafficClass: 0, flowLabel: 0, hopLimit: 255, source: r.target ^ 1n, destination: solicitedNodeAddress(r.target) },
          message: r.ns
            ? { type: 'neighbor-solicitation', target: r.target }
            : { type: 'neighbor-advertisement', router: false, solicited: false, override: true, target: r.target },
        }),
      );
    fc.assert(
      fc.property(fc.oneof(arpFrame, ndpFrame), (frame) => {
        const a = decodeArpFrame(frame);
        const n = decodeNdpFrame(frame);
        const wanted = (a.ok && a.value.arp.operation === 'request') || (n.ok && n.value.message.type === 'neighbor-solicitation');
        assert.equal(accept(frame), wanted);
      }),
    );
  });
});
