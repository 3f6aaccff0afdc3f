// fast-check properties of the L2 codecs: decode(encode(x)) = x, and corruption is never
// accepted.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeArpFrame, encodeArpFrame, type ArpPacket } from '../../../../speaker/l2/arp.js';
import { formatMAC, L2DecodeError, type EthernetHeader } from '../../../../speaker/l2/ethernet.js';
import {
  decodeNdp,
  decodeNdpFrame,
  encodeNdp,
  encodeNdpFrame,
  isMulticast,
  isSolicitedNodeAddress,
  multicastMAC,
  solicitedNodeAddress,
  type NdpMessage,
  type NdpPacket,
} from '../../../../speaker/l2/ndp.js';

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => formatMAC(b));
const ip4 = fc.bigInt({ min: 0n, max: (1n << 32n) - 1n });
const ip6 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
const unicast6 = ip6.filter((v) => !isMulticast(v) && v !== 0n);
const ethernet: fc.Arbitrary<Omit<EthernetHeader, 'etherType'>> = fc
  .record({
    destination: mac,
    source: mac,
    vlan: fc.option(fc.record({ priority: fc.integer({ min: 0, max: 7 }), dropEligible: fc.boolean(), id: fc.integer({ min: 0, max: 4095 }) }, { noNullPrototype: true }), { nil: undefined }),
  })
  .map(({ vlan, ...h }) => (vlan ? { ...h, vlan } : h));

const arp: fc.Arbitrary<ArpPacket> = fc.record({
  operation: fc.constantFrom('request' as const, 'reply' as const),
  senderMAC: mac,
  senderIP: ip4,
  targetMAC: mac,
  targetIP: ip4,
}).map((p) => ({ ...p }));

/** NS and NA that pass RFC 4861 §7.1 validation. */
const ndp: fc.Arbitrary<NdpPacket> = fc
  .record({
    trafficClass: fc.integer({ min: 0, max: 255 }),
    flowLabel: fc.integer({ min: 0, max: 0xfffff }),
    source: fc.oneof(fc.constant(0n), unicast6),
    destination: ip6,
    target: unicast6,
    linkLayer: fc.option(mac, { nil: undefined }),
    kind: fc.constantFrom('ns' as const, 'na' as const),
    router: fc.boolean(),
    solicited: fc.boolean(),
    override: fc.boolean(),
  })
  .map((r) => {
    let message: NdpMessage;
    let { source, destination } = r;
    if (r.kind === 'ns') {
      const dad = source === 0n;
      if (dad) destination = solicitedNodeAddress(r.target);
      message = { type: 'neighbor-solicitation', target: r.target, ...(r.linkLayer && !dad ? { sourceLinkLayerAddress: r.linkLayer } : {}) };
    } else {
      if (source === 0n) source = r.target;
      const solicited = r.solicited && !isMulticast(destination);
      message = { type: 'neighbor-advertisement', router: r.router, solicited, override: r.override, target: r.target, ...(r.linkLayer ? { targetLinkLayerAddress: r.linkLayer } : {}) };
    }
    return { ip: { trafficClass: r.trafficClass, flowLabel: r.flowLabel, hopLimit: 255, source, destination }, message };
  });

describe('l2 codec properties', () => {
  it('ARP: decode(encode(frame)) = frame', () => {
    fc.assert(
      fc.property(ethernet, arp, (eth, packet) => {
        const r = decodeArpFrame(encodeArpFrame({ ethernet: eth, arp: packet }));
        assert.ok(r.ok);
        assert.deepEqual(r.value, { ethernet: { ...eth, etherType: 0x0806 }, arp: packet });
      }),
    );
  });

  it('NDP: decode(encode(frame)) = frame for every valid NS and NA', () => {
    fc.assert(
      fc.property(ethernet, ndp, (eth, packet) => {
        const r = decodeNdpFrame(encodeNdpFrame({ ethernet: eth, ...packet }));
        assert.ok(r.ok, r.ok ? '' : r.drop);
        assert.deepEqual(r.value, { ethernet: { ...eth, etherType: 0x86dd }, ...packet });
      }),
    );
  });

  it('NDP: changing any one byte of the ICMPv6 message is never accepted', () => {
    fc.assert(
      fc.property(ndp, fc.nat(), fc.integer({ min: 1, max: 255 }), (packet, at, delta) => {
        const bytes = encodeNdp(packet);
        const i = 40 + (at % (bytes.length - 40));
        bytes[i] = (bytes[i]! + delta) & 0xff;
        const r = decodeNdp(bytes);
        assert.equal(r.ok, false);
      }),
    );
  });

  it('solicited-node groups: every address maps into ff02::1:ff00:0/104 and a 33:33:ff MAC', () => {
    fc.assert(
      fc.property(ip6, (v) => {
        const group = solicitedNodeAddress(v);
        assert.ok(isSolicitedNodeAddress(group));
        assert.equal(group & 0xffffffn, v & 0xffffffn);
        assert.ok(multicastMAC(group).startsWith('33:33:ff:'));
      }),
    );
  });

  it('arbitrary bytes: a value, a drop reason, or L2DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), (bytes) => {
        for (const decode of [decodeArpFrame, decodeNdpFrame]) {
          try {
            decode(bytes);
          } catch (err) {
            assert.ok(err instanceof L2DecodeError, String(err));
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
