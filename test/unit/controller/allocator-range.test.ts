import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { countBuggy, isBuggyValue, RangeCursor } from '../../../controller/allocator-range.js';

describe('RangeCursor', () => {
  it('counts .0/.255 addresses like brute force', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 3000 }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        let n = 0n;
        for (let v = lo; v <= hi; v++) if (isBuggyValue(BigInt(v))) n++;
        assert.equal(countBuggy(BigInt(lo), BigInt(hi)), n);
      }),
    );
  });

  it('always returns the lowest free allowed address, whatever the order of takes and frees', () => {
    // Operations on a small range checked against a brute-force model.
    const op = fc.oneof(
      fc.record({ kind: fc.constant('alloc' as const) }),
      fc.record({ kind: fc.constant('take' as const), at: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ kind: fc.constant('free' as const), at: fc.integer({ min: 0, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 240, max: 260 }), fc.array(op, { maxLength: 80 }), (avoid, start, ops) => {
        const first = BigInt(start);
        const last = first + 40n;
        const c = new RangeCursor({ family: 4, first, last }, avoid);
        const used = new Set<bigint>();
        const inUse = (v: bigint) => used.has(v);
        const model = (): bigint | undefined => {
          for (let v = first; v <= last; v++) if (!used.has(v) && !(avoid && isBuggyValue(v))) return v;
          return undefined;
        };
        for (const o of ops) {
          if (o.kind === 'alloc') {
            const got = c.lowestFree(inUse);
            assert.equal(got, model());
            if (got !== undefined) used.add(got);
          } else {
            const v = first + BigInt(o.at);
            if (o.kind === 'take') {
              if (c.allows(v)) used.add(v);
            } else if (used.delete(v)) {
              c.freed(v);
            }
          }
        }
        assert.equal(c.lowestFree(inUse), model());
      }),
    );
  });

  it('knows its capacity and which addresses it allows', () => {
    const c = new RangeCursor({ family: 4, first: 0xc0000200n, last: 0xc00002ffn }, true);
    assert.equal(c.capacity(), 254n);
    assert.equal(c.allows(0xc0000200n), false);
    assert.equal(c.allows(0xc0000201n), true);
    assert.equal(c.allows(0xc0000300n), false);
    const v6 = new RangeCursor({ family: 6, first: 0n, last: (1n << 64n) - 1n }, true);
    assert.equal(v6.capacity(), 1n << 64n, 'avoidBuggyIPs is IPv4 only');
    assert.equal(v6.lowestFree(() => false), 0n);
  });
});
