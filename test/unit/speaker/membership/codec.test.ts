import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { decode, encode, MembershipError, type Message } from '../../../../speaker/membership/codec.js';

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const OTHER = Buffer.alloc(32, 0xee);

const msg: Message = {
  type: 'alive',
  node: 'node-1',
  boot: { time: 1_700_000_000_000, nonce: 0xdeadbeef },
  seq: 42,
  sentAt: 1_700_000_000_123,
  interval: 100,
};

// Golden bytes, field by field (see the layout in speaker/membership/codec.ts).
const GOLDEN_HEADER = [
  '484d', // magic "HM"
  '01', // version 1
  '01', // type alive
  '0064', // interval 100 ms
  '0000', // reserved
  '0000018bcfe56800', // boot time 1700000000000
  'deadbeef', // boot nonce
  '000000000000002a', // seq 42
  '0000018bcfe5687b', // sent at 1700000000123
  '06', // name length
  Buffer.from('node-1').toString('hex'), // name
].join('');

describe('membership codec', () => {
  it('encodes the documented layout with an HMAC-SHA256 trailer', () => {
    const buf = encode(msg, KEY);
    const header = Buffer.from(GOLDEN_HEADER, 'hex');
    assert.equal(buf.length, header.length + 32);
    assert.equal(buf.subarray(0, header.length).toString('hex'), GOLDEN_HEADER);
    const mac = createHmac('sha256', KEY).update(header).digest();
    assert.deepEqual(buf.subarray(header.length), mac);
  });

  it('decodes what it encodes, with either of the keys it is given', () => {
    const leave: Message = { ...msg, type: 'leave', node: 'a.b-c.example', seq: 2 ** 53 - 1 };
    for (const m of [msg, leave]) {
      assert.deepEqual(decode(encode(m, KEY), [KEY]), { ok: true, message: m, keyIndex: 0 });
      assert.deepEqual(decode(encode(m, KEY), [OTHER, KEY]), { ok: true, message: m, keyIndex: 1 });
    }
  });

  it('a leave carries its restart hold in the field after the interval, in ms', () => {
    const leave: Message = { ...msg, type: 'leave', hold: 10_000 };
    const buf = encode(leave, KEY);
    assert.equal(buf.readUInt8(3), 2, 'type leave');
    assert.equal(buf.subarray(6, 8).toString('hex'), '2710', 'hold 10000 ms');
    assert.deepEqual(decode(buf, [KEY]), { ok: true, message: leave, keyIndex: 0 });
    // A leave with no hold decodes without one (take over at once), as from older speakers.
    const plain: Message = { ...msg, type: 'leave' };
    assert.equal(encode(plain, KEY).readUInt16BE(6), 0);
    assert.deepEqual(decode(encode(plain, KEY), [KEY]), { ok: true, message: plain, keyIndex: 0 });
    assert.deepEqual(decode(encode({ ...plain, hold: 0 }, KEY), [KEY]), { ok: true, message: plain, keyIndex: 0 });
    // Tampering with the hold breaks the MAC.
    const tampered = Buffer.from(buf);
    tampered.writeUInt16BE(0xffff, 6);
    assert.deepEqual(decode(tampered, [KEY]), { ok: false, reason: 'badMac' });
  });

  it('round-trips any valid message (property)', () => {
    const name = fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,60}[a-z0-9])?$/);
    const u53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    fc.assert(
      fc.property(
        fc.record({
          type: fc.constantFrom<'alive' | 'leave'>('alive', 'leave'),
          node: name,
          boot: fc.record({ time: u53, nonce: fc.integer({ min: 0, max: 0xffffffff }) }),
          seq: u53,
          sentAt: u53,
          interval: fc.integer({ min: 10, max: 60_000 }),
          hold: fc.integer({ min: 0, max: 0xffff }),
        }),
        ({ hold, ...generated }) => {
          const m: Message = { ...generated, boot: { ...generated.boot }, ...(generated.type === 'leave' && hold > 0 ? { hold } : {}) };
          assert.deepEqual(decode(encode(m, KEY), [KEY]), { ok: true, message: m, keyIndex: 0 });
        },
      ),
    );
  });

  it('drops junk with a typed reason', () => {
    const good = encode(msg, KEY);
    const flip = (i: number): Buffer => {
      const b = Buffer.from(good);
      b[i] = (b[i] as number) ^ 0x01;
      return b;
    };
    // Re-signs a tampered datagram with the right key, to reach the field checks.
    const resign = (mutate: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(good);
      mutate(b);
      const n = b.readUInt8(36);
      createHmac('sha256', KEY).update(b.subarray(0, 37 + n)).digest().copy(b, 37 + n);
      return b;
    };
    const cases: [string, Uint8Array, string][] = [
      ['empty', new Uint8Array(0), 'truncated'],
      ['too short', good.subarray(0, 69), 'truncated'],
      ['magic', flip(0), 'badMagic'],
      ['version', flip(2), 'badVersion'],
      ['one byte more', Buffer.concat([good, Buffer.from([0])]), 'badLength'],
      ['one byte less', good.subarray(0, good.length - 1), 'badLength'],
      ['name length', flip(36), 'badLength'],
      ['any signed byte', flip(20), 'badMac'],
      ['the MAC', flip(good.length - 1), 'badMac'],
      ['type 3', resign((b) => b.writeUInt8(3, 3)), 'malformed'],
      ['interval 0', resign((b) => b.writeUInt16BE(0, 4)), 'malformed'],
      ['interval 9', resign((b) => b.writeUInt16BE(9, 4)), 'malformed'],
      ['seq beyond 2^53', resign((b) => b.writeUInt32BE(0x00200000, 20)), 'malformed'],
      ['boot time beyond 2^53', resign((b) => b.writeUInt32BE(0xffffffff, 8)), 'malformed'],
      ['upper-case name', resign((b) => b.write('N', 37, 'ascii')), 'malformed'],
      ['name with a NUL', resign((b) => b.writeUInt8(0, 38)), 'malformed'],
    ];
    for (const [name, buf, reason] of cases) {
      assert.deepEqual(decode(buf, [KEY]), { ok: false, reason }, name);
    }
    assert.deepEqual(decode(good, [OTHER]), { ok: false, reason: 'badMac' }, 'wrong key');
    assert.deepEqual(decode(good, []), { ok: false, reason: 'badMac' }, 'no key');
    assert.deepEqual(decode(good, [new Uint8Array(0)]), { ok: false, reason: 'badMac' }, 'empty key');
    // The hold field is ignored in an alive, but still covered by the MAC.
    const reserved = decode(resign((b) => b.writeUInt16BE(0xffff, 6)), [KEY]);
    assert.deepEqual(reserved, { ok: true, message: msg, keyIndex: 0 });
  });

  it('decode never throws and never accepts unsigned junk (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.boolean(), (bytes, withMagic) => {
        const b = Buffer.from(bytes);
        if (withMagic && b.length >= 37) {
          b.writeUInt16BE(0x484d, 0);
          b.writeUInt8(1, 2);
          b.writeUInt8(Math.max(0, b.length - 69), 36);
        }
        const r = decode(b, [KEY]);
        assert.equal(r.ok, false);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses to encode what no speaker should send, with MembershipError only', () => {
    const bad: [string, Partial<Message>][] = [
      ['empty name', { node: '' }],
      ['upper case', { node: 'Node-1' }],
      ['name too long', { node: 'a'.repeat(254) }],
      ['interval', { interval: 5 }],
      ['seq', { seq: -1 }],
      ['fraction', { seq: 1.5 }],
      ['nonce', { boot: { time: 1, nonce: 2 ** 32 } }],
      ['type', { type: 'hello' as 'alive' }],
      ['hold on an alive', { hold: 1000 }],
      ['hold beyond 16 bits', { type: 'leave', hold: 65_536 }],
      ['fractional hold', { type: 'leave', hold: 0.5 }],
    ];
    for (const [name, over] of bad) {
      assert.throws(() => encode({ ...msg, ...over }, KEY), MembershipError, name);
    }
    assert.throws(() => encode(msg, new Uint8Array(0)), MembershipError);
    assert.equal(encode({ ...msg, node: 'a'.repeat(253) }, KEY).length, 37 + 253 + 32);
  });
});
