// Incremental framing of a BGP byte stream: push whatever TCP delivered, get back the
// whole messages it completed. No I/O; the session driver feeds it from its socket.
import { HEADER_LENGTH, MAX_MESSAGE_SIZE } from './context.js';
import type { BGPProtocolError } from './errors.js';
import { readHeader } from './header.js';

export class Framer {
  /** Raise to 65535 once extended messages are negotiated (RFC 8654). */
  maxMessageSize: number;
  private chunks: Buffer[] = [];
  private size = 0;
  /** Octets the next message needs in total: the header, then its full length. */
  private need = HEADER_LENGTH;
  private failed: BGPProtocolError | undefined;

  constructor(maxMessageSize = MAX_MESSAGE_SIZE) {
    this.maxMessageSize = maxMessageSize;
  }

  /** Octets held back, waiting for the rest of a message. */
  get buffered(): number {
    return this.size;
  }

  /**
   * Returns each message (header included) the chunk completes, in order, as views
   * into the pushed chunks: do not reuse a chunk after pushing it. A header error
   * throws BGPProtocolError; the stream cannot be resynchronised, so every later push
   * throws the same error.
   */
  push(chunk: Buffer): Buffer[] {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size < this.need) return [];

    const data = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.size);
    const frames: Buffer[] = [];
    let pos = 0;
    this.need = HEADER_LENGTH;
    while (data.length - pos >= HEADER_LENGTH) {
      let length: number;
      try {
        length = readHeader(data, pos, this.maxMessageSize).length;
      } catch (err) {
        this.failed = err as BGPProtocolError;
        this.chunks = [];
        this.size = 0;
        throw err;
      }
      if (data.length - pos < length) {
        this.need = length;
        break;
      }
      frames.push(data.subarray(pos, pos + length));
      pos += length;
    }
    const rest = data.subarray(pos);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
    return frames;
  }
}
