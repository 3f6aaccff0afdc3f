import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { Fifo } from '../../../../shared/k8s/fifo.js';

describe('Fifo', () => {
  it('hands items back in the order they came, across compactions', () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    // 5,000 in, 3,000 out (the head passes the 1,024 compaction point), 5,000 more in, all out.
    for (let i = 0; i < 5_000; i++) q.push(i);
    for (let i = 0; i < 3_000; i++) out.push(q.shift() as number);
    assert.equal(q.length, 2_000);
    for (let i = 5_000; i < 10_000; i++) q.push(i);
    while (q.length > 0) out.push(q.shift() as number);
    assert.deepEqual(out, Array.from({ length: 10_000 }, (_, i) => i));
    assert.equal(q.shift(), undefined);
  });

  it('behaves as an array used with push and shift (model check)', () => {
    const op = fc.oneof(fc.record({ push: fc.integer() }), fc.constant({ shift: true as const }), fc.constant({ clear: true as const }));
    fc.assert(
      fc.property(fc.array(fc.tuple(op, fc.integer({ min: 1, max: 3_000 })), { maxLength: 40 }), (ops) => {
        const q = new Fifo<number>();
        const model: number[] = [];
        for (const [o, times] of ops) {
          for (let i = 0; i < times; i++) {
            if ('push' in o) {
              q.push(o.push + i);
              model.push(o.push + i);
            } else if ('shift' in o) {
              assert.equal(q.shift(), model.shift());
            } else {
              q.clear();
              model.length = 0;
              break;
            }
            assert.equal(q.length, model.length);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
