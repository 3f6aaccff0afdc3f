// Field errors as Kubernetes reports them (k8s.io/apimachinery/pkg/util/validation/field):
// the `type` is the StatusCause type, and `message` is what `ErrorBody()` prints after
// "<field>: ". Values are printed the way Go's fmt prints the decoded JSON value
// (int64 and bool with %v, strings with %q, maps and slices with %#v), because that is
// what a user sees in `kubectl apply` output and what tests compare against.

export type FieldErrorType =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueNotSupported'
  | 'FieldValueTypeInvalid'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueDuplicate';

export interface FieldError {
  type: FieldErrorType;
  /** `spec.addresses[0]`; `<nil>` for errors Kubernetes attaches to no field. */
  field: string;
  /** What Kubernetes prints after "<field>: ", e.g. `Invalid value: "x": must be ...`. */
  message: string;
}

/** The field Kubernetes prints for a nil field.Path. */
export const NIL_FIELD = '<nil>';

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueInvalid: 'Invalid value',
  FieldValueRequired: 'Required value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueDuplicate: 'Duplicate value',
};

/** Marks a value Kubernetes leaves out of the message (`omitValue`). */
export const OMIT = Symbol('omit');

/** Go's strconv.Quote for the strings that occur in practice. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u007f/g, '\\x7f');
}

/** Go's %v for a float64: strconv 'g', shortest digits, exponent form below 1e-4 or from 1e6. */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mant = '', e = '0'] = n.toExponential().split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

/** Go's %v for a decoded JSON number: integers print as int64, others as float64. */
export function goNumber(n: number | bigint): string {
  if (typeof n === 'bigint') return n.toString();
  return Number.isInteger(n) && Math.abs(n) < 2 ** 63 ? BigInt(n).toString() : goFloat(n);
}

/** Go's %#v of a decoded JSON value held in an interface{} (map[string]interface{} etc.). */
export function goSyntax(v: unknown): string {
  if (v === null || v === undefined) return 'interface {}(nil)';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number' || typeof v === 'bigint') return goNumber(v);
  if (Array.isArray(v)) return `[]interface {}{${v.map(goSyntax).join(', ')}}`;
  if (typeof v === 'object') {
    const entries = Object.keys(v as object)
      .sort()
      .map((k) => `${goQuote(k)}:${goSyntax((v as Record<string, unknown>)[k])}`);
    return `map[string]interface {}{${entries.join(', ')}}`;
  }
  return String(v);
}

/** field.Error.ErrorBody(). */
export function errorBody(type: FieldErrorType, value: unknown, detail: string): string {
  let s: string;
  if (
    type === 'FieldValueRequired' ||
    type === 'FieldValueForbidden' ||
    type === 'FieldValueTooLong' ||
    value === OMIT
  ) {
    s = TYPE_TEXT[type];
  } else if (value === null || value === undefined) {
    s = `${TYPE_TEXT[type]}: "null"`;
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    s = `${TYPE_TEXT[type]}: ${goNumber(value)}`;
  } else if (typeof value === 'boolean') {
    s = `${TYPE_TEXT[type]}: ${value}`;
  } else if (typeof value === 'string') {
    s = `${TYPE_TEXT[type]}: ${goQuote(value)}`;
  } else {
    s = `${TYPE_TEXT[type]}: ${goSyntax(value)}`;
  }
  return detail ? `${s}: ${detail}` : s;
}

export function fieldError(type: FieldErrorType, field: string, value: unknown, detail: string): FieldError {
  return { type, field: field === '' ? NIL_FIELD : field, message: errorBody(type, value, detail) };
}

export const invalid = (field: string, value: unknown, detail: string): FieldError =>
  fieldError('FieldValueInvalid', field, value, detail);
export const typeInvalid = (field: string, value: unknown, detail: string): FieldError =>
  fieldError('FieldValueTypeInvalid', field, value, detail);
export const required = (field: string, detail = ''): FieldError => fieldError('FieldValueRequired', field, '', detail);
export const forbidden = (field: string, detail: string): FieldError => fieldError('FieldValueForbidden', field, '', detail);
export const duplicate = (field: string, value: unknown): FieldError => fieldError('FieldValueDuplicate', field, value, '');

export function notSupported(field: string, value: unknown, valid: unknown[]): FieldError {
  const quoted = valid.map((v) => (typeof v === 'string' ? goQuote(v) : JSON.stringify(v)));
  return fieldError('FieldValueNotSupported', field, value, quoted.length ? `supported values: ${quoted.join(', ')}` : '');
}

export function tooLong(field: string, maxLength: number): FieldError {
  const detail = maxLength >= 0 ? `may not be more than ${maxLength} ${maxLength === 1 ? 'byte' : 'bytes'}` : 'value is too long';
  return fieldError('FieldValueTooLong', field, OMIT, detail);
}

export function tooMany(field: string, actual: number, max: number): FieldError {
  const detail = max >= 0 ? `must have at most ${max} ${max === 1 ? 'item' : 'items'}` : 'has too many items';
  return fieldError('FieldValueTooMany', field, actual >= 0 ? actual : OMIT, detail);
}

/** `kubectl`-style one-line rendering of a list of errors (`<field>: <message>`). */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join(', ');
}
