import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { formatCommunity, parseCommunity } from '../../../../shared/config/community.js';

describe('shared/config/community', () => {
  const ok: [string, string, number | number[]][] = [
    ['65000:100', 'standard', 65000 * 65536 + 100],
    ['0:0', 'standard', 0],
    ['65535:65535', 'standard', 0xffffffff],
    ['065000:0100', 'standard', 65000 * 65536 + 100], // Go's ParseUint accepts leading zeros
    ['large:64512:1:2', 'large', [64512, 1, 2]],
    ['large:4294967295:4294967295:4294967295', 'large', [4294967295, 4294967295, 4294967295]],
    ['large:0:0:0', 'large', [0, 0, 0]],
  ];
  for (const [text, kind, value] of ok) {
    it(`parses ${text}`, () => {
      const r = parseCommunity(text);
      assert.ok(r.ok);
      assert.equal(r.value.kind, kind);
      assert.deepEqual(r.value.value, value);
    });
  }
  // shape: written like a community (a bad value), or not (maybe an alias name).
  const bad: [string, boolean, RegExp][] = [
    ['65536:1', true, /0\.\.65535/],
    ['1:65536', true, /0\.\.65535/],
    ['99999999999999999999:1', true, /0\.\.65535/],
    ['large:4294967296:1:1', true, /0\.\.4294967295/],
    ['large:1:2', true, /not a community/],
    ['large:1:2:3:4', true, /not a community/],
    ['1:2:3', true, /not a community/],
    ['65000', true, /not a community/],
    [':100', true, /not a community/],
    ['-1:5', false, /neither a community/],
    ['no-export', false, /neither a community .* nor a known Community alias/],
    ['LARGE:1:2:3', false, /neither/],
  ];
  for (const [text, shape, why] of bad) {
    it(`rejects ${text} (${shape ? 'bad value' : 'maybe an alias'})`, () => {
      const r = parseCommunity(text);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.shape, shape);
      assert.match(r.error, why);
    });
  }
  it('parse(format(x)) = x', () => {
    const u16 = fc.integer({ min: 0, max: 0xffff });
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(fc.oneof(fc.tuple(u16, u16).map(([a, b]) => `${a}:${b}`), fc.tuple(u32, u32, u32).map((t) => `large:${t.join(':')}`)), (text) => {
        const r = parseCommunity(text);
        assert.ok(r.ok);
        assert.equal(formatCommunity(r.value), text);
      }),
    );
  });
});
