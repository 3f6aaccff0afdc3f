// BFD Control packet codec: golden bytes annotated per field (ours, and packets FRR's
// bfdd sent in the integration lab), every §6.8.6 discard rule, round trips, and a quick
// fuzz run proving decode throws nothing but BFDDecodeError.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { BFDDecodeError, decodeControl, encodeControl, type BFDControlPacket } from '../../../../speaker/bfd/packet.js';
import { STATES } from '../../../../speaker/bfd/protocol.js';
import { hex } from '../bgp/hex.js';

const up: BFDControlPacket = {
  diag: 0,
  state: 'Up',
  poll: false,
  final: false,
  controlPlaneIndependent: false,
  demand: false,
  detectMult: 3,
  myDiscriminator: 0x0badcafe,
  yourDiscriminator: 0x12345678,
  desiredMinTxInterval: 100_000,
  requiredMinRxInterval: 100_000,
  requiredMinEchoRxInterval: 0,
};

interface Golden {
  name: string;
  bytes: string;
  packet: BFDControlPacket;
}

const goldens: Golden[] = [
  {
    name: 'Up, 100 ms both ways',
    bytes: `
      20        // version 1, diag 0
      c0        // state Up (3), no flags
      03        // detect mult 3
      18        // length 24
      0badcafe  // my discriminator
      12345678  // your discriminator
      000186a0  // desired min TX 100,000 us
      000186a0  // required min RX 100,000 us
      00000000  // required min echo RX 0`,
    packet: up,
  },
  {
    name: 'Down after a detection timeout, slow rate, Poll',
    bytes: `
      21        // version 1, diag 1 Control Detection Time Expired
      60        // state Down (1), P
      05        // detect mult 5
      18        // length 24
      00000001  // my discriminator
      00000000  // your discriminator 0: allowed in Down
      000f4240  // desired min TX 1,000,000 us (slow, RFC 5880 §6.8.3)
      0000c350  // required min RX 50,000 us
      00000000  // required min echo RX`,
    packet: {
      ...up,
      diag: 1,
      state: 'Down',
      poll: true,
      detectMult: 5,
      myDiscriminator: 1,
      yourDiscriminator: 0,
      desiredMinTxInterval: 1_000_000,
      requiredMinRxInterval: 50_000,
    },
  },
  {
    name: 'AdminDown with Final and Demand',
    bytes: `
      27        // version 1, diag 7 Administratively Down
      12        // state AdminDown (0), F, D
      01        // detect mult 1
      18        // length 24
      ffffffff  // my discriminator
      00000000  // your discriminator
      ffffffff  // desired min TX
      00000000  // required min RX 0: send me nothing
      ffffffff  // required min echo RX`,
    packet: {
      ...up,
      diag: 7,
      state: 'AdminDown',
      final: true,
      demand: true,
      detectMult: 1,
      myDiscriminator: 0xffffffff,
      yourDiscriminator: 0,
      desiredMinTxInterval: 0xffffffff,
      requiredMinRxInterval: 0,
      requiredMinEchoRxInterval: 0xffffffff,
    },
  },
  // Captured from FRR 8.4 bfdd in the integration lab (tcpdump on its veth), in order:
  // its slow Down before it heard us, Init once it had, then Up with its own Poll for
  // the fast rate and the Final answering ours.
  ...(
    [
      ['FRR bfdd: Down, slow, Your Discriminator 0', '2040', 'Down', 0, false, false, 1_000_000],
      ['FRR bfdd: Init', '2080', 'Init', 0x14d9cb53, false, false, 1_000_000],
      ['FRR bfdd: Up with Poll for 100 ms', '20e0', 'Up', 0x14d9cb53, true, false, 100_000],
      ['FRR bfdd: Up with Final', '20d0', 'Up', 0x14d9cb53, false, true, 100_000],
    ] as const
  ).map(([name, head, state, yours, poll, final, interval]): Golden => ({
    name,
    bytes: `
      ${head}      // version 1, diag 0, state and flags
      03        // detect mult 3
      18        // length 24
      e832d024  // my discriminator (FRR's)
      ${yours.toString(16).padStart(8, '0')}  // your discriminator (ours)
      ${interval.toString(16).padStart(8, '0')}  // desired min TX
      ${interval.toString(16).padStart(8, '0')}  // required min RX (FRR slows both while not Up)
      0000c350  // required min echo RX 50 ms (FRR's echo-receive-interval)`,
    packet: {
      ...up,
      state,
      poll,
      final,
      myDiscriminator: 0xe832d024,
      yourDiscriminator: yours,
      desiredMinTxInterval: interval,
      requiredMinRxInterval: interval,
      requiredMinEchoRxInterval: 50_000,
    },
  })),
];

function decoded(bytes: Uint8Array): BFDControlPacket {
  const r = decodeControl(bytes);
  assert.ok(r.ok, `dropped: ${r.ok ? '' : r.drop}`);
  return r.value;
}

function malformed(bytes: Uint8Array): string {
  try {
    decodeControl(bytes);
  } catch (err) {
    assert.ok(err instanceof BFDDecodeError, `threw ${String(err)}`);
    assert.equal(err.code, 'BFD_MALFORMED');
    return err.check;
  }
  assert.fail('decoded a malformed packet');
}

const patch = (b: Buffer, at: number, value: number): Buffer => {
  const c = Buffer.from(b);
  c[at] = value;
  return c;
};

describe('speaker/bfd packet codec', () => {
  describe('golden bytes', () => {
    for (const g of goldens) {
      it(g.name, () => {
        const bytes = hex(g.bytes);
        assert.deepEqual(decoded(bytes), g.packet);
        assert.equal(encodeControl(g.packet).toString('hex'), bytes.toString('hex'));
      });
    }
  });

  describe('RFC 5880 §6.8.6 discard rules', () => {
    const good = encodeControl(up);

    it('drops other versions as a reason, not an error', () => {
      assert.deepEqual(decodeControl(patch(good, 0, 0x40)), { ok: false, drop: 'unsupported-version' });
      assert.deepEqual(decodeControl(patch(good, 0, 0x00)), { ok: false, drop: 'unsupported-version' });
    });

    it('throws BFDDecodeError for each impossible packet', () => {
      assert.equal(malformed(good.subarray(0, 23)), 'short');
      assert.equal(malformed(Buffer.alloc(0)), 'short');
      assert.equal(malformed(patch(good, 3, 23)), 'length');
      assert.equal(malformed(patch(good, 3, 25)), 'length', 'Length past the payload');
      assert.equal(malformed(patch(good, 2, 0)), 'detect-mult');
      assert.equal(malformed(patch(good, 1, 0xc1)), 'multipoint');
      const noMine = Buffer.from(good);
      noMine.writeUInt32BE(0, 4);
      assert.equal(malformed(noMine), 'my-discriminator');
      const noYours = Buffer.from(good);
      noYours.writeUInt32BE(0, 8);
      assert.equal(malformed(noYours), 'your-discriminator', 'Up without Your Discriminator');
      assert.equal(malformed(patch(noYours, 1, 0x80)), 'your-discriminator', 'Init without Your Discriminator');
      assert.equal(malformed(patch(good, 1, 0xf0)), 'poll-and-final');
    });

    it('accepts Your Discriminator 0 in Down and AdminDown', () => {
      for (const state of [0x00, 0x40]) {
        const b = patch(good, 1, state);
        b.writeUInt32BE(0, 8);
        assert.equal(decoded(b).yourDiscriminator, 0);
      }
    });

    it('ignores bytes past Length (RFC 5880 §6.8.6 only bounds Length by the payload)', () => {
      assert.deepEqual(decoded(Buffer.concat([good, Buffer.from('deadbeef', 'hex')])), up);
    });

    it('drops a well-formed authentication section, and throws on a broken one', () => {
      // A bit, Length 24 + 24: Keyed SHA1 (type 4), Auth Len 28 would overrun; 24 fits.
      const withAuth = (authLen: number, length: number): Buffer => {
        const b = Buffer.concat([good, Buffer.alloc(24)]);
        b[1] = 0xc4;
        b[3] = length;
        b[24] = 4;
        b[25] = authLen;
        return b;
      };
      assert.deepEqual(decodeControl(withAuth(24, 48)), { ok: false, drop: 'authentication-unsupported' });
      assert.equal(malformed(withAuth(28, 48)), 'auth-length');
      assert.equal(malformed(withAuth(1, 48)), 'auth-length');
      assert.equal(malformed(withAuth(24, 24)), 'length', 'A bit with the 24-byte minimum');
      const simple = Buffer.from(good);
      simple[1] = 0xc4;
      assert.equal(malformed(simple), 'length');
    });
  });

  describe('encode', () => {
    it('refuses values no packet can carry', () => {
      assert.throws(() => encodeControl({ ...up, detectMult: 0 }), RangeError);
      assert.throws(() => encodeControl({ ...up, detectMult: 256 }), RangeError);
      assert.throws(() => encodeControl({ ...up, diag: 32 }), RangeError);
      assert.throws(() => encodeControl({ ...up, poll: true, final: true }), RangeError);
      assert.throws(() => encodeControl({ ...up, desiredMinTxInterval: 2 ** 32 }), RangeError);
      assert.throws(() => encodeControl({ ...up, myDiscriminator: -1 }), RangeError);
    });
  });

  describe('properties', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const packet: fc.Arbitrary<BFDControlPacket> = fc
      .record({
        diag: fc.integer({ min: 0, max: 31 }),
        state: fc.constantFrom(...STATES),
        pf: fc.constantFrom<[boolean, boolean]>([false, false], [true, false], [false, true]),
        controlPlaneIndependent: fc.boolean(),
        demand: fc.boolean(),
        detectMult: fc.integer({ min: 1, max: 255 }),
        myDiscriminator: fc.integer({ min: 1, max: 0xffffffff }),
        yourDiscriminator: u32,
        desiredMinTxInterval: u32,
        requiredMinRxInterval: u32,
        requiredMinEchoRxInterval: u32,
      })
      .map(({ pf, ...p }) => ({
        ...p,
        poll: pf[0],
        final: pf[1],
        // Your Discriminator 0 is valid only in Down and AdminDown.
        yourDiscriminator: p.state === 'Up' || p.state === 'Init' ? p.yourDiscriminator || 1 : p.yourDiscriminator,
      }));

    it('decode(encode(p)) = p', () => {
      fc.assert(
        fc.property(packet, (p) => {
          assert.deepEqual(decoded(encodeControl(p)), p);
        }),
      );
    });

    it('encode(decode(b)) = b[0..24] for any 24 bytes that decode', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 24, maxLength: 24 }), (b) => {
          let r;
          try {
            r = decodeControl(b);
          } catch (err) {
            assert.ok(err instanceof BFDDecodeError);
            return;
          }
          if (r.ok) assert.deepEqual(encodeControl(r.value), Buffer.from(b));
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('fuzz (quick)', () => {
    it('throws only BFDDecodeError over 100,000 mutated packets', () => {
      // Plus a packet with a Keyed SHA1 section (RFC 5880 §4.4), so mutants reach the auth checks.
      const sha1 = Buffer.concat([encodeControl(up), Buffer.from('0418010000000001', 'hex'), Buffer.alloc(20, 0xab)]);
      sha1[1] = 0xc4;
      sha1[3] = 48;
      assert.deepEqual(decodeControl(sha1), { ok: false, drop: 'authentication-unsupported' });
      const seeds = [...goldens.map((g) => hex(g.bytes)), sha1];
      let seed = 0x5eed;
      const rnd = (n: number): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed % n;
      };
      const outcomes = new Map<string, number>();
      for (let i = 0; i < 100_000; i++) {
        let b = Buffer.from(seeds[rnd(seeds.length)]!);
        const mutations = 1 + rnd(4);
        for (let m = 0; m < mutations; m++) {
          switch (rnd(5)) {
            case 0:
              if (b.length > 0) {
                const at = rnd(b.length);
                b[at] = b[at]! ^ (1 << rnd(8));
              }
              break;
            case 1:
              if (b.length > 0) b[rnd(b.length)] = [0, 0xff, 0x18, 0x1a, 0x20, 0x04][rnd(6)]!;
              break;
            case 2:
              b = b.subarray(0, rnd(b.length + 1));
              break;
            case 3:
              b = Buffer.concat([b, Buffer.alloc(rnd(40), rnd(256))]);
              break;
            default:
              if (b.length > 2) b[1] = (b[1]! | 0x04) & 0xff;
          }
        }
        let key: string;
        try {
          const r = decodeControl(b);
          key = r.ok ? 'ok' : r.drop;
        } catch (err) {
          if (!(err instanceof BFDDecodeError)) throw new Error(`decode threw ${String(err)} on ${b.toString('hex')}`);
          key = `malformed:${err.check}`;
        }
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
      for (const k of ['ok', 'unsupported-version', 'authentication-unsupported', 'malformed:short', 'malformed:length', 'malformed:auth-length', 'malformed:your-discriminator']) {
        assert.ok((outcomes.get(k) ?? 0) > 0, `no ${k}: ${JSON.stringify([...outcomes])}`);
      }
    });
  });
});
