// ObjectMeta validation with apimachinery's wording (pkg/api/validation/objectmeta.go,
// pkg/util/validation/validation.go): names, label keys and values.
import { fieldError, type FieldError } from './errors.js';
import { isObj, type Meta, type Obj } from './object.js';
import type { NameRule } from './registry.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const MSG = {
  dns1123Label:
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  dns1123Subdomain:
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  dns1035Label:
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  labelValue:
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  qualifiedName:
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
};

export function validateName(name: string, rule: NameRule, field = 'metadata.name'): FieldError[] {
  const errs: FieldError[] = [];
  switch (rule) {
    case 'dns1123':
      if (name.length > 63) errs.push(fieldError.invalid(field, name, 'must be no more than 63 characters'));
      if (!DNS1123_LABEL.test(name)) errs.push(fieldError.invalid(field, name, MSG.dns1123Label));
      break;
    case 'dns1035':
      if (name.length > 63) errs.push(fieldError.invalid(field, name, 'must be no more than 63 characters'));
      if (!DNS1035_LABEL.test(name)) errs.push(fieldError.invalid(field, name, MSG.dns1035Label));
      break;
    case 'subdomain':
      if (name.length > 253) errs.push(fieldError.invalid(field, name, 'must be no more than 253 characters'));
      if (!DNS1123_SUBDOMAIN.test(name)) errs.push(fieldError.invalid(field, name, MSG.dns1123Subdomain));
      break;
    case 'path':
      if (name === '.' || name === '..') errs.push(fieldError.invalid(field, name, `may not be '${name}'`));
      for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(fieldError.invalid(field, name, `may not contain '${bad}'`));
      break;
  }
  return errs;
}

export function isDNS1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** A label or annotation key: `[prefix/]name`, prefix a DNS subdomain. */
export function validateQualifiedName(key: string, field: string): FieldError[] {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const errs: FieldError[] = [];
  if (slash >= 0 && (prefix === '' || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    errs.push(fieldError.invalid(field, key, `prefix part ${MSG.dns1123Subdomain}`));
  }
  if (name === '') errs.push(fieldError.invalid(field, key, 'name part must be non-empty'));
  else {
    if (name.length > 63) errs.push(fieldError.invalid(field, key, 'name part must be no more than 63 characters'));
    if (!QUALIFIED_NAME.test(name)) errs.push(fieldError.invalid(field, key, MSG.qualifiedName));
  }
  return errs;
}

export function validateMeta(o: Obj, rule: NameRule): FieldError[] {
  const m = (isObj(o.metadata) ? o.metadata : {}) as Meta;
  const errs: FieldError[] = [];
  if (typeof m.name === 'string') errs.push(...validateName(m.name, rule));
  if (m.labels !== undefined) {
    if (!isObj(m.labels)) errs.push(fieldError.invalid('metadata.labels', m.labels, 'must be a map of strings'));
    else {
      for (const [k, v] of Object.entries(m.labels)) {
        errs.push(...validateQualifiedName(k, 'metadata.labels'));
        if (typeof v !== 'string') errs.push(fieldError.invalid(`metadata.labels`, v, 'must be a string'));
        else {
          if (v.length > 63) errs.push(fieldError.invalid('metadata.labels', v, 'must be no more than 63 characters'));
          if (!LABEL_VALUE.test(v)) errs.push(fieldError.invalid('metadata.labels', v, MSG.labelValue));
        }
      }
    }
  }
  if (m.annotations !== undefined) {
    if (!isObj(m.annotations)) errs.push(fieldError.invalid('metadata.annotations', m.annotations, 'must be a map of strings'));
    else {
      for (const [k, v] of Object.entries(m.annotations)) {
        errs.push(...validateQualifiedName(k.toLowerCase(), 'metadata.annotations'));
        if (typeof v !== 'string') errs.push(fieldError.invalid('metadata.annotations', v, 'must be a string'));
      }
    }
  }
  if (m.finalizers !== undefined) {
    if (!Array.isArray(m.finalizers)) errs.push(fieldError.invalid('metadata.finalizers', m.finalizers, 'must be a list of strings'));
    else m.finalizers.forEach((f, i) => {
      if (typeof f !== 'string') errs.push(fieldError.invalid(`metadata.finalizers[${i}]`, f, 'must be a string'));
      else errs.push(...validateQualifiedName(f, `metadata.finalizers[${i}]`));
    });
  }
  return errs;
}

const CONDITION_REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/**
 * metav1.Condition lists (apimachinery pkg/apis/meta/v1/validation ValidateConditions), as
 * Service status.conditions are checked: type unique and a qualified name, status
 * True/False/Unknown, lastTransitionTime and a CamelCase reason required.
 */
export function validateConditions(conditions: unknown, field: string): FieldError[] {
  if (conditions === undefined || conditions === null) return [];
  if (!Array.isArray(conditions)) return [fieldError.invalid(field, conditions, 'must be a list')];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  conditions.forEach((raw, i) => {
    const f = `${field}[${i}]`;
    const c = isObj(raw) ? raw : {};
    if (typeof c.type !== 'string' || c.type === '') errs.push(fieldError.required(`${f}.type`));
    else {
      errs.push(...validateQualifiedName(c.type, `${f}.type`));
      if (seen.has(c.type)) errs.push(fieldError.duplicate(`${f}.type`, c.type));
      seen.add(c.type);
    }
    if (!['True', 'False', 'Unknown'].includes(c.status as string)) errs.push(fieldError.notSupported(`${f}.status`, c.status ?? '', ['False', 'True', 'Unknown']));
    if (typeof c.observedGeneration === 'number' && c.observedGeneration < 0) errs.push(fieldError.invalid(`${f}.observedGeneration`, c.observedGeneration, 'must be greater than or equal to zero'));
    if (typeof c.lastTransitionTime !== 'string' || c.lastTransitionTime === '') errs.push(fieldError.required(`${f}.lastTransitionTime`, 'must be set'));
    if (typeof c.reason !== 'string' || c.reason === '') errs.push(fieldError.required(`${f}.reason`, 'must be set'));
    else {
      if (c.reason.length > 1024) errs.push(fieldError.tooLong(`${f}.reason`, 1024));
      if (!CONDITION_REASON.test(c.reason)) {
        errs.push(fieldError.invalid(`${f}.reason`, c.reason, "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')"));
      }
    }
    if (typeof c.message === 'string' && c.message.length > 32768) errs.push(fieldError.tooLong(`${f}.message`, 32768));
  });
  return errs;
}
