import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  canonicalIP,
  compareRanges,
  formatCIDR,
  formatIP,
  formatRange,
  isBuggyIPv4,
  isIPv4Mapped,
  maskedPrefix,
  maxValue,
  nextAddress,
  parseAddressSpec,
  parseCIDR,
  parseIP,
  prefixRange,
  previousAddress,
  rangeContains,
  rangeIntersection,
  rangeSize,
  rangesOverlap,
  rangeToCIDRs,
  sameIP,
  saturate,
  subtractRange,
  subtractRanges,
  type Family,
  type IP,
  type IPRange,
} from '../../../../shared/ip/ip.js';

function ip(text: string): IP {
  const v = parseIP(text);
  if (!v) throw new Error(`test bug: ${text} is not an IP`);
  return v;
}

function range(text: string): IPRange {
  const r = parseAddressSpec(text);
  if (!r.ok) throw new Error(`test bug: ${text}: ${r.error}`);
  return r.value;
}

const show = (rs: readonly IPRange[]): string[] => rs.map(formatRange);

// Arbitraries: an address of a family, and a range of a family.
const arbFamily = fc.constantFrom<Family>(4, 6);
const arbIPOf = (family: Family): fc.Arbitrary<IP> =>
  fc.bigInt({ min: 0n, max: maxValue(family) }).map((value) => ({ family, value }));
const arbIP = arbFamily.chain(arbIPOf);
const arbRangeOf = (family: Family): fc.Arbitrary<IPRange> =>
  fc
    .tuple(arbIPOf(family), arbIPOf(family))
    .map(([a, b]) => (a.value <= b.value ? { family, first: a.value, last: b.value } : { family, first: b.value, last: a.value }));
// Ranges near each other, so that overlaps are common.
const arbSmallRange = (family: Family): fc.Arbitrary<IPRange> =>
  fc.tuple(fc.bigInt({ min: 0n, max: 64n }), fc.bigInt({ min: 0n, max: 64n })).map(([a, b]) => {
    const base = family === 4 ? 0xc0000200n : 0x20010db8000000000000000000000000n;
    return { family, first: base + (a < b ? a : b), last: base + (a < b ? b : a) };
  });

describe('shared/ip', () => {
  describe('parseIP / formatIP', () => {
    const accepted: [string, Family, string][] = [
      ['0.0.0.0', 4, '0.0.0.0'],
      ['255.255.255.255', 4, '255.255.255.255'],
      ['192.0.2.1', 4, '192.0.2.1'],
      ['::', 6, '::'],
      ['::1', 6, '::1'],
      ['2001:DB8::1', 6, '2001:db8::1'],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', 6, '2001:db8::1'],
      ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 6, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
      // v4-in-v6 forms are IPv6 addresses, written canonically in hex.
      ['::ffff:192.0.2.1', 6, '::ffff:c000:201'],
      ['::192.0.2.1', 6, '::c000:201'],
      ['64:ff9b::198.51.100.7', 6, '64:ff9b::c633:6407'],
    ];
    for (const [text, family, canonical] of accepted) {
      it(`accepts ${text}`, () => {
        const v = parseIP(text);
        assert.ok(v);
        assert.equal(v.family, family);
        assert.equal(formatIP(v), canonical);
        assert.equal(canonicalIP(text), canonical);
      });
    }
    const rejected = [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.0.0.1',
      '01.2.3.4', // leading zeros: ambiguous (octal in some parsers), Kubernetes refuses them
      '192.0.2.010',
      '0x1.2.3.4',
      '::ffff:010.0.0.1',
      '::ffff:1.2.3.4.5',
      '2001:db8::00001',
      '1::2::3',
      ':::',
      '[::1]',
      'fe80::1%eth0',
      '192.0.2.0/24',
      '2001:db8::/64',
      'not-an-ip',
    ];
    for (const text of rejected) {
      it(`rejects ${JSON.stringify(text)}`, () => {
        assert.equal(parseIP(text), undefined);
        assert.equal(canonicalIP(text), undefined);
      });
    }
    it('values of IPv4 addresses are their 32-bit numbers', () => {
      assert.equal(ip('192.0.2.1').value, 0xc0000201n);
      assert.equal(ip('::ffff:192.0.2.1').value, 0xffffc0000201n);
    });
    it('sameIP compares family and value', () => {
      assert.ok(sameIP(ip('192.0.2.1'), ip('192.0.2.1')));
      assert.ok(!sameIP(ip('0.0.0.1'), ip('::1')));
    });
    it('parse(format(x)) = x for every address', () => {
      fc.assert(
        fc.property(arbIP, (a) => {
          const back = parseIP(formatIP(a));
          return back !== undefined && sameIP(back, a);
        }),
      );
    });
  });

  describe('parseCIDR', () => {
    const ok: [string, string, number][] = [
      ['0.0.0.0/0', '0.0.0.0-255.255.255.255', 0],
      ['192.0.2.1/32', '192.0.2.1', 32],
      ['192.0.2.0/24', '192.0.2.0-192.0.2.255', 24],
      ['198.51.100.0/23', '198.51.100.0-198.51.101.255', 23],
      ['::/0', '::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 0],
      ['2001:db8::1/128', '2001:db8::1', 128],
      ['2001:db8:0:2::/64', '2001:db8:0:2::-2001:db8:0:2:ffff:ffff:ffff:ffff', 64],
    ];
    for (const [text, covers, len] of ok) {
      it(`accepts ${text}`, () => {
        const r = parseCIDR(text);
        assert.ok(r.ok, r.ok ? '' : r.error);
        assert.equal(r.value.prefixLength, len);
        assert.equal(formatRange(r.value), covers);
      });
    }
    const bad: [string, RegExp][] = [
      ['192.0.2.0', /no prefix length/],
      ['192.0.2.1/24', /host bits set; the network is 192\.0\.2\.0\/24/],
      ['2001:db8::1/64', /host bits set; the network is 2001:db8::\/64/],
      ['192.0.2.0/33', /0\.\.32/],
      ['2001:db8::/129', /0\.\.128/],
      ['192.0.2.0/024', /0\.\.32/],
      ['192.0.2.0/+24', /0\.\.32/],
      ['192.0.2.0/-1', /0\.\.32/],
      ['192.0.2.0/', /0\.\.32/],
      ['192.0.2.0/ 24', /0\.\.32/],
      ['010.0.2.0/24', /is not an IP address/],
      ['/24', /is not an IP address/],
    ];
    for (const [text, why] of bad) {
      it(`rejects ${text}`, () => {
        const r = parseCIDR(text);
        assert.equal(r.ok, false);
        assert.match(r.ok ? '' : r.error, why);
      });
    }
    it('sizes /0 of IPv6 as 2^128 and a /64 as 2^64 without enumerating', () => {
      const all = parseCIDR('::/0');
      const lan = parseCIDR('2001:db8::/64');
      assert.ok(all.ok && lan.ok);
      assert.equal(rangeSize(all.value), 1n << 128n);
      assert.equal(rangeSize(lan.value), 1n << 64n);
      assert.equal(saturate(rangeSize(lan.value)), Number.MAX_SAFE_INTEGER);
    });
  });

  describe('parseAddressSpec', () => {
    const ok: [string, string, bigint][] = [
      ['192.0.2.10', '192.0.2.10', 1n],
      ['192.0.2.250-198.51.100.5', '192.0.2.250-198.51.100.5', 0xc6336405n - 0xc00002fan + 1n],
      ['192.0.2.255-192.0.3.0', '192.0.2.255-192.0.3.0', 2n],
      ['192.0.2.1 - 192.0.2.5', '192.0.2.1-192.0.2.5', 5n],
      ['192.0.2.7-192.0.2.7', '192.0.2.7', 1n],
      ['2001:db8:0:2::200-2001:db8:0:2::2ff', '2001:db8:0:2::200-2001:db8:0:2::2ff', 256n],
      ['2001:db8::/32', '2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 1n << 96n],
    ];
    for (const [text, covers, size] of ok) {
      it(`accepts ${text}`, () => {
        const r = range(text);
        assert.equal(formatRange(r), covers);
        assert.equal(rangeSize(r), size);
      });
    }
    const bad: [string, RegExp][] = [
      ['192.0.2.5-192.0.2.1', /start is after its end/],
      ['192.0.2.1-2001:db8::1', /mixes IPv4 and IPv6/],
      ['2001:db8::1-192.0.2.1', /mixes IPv4 and IPv6/],
      ['::ffff:192.0.2.1-192.0.2.9', /mixes IPv4 and IPv6/],
      ['192.0.2.1-', /"" is not an IP address/],
      ['192.0.2.1--192.0.2.3', /"-192\.0\.2\.3" is not an IP address/],
      ['192.0.2.01-192.0.2.3', /"192\.0\.2\.01" is not an IP address/],
      ['192.0.2.1/24', /host bits/],
      ['garbage', /not a CIDR, a range or an IP address/],
    ];
    for (const [text, why] of bad) {
      it(`rejects ${text}`, () => {
        const r = parseAddressSpec(text);
        assert.equal(r.ok, false);
        assert.match(r.ok ? '' : r.error, why);
      });
    }
  });

  describe('prefixes', () => {
    it('maskedPrefix masks to the aggregation length', () => {
      assert.equal(maskedPrefix(ip('203.0.113.77'), 32), '203.0.113.77/32');
      assert.equal(maskedPrefix(ip('203.0.113.77'), 24), '203.0.113.0/24');
      assert.equal(maskedPrefix(ip('203.0.113.77'), 0), '0.0.0.0/0');
      assert.equal(maskedPrefix(ip('2001:db8:ff::1234'), 120), '2001:db8:ff::1200/120');
      assert.equal(maskedPrefix(ip('2001:db8:ff::1234'), 128), '2001:db8:ff::1234/128');
      assert.equal(maskedPrefix(ip('2001:db8:ff::1234'), 0), '::/0');
    });
    it('prefixRange covers the whole block', () => {
      assert.equal(formatRange(prefixRange(ip('198.51.100.130'), 25)), '198.51.100.128-198.51.100.255');
      assert.equal(formatRange(prefixRange(ip('255.255.255.255'), 0)), '0.0.0.0-255.255.255.255');
    });
    it('prefixRange refuses a prefix length outside the family', () => {
      assert.throws(() => prefixRange(ip('192.0.2.1'), 33), RangeError);
      assert.throws(() => prefixRange(ip('::1'), -1), RangeError);
      assert.throws(() => prefixRange(ip('::1'), 1.5), RangeError);
    });
    it('formatCIDR writes a block', () => {
      assert.equal(formatCIDR({ family: 6, first: ip('2001:db8::').value, prefixLength: 48 }), '2001:db8::/48');
    });
  });

  describe('counts', () => {
    it('saturate passes small counts and clamps huge ones', () => {
      assert.equal(saturate(0n), 0);
      assert.equal(saturate(256n), 256);
      assert.equal(saturate(BigInt(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
      assert.equal(saturate(BigInt(Number.MAX_SAFE_INTEGER) + 1n), Number.MAX_SAFE_INTEGER);
      assert.equal(saturate(1n << 128n), Number.MAX_SAFE_INTEGER);
    });
  });

  describe('isBuggyIPv4', () => {
    const cases: [string, boolean][] = [
      ['192.0.2.0', true],
      ['192.0.2.255', true],
      ['192.0.3.0', true],
      ['192.0.2.1', false],
      ['192.0.2.254', false],
      ['0.0.0.0', true],
      ['255.255.255.255', true],
      ['2001:db8::', false], // IPv6 has no broadcast; never buggy
      ['2001:db8::ff', false],
    ];
    for (const [text, buggy] of cases) {
      it(`${text} → ${buggy}`, () => assert.equal(isBuggyIPv4(ip(text)), buggy));
    }
  });

  describe('isIPv4Mapped', () => {
    it('is true only for ::ffff:0:0/96', () => {
      assert.ok(isIPv4Mapped(ip('::ffff:192.0.2.1')));
      assert.ok(isIPv4Mapped(ip('::ffff:0.0.0.0')));
      assert.ok(!isIPv4Mapped(ip('::192.0.2.1')));
      assert.ok(!isIPv4Mapped(ip('64:ff9b::192.0.2.1')));
      assert.ok(!isIPv4Mapped(ip('1::ffff:192.0.2.1')));
      assert.ok(!isIPv4Mapped(ip('192.0.2.1')));
    });
  });

  describe('neighbours', () => {
    it('nextAddress crosses octets and stops at the end', () => {
      assert.equal(formatIP(nextAddress(ip('192.0.2.255'))!), '192.0.3.0');
      assert.equal(formatIP(nextAddress(ip('2001:db8::ffff'))!), '2001:db8::1:0');
      assert.equal(nextAddress(ip('255.255.255.255')), undefined);
      assert.equal(nextAddress(ip('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')), undefined);
    });
    it('previousAddress crosses octets and stops at the start', () => {
      assert.equal(formatIP(previousAddress(ip('192.0.3.0'))!), '192.0.2.255');
      assert.equal(previousAddress(ip('0.0.0.0')), undefined);
      assert.equal(previousAddress(ip('::')), undefined);
    });
  });

  describe('range relations', () => {
    it('rangeContains checks family and bounds', () => {
      const r = range('192.0.2.10-192.0.2.20');
      assert.ok(rangeContains(r, ip('192.0.2.10')));
      assert.ok(rangeContains(r, ip('192.0.2.20')));
      assert.ok(!rangeContains(r, ip('192.0.2.21')));
      assert.ok(!rangeContains(range('::-::ffff:ffff'), ip('0.0.0.5')));
    });
    it('rangeIntersection of overlapping, touching, disjoint and mixed-family ranges', () => {
      assert.equal(formatRange(rangeIntersection(range('192.0.2.0/24'), range('192.0.2.200-198.51.100.0'))!), '192.0.2.200-192.0.2.255');
      assert.equal(formatRange(rangeIntersection(range('192.0.2.0/25'), range('192.0.2.127-192.0.2.200'))!), '192.0.2.127');
      assert.equal(rangeIntersection(range('192.0.2.0/25'), range('192.0.2.128/25')), undefined);
      assert.equal(rangeIntersection(range('0.0.0.0/0'), range('::/0')), undefined);
      assert.ok(!rangesOverlap(range('0.0.0.0/0'), range('::/96')));
    });
    it('rangeIntersection is symmetric and inside both ranges', () => {
      fc.assert(
        fc.property(arbFamily.chain((f) => fc.tuple(arbSmallRange(f), arbSmallRange(f))), ([a, b]) => {
          const x = rangeIntersection(a, b);
          const y = rangeIntersection(b, a);
          assert.deepEqual(x, y);
          assert.equal(x !== undefined, rangesOverlap(a, b));
          if (x) assert.ok(x.first >= a.first && x.first >= b.first && x.last <= a.last && x.last <= b.last);
        }),
      );
    });
    it('compareRanges orders IPv4 before IPv6, then by start and end', () => {
      const sorted = [range('2001:db8::1'), range('192.0.2.5-192.0.2.9'), range('192.0.2.5'), range('192.0.2.1')].sort(compareRanges);
      assert.deepEqual(show(sorted), ['192.0.2.1', '192.0.2.5', '192.0.2.5-192.0.2.9', '2001:db8::1']);
    });
  });

  describe('subtractRange / subtractRanges', () => {
    const cases: [string, string, string[]][] = [
      ['192.0.2.0/24', '192.0.2.10-192.0.2.20', ['192.0.2.0-192.0.2.9', '192.0.2.21-192.0.2.255']],
      ['192.0.2.0/24', '192.0.2.0/25', ['192.0.2.128-192.0.2.255']],
      ['192.0.2.0/24', '192.0.2.128-198.51.100.0', ['192.0.2.0-192.0.2.127']],
      ['192.0.2.0/24', '192.0.0.0/16', []],
      ['192.0.2.0/24', '198.51.100.0/24', ['192.0.2.0-192.0.2.255']],
      ['192.0.2.0/24', '2001:db8::/32', ['192.0.2.0-192.0.2.255']],
      ['::/0', '2001:db8::/32', ['::-2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db9::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
    ];
    for (const [a, b, want] of cases) {
      it(`${a} minus ${b}`, () => assert.deepEqual(show(subtractRange(range(a), range(b))), want));
    }
    it('subtracts several ranges and returns address order', () => {
      const got = subtractRanges(range('192.0.2.0/24'), [range('192.0.2.200/29'), range('192.0.2.0-192.0.2.9'), range('192.0.2.100')]);
      assert.deepEqual(show(got), ['192.0.2.10-192.0.2.99', '192.0.2.101-192.0.2.199', '192.0.2.208-192.0.2.255']);
    });
    it('covers exactly: an address is in r minus cuts iff it is in r and in no cut', () => {
      fc.assert(
        fc.property(
          arbFamily.chain((f) => fc.tuple(arbSmallRange(f), fc.array(arbSmallRange(f), { maxLength: 4 }))),
          fc.bigInt({ min: 0n, max: 70n }),
          ([r, cuts], offset) => {
            const probe: IP = { family: r.family, value: (r.family === 4 ? 0xc0000200n : 0x20010db8000000000000000000000000n) + offset - 2n };
            const pieces = subtractRanges(r, cuts);
            const inPieces = pieces.filter((p) => rangeContains(p, probe)).length;
            const expected = rangeContains(r, probe) && !cuts.some((c) => rangeContains(c, probe));
            assert.equal(inPieces, expected ? 1 : 0);
            for (let i = 1; i < pieces.length; i++) assert.ok(pieces[i - 1]!.last < pieces[i]!.first, 'pieces are disjoint and in order');
          },
        ),
      );
    });
    it('sizes add up: |r| = |r minus b| + |r ∩ b|', () => {
      fc.assert(
        fc.property(arbFamily.chain((f) => fc.tuple(arbRangeOf(f), arbRangeOf(f))), ([a, b]) => {
          const rest = subtractRange(a, b).reduce((n, p) => n + rangeSize(p), 0n);
          const both = rangeIntersection(a, b);
          assert.equal(rest + (both ? rangeSize(both) : 0n), rangeSize(a));
        }),
      );
    });
  });

  describe('rangeToCIDRs', () => {
    const cases: [string, string[]][] = [
      ['192.0.2.0/24', ['192.0.2.0/24']],
      ['192.0.2.7', ['192.0.2.7/32']],
      ['192.0.2.10-192.0.2.20', ['192.0.2.10/31', '192.0.2.12/30', '192.0.2.16/30', '192.0.2.20/32']],
      ['192.0.2.255-192.0.3.0', ['192.0.2.255/32', '192.0.3.0/32']],
      ['192.0.2.200-192.0.2.250', ['192.0.2.200/29', '192.0.2.208/28', '192.0.2.224/28', '192.0.2.240/29', '192.0.2.248/31', '192.0.2.250/32']],
      ['0.0.0.0-255.255.255.255', ['0.0.0.0/0']],
      ['0.0.0.1-255.255.255.255', Array.from({ length: 32 }, (_, i) => `${['0.0.0.1', '0.0.0.2', '0.0.0.4', '0.0.0.8', '0.0.0.16', '0.0.0.32', '0.0.0.64', '0.0.0.128', '0.0.1.0', '0.0.2.0', '0.0.4.0', '0.0.8.0', '0.0.16.0', '0.0.32.0', '0.0.64.0', '0.0.128.0', '0.1.0.0', '0.2.0.0', '0.4.0.0', '0.8.0.0', '0.16.0.0', '0.32.0.0', '0.64.0.0', '0.128.0.0', '1.0.0.0', '2.0.0.0', '4.0.0.0', '8.0.0.0', '16.0.0.0', '32.0.0.0', '64.0.0.0', '128.0.0.0'][i]}/${32 - i}`)],
      ['::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', ['::/0']],
      ['2001:db8:0:2::200-2001:db8:0:2::2ff', ['2001:db8:0:2::200/120']],
      ['2001:db8::-2001:db8::1:0', ['2001:db8::/112', '2001:db8::1:0/128']],
    ];
    for (const [text, want] of cases) {
      it(text, () => assert.deepEqual(rangeToCIDRs(range(text)).map(formatCIDR), want));
    }
    it('blocks are aligned, contiguous, and cover exactly the range', () => {
      fc.assert(
        fc.property(arbFamily.chain(arbRangeOf), (r) => {
          const blocks = rangeToCIDRs(r);
          assert.ok(blocks.length <= 2 * (r.family === 4 ? 32 : 128));
          assert.equal(blocks[0]!.first, r.first);
          assert.equal(blocks[blocks.length - 1]!.last, r.last);
          for (const [i, b] of blocks.entries()) {
            const parsed = parseCIDR(formatCIDR(b));
            assert.ok(parsed.ok, 'block must be a valid CIDR with no host bits');
            assert.equal(parsed.value.last, b.last);
            if (i > 0) assert.equal(blocks[i - 1]!.last + 1n, b.first);
          }
        }),
      );
    });
  });
});
