// Server-side apply (`application/apply-patch+yaml`), reduced to what a single field
// manager needs: the applied configuration is merged into the live object (maps by key,
// associative lists by their list-map keys, everything else replaced), and fields this
// manager applied last time but no longer applies are removed. Ownership conflicts
// between managers are not tracked: every apply behaves as if `force=true`.
import { builtinSchema, type PatchSchema } from './strategic-merge.js';
import { clone, deepEqual, isObj, type Obj } from './object.js';

function listKeys(schema: PatchSchema, path: string[]): string[] | undefined {
  const s = schema(path);
  if (!s) return undefined;
  if (s.keys) return s.keys;
  return s.key ? [s.key] : [];
}

function itemMatches(a: unknown, b: unknown, keys: string[]): boolean {
  if (keys.length === 0) return deepEqual(a, b);
  if (!isObj(a) || !isObj(b)) return false;
  // An absent protocol means TCP for ports (the defaulted value), as in the apply schema.
  return keys.every((k) => (a[k] ?? (k === 'protocol' ? 'TCP' : undefined)) === (b[k] ?? (k === 'protocol' ? 'TCP' : undefined)));
}

function mergeApplied(live: unknown, applied: unknown, path: string[], schema: PatchSchema): unknown {
  if (isObj(applied)) {
    const out: Obj = isObj(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) delete out[k];
      else out[k] = mergeApplied(out[k], v, [...path, k], schema);
    }
    return out;
  }
  if (Array.isArray(applied)) {
    const keys = listKeys(schema, path);
    if (!keys || !Array.isArray(live)) return clone(applied);
    const out = live.slice();
    for (const item of applied) {
      const i = out.findIndex((x) => itemMatches(x, item, keys));
      if (i >= 0) out[i] = keys.length === 0 ? item : mergeApplied(out[i], item, path, schema);
      else out.push(clone(item));
    }
    return out;
  }
  return applied;
}

function prune(result: unknown, prev: unknown, applied: unknown, path: string[], schema: PatchSchema): void {
  if (isObj(result) && isObj(prev)) {
    const now = isObj(applied) ? applied : {};
    for (const k of Object.keys(prev)) {
      if (path.length === 1 && path[0] === 'metadata' && (k === 'name' || k === 'namespace')) continue;
      if (!(k in now)) delete result[k];
      else prune(result[k], prev[k], now[k], [...path, k], schema);
    }
    return;
  }
  if (Array.isArray(result) && Array.isArray(prev)) {
    const keys = listKeys(schema, path);
    if (!keys) return;
    const now = Array.isArray(applied) ? applied : [];
    for (const old of prev) {
      if (now.some((x) => itemMatches(x, old, keys))) {
        const cur = result.find((x) => itemMatches(x, old, keys));
        const nxt = now.find((x) => itemMatches(x, old, keys));
        if (keys.length > 0) prune(cur, old, nxt, path, schema);
        continue;
      }
      const i = result.findIndex((x) => itemMatches(x, old, keys));
      if (i >= 0) result.splice(i, 1);
    }
  }
}

/**
 * The object after `applied` is applied over `live` by a manager whose previous applied
 * configuration was `prev` (undefined on its first apply).
 */
export function serverSideApply(live: Obj, applied: Obj, prev: Obj | undefined, schema: PatchSchema = builtinSchema): Obj {
  const result = mergeApplied(clone(live), applied, [], schema) as Obj;
  if (prev) prune(result, prev, applied, [], schema);
  return result;
}
