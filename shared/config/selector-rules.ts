// Label selectors as config: checking one is well formed (the rules of
// apimachinery's LabelSelectorAsSelector and validation.IsQualifiedName), and deciding
// whether two lists of selectors could ever select the same object, which the
// cross-object rules need (two advertisements for the same nodes, two peers for the
// same nodes). Matching itself lives in shared/api/selector.ts.
import type { LabelSelector, LabelSelectorRequirement } from '../api/types.js';

export interface SelectorProblem {
  /** Relative to the selector: `matchExpressions[0].values`. */
  field: string;
  message: string;
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const OPERATORS: readonly string[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** Why `key` is not a label key (`prefix/name`), or undefined when it is one. */
export function labelKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key === '') return 'a label key must be a non-empty string';
  const slash = key.lastIndexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix === '' || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) {
      return `label key "${key}": the prefix must be a DNS subdomain (lowercase, at most 253 characters)`;
    }
  }
  if (name.length > 63 || !NAME.test(name)) {
    return `label key "${key}": the name must be at most 63 characters, alphanumeric, '-', '_' or '.', starting and ending alphanumeric`;
  }
  return undefined;
}

/** Why `value` is not a label value, or undefined when it is one (empty is allowed). */
export function labelValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'a label value must be a string';
  if (value === '') return undefined;
  if (value.length > 63 || !NAME.test(value)) {
    return `label value "${value}": at most 63 characters, alphanumeric, '-', '_' or '.', starting and ending alphanumeric`;
  }
  return undefined;
}

/** Every problem with one selector; empty when it is well formed. */
export function selectorProblems(selector: unknown): SelectorProblem[] {
  if (selector === null || typeof selector !== 'object' || Array.isArray(selector)) {
    return [{ field: '', message: 'a label selector must be an object with matchLabels and/or matchExpressions' }];
  }
  const out: SelectorProblem[] = [];
  const { matchLabels, matchExpressions } = selector as LabelSelector;
  if (matchLabels !== undefined) {
    if (matchLabels === null || typeof matchLabels !== 'object' || Array.isArray(matchLabels)) {
      out.push({ field: 'matchLabels', message: 'matchLabels must be a map of label keys to values' });
    } else {
      for (const [k, v] of Object.entries(matchLabels)) {
        const why = labelKeyProblem(k) ?? labelValueProblem(v);
        if (why) out.push({ field: `matchLabels[${k}]`, message: why });
      }
    }
  }
  if (matchExpressions !== undefined) {
    if (!Array.isArray(matchExpressions)) {
      out.push({ field: 'matchExpressions', message: 'matchExpressions must be a list' });
    } else {
      matchExpressions.forEach((req: unknown, i) => out.push(...requirementProblems(req, `matchExpressions[${i}]`)));
    }
  }
  return out;
}

function requirementProblems(req: unknown, field: string): SelectorProblem[] {
  if (req === null || typeof req !== 'object') return [{ field, message: 'a match expression must be an object with key, operator and values' }];
  const { key, operator, values } = req as Partial<LabelSelectorRequirement>;
  const out: SelectorProblem[] = [];
  const keyWhy = labelKeyProblem(key);
  if (keyWhy) out.push({ field: `${field}.key`, message: keyWhy });
  if (typeof operator !== 'string' || !OPERATORS.includes(operator)) {
    out.push({ field: `${field}.operator`, message: `operator ${JSON.stringify(operator)} is not one of ${OPERATORS.join(', ')}` });
    return out;
  }
  if (values !== undefined && !Array.isArray(values)) {
    out.push({ field: `${field}.values`, message: 'values must be a list of strings' });
    return out;
  }
  const list = values ?? [];
  if ((operator === 'In' || operator === 'NotIn') && list.length === 0) {
    out.push({ field: `${field}.values`, message: `operator ${operator} needs at least one value` });
  }
  if ((operator === 'Exists' || operator === 'DoesNotExist') && list.length > 0) {
    out.push({ field: `${field}.values`, message: `operator ${operator} takes no values` });
  }
  list.forEach((v: unknown, i) => {
    const why = labelValueProblem(v);
    if (why) out.push({ field: `${field}.values[${i}]`, message: why });
  });
  return out;
}

/** What one key must look like for an object to match a conjunction of selectors. */
interface KeyConstraint {
  present: boolean;
  absent: boolean;
  /** Undefined: any value; otherwise the value must be one of these. */
  allowed?: Set<string>;
  excluded: Set<string>;
}

/** Whether some label set matches every one of `selectors` (all assumed well formed). */
function satisfiable(selectors: readonly LabelSelector[]): boolean {
  const keys = new Map<string, KeyConstraint>();
  const at = (key: string): KeyConstraint => {
    let c = keys.get(key);
    if (!c) keys.set(key, (c = { present: false, absent: false, excluded: new Set() }));
    return c;
  };
  const allow = (c: KeyConstraint, values: readonly string[]): void => {
    c.present = true;
    c.allowed = new Set(c.allowed ? values.filter((v) => c.allowed!.has(v)) : values);
  };
  for (const s of selectors) {
    for (const [k, v] of Object.entries(s.matchLabels ?? {})) allow(at(k), [v]);
    for (const r of s.matchExpressions ?? []) {
      const c = at(r.key);
      if (r.operator === 'In') allow(c, r.values ?? []);
      else if (r.operator === 'NotIn') for (const v of r.values ?? []) c.excluded.add(v);
      else if (r.operator === 'Exists') c.present = true;
      else if (r.operator === 'DoesNotExist') c.absent = true;
      else return false;
    }
  }
  for (const c of keys.values()) {
    if (c.present && c.absent) return false;
    if (c.allowed && ![...c.allowed].some((v) => !c.excluded.has(v))) return false;
  }
  return true;
}

/**
 * Whether some object could match both selector lists (an empty list matches
 * everything). Decided on the selectors alone, not on the objects that exist now, so a
 * config that is valid stays valid when nodes are added or relabelled.
 */
export function selectorsMayOverlap(a: readonly LabelSelector[], b: readonly LabelSelector[]): boolean {
  const left = a.length === 0 ? [{}] : a;
  const right = b.length === 0 ? [{}] : b;
  return left.some((x) => right.some((y) => satisfiable([x, y])));
}
