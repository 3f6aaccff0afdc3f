// Small building blocks of the config model: collecting errors per object, reading
// optional fields of objects that may not match the CRD schema (a cluster can serve an
// older CRD, or none), and the creation order that decides which of two clashing objects
// loses.
import type { LabelSelector, ObjectMeta } from '../api/types.js';
import type { ConfigError } from './types.js';
import { selectorProblems } from './selector-rules.js';

export type ConfigKind = 'IPAddressPool' | 'L2Advertisement' | 'BGPAdvertisement' | 'BGPPeer' | 'Community' | 'BFDProfile';

/** The errors of one object. */
export class Reporter {
  /** Number of `Invalid` errors: the object cannot be used as written. */
  invalidCount = 0;

  constructor(
    private readonly sink: ConfigError[],
    readonly kind: ConfigKind,
    readonly name: string,
  ) {}

  invalid(field: string, message: string): void {
    this.invalidCount++;
    this.sink.push({ kind: this.kind, name: this.name, field, reason: 'Invalid', message });
  }

  conflict(field: string, message: string): void {
    this.sink.push({ kind: this.kind, name: this.name, field, reason: 'Conflict', message });
  }

  reference(field: string, message: string): void {
    this.sink.push({ kind: this.kind, name: this.name, field, reason: 'Reference', message });
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** An optional integer field within [min, max]; undefined when absent or invalid. */
export function optionalInt(r: Reporter, field: string, value: unknown, min: number, max: number, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    r.invalid(field, `${what} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

export function optionalBool(r: Reporter, field: string, value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') {
    r.invalid(field, `must be true or false, not ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

export function optionalString(r: Reporter, field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    r.invalid(field, `must be a string, not ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

/** An optional list of non-empty strings with no repeats (MetalLB refuses repeats too). */
export function stringList(r: Reporter, field: string, value: unknown, what: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    r.invalid(field, `${what} must be a list of strings`);
    return [];
  }
  const out: string[] = [];
  value.forEach((v: unknown, i) => {
    if (typeof v !== 'string' || v === '') r.invalid(`${field}[${i}]`, `${what} entries must be non-empty strings, not ${JSON.stringify(v)}`);
    else if (out.includes(v)) r.invalid(`${field}[${i}]`, `${what} lists "${v}" twice; remove the repeat`);
    else out.push(v);
  });
  return out;
}

/** An optional list of label selectors, each checked. */
export function selectorList(r: Reporter, field: string, value: unknown): LabelSelector[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    r.invalid(field, 'must be a list of label selectors');
    return [];
  }
  value.forEach((s: unknown, i) => {
    for (const p of selectorProblems(s)) r.invalid(p.field ? `${field}[${i}].${p.field}` : `${field}[${i}]`, p.message);
  });
  return value as LabelSelector[];
}

/** Ascending creation time; objects without one (not yet stored) last; then by name. */
export function byCreation(a: { metadata?: ObjectMeta }, b: { metadata?: ObjectMeta }): number {
  const ta = creationTime(a.metadata);
  const tb = creationTime(b.metadata);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return byName(a, b);
}

export function byName(a: { metadata?: ObjectMeta }, b: { metadata?: ObjectMeta }): number {
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

function creationTime(meta: ObjectMeta | undefined): number {
  const t = meta?.creationTimestamp ? Date.parse(meta.creationTimestamp) : NaN;
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/** Sorts names with the plain code-unit order used everywhere in the model. */
export function sortNames(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The objects of one kind that belong to the config: those in the install namespace (or
 * with none given), with a name, one per name (a second object of the same name can only
 * come from a broken source; the later one loses). Sorted by name.
 */
export function intake<T extends { metadata?: ObjectMeta }>(
  objects: readonly T[] | undefined,
  kind: ConfigKind,
  namespace: string,
  sink: ConfigError[],
): T[] {
  const seen = new Map<string, T>();
  const mine = (objects ?? []).filter((o) => isRecord(o) && (o.metadata?.namespace ?? namespace) === namespace);
  for (const o of [...mine].sort(byCreation)) {
    const name = o.metadata?.name;
    if (typeof name !== 'string' || name === '') {
      sink.push({ kind, name: '', field: 'metadata.name', reason: 'Invalid', message: `a ${kind} without a name is ignored` });
      continue;
    }
    if (seen.has(name)) {
      sink.push({ kind, name, field: 'metadata.name', reason: 'Conflict', message: `two ${kind} objects are named "${name}"; the later one is ignored` });
      continue;
    }
    seen.set(name, o);
  }
  return [...seen.values()].sort(byName);
}

/**
 * Why `name` cannot be a Linux interface name, or undefined when it can: 1..15 bytes
 * (IFNAMSIZ 16 with the NUL), not `.` or `..`, no `/`, `:` or whitespace (dev_valid_name
 * in net/core/dev.c).
 */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === '' || Buffer.byteLength(name) > 15) return `"${name}" is not an interface name: Linux allows 1 to 15 bytes`;
  if (name === '.' || name === '..' || /[/:\s]/.test(name)) return `"${name}" is not an interface name: no '/', ':', spaces, "." or ".."`;
  return undefined;
}
