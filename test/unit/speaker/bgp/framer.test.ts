// Incremental framing: messages split anywhere across TCP chunks come out whole and in order.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { EXTENDED_MAX_MESSAGE_SIZE, type CodecContext } from '../../../../speaker/bgp/context.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../../../speaker/bgp/family.js';
import { Framer } from '../../../../speaker/bgp/framer.js';
import { decodeMessage, encodeMessage, KEEPALIVE, type BGPMessage } from '../../../../speaker/bgp/messages.js';
import { buildOpen } from '../../../../speaker/bgp/negotiate.js';
import { shutdownNotification } from '../../../../speaker/bgp/notification.js';
import { toPrefix } from '../../../../speaker/bgp/prefix.js';
import { buildAnnouncements } from '../../../../speaker/bgp/update-builder.js';
import { endOfRib } from '../../../../speaker/bgp/update.js';

const ctx: CodecContext = { fourOctetAS: true, maxMessageSize: 4096 };
const messages: BGPMessage[] = [
  buildOpen({ asn: 64512, bgpIdentifier: '192.0.2.11', holdTime: 90, families: [IPV4_UNICAST, IPV6_UNICAST] }),
  KEEPALIVE,
  ...buildAnnouncements([toPrefix('203.0.113.10/32'), toPrefix('2001:db8:ff::10/128')], { asPath: [64512], nextHop: '192.0.2.11', nextHopV6: '2001:db8:0:2::11', communities: [0xfde80064] }, ctx),
  endOfRib(IPV4_UNICAST),
  KEEPALIVE,
  shutdownNotification(2, 'bye'),
];
const frames = messages.map((m) => encodeMessage(m, ctx));
const stream = Buffer.concat(frames);

function feed(chunks: Buffer[], framer = new Framer()): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks) out.push(...framer.push(c));
  return out;
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [0, ...[...new Set(cuts)].filter((c) => c > 0 && c < buf.length).sort((a, b) => a - b), buf.length];
  const out: Buffer[] = [];
  for (let i = 1; i < points.length; i++) out.push(Buffer.from(buf.subarray(points[i - 1], points[i])));
  return out;
}

function assertFrames(got: Buffer[]): void {
  assert.equal(got.length, frames.length);
  got.forEach((g, i) => assert.equal(g.toString('hex'), frames[i]?.toString('hex'), `message ${i}`));
  assert.deepEqual(got.map((g) => decodeMessage(g, ctx)), messages);
}

describe('speaker/bgp framer', () => {
  it('returns every message of one chunk', () => {
    assertFrames(feed([stream]));
  });

  it('reassembles a stream split at every single position', () => {
    for (let i = 1; i < stream.length; i++) assertFrames(feed(splitAt(stream, [i])));
  });

  it('reassembles a stream delivered byte by byte', () => {
    const framer = new Framer();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) {
      got.push(...framer.push(stream.subarray(i, i + 1)));
      const done = got.reduce((n, f) => n + f.length, 0);
      assert.equal(framer.buffered, i + 1 - done);
    }
    assertFrames(got);
  });

  it('handles splits in the middle of a header, at its end, and at a message start', () => {
    const first = frames[0]?.length ?? 0;
    assertFrames(feed(splitAt(stream, [9]))); // inside the marker
    assertFrames(feed(splitAt(stream, [18]))); // before the type octet
    assertFrames(feed(splitAt(stream, [19]))); // header complete, body not
    assertFrames(feed(splitAt(stream, [first]))); // exactly between messages
    assertFrames(feed(splitAt(stream, [first - 1, first + 1]))); // one octet either side
    assertFrames(feed([Buffer.alloc(0), stream, Buffer.alloc(0)]));
  });

  it('reassembles any chunking (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
        assertFrames(feed(splitAt(stream, cuts)));
      }),
      { numRuns: 300 },
    );
  });

  it('holds back a partial message until it is whole', () => {
    const framer = new Framer();
    const open = frames[0] as Buffer;
    assert.deepEqual(framer.push(open.subarray(0, 25)), []);
    assert.equal(framer.buffered, 25);
    const got = framer.push(open.subarray(25));
    assert.equal(got.length, 1);
    assert.equal(framer.buffered, 0);
  });

  it('checks the header as soon as it arrives, before the body', () => {
    const bad = Buffer.from(frames[1] as Buffer);
    bad[3] = 0;
    assert.throws(() => new Framer().push(bad.subarray(0, 19)), { name: 'BGPProtocolError', code: 1, subcode: 1 });
  });

  it('accepts messages up to 65535 octets once extended messages are negotiated (RFC 8654)', () => {
    const ext: CodecContext = { ...ctx, maxMessageSize: EXTENDED_MAX_MESSAGE_SIZE };
    const prefixes = Array.from({ length: 3000 }, (_, i) => toPrefix(`2001:db8:ff::${i.toString(16)}/128`));
    const [big] = buildAnnouncements(prefixes, { asPath: [], nextHopV6: '2001:db8::1' }, ext).map((m) => encodeMessage(m, ext));
    assert.ok(big && big.length > 4096);
    assert.throws(() => new Framer().push(big), { name: 'BGPProtocolError', code: 1, subcode: 2 });
    const framer = new Framer();
    framer.maxMessageSize = EXTENDED_MAX_MESSAGE_SIZE;
    const got = feed(splitAt(big, [1000, 2000, 40000]), framer);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.length, big.length);
  });
});
