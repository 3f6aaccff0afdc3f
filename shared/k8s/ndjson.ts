// Newline-delimited JSON framing for watch streams: the API server writes one JSON
// object per line (a WatchEvent), and TCP hands them over in chunks that split lines,
// and UTF-8 characters, anywhere. Push chunks in, get whole lines back.
const NEWLINE = 0x0a;

export class LineSplitter {
  /** Bytes of the line still open, held as the chunks they came in. */
  private parts: Buffer[] = [];

  /** The lines this chunk completes, without their newlines; empty lines are skipped. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      let line = chunk.subarray(start, nl);
      if (this.parts.length > 0) {
        line = Buffer.concat([...this.parts, line]);
        this.parts = [];
      }
      if (line.length > 0 && !(line.length === 1 && line[0] === 0x0d)) lines.push(line.toString('utf8'));
      start = nl + 1;
    }
    if (start < chunk.length) this.parts.push(chunk.subarray(start));
    return lines;
  }

  /** What is left when the stream ends: a last line without a newline, if any. */
  end(): string | undefined {
    if (this.parts.length === 0) return undefined;
    const rest = Buffer.concat(this.parts).toString('utf8');
    this.parts = [];
    return rest.trim() === '' ? undefined : rest;
  }
}
