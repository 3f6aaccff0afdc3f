import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { LineSplitter } from '../../../../shared/k8s/ndjson.js';

const ev = (name: string): string => JSON.stringify({ type: 'ADDED', object: { metadata: { name } } });

describe('LineSplitter (watch stream framing)', () => {
  it('returns whole lines from whole chunks', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push(Buffer.from(`${ev('a')}\n${ev('b')}\n`)), [ev('a'), ev('b')]);
    assert.equal(s.end(), undefined);
  });

  it('holds a line split in the middle until its end arrives', () => {
    const s = new LineSplitter();
    const line = Buffer.from(`${ev('web')}\n`);
    assert.deepEqual(s.push(line.subarray(0, 10)), []);
    assert.deepEqual(s.push(line.subarray(10, 20)), []);
    assert.deepEqual(s.push(line.subarray(20)), [ev('web')]);
  });

  it('handles a chunk ending right at a newline, and one starting with it', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push(Buffer.from(`${ev('a')}\n`)), [ev('a')]);
    assert.deepEqual(s.push(Buffer.from(ev('b'))), []);
    assert.deepEqual(s.push(Buffer.from(`\n${ev('c')}`)), [ev('b')]);
    assert.equal(s.end(), ev('c'), 'a last line without its newline');
  });

  it('keeps a UTF-8 character split across chunks whole', () => {
    const s = new LineSplitter();
    const line = Buffer.from(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'café-☕' } } })}\n`);
    const cut = line.indexOf(Buffer.from('☕')) + 1;
    assert.deepEqual(s.push(line.subarray(0, cut)), []);
    const [got] = s.push(line.subarray(cut));
    assert.equal((JSON.parse(got as string) as { object: { metadata: { name: string } } }).object.metadata.name, 'café-☕');
  });

  it('skips empty lines and CRLF blank lines', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push(Buffer.from(`\n\r\n${ev('a')}\r\n\n`)), [`${ev('a')}\r`]);
  });

  it('gives the same lines however the stream is cut (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', minLength: 1 }).map((x) => JSON.stringify({ x })), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (lines, cuts) => {
        const all = Buffer.from(lines.map((l) => `${l}\n`).join(''));
        const points = [...new Set(cuts.map((c) => (all.length ? c % all.length : 0)))].sort((a, b) => a - b);
        const s = new LineSplitter();
        const out: string[] = [];
        let prev = 0;
        for (const p of [...points, all.length]) {
          out.push(...s.push(all.subarray(prev, p)));
          prev = p;
        }
        assert.deepEqual(out, lines);
        assert.equal(s.end(), undefined);
      }),
    );
  });
});
