// An incremental HTTP/1.1 response reader for the REST client's own connections
// (http1.ts): bytes in, whole responses out. RFC 9112: a status line, header fields, then
// a body framed by Transfer-Encoding: chunked (§7.1), Content-Length (§6.3), or the
// close of the connection; 1xx, 204 and 304 answers have none (§6.3 rule 1).
//
// Pure: no sockets, no clock. Anything it cannot read is an Http1Error, and the
// connection it came from must be dropped: after a framing error nothing that follows
// can be trusted to start a response.

export interface Http1Response {
  status: number;
  /** Header names in lower case; repeated fields joined with ", " (RFC 9110 §5.3). */
  headers: Record<string, string>;
  body: Buffer;
  /** The server said it will close, or the body ran to the close: do not reuse. */
  close: boolean;
}

export class Http1Error extends Error {
  override readonly name = 'Http1Error';
}

/** Beyond this a header section is refused (kube-apiserver's answers are far smaller). */
const MAX_HEAD = 64 * 1024;

type State =
  | { at: 'head' }
  | { at: 'length'; left: number }
  | { at: 'chunk-size' }
  | { at: 'chunk-data'; left: number }
  | { at: 'chunk-crlf' }
  | { at: 'trailers' }
  | { at: 'until-close' };

export class Http1ResponseReader {
  private buf: Buffer = Buffer.alloc(0);
  private state: State = { at: 'head' };
  private status = 0;
  private headers: Record<string, string> = {};
  private close = false;
  private body: Buffer[] = [];

  /**
   * Takes the next bytes of the connection; returns the responses they complete (more
   * than one only if the server sent what was not asked for yet).
   */
  push(chunk: Buffer): Http1Response[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Http1Response[] = [];
    for (;;) {
      const r = this.step();
      if (r === 'more') return out;
      if (r !== 'continue') out.push(r);
    }
  }

  /** The connection ended: the response read to its close, if one was being read so. */
  end(): Http1Response | undefined {
    if (this.state.at === 'until-close') {
      const body = Buffer.concat([...this.body, this.buf]);
      this.buf = Buffer.alloc(0);
      return this.finish(body, true);
    }
    if (this.state.at === 'head' && this.buf.length === 0) return undefined;
    throw new Http1Error('connection closed in the middle of a response');
  }

  /** True between responses (nothing of the next one read yet). */
  get idle(): boolean {
    return this.state.at === 'head' && this.buf.length === 0;
  }

  private step(): Http1Response | 'more' | 'continue' {
    const s = this.state;
    switch (s.at) {
      case 'head':
        return this.readHead();
      case 'length': {
        if (this.buf.length < s.left) return 'more';
        const body = this.take(s.left);
        return this.finish(this.body.length === 0 ? body : Buffer.concat([...this.body, body]), this.close);
      }
      case 'until-close':
        if (this.buf.length > 0) this.body.push(this.take(this.buf.length));
        return 'more';
      case 'chunk-size': {
        const eol = this.buf.indexOf('\r\n');
        if (eol < 0) {
          if (this.buf.length > 1024) throw new Http1Error('chunk size line too long');
          return 'more';
        }
        const line = this.take(eol + 2).toString('latin1', 0, eol);
        // Chunk extensions (";name=value") are ignored (RFC 9112 §7.1.1).
        const hex = (line.split(';', 1)[0] ?? '').trim();
        if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw new Http1Error(`bad chunk size "${line.slice(0, 40)}"`);
        const size = parseInt(hex, 16);
        this.state = size === 0 ? { at: 'trailers' } : { at: 'chunk-data', left: size };
        return 'continue';
      }
      case 'chunk-data': {
        if (this.buf.length === 0) return 'more';
        const n = Math.min(s.left, this.buf.length);
        this.body.push(this.take(n));
        this.state = s.left === n ? { at: 'chunk-crlf' } : { at: 'chunk-data', left: s.left - n };
        return 'continue';
      }
      case 'chunk-crlf':
        if (this.buf.length < 2) return 'more';
        if (this.buf[0] !== 13 || this.buf[1] !== 10) throw new Http1Error('chunk data not followed by CRLF');
        this.take(2);
        this.state = { at: 'chunk-size' };
        return 'continue';
      case 'trailers': {
        // Trailer fields are read and dropped, up to the empty line.
        const eol = this.buf.indexOf('\r\n');
        if (eol < 0) return 'more';
        this.take(eol + 2);
        if (eol > 0) return 'continue';
        return this.finish(Buffer.concat(this.body), this.close);
      }
    }
  }

  private readHead(): Http1Response | 'more' | 'continue' {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.buf.length > MAX_HEAD) throw new Http1Error('response header section too large');
      return 'more';
    }
    const lines = this.take(end + 4).toString('latin1', 0, end).split('\r\n');
    const m = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: .*)?$/.exec(lines[0] ?? '');
    if (!m) throw new Http1Error(`bad status line "${(lines[0] ?? '').slice(0, 60)}"`);
    const status = Number(m[2]);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) throw new Http1Error(`bad header line "${line.slice(0, 60)}"`);
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    // 1xx: an interim answer; the real one follows.
    if (status < 200) return 'continue';
    this.status = status;
    this.headers = headers;
    const conn = (headers.connection ?? '').toLowerCase();
    this.close = m[1] === '0' ? !conn.includes('keep-alive') : conn.split(',').some((t) => t.trim() === 'close');
    this.body = [];
    if (status === 204 || status === 304) return this.finish(Buffer.alloc(0), this.close);
    const te = headers['transfer-encoding'];
    if (te !== undefined) {
      if (te.toLowerCase().split(',').pop()?.trim() !== 'chunked') throw new Http1Error(`unsupported transfer-encoding "${te}"`);
      this.state = { at: 'chunk-size' };
      return 'continue';
    }
    const cl = headers['content-length'];
    if (cl !== undefined) {
      if (!/^\d{1,12}$/.test(cl)) throw new Http1Error(`bad content-length "${cl}"`);
      this.state = { at: 'length', left: Number(cl) };
      return 'continue';
    }
    this.close = true;
    this.state = { at: 'until-close' };
    return 'continue';
  }

  private take(n: number): Buffer {
    const b = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return b;
  }

  private finish(body: Buffer, close: boolean): Http1Response {
    const r: Http1Response = { status: this.status, headers: this.headers, body, close };
    this.state = { at: 'head' };
    this.headers = {};
    this.body = [];
    return r;
  }
}
