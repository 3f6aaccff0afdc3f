// The subset of Kubernetes JSONPath that CRD additionalPrinterColumns use:
// `.a.b`, `[n]`, `[*]`, `['key']` and filters `[?(@.k=="v")]` / `[?(@.k)]`.
import { isObj } from './object.js';

type Step = { field: string } | { index: number } | { all: true } | { filter: string[]; value?: string };

function parse(path: string): Step[] {
  const steps: Step[] = [];
  let s = path.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  if (s.startsWith('$')) s = s.slice(1);
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === '.') {
      const m = /^\.([A-Za-z0-9_\-/]+)/.exec(s.slice(i));
      if (!m) throw new Error(`bad JSONPath ${path}`);
      steps.push({ field: m[1] as string });
      i += m[0].length;
    } else if (c === '[') {
      const end = s.indexOf(']', i);
      if (end < 0) throw new Error(`bad JSONPath ${path}`);
      const inner = s.slice(i + 1, end);
      if (inner === '*') steps.push({ all: true });
      else if (/^\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else if (/^'.*'$/.test(inner)) steps.push({ field: inner.slice(1, -1) });
      else {
        const f = /^\?\(@((?:\.[A-Za-z0-9_-]+)+)\s*(?:==\s*["']?([^"')]*)["']?)?\)$/.exec(inner);
        if (!f) throw new Error(`unsupported JSONPath ${path}`);
        const filter = (f[1] as string).slice(1).split('.');
        steps.push(f[2] !== undefined ? { filter, value: f[2] } : { filter });
      }
      i = end + 1;
    } else throw new Error(`bad JSONPath ${path}`);
  }
  return steps;
}

function dig(v: unknown, fields: string[]): unknown {
  let cur = v;
  for (const f of fields) cur = isObj(cur) ? cur[f] : undefined;
  return cur;
}

/** Every value the path selects, in document order. */
export function evaluate(path: string, root: unknown): unknown[] {
  let cur: unknown[] = [root];
  for (const step of parse(path)) {
    const next: unknown[] = [];
    for (const v of cur) {
      if ('field' in step) {
        if (isObj(v) && v[step.field] !== undefined) next.push(v[step.field]);
      } else if ('index' in step) {
        if (Array.isArray(v) && step.index < v.length) next.push(v[step.index]);
      } else if ('all' in step) {
        if (Array.isArray(v)) next.push(...v);
        else if (isObj(v)) next.push(...Object.values(v));
      } else if (Array.isArray(v)) {
        for (const e of v) {
          const got = dig(e, step.filter);
          if (step.value === undefined ? got !== undefined : got !== undefined && String(got) === step.value) next.push(e);
        }
      }
    }
    cur = next;
  }
  return cur;
}
