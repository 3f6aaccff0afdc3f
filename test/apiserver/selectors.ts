// Label and field selectors as they arrive in `?labelSelector=` and `?fieldSelector=`:
// the string grammars of k8s.io/apimachinery/pkg/labels (=, ==, !=, in, notin, exists,
// !exists, gt, lt) and pkg/fields (=, ==, != over field paths).
import { badRequest } from './errors.js';
import { fieldString, type Obj } from './object.js';

type LabelOp = 'eq' | 'neq' | 'in' | 'notin' | 'exists' | '!exists' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

export type LabelSelector = readonly LabelRequirement[];

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, text: string): void {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${text}"`);
}

function checkValue(v: string, text: string): void {
  if (v.length > 63 || !VALUE.test(v)) throw badRequest(`unable to parse requirement: invalid label value "${v}" in selector "${text}"`);
}

/** Splits on commas that are not inside `( … )`. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

export function parseLabelSelector(text: string | null | undefined): LabelSelector {
  const s = (text ?? '').trim();
  if (s === '') return [];
  const reqs: LabelRequirement[] = [];
  for (const raw of splitTop(s)) {
    const part = raw.trim();
    if (part === '') throw badRequest(`unable to parse requirement: found '', expected: identifier in selector "${s}"`);
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^!\s*(\S+)$/))) {
      checkKey(m[1] as string, s);
      reqs.push({ key: m[1] as string, op: '!exists', values: [] });
    } else if ((m = part.match(/^(\S+?)\s+(in|notin)\s*\((.*)\)$/))) {
      const key = m[1] as string;
      checkKey(key, s);
      const values = (m[3] as string).split(',').map((v) => v.trim());
      values.forEach((v) => checkValue(v, s));
      reqs.push({ key, op: m[2] as 'in' | 'notin', values });
    } else if ((m = part.match(/^([^!=<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/))) {
      const key = m[1] as string;
      checkKey(key, s);
      const value = (m[3] as string).trim();
      const op = m[2] === '!=' ? 'neq' : m[2] === '>' ? 'gt' : m[2] === '<' ? 'lt' : 'eq';
      if (op === 'gt' || op === 'lt') {
        if (!/^-?\d+$/.test(value)) throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer in selector "${s}"`);
      } else checkValue(value, s);
      reqs.push({ key, op, values: [value] });
    } else if (/^\S+$/.test(part)) {
      checkKey(part, s);
      reqs.push({ key: part, op: 'exists', values: [] });
    } else {
      throw badRequest(`unable to parse requirement: "${part}" in selector "${s}"`);
    }
  }
  return reqs;
}

export function matchLabels(sel: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  for (const r of sel) {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = has ? (labels as Record<string, string>)[r.key] : undefined;
    switch (r.op) {
      case 'eq':
        if (!has || v !== r.values[0]) return false;
        break;
      case 'neq':
        if (has && v === r.values[0]) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(v as string)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(v as string)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case '!exists':
        if (has) return false;
        break;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v as string)) return false;
        const n = Number(v);
        const bound = Number(r.values[0]);
        if (r.op === 'gt' ? !(n > bound) : !(n < bound)) return false;
        break;
      }
    }
  }
  return true;
}

export interface FieldRequirement {
  field: string;
  value: string;
  equal: boolean;
}

export type FieldSelector = readonly FieldRequirement[];

/** Splits on an unescaped separator; `\,` `\=` `\\` escape as in pkg/fields. */
function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + (s[i + 1] as string);
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

export function parseFieldSelector(text: string | null | undefined): FieldSelector {
  const s = (text ?? '').trim();
  if (s === '') return [];
  return splitEscaped(s, ',').map((part) => {
    const m = part.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/s);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${part}'`);
    return { field: (m[1] as string).trim(), value: unescape(m[3] as string), equal: m[2] !== '!=' };
  });
}

export function matchFields(sel: FieldSelector, o: Obj): boolean {
  for (const r of sel) {
    if ((fieldString(o, r.field) === r.value) !== r.equal) return false;
  }
  return true;
}
