import { strict as assert } from 'node:assert';
import { Address4, Address6 } from 'ip-address';
import fc from 'fast-check';
import { formatIP, parseIP } from '../../../../shared/ip/ip.js';
import { groupsOf, ipv6Text, parseIPv4Text, parseIPv6Groups, valueOfGroups } from '../../../../shared/ip/text.js';

// ip-address (the library herald parsed with before) is the oracle here: the own parser
// must accept and refuse the same texts, give the same values and the same canonical text.
function oracle(s: string): { family: 4 | 6; value: bigint; text: string } | undefined {
  if (s.includes('/') || s.includes('%') || s.trim() !== s || s === '') return undefined;
  if (!s.includes(':')) {
    if (!Address4.isValid(s)) return undefined;
    const a = new Address4(s);
    if (a.correctForm() !== s) return undefined;
    return { family: 4, value: a.bigInt(), text: a.correctForm() };
  }
  if (!Address6.isValid(s)) return undefined;
  const a = new Address6(s);
  return { family: 6, value: a.bigInt(), text: Address6.fromBigInt(a.bigInt()).correctForm() };
}

describe('shared/ip/text', () => {
  it('parses IPv4 text strictly', () => {
    assert.equal(parseIPv4Text('192.0.2.1'), 0xc0000201);
    assert.equal(parseIPv4Text('0.0.0.0'), 0);
    assert.equal(parseIPv4Text('255.255.255.255'), 0xffffffff);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.256', '1..3.4', '1.2.3.4.', '.1.2.3', '1.2.3.-4', '1.2.3.4 ', '1.2.3.1000', '+1.2.3.4']) {
      assert.equal(parseIPv4Text(bad), undefined, bad);
    }
  });

  it('parses the IPv6 forms of RFC 4291 §2.2', () => {
    const g = (s: string): string | undefined => parseIPv6Groups(s)?.map((x) => x.toString(16)).join(':');
    assert.equal(g('::'), '0:0:0:0:0:0:0:0');
    assert.equal(g('::1'), '0:0:0:0:0:0:0:1');
    assert.equal(g('1::'), '1:0:0:0:0:0:0:0');
    assert.equal(g('2001:DB8::8:800:200C:417A'), '2001:db8:0:0:8:800:200c:417a');
    assert.equal(g('1:2:3:4:5:6:7::'), '1:2:3:4:5:6:7:0');
    assert.equal(g('::ffff:192.0.2.1'), '0:0:0:0:0:ffff:c000:201');
    assert.equal(g('1:2:3:4:5:6:192.0.2.1'), '1:2:3:4:5:6:c000:201');
    for (const bad of [':', ':::', '1:::2', '1::2::3', ':1::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8', '12345::', 'g::', '1:', '::192.0.2.1:1', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4', '1.2.3.4::']) {
      assert.equal(parseIPv6Groups(bad), undefined, bad);
    }
  });

  it('writes RFC 5952 canonical IPv6 text', () => {
    const t = (s: string): string => ipv6Text(parseIPv6Groups(s) as number[]);
    assert.equal(t('2001:0db8:0000:0000:0000:0000:0002:0001'), '2001:db8::2:1');
    assert.equal(t('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1'); // one zero group is not compressed (§4.2.2)
    assert.equal(t('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1'); // the longest run (§4.2.3)
    assert.equal(t('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1'); // the first of equal runs
    assert.equal(t('0:0:0:0:0:0:0:0'), '::');
    assert.equal(t('::ffff:1.2.3.4'), '::ffff:102:304');
  });

  it('round-trips 128-bit values through groups', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => valueOfGroups(groupsOf(v)) === v));
  });

  it('agrees with ip-address on generated addresses (value and canonical text)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), (s) => {
        const want = oracle(s);
        const got = parseIP(s);
        if (!want) return got === undefined;
        return got !== undefined && got.family === want.family && got.value === want.value && formatIP(got) === want.text;
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with ip-address on mangled texts (accept and refuse alike)', () => {
    const alphabet = fc.constantFrom(...'0123456789abcdefABCDEF:.:'.split(''), '::', 'ff', '0');
    fc.assert(
      fc.property(fc.array(alphabet, { minLength: 1, maxLength: 24 }).map((a) => a.join('')), (s) => {
        const want = oracle(s);
        const got = parseIP(s);
        assert.equal(got?.value, want?.value, `"${s}"`);
        if (got) assert.equal(formatIP(got), want?.text, `"${s}"`);
      }),
      { numRuns: 20000 },
    );
  });
});
