// A read cursor over a Buffer. Running past the end throws the BGPProtocolError the
// cursor was made with, because what a short read means depends on where it happens:
// a truncated capability is an OPEN error, a truncated prefix an UPDATE error.
import type { BGPProtocolError } from './errors.js';

export type Fault = (detail: string) => BGPProtocolError;

export class Reader {
  private pos: number;
  private readonly end: number;

  constructor(
    private readonly buf: Buffer,
    private readonly fault: Fault,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) throw this.fault(`${what}: need ${n} octets, ${this.end - this.pos} left`);
  }

  u8(what = 'octet'): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  u16(what = 'uint16'): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what = 'uint32'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A view (not a copy) of the next n octets. */
  bytes(n: number, what = 'field'): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A view of everything left. */
  rest(): Buffer {
    const v = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return v;
  }

  /** A cursor over the next n octets, with its own fault; this cursor skips them. */
  sub(n: number, what: string, fault: Fault = this.fault): Reader {
    this.need(n, what);
    const r = new Reader(this.buf, fault, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
}
