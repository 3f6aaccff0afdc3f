import assert from 'node:assert/strict';
import { parseIP } from '../../../../shared/ip/ip.js';
import {
  arpReplyFrame,
  decodeArp,
  decodeArpFrame,
  encodeArpFrame,
  gratuitousArpFrame,
  isGratuitous,
  isProbe,
  type ArpFrame,
} from '../../../../speaker/l2/arp.js';
import { L2DecodeError } from '../../../../speaker/l2/ethernet.js';
import { CAPTURED_ARP_REPLY, CAPTURED_ARP_REQUEST, CAPTURED_NS } from './fixtures.js';
import { hex, toHex } from './hex.js';

const ip4 = (text: string): bigint => {
  const ip = parseIP(text);
  assert.ok(ip && ip.family === 4);
  return ip.value;
};
const A = '02:00:00:00:0a:01';

function decoded(frame: Uint8Array): ArpFrame {
  const r = decodeArpFrame(frame);
  assert.ok(r.ok, `dropped: ${r.ok ? '' : r.drop}`);
  return r.value;
}

describe('l2/arp', () => {
  it("decodes arping's request", () => {
    const { ethernet, arp } = decoded(CAPTURED_ARP_REQUEST);
    assert.deepEqual(ethernet, { destination: 'ff:ff:ff:ff:ff:ff', source: '02:00:00:00:0b:01', etherType: 0x0806 });
    assert.deepEqual(arp, {
      operation: 'request',
      senderMAC: '02:00:00:00:0b:01',
      senderIP: ip4('192.0.2.2'),
      targetMAC: '00:00:00:00:00:00',
      targetIP: ip4('192.0.2.1'),
    });
    assert.equal(isGratuitous(arp), false);
    assert.equal(isProbe(arp), false);
  });

  it("answers it with exactly the kernel's reply bytes (plus padding)", () => {
    const reply = arpReplyFrame(decoded(CAPTURED_ARP_REQUEST), A);
    assert.equal(reply.length, 60);
    assert.equal(toHex(reply.subarray(0, 42)), toHex(CAPTURED_ARP_REPLY));
    assert.ok(reply.subarray(42).every((b) => b === 0));
    assert.equal(decoded(CAPTURED_ARP_REPLY).arp.operation, 'reply');
  });

  it('keeps the VLAN tag of a tagged request in the reply', () => {
    const { arp } = decoded(CAPTURED_ARP_REQUEST);
    const tagged = encodeArpFrame({ ethernet: { destination: 'ff:ff:ff:ff:ff:ff', source: arp.senderMAC, vlan: { priority: 0, dropEligible: false, id: 42 } }, arp });
    const reply = decoded(arpReplyFrame(decoded(tagged), A));
    assert.deepEqual(reply.ethernet.vlan, { priority: 0, dropEligible: false, id: 42 });
    assert.equal(reply.ethernet.destination, '02:00:00:00:0b:01');
  });

  it('builds both gratuitous forms (RFC 5227 §3, RFC 2002 §4.6)', () => {
    assert.equal(
      toHex(gratuitousArpFrame(ip4('203.0.113.7'), A, 'request').subarray(0, 42)),
      toHex(hex(`
        ff ff ff ff ff ff  02 00 00 00 0a 01  08 06   # broadcast from A, ARP
        00 01 08 00 06 04  00 01                      # Ethernet/IPv4, request
        02 00 00 00 0a 01  cb 00 71 07                # sender: A, 203.0.113.7
        00 00 00 00 00 00  cb 00 71 07                # target: zero MAC, the same IP
      `)),
    );
    assert.equal(
      toHex(gratuitousArpFrame(ip4('203.0.113.7'), A, 'reply').subarray(0, 42)),
      toHex(hex(`
        ff ff ff ff ff ff  02 00 00 00 0a 01  08 06   # broadcast from A, ARP
        00 01 08 00 06 04  00 02                      # Ethernet/IPv4, reply
        02 00 00 00 0a 01  cb 00 71 07                # sender: A, 203.0.113.7
        02 00 00 00 0a 01  cb 00 71 07                # target: A again, the same IP
      `)),
    );
    const g = decoded(gratuitousArpFrame(ip4('203.0.113.7'), A, 'request')).arp;
    assert.equal(isGratuitous(g), true);
  });

  it('recognises RFC 5227 probes', () => {
    const { arp } = decoded(CAPTURED_ARP_REQUEST);
    assert.equal(isProbe({ ...arp, senderIP: 0n }), true);
  });

  const drops: [string, Uint8Array, string][] = [
    ['an IPv6 frame', CAPTURED_NS, 'not-arp'],
    ['hardware type 6 (IEEE 802)', patch(CAPTURED_ARP_REQUEST, 15, 6), 'not-ethernet-ipv4'],
    ['protocol type 0x86dd', patch(patch(CAPTURED_ARP_REQUEST, 16, 0x86), 17, 0xdd), 'not-ethernet-ipv4'],
    ['hardware length 8', patch(CAPTURED_ARP_REQUEST, 18, 8), 'not-ethernet-ipv4'],
    ['operation 8 (InARP request)', patch(CAPTURED_ARP_REQUEST, 21, 8), 'unknown-operation'],
  ];
  for (const [what, frame, reason] of drops) {
    it(`drops ${what} as "${reason}"`, () => {
      const r = decodeArpFrame(frame);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.drop, reason);
    });
  }

  it('throws L2DecodeError for truncated packets', () => {
    assert.throws(() => decodeArp(new Uint8Array(7)), L2DecodeError);
    assert.throws(() => decodeArp(CAPTURED_ARP_REQUEST.subarray(14, 14 + 27)), L2DecodeError);
    // Address lengths claiming more than the packet holds.
    assert.throws(() => decodeArpFrame(patch(CAPTURED_ARP_REPLY, 18, 40)), L2DecodeError);
    assert.equal(decodeArp(CAPTURED_ARP_REQUEST.subarray(14, 14 + 28)).ok, true);
  });
});

function patch(b: Uint8Array, offset: number, value: number): Uint8Array {
  const c = Uint8Array.from(b);
  c[offset] = value;
  return c;
}
