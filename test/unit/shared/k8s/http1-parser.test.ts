import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { Http1Error, Http1ResponseReader, type Http1Response } from '../../../../shared/k8s/http1-parser.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const all = (r: Http1ResponseReader, s: string): Http1Response[] => r.push(b(s));
const text = (x: Http1Response | undefined): string => x?.body.toString('utf8') ?? '<none>';

const CL = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 13\r\n\r\n{"kind":"Ok"}';
const CHUNKED = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\n{"a":\r\n3\r\n12}\r\n0\r\nx-trailer: 1\r\n\r\n';

describe('shared/k8s/http1-parser', () => {
  it('reads a Content-Length body, with status and lower-cased headers', () => {
    const [r, ...rest] = all(new Http1ResponseReader(), CL);
    assert.equal(rest.length, 0);
    assert.equal(r?.status, 200);
    assert.equal(r?.headers['content-type'], 'application/json');
    assert.equal(text(r), '{"kind":"Ok"}');
    assert.equal(r?.close, false);
  });

  it('reads a chunked body, ignoring chunk extensions and trailers', () => {
    const [r] = all(new Http1ResponseReader(), CHUNKED);
    assert.equal(r?.status, 201);
    assert.equal(text(r), '{"a":12}');
  });

  it('gives the same answers whatever the bytes are split into', () => {
    const wire = CL + CHUNKED + 'HTTP/1.1 204 No Content\r\nx: y\r\n\r\n' + CL;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: wire.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((x, y) => x - y);
        const r = new Http1ResponseReader();
        const got: Http1Response[] = [];
        let from = 0;
        for (const p of [...points, wire.length]) {
          got.push(...r.push(b(wire.slice(from, p))));
          from = p;
        }
        assert.deepEqual(got.map((x) => [x.status, text(x)]), [[200, '{"kind":"Ok"}'], [201, '{"a":12}'], [204, ''], [200, '{"kind":"Ok"}']]);
        assert.ok(r.idle);
      }),
    );
  });

  it('skips 1xx interim answers', () => {
    const [r] = all(new Http1ResponseReader(), 'HTTP/1.1 100 Continue\r\n\r\n' + CL);
    assert.equal(r?.status, 200);
  });

  it('marks Connection: close and HTTP/1.0 answers as not reusable', () => {
    assert.equal(all(new Http1ResponseReader(), 'HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 0\r\n\r\n')[0]?.close, true);
    assert.equal(all(new Http1ResponseReader(), 'HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n')[0]?.close, true);
    assert.equal(all(new Http1ResponseReader(), 'HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n')[0]?.close, false);
  });

  it('reads a body without length to the close of the connection', () => {
    const r = new Http1ResponseReader();
    assert.deepEqual(all(r, 'HTTP/1.1 500 Internal Server Error\r\n\r\nsomething '), []);
    assert.deepEqual(all(r, 'broke'), []);
    const end = r.end();
    assert.equal(end?.status, 500);
    assert.equal(text(end), 'something broke');
    assert.equal(end?.close, true);
  });

  it('joins repeated header fields', () => {
    const [r] = all(new Http1ResponseReader(), 'HTTP/1.1 200 OK\r\nWarning: a\r\nwarning: b\r\ncontent-length: 0\r\n\r\n');
    assert.equal(r?.headers.warning, 'a, b');
  });

  it('refuses what it cannot frame', () => {
    const bad = [
      'HTTP/2 200 OK\r\n\r\n',
      'HTTP/1.1 20 OK\r\n\r\n',
      'garbage\r\n\r\n',
      'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
      'HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 1, 2\r\n\r\n',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabXY',
    ];
    for (const w of bad) assert.throws(() => new Http1ResponseReader().push(b(w)), Http1Error, JSON.stringify(w));
    assert.throws(() => new Http1ResponseReader().push(Buffer.alloc(70_000, 65)), /too large/);
  });

  it('a connection closed mid-answer is an error; closed between answers is not', () => {
    const r = new Http1ResponseReader();
    all(r, CL.slice(0, 40));
    assert.throws(() => r.end(), Http1Error);
    assert.equal(new Http1ResponseReader().end(), undefined);
  });

  it('never throws anything but Http1Error on random bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom('HTTP/1.1 200 OK\r\n', 'content-length: 3\r\n', 'transfer-encoding: chunked\r\n', '\r\n', '0\r\n', 'a\r\n'), fc.string()), { maxLength: 10 }), (parts) => {
        try {
          const r = new Http1ResponseReader();
          r.push(b(parts.join('')));
          r.end();
        } catch (err) {
          assert.ok(err instanceof Http1Error, String(err));
        }
      }),
      { numRuns: 3000 },
    );
  });
});
