// Annotated hex for golden bytes: `//` comments and whitespace are dropped, the rest is
// hex digits, so each field can sit on its own line with what it means.
export function hex(text: string): Buffer {
  const digits = text
    .split('\n')
    .map((line) => line.replace(/\/\/.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`not hex: ${digits}`);
  return Buffer.from(digits, 'hex');
}

export const MARKER = 'ff'.repeat(16);

/** A whole message: marker, length, type, body. */
export function message(type: number, body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? hex(body) : body;
  const h = Buffer.alloc(19, 0xff);
  h.writeUInt16BE(19 + b.length, 16);
  h[18] = type;
  return Buffer.concat([h, b]);
}

/** An UPDATE body from withdrawn routes, attributes and NLRI, all as annotated hex. */
export function updateBody(withdrawn: string, attributes: string, nlri = ''): Buffer {
  const w = hex(withdrawn);
  const a = hex(attributes);
  const n = hex(nlri);
  const out = Buffer.alloc(4 + w.length + a.length + n.length);
  out.writeUInt16BE(w.length, 0);
  w.copy(out, 2);
  out.writeUInt16BE(a.length, 2 + w.length);
  a.copy(out, 4 + w.length);
  n.copy(out, 4 + w.length + a.length);
  return out;
}
