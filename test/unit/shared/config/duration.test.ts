import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { formatDuration, MILLISECOND, parseDuration, SECOND } from '../../../../shared/config/duration.js';

describe('shared/config/duration', () => {
  // Expected values computed from Go's time.ParseDuration semantics.
  const ok: [string, bigint][] = [
    ['0', 0n],
    ['90s', 90n * SECOND],
    ['1m30s', 90n * SECOND],
    ['1h', 3600n * SECOND],
    ['1h2m3s', 3723n * SECOND],
    ['500ms', 500n * MILLISECOND],
    ['1.5s', 1500n * MILLISECOND],
    ['.5s', 500n * MILLISECOND],
    ['1.s', SECOND],
    ['3000ms', 3n * SECOND],
    ['2us', 2000n],
    ['2µs', 2000n],
    ['2μs', 2000n],
    ['7ns', 7n],
    ['+5s', 5n * SECOND],
    ['-5s', -5n * SECOND],
    ['0s', 0n],
    ['1s500ms', 1500n * MILLISECOND],
  ];
  for (const [text, nanos] of ok) {
    it(`parses ${text}`, () => assert.deepEqual(parseDuration(text), { ok: true, value: nanos }));
  }
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['90', /missing unit/],
    ['1.5', /missing unit/],
    ['s', /expected a number/],
    ['.s', /expected a number/],
    ['5 s', /unknown unit " s"|unknown unit/],
    ['5d', /unknown unit "d"/],
    ['5S', /unknown unit "S"/],
    ['1m 30s', /unknown unit/],
    ['-', /empty/],
    ['99999999999h', /too large/],
  ];
  for (const [text, why] of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      const r = parseDuration(text);
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.error, why);
      assert.match(r.ok ? '' : r.error, /90s, 1m30s or 500ms/, 'the message shows how to write one');
    });
  }
  it('formats the shortest text', () => {
    assert.equal(formatDuration(0n), '0s');
    assert.equal(formatDuration(90n * SECOND), '1m30s');
    assert.equal(formatDuration(3600n * SECOND), '1h');
    assert.equal(formatDuration(3601n * SECOND), '1h0m1s');
    assert.equal(formatDuration(500n * MILLISECOND), '500ms');
    assert.equal(formatDuration(1500n * MILLISECOND), '1.5s');
    assert.equal(formatDuration(-2n * SECOND), '-2s');
    assert.equal(formatDuration(1n), '1ns');
  });
  it('parse(format(x)) = x', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), (n) => {
        assert.deepEqual(parseDuration(formatDuration(n)), { ok: true, value: n });
      }),
    );
  });
});
