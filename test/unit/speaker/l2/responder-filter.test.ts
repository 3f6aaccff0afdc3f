// The responder's socket filter, run through the cBPF interpreter of the native tests:
// everything NEIGHBOR_REQUEST_FILTER accepts, plus broadcast ARP replies and multicast
// neighbor advertisements (other hosts' announcements), and nothing else.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gratuitousArpFrame } from '../../../../speaker/l2/arp.js';
import { unsolicitedNeighborAdvertisementFrame } from '../../../../speaker/l2/ndp.js';
import { RESPONDER_FILTER } from '../../../../speaker/l2/filter.js';
import {
  NEIGHBOR_REQUEST_FILTER,
  PACKET_BROADCAST,
  PACKET_HOST,
  PACKET_MULTICAST,
  PACKET_OTHERHOST,
  PACKET_OUTGOING,
} from '../../../../speaker/native/bpf.js';
import { runFilter } from '../native/bpf-interpreter.js';
import { CAPTURED_ARP_REPLY, CAPTURED_ARP_REQUEST, CAPTURED_NA, CAPTURED_NS } from './fixtures.js';
import { arpRequest, foreignGarp, foreignNA, ipOf, neighborSolicitation } from './responder-fakes.js';

const accepts = (frame: Uint8Array, pkttype: number, vlanTagPresent = false): boolean =>
  runFilter(RESPONDER_FILTER, frame, { pkttype, vlanTagPresent }) > 0;

const MAC = '02:68:6c:00:02:0c';

describe('speaker/l2/filter', () => {
  it('accepts questions: ARP requests and neighbor solicitations, broadcast, multicast or to us', () => {
    for (const t of [PACKET_BROADCAST, PACKET_HOST]) assert.ok(accepts(CAPTURED_ARP_REQUEST, t));
    for (const t of [PACKET_MULTICAST, PACKET_HOST]) assert.ok(accepts(CAPTURED_NS, t));
    assert.ok(accepts(neighborSolicitation('2001:db8:0:2::200'), PACKET_MULTICAST));
  });

  it('accepts announcements: gratuitous ARP replies (broadcast) and unsolicited NAs (multicast)', () => {
    assert.ok(accepts(gratuitousArpFrame(ipOf('192.0.2.200').value, MAC, 'reply'), PACKET_BROADCAST));
    assert.ok(accepts(gratuitousArpFrame(ipOf('192.0.2.200').value, MAC, 'request'), PACKET_BROADCAST));
    assert.ok(accepts(unsolicitedNeighborAdvertisementFrame(ipOf('2001:db8:0:2::200').value, MAC), PACKET_MULTICAST));
    assert.ok(accepts(foreignNA('2001:db8:0:2::200', MAC), PACKET_MULTICAST));
  });

  it('drops answers meant for someone: unicast ARP replies and solicited NAs', () => {
    assert.ok(!accepts(CAPTURED_ARP_REPLY, PACKET_HOST));
    assert.ok(!accepts(CAPTURED_NA, PACKET_HOST));
    assert.ok(!accepts(foreignGarp('192.0.2.200', MAC, 'reply'), PACKET_HOST));
  });

  it('drops our own outgoing frames, other hosts\' frames, and VLAN-tagged ones', () => {
    for (const t of [PACKET_OUTGOING, PACKET_OTHERHOST]) {
      assert.ok(!accepts(CAPTURED_ARP_REQUEST, t));
      assert.ok(!accepts(foreignGarp('192.0.2.200', MAC, 'reply'), t));
      assert.ok(!accepts(foreignNA('2001:db8:0:2::200', MAC), t));
    }
    assert.ok(!accepts(CAPTURED_ARP_REQUEST, PACKET_BROADCAST, true));
  });

  it('agrees with the native neighbor-request filter on every frame that is not an announcement', () => {
    const kinds = [PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST, PACKET_OTHERHOST, PACKET_OUTGOING];
    const base = [CAPTURED_ARP_REQUEST, CAPTURED_ARP_REPLY, CAPTURED_NS, CAPTURED_NA, arpRequest('192.0.2.9')];
    fc.assert(
      fc.property(fc.constantFrom(...base), fc.nat(80), fc.integer({ min: 0, max: 255 }), fc.constantFrom(...kinds), fc.boolean(), (frame, at, byte, pkttype, vlan) => {
        const f = Uint8Array.from(frame);
        if (at < f.length) f[at] = byte;
        const native = runFilter(NEIGHBOR_REQUEST_FILTER, f, { pkttype, vlanTagPresent: vlan }) > 0;
        const ours = runFilter(RESPONDER_FILTER, f, { pkttype, vlanTagPresent: vlan }) > 0;
        // Ours is a superset; where they differ the frame must be an announcement.
        if (native) return ours;
        if (!ours) return true;
        const arpReply = f[12] === 0x08 && f[13] === 0x06 && f[20] === 0 && f[21] === 2 && pkttype === PACKET_BROADCAST;
        const na = f[12] === 0x86 && f[13] === 0xdd && pkttype === PACKET_MULTICAST;
        return arpReply || na;
      }),
      { numRuns: 5000 },
    );
  });
});
