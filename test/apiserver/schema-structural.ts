// Structural OpenAPI v3 schemas as the apiextensions apiserver applies them to custom
// resources: pruning of unknown fields, defaulting, and schema validation with
// kube-openapi's messages mapped to field errors the way
// apiextensions-apiserver/pkg/apiserver/validation.ValidateCustomResource maps them.
// Validation ratchets as Kubernetes 1.30+ does (CRDValidationRatcheting): on update, a
// value equal to the old one at the same place is not re-judged, so tightening a schema
// never locks existing objects out of status writes.
import {
  duplicate,
  goFloat,
  goQuote,
  invalid,
  NIL_FIELD,
  notSupported,
  required,
  tooLong,
  tooMany,
  typeInvalid,
  type FieldError,
} from './schema-errors.js';

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  optionalOldSelf?: boolean;
}

/** The subset of JSONSchemaProps a structural schema may use. */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  default?: unknown;
  nullable?: boolean;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  not?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

export type JSONObject = Record<string, unknown>;

export function isObject(v: unknown): v is JSONObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The schema of the values of a map (additionalProperties), if any. */
export function mapValueSchema(s: Schema): Schema | undefined {
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/** A place in an object, in the two spellings Kubernetes uses: kube-openapi's and field.Path's. */
export class Path {
  static readonly root = new Path('', '');
  private constructor(
    /** `spec.labels.app`, `spec.addresses[0]`: kube-openapi's, used by schema errors. */
    readonly openapi: string,
    /** `spec.labels[app]`, `spec.addresses[0]`: field.Path's, used by CEL and list errors. */
    readonly field: string,
  ) {}
  child(name: string): Path {
    return new Path(this.openapi ? `${this.openapi}.${name}` : name, this.field ? `${this.field}.${name}` : name);
  }
  index(i: number): Path {
    return new Path(`${this.openapi}[${i}]`, `${this.field}[${i}]`);
  }
  key(k: string): Path {
    return new Path(this.openapi ? `${this.openapi}.${k}` : k, `${this.field}[${k}]`);
  }
  /** A field.Path child given as an already-normalised path (`spec.x`, `a[b]`). */
  append(normalized: string): Path {
    if (!normalized) return this;
    const sep = normalized.startsWith('[') || !this.field ? '' : '.';
    return new Path(this.openapi + sep + normalized, this.field + sep + normalized);
  }
}

export function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'object':
      return 'object';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'bigint':
      return 'integer';
    case 'number':
      return Number.isInteger(v) ? 'integer' : 'number';
    default:
      return typeof v;
  }
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export function cloneJSON<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

// ------------------------------------------------------------------ pruning

/** ObjectMeta's fields: anything else under the root `metadata` is dropped. */
const OBJECT_META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

/**
 * Drops the fields the schema does not know, in place, as the apiserver does when it
 * decodes a custom resource. Returns the dropped paths (`spec.foo`), which is what
 * `fieldValidation=Strict` reports as `unknown field "spec.foo"`.
 */
export function prune(schema: Schema, obj: JSONObject): string[] {
  const dropped: string[] = [];
  pruneNode(schema, obj, Path.root, true, dropped);
  return dropped;
}

function pruneNode(s: Schema, v: unknown, path: Path, isRoot: boolean, dropped: string[]): void {
  if (Array.isArray(v)) {
    if (s.items) v.forEach((item, i) => pruneNode(s.items as Schema, item, path.index(i), false, dropped));
    return;
  }
  if (!isObject(v)) return;
  const embedded = isRoot || s['x-kubernetes-embedded-resource'] === true;
  const addl = mapValueSchema(s);
  for (const key of Object.keys(v)) {
    if (embedded && (key === 'apiVersion' || key === 'kind')) continue;
    if (embedded && key === 'metadata') {
      if (isRoot && isObject(v.metadata)) {
        for (const mk of Object.keys(v.metadata)) {
          if (!OBJECT_META_FIELDS.has(mk)) {
            delete v.metadata[mk];
            dropped.push(path.child('metadata').child(mk).openapi);
          }
        }
      }
      continue;
    }
    const prop = s.properties?.[key];
    if (prop) pruneNode(prop, v[key], path.child(key), false, dropped);
    else if (addl) pruneNode(addl, v[key], path.key(key), false, dropped);
    else if (s.additionalProperties === true || s['x-kubernetes-preserve-unknown-fields'] === true) continue;
    else {
      delete v[key];
      dropped.push(path.child(key).openapi);
    }
  }
}

// ------------------------------------------------------------------ defaulting

/**
 * Structural defaulting, in place: absent fields (and nulls where null is not allowed)
 * take their schema default, nested defaults apply inside defaulted values and inside
 * every array item and map value; nulls without a default where null is not allowed
 * are dropped (apiextensions' PruneNonNullableNullsWithoutDefaults).
 */
export function applyDefaults(schema: Schema, obj: JSONObject): void {
  defaultNode(schema, obj, true);
}

function defaultNode(s: Schema, v: unknown, isRoot: boolean): void {
  if (Array.isArray(v)) {
    const items = s.items;
    if (!items) return;
    for (let i = 0; i < v.length; i++) {
      if (v[i] === null && items.default !== undefined && !items.nullable) v[i] = cloneJSON(items.default);
      defaultNode(items, v[i], false);
    }
    return;
  }
  if (!isObject(v)) return;
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    if (isRoot && key === 'metadata') continue;
    const has = Object.prototype.hasOwnProperty.call(v, key);
    if (prop.default !== undefined && (!has || (v[key] === null && !prop.nullable))) {
      v[key] = cloneJSON(prop.default);
    } else if (has && v[key] === null && !prop.nullable) {
      delete v[key];
    }
  }
  const addl = mapValueSchema(s);
  for (const key of Object.keys(v)) {
    if (isRoot && key === 'metadata') continue;
    const sub = s.properties?.[key] ?? addl;
    if (sub) defaultNode(sub, v[key], false);
  }
}

// ------------------------------------------------------------------ validation

/** Go RE2 and ECMAScript agree on the patterns CRDs use; compiled once per schema node. */
const patternCache = new WeakMap<Schema, RegExp>();
function patternOf(s: Schema): RegExp {
  let re = patternCache.get(s);
  if (!re) {
    re = new RegExp(s.pattern ?? '');
    patternCache.set(s, re);
  }
  return re;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The string formats Kubernetes validates (k8s.io/kube-openapi strfmt); others pass. */
const FORMATS: Record<string, (s: string) => boolean> = {
  'date-time': (s) => RFC3339.test(s) && !Number.isNaN(Date.parse(s.replace(' ', 'T'))),
  datetime: (s) => RFC3339.test(s) && !Number.isNaN(Date.parse(s.replace(' ', 'T'))),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  byte: (s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0,
  uuid: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  ipv4: (s) => /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(s),
  hostname: (s) =>
    s.length <= 255 && /^([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*\.?$/.test(s),
};

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
/** As doubles: the largest below 2^63 is 2^63 - 1024 (2^63 - 1 itself rounds up to 2^63). */
const INT64 = { min: -(2 ** 63), max: 2 ** 63 - 1024 };

interface Walk {
  errors: FieldError[];
}

/**
 * Schema validation of a whole object (the root schema of a CRD version). `old` turns
 * on ratcheting. Errors come in kube-openapi's order: type, string, format, number,
 * array, enum, object.
 */
export function validateSchema(schema: Schema, obj: JSONObject, old?: JSONObject): FieldError[] {
  const w: Walk = { errors: [] };
  validateNode(w, schema, obj, old, old !== undefined, Path.root, false, true);
  return w.errors;
}

/** Validates one value against one schema node; exported for default checks. */
export function validateValue(schema: Schema, value: unknown, path = ''): FieldError[] {
  const w: Walk = { errors: [] };
  let p = Path.root;
  for (const seg of path.split('.').filter(Boolean)) p = p.child(seg);
  validateNode(w, schema, value, undefined, false, p, false, false);
  return w.errors;
}

function validateNode(
  w: Walk,
  s: Schema,
  v: unknown,
  old: unknown,
  hasOld: boolean,
  path: Path,
  ratcheted: boolean,
  isRoot: boolean,
): void {
  const unchanged = ratcheted || (hasOld && deepEqual(v, old));
  const emit = (e: FieldError): void => {
    if (!unchanged) w.errors.push(e);
  };
  const name = path.openapi;
  const at = name === '' ? NIL_FIELD : name;

  if (v === null || v === undefined) {
    if (s.nullable || !s.type) return;
    emit(typeInvalid(at, 'null', `${name} in body must be of type ${s.type}: "null"`));
    return;
  }
  const actual = jsonType(v);
  if (s.type && s.type !== actual && !(s.type === 'number' && actual === 'integer')) {
    emit(typeInvalid(at, actual, `${name} in body must be of type ${s.type}: ${goQuote(actual)}`));
    return;
  }
  if (s['x-kubernetes-int-or-string'] && actual !== 'integer' && actual !== 'string' && !s.anyOf) {
    emit(typeInvalid(at, actual, `${name} in body must be of type integer or string: ${goQuote(actual)}`));
    return;
  }

  for (const sub of s.allOf ?? []) validateNode(w, sub, v, old, hasOld, path, unchanged, false);
  if (s.anyOf && !s.anyOf.some((sub) => validateValueQuiet(sub, v, path))) {
    emit(invalid(at, v, `${name} in body must validate at least one schema (anyOf)`));
  }
  if (s.oneOf && s.oneOf.filter((sub) => validateValueQuiet(sub, v, path)).length !== 1) {
    emit(invalid(at, v, `${name} in body must validate one and only one schema (oneOf)`));
  }
  if (s.not && validateValueQuiet(s.not, v, path)) {
    emit(invalid(at, v, `${name} in body must not validate the schema (not)`));
  }

  if (typeof v === 'string') {
    const length = [...v].length;
    if (s.maxLength !== undefined && length > s.maxLength) emit(tooLong(at, s.maxLength));
    else if (s.minLength !== undefined && length < s.minLength) {
      emit(invalid(at, v, `${name} in body should be at least ${s.minLength} chars long`));
    } else if (s.pattern !== undefined && !patternOf(s).test(v)) {
      emit(invalid(at, v, `${name} in body should match '${s.pattern}'`));
    }
    const check = s.format ? FORMATS[s.format] : undefined;
    if (check && !check(v)) emit(typeInvalid(at, v, `${name} in body must be of type ${s.format}: ${goQuote(v)}`));
  }

  if (typeof v === 'number') validateNumber(s, v, name, at, emit);

  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) {
      emit(invalid(at, v.length, `${name} in body should have at least ${s.minItems} items`));
    }
    if (s.maxItems !== undefined && v.length > s.maxItems) emit(tooMany(at, v.length, s.maxItems));
    if (s.uniqueItems && v.some((x, i) => v.findIndex((y) => deepEqual(x, y)) !== i)) {
      emit(invalid(at, v, `${name} in body shouldn't contain duplicates`));
    }
    if (s.items) {
      const items = s.items;
      v.forEach((item, i) => {
        const o = correlateItem(s, item, old, i);
        validateNode(w, items, item, o.value, o.found, path.index(i), unchanged, false);
      });
    }
  }

  if (s.enum && !s.enum.some((e) => deepEqual(e, v))) emit(notSupported(at, v, s.enum));

  if (isObject(v)) {
    const count = Object.keys(v).length;
    if (s.maxProperties !== undefined && count > s.maxProperties) emit(tooMany(at, count, s.maxProperties));
    if (s.minProperties !== undefined && count < s.minProperties) {
      emit(invalid(at, s.minProperties, `${name} in body should have at least ${s.minProperties} properties`));
    }
    // `required` is never ratcheted.
    for (const r of s.required ?? []) {
      if (!Object.prototype.hasOwnProperty.call(v, r)) w.errors.push(required(path.child(r).openapi));
    }
    const addl = mapValueSchema(s);
    const oldObj = hasOld && isObject(old) ? old : undefined;
    for (const [key, val] of Object.entries(v)) {
      // ObjectMeta is validated by the generic apiserver code, not by the CRD schema.
      if (isRoot && key === 'metadata') continue;
      const hasOldChild = oldObj !== undefined && Object.prototype.hasOwnProperty.call(oldObj, key);
      const prop = s.properties?.[key];
      if (prop) validateNode(w, prop, val, oldObj?.[key], hasOldChild, path.child(key), unchanged, false);
      else if (addl) validateNode(w, addl, val, oldObj?.[key], hasOldChild, path.key(key), unchanged, false);
    }
  }
}

function validateValueQuiet(s: Schema, v: unknown, path: Path): boolean {
  const w: Walk = { errors: [] };
  validateNode(w, s, v, undefined, false, path, false, false);
  return w.errors.length === 0;
}

function validateNumber(s: Schema, v: number, name: string, at: string, emit: (e: FieldError) => void): void {
  const integral = Number.isInteger(v);
  // kube-openapi's IsValueValidAgainstRange: a plain error, which ValidateCustomResource
  // reports against the root with an empty value.
  if (s.type === 'integer') {
    const range = s.format === 'int32' ? INT32 : INT64;
    if (v < range.min || v > range.max) {
      const format = s.format === 'int32' || s.format === 'int64' ? `with format ${s.format}` : '(default format)';
      emit(invalid(NIL_FIELD, '', `Checked value must be of type integer ${format} in ${name}`));
    }
  }
  // Bounds print as int64 when the value is an integer, as float64 (%v) otherwise.
  const bound = (b: number): string => (integral ? String(Math.trunc(b)) : goFloat(b));
  if (s.multipleOf !== undefined && !Number.isInteger(v / s.multipleOf)) {
    emit(invalid(at, v, `${name} in body should be a multiple of ${bound(s.multipleOf)}`));
  }
  if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
    const rel = s.exclusiveMaximum ? 'less than' : 'less than or equal to';
    emit(invalid(at, v, `${name} in body should be ${rel} ${bound(s.maximum)}`));
  }
  if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
    const rel = s.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
    emit(invalid(at, v, `${name} in body should be ${rel} ${bound(s.minimum)}`));
  }
}

// ------------------------------------------------------------------ list types

/** The key fields of a list-type=map item, as a map (what Kubernetes prints for duplicates). */
function listMapKey(s: Schema, item: JSONObject): JSONObject {
  const key: JSONObject = {};
  for (const k of s['x-kubernetes-list-map-keys'] ?? []) {
    if (Object.prototype.hasOwnProperty.call(item, k)) key[k] = item[k];
    else if (s.items?.properties?.[k]?.default !== undefined) key[k] = s.items.properties[k]?.default;
  }
  return key;
}

/**
 * The old value that corresponds to item `i` of an array: by key for list-type=map, by
 * value for list-type=set; atomic lists do not correlate item by item.
 */
export function correlateItem(s: Schema, item: unknown, old: unknown, _i: number): { found: boolean; value: unknown } {
  if (!Array.isArray(old)) return { found: false, value: undefined };
  const listType = s['x-kubernetes-list-type'];
  if (listType === 'map' && isObject(item)) {
    const key = listMapKey(s, item);
    const match = old.find((o) => isObject(o) && deepEqual(listMapKey(s, o), key));
    return match === undefined ? { found: false, value: undefined } : { found: true, value: match };
  }
  if (listType === 'set') {
    const match = old.find((o) => deepEqual(o, item));
    return match === undefined ? { found: false, value: undefined } : { found: true, value: match };
  }
  return { found: false, value: undefined };
}

/**
 * x-kubernetes-list-type set/map uniqueness (structurallisttype.ValidateListSetsAndMaps).
 * Paths are field.Path spellings.
 */
export function validateListTypes(schema: Schema, obj: JSONObject): FieldError[] {
  const errors: FieldError[] = [];
  listTypesNode(schema, obj, Path.root, errors);
  return errors;
}

function listTypesNode(s: Schema, v: unknown, path: Path, errors: FieldError[]): void {
  if (Array.isArray(v)) {
    const listType = s['x-kubernetes-list-type'];
    if (listType === 'set') {
      v.forEach((x, i) => {
        if (v.findIndex((y) => deepEqual(x, y)) !== i) errors.push(duplicate(path.index(i).field, x));
      });
    } else if (listType === 'map') {
      const bad = v.findIndex((x) => !isObject(x));
      if (bad >= 0) {
        errors.push(invalid(path.index(bad).field, v[bad], 'must be an object for an array of list-type map'));
        return;
      }
      const keys = v.map((x) => listMapKey(s, x as JSONObject));
      keys.forEach((k, i) => {
        if (keys.findIndex((o) => deepEqual(o, k)) !== i) errors.push(duplicate(path.index(i).field, k));
      });
    }
    if (s.items) v.forEach((x, i) => listTypesNode(s.items as Schema, x, path.index(i), errors));
    return;
  }
  if (!isObject(v)) return;
  const addl = mapValueSchema(s);
  for (const [key, val] of Object.entries(v)) {
    const prop = s.properties?.[key];
    if (prop) listTypesNode(prop, val, path.child(key), errors);
    else if (addl) listTypesNode(addl, val, path.key(key), errors);
  }
}

// ------------------------------------------------------------------ schema checks

/**
 * The structural-schema rules a CRD must meet before the apiserver accepts it, checked
 * on herald's own manifests so a broken schema fails at load time, not at first use:
 * every node has a type (unless int-or-string or preserve-unknown-fields), defaults
 * validate against their schema and survive pruning.
 */
export function structuralProblems(s: Schema, at = 'openAPIV3Schema', inJunctor = false): string[] {
  const problems: string[] = [];
  const untyped = s['x-kubernetes-int-or-string'] || s['x-kubernetes-preserve-unknown-fields'];
  if (!inJunctor && !s.type && !untyped) problems.push(`${at}.type: Required value: must not be empty for specified fields`);
  if (s.type === 'array' && !s.items) problems.push(`${at}.items: Required value: must be specified`);
  if (s.default !== undefined) {
    for (const e of validateValue(s, s.default)) problems.push(`${at}.default: ${e.field}: ${e.message}`);
    if (isObject(s.default) || Array.isArray(s.default)) {
      const copy = { v: cloneJSON(s.default) };
      const dropped = prune({ type: 'object', properties: { v: s } }, copy);
      if (dropped.length) problems.push(`${at}.default: Invalid value: must not have unknown fields: ${dropped.join(', ')}`);
    }
  }
  if (s['x-kubernetes-list-type'] === 'map' && !(s['x-kubernetes-list-map-keys'] ?? []).length) {
    problems.push(`${at}.x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map`);
  }
  for (const [k, p] of Object.entries(s.properties ?? {})) problems.push(...structuralProblems(p, `${at}.properties[${k}]`, inJunctor));
  const addl = mapValueSchema(s);
  if (addl) problems.push(...structuralProblems(addl, `${at}.additionalProperties`, inJunctor));
  if (s.items) problems.push(...structuralProblems(s.items, `${at}.items`, inJunctor));
  for (const j of ['allOf', 'anyOf', 'oneOf'] as const) {
    (s[j] ?? []).forEach((sub, i) => problems.push(...structuralProblems(sub, `${at}.${j}[${i}]`, true)));
  }
  return problems;
}
