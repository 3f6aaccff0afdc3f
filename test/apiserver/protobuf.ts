// Decoding of `application/vnd.kubernetes.protobuf` request bodies into the JSON form of
// the object. client-go's typed clientsets (kubectl create namespace, secret, service …)
// send protobuf; responses go back as JSON, which those clients accept too.
//
// The envelope (k8s.io/apimachinery/pkg/runtime/serializer/protobuf): the magic bytes
// "k8s\0", then a runtime.Unknown whose typeMeta names the kind and whose raw field holds
// the object's message. Fields that Go would leave out of JSON (empty, zero, false) are
// left out here too, since gogo-protobuf writes every non-pointer field. (So an explicit
// false or 0 in a pointer field is read as unset: kubectl's create commands never send one.)
import { badRequest, unsupportedMediaType } from './errors.js';
import { isObj, timestamp, type Obj } from './object.js';
import { MESSAGES, type ProtoField } from './proto-schema.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** apiVersion's group → the proto package prefix in MESSAGES. */
const PACKAGES: Record<string, string> = {
  '': 'core.v1',
  apps: 'apps.v1',
  'rbac.authorization.k8s.io': 'rbac.v1',
  'discovery.k8s.io': 'discovery.v1',
  'coordination.k8s.io': 'coordination.v1',
  'events.k8s.io': 'events.v1',
  'authorization.k8s.io': 'authorization.v1',
  'meta.k8s.io': 'apis.meta.v1',
};

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw badRequest('protobuf: truncated varint');
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw badRequest('protobuf: varint too long');
    }
  }

  bytes(): Buffer {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw badRequest('protobuf: truncated field');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  fixed(n: 4 | 8): Buffer {
    if (this.pos + n > this.buf.length) throw badRequest('protobuf: truncated field');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.fixed(8);
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.fixed(4);
    else throw badRequest(`protobuf: unsupported wire type ${wire}`);
  }
}

/** int64/int32 varints are two's complement over 64 bits. */
function signed(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

type Raw = { wire: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

function fieldsOf(buf: Buffer): Map<number, Raw[]> {
  const r = new Reader(buf);
  const out = new Map<number, Raw[]>();
  while (!r.done) {
    const key = Number(r.varint());
    const num = key >>> 3;
    const wire = key & 7;
    let raw: Raw;
    if (wire === 0) raw = { wire, varint: r.varint() };
    else if (wire === 2) raw = { wire, bytes: r.bytes() };
    else if (wire === 1) raw = { wire, fixed: r.fixed(8) };
    else if (wire === 5) raw = { wire, fixed: r.fixed(4) };
    else {
      r.skip(wire);
      continue;
    }
    const list = out.get(num);
    if (list) list.push(raw);
    else out.set(num, [raw]);
  }
  return out;
}

function timeOf(buf: Buffer, micro: boolean): string | null {
  const f = fieldsOf(buf);
  const seconds = signed(f.get(1)?.[0]?.varint ?? 0n);
  const nanos = signed(f.get(2)?.[0]?.varint ?? 0n);
  if (seconds === 0 && nanos === 0) return null;
  const base = timestamp(new Date(seconds * 1000));
  return micro ? base.replace(/Z$/, `.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`) : base;
}

function jsonOf(buf: Buffer): unknown {
  if (buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw badRequest('protobuf: embedded raw object is not JSON');
  }
}

function scalar(type: string, raw: Raw): unknown {
  switch (type) {
    case 'string':
      return raw.bytes?.toString('utf8') ?? '';
    case 'bytes':
      return raw.bytes?.toString('base64') ?? '';
    case 'bool':
      return (raw.varint ?? 0n) !== 0n;
    case 'int32':
    case 'int64':
    case 'uint32':
    case 'uint64':
      return signed(raw.varint ?? 0n);
    case 'double':
      return raw.fixed?.readDoubleLE(0) ?? 0;
    case 'float':
      return raw.fixed?.readFloatLE(0) ?? 0;
    case 'Time':
      return timeOf(raw.bytes ?? Buffer.alloc(0), false);
    case 'MicroTime':
      return timeOf(raw.bytes ?? Buffer.alloc(0), true);
    case 'Duration': {
      const ns = signed(fieldsOf(raw.bytes ?? Buffer.alloc(0)).get(1)?.[0]?.varint ?? 0n);
      return `${ns / 1e9}s`;
    }
    case 'FieldsV1':
    case 'RawExtension':
      return jsonOf(fieldsOf(raw.bytes ?? Buffer.alloc(0)).get(1)?.[0]?.bytes ?? Buffer.alloc(0));
    case 'Quantity':
      return fieldsOf(raw.bytes ?? Buffer.alloc(0)).get(1)?.[0]?.bytes?.toString('utf8') ?? '';
    case 'IntOrString': {
      const f = fieldsOf(raw.bytes ?? Buffer.alloc(0));
      return signed(f.get(1)?.[0]?.varint ?? 0n) === 1 ? (f.get(3)?.[0]?.bytes?.toString('utf8') ?? '') : signed(f.get(2)?.[0]?.varint ?? 0n);
    }
    default: {
      const fields = MESSAGES[type];
      if (!fields) throw badRequest(`protobuf: no schema for ${type}`);
      return decodeMessage(raw.bytes ?? Buffer.alloc(0), fields);
    }
  }
}

/** A packed repeated scalar (wire type 2 holding varints) unpacked into single values. */
function unpack(type: string, raws: Raw[]): Raw[] {
  if (!['bool', 'int32', 'int64', 'uint32', 'uint64'].includes(type)) return raws;
  const out: Raw[] = [];
  for (const r of raws) {
    if (r.wire !== 2 || !r.bytes) {
      out.push(r);
      continue;
    }
    const rd = new Reader(r.bytes);
    while (!rd.done) out.push({ wire: 0, varint: rd.varint() });
  }
  return out;
}

/** What Go's JSON encoding leaves out (omitempty): empty, zero, false, null, {}. */
function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || v === 0 || v === false || (isObj(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0);
}

function decodeMessage(buf: Buffer, schema: readonly ProtoField[]): Obj {
  const present = fieldsOf(buf);
  const out: Obj = {};
  for (const [num, name, type, label] of schema) {
    const raws = present.get(num);
    if (!raws) continue;
    if (label === 2) {
      const [kt = 'string', vt = 'string'] = type.split(',');
      const m: Obj = {};
      for (const r of raws) {
        const e = fieldsOf(r.bytes ?? Buffer.alloc(0));
        const k = e.get(1)?.[0];
        const v = e.get(2)?.[0];
        m[String(k ? scalar(kt, k) : '')] = v ? scalar(vt, v) : vt === 'string' || vt === 'bytes' ? '' : undefined;
      }
      if (Object.keys(m).length > 0) out[name] = m;
    } else if (label === 1) {
      out[name] = unpack(type, raws).map((r) => scalar(type, r));
    } else {
      const v = scalar(type, raws[raws.length - 1] as Raw);
      if (!isEmpty(v)) out[name] = v;
    }
  }
  return out;
}

/** The JSON object a Kubernetes protobuf body encodes. */
export function decodeKubernetesProtobuf(body: Buffer): Obj {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf: missing the "k8s\\0" prefix');
  const unknown = fieldsOf(body.subarray(4));
  const typeMeta = fieldsOf(unknown.get(1)?.[0]?.bytes ?? Buffer.alloc(0));
  const apiVersion = typeMeta.get(1)?.[0]?.bytes?.toString('utf8') ?? '';
  const kind = typeMeta.get(2)?.[0]?.bytes?.toString('utf8') ?? '';
  const raw = unknown.get(2)?.[0]?.bytes ?? Buffer.alloc(0);
  const group = apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : kind === 'DeleteOptions' ? 'meta.k8s.io' : '';
  const pkg = PACKAGES[group];
  const schema = pkg ? MESSAGES[`${pkg}.${kind}`] : undefined;
  if (!schema) throw unsupportedMediaType(PROTOBUF, ['application/json', 'application/yaml']);
  return { apiVersion, kind, ...decodeMessage(raw, schema) };
}
