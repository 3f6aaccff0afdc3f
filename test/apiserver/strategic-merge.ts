// Strategic merge patch, the patch type kubectl's client-side apply sends for built-in
// kinds (k8s.io/apimachinery/pkg/util/strategicpatch). Lists whose Go field carries
// `patchStrategy:"merge"` merge element by element on their `patchMergeKey`; every other
// list is replaced. Directives: `$patch` (replace, delete, merge), `$retainKeys`,
// `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`; null deletes a key.
import { badRequest } from './errors.js';
import { clone, isObj, type Obj } from './object.js';

/** How a list at a field path merges: by key(s) for lists of objects, by value for primitives. */
export interface ListStrategy {
  /** patchMergeKey; absent for a merging list of primitives. */
  key?: string;
  /** Server-side apply's listMapKeys when they differ from the patchMergeKey. */
  keys?: string[];
}

export type PatchSchema = (path: readonly string[]) => ListStrategy | undefined;

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/**
 * The merge keys of the core/apps types herald's components and manifests touch, from the
 * struct tags in k8s.io/api (core/v1 types.go, meta/v1 types.go).
 */
export const builtinSchema: PatchSchema = (path) => {
  const last = path[path.length - 1];
  const prev = path[path.length - 2];
  if (path.length === 2 && prev === 'metadata') {
    if (last === 'finalizers') return {};
    if (last === 'ownerReferences') return { key: 'uid' };
  }
  if (last === undefined) return undefined;
  if (CONTAINER_LISTS.has(last)) return { key: 'name' };
  if (prev !== undefined && CONTAINER_LISTS.has(prev)) {
    if (last === 'ports') return { key: 'containerPort', keys: ['containerPort', 'protocol'] };
    if (last === 'env') return { key: 'name' };
    if (last === 'volumeMounts') return { key: 'mountPath' };
    if (last === 'volumeDevices') return { key: 'devicePath' };
  }
  if (path.length === 2 && prev === 'spec' && last === 'ports') return { key: 'port', keys: ['port', 'protocol'] };
  if (path.length === 2 && prev === 'status' && last === 'addresses') return { key: 'type' };
  if (path.length === 2 && prev === 'spec' && last === 'podCIDRs') return {};
  if (last === 'volumes' || last === 'imagePullSecrets') return { key: 'name' };
  if (last === 'conditions') return { key: 'type' };
  if (last === 'hostAliases') return { key: 'ip' };
  if (last === 'topologySpreadConstraints') return { key: 'topologyKey', keys: ['topologyKey', 'whenUnsatisfiable'] };
  return undefined;
};

const DELETE = Symbol('delete');

function isDirectiveKey(k: string): boolean {
  return k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/') || k.startsWith('$deleteFromPrimitiveList/');
}

/** A map from a patch with its directives and nulls removed (a value added where nothing was). */
function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((e) => !(isObj(e) && e.$patch !== undefined && Object.keys(e).length === 1)).map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (isDirectiveKey(k) || x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

function sameKey(a: unknown, b: Obj, key: string): boolean {
  return isObj(a) && a[key] === b[key];
}

function mergeList(orig: unknown, patch: unknown[], path: string[], schema: PatchSchema): unknown[] {
  if (patch.some((e) => isObj(e) && e.$patch === 'replace')) {
    return patch.filter((e) => !(isObj(e) && e.$patch === 'replace')).map(stripDirectives);
  }
  const strategy = schema(path);
  if (!strategy) return patch.map(stripDirectives);
  const out = Array.isArray(orig) ? orig.slice() : [];
  if (strategy.key === undefined) {
    for (const e of patch) if (!out.some((o) => o === e)) out.push(clone(e));
    return out;
  }
  const key = strategy.key;
  for (const e of patch) {
    if (!isObj(e)) throw badRequest(`strategic merge patch: ${path.join('.')} elements must be objects with "${key}"`);
    if (e[key] === undefined) throw badRequest(`map: ${JSON.stringify(e)} does not contain declared merge key: ${key}`);
    if (e.$patch === 'delete') {
      for (let i = out.length - 1; i >= 0; i--) if (sameKey(out[i], e, key)) out.splice(i, 1);
      continue;
    }
    const idx = out.findIndex((o) => sameKey(o, e, key));
    if (idx >= 0) {
      const merged = mergeMap(out[idx] as Obj, e, path, schema);
      if (merged === DELETE) out.splice(idx, 1);
      else out[idx] = merged;
    } else {
      out.push(stripDirectives(e));
    }
  }
  return out;
}

function applyElementOrder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const matches = (item: unknown, o: unknown): boolean =>
    key === undefined ? item === o : isObj(item) && isObj(o) && item[key] === o[key];
  const placed: unknown[] = [];
  const used = new Set<number>();
  for (const o of order) {
    const i = list.findIndex((item, j) => !used.has(j) && matches(item, o));
    if (i >= 0) {
      used.add(i);
      placed.push(list[i]);
    }
  }
  return [...placed, ...list.filter((_, j) => !used.has(j))];
}

function mergeMap(orig: Obj | undefined, patch: Obj, path: string[], schema: PatchSchema): Obj | typeof DELETE {
  const directive = patch.$patch;
  if (directive === 'delete') return DELETE;
  if (directive === 'replace') return stripDirectives(patch) as Obj;
  if (directive !== undefined && directive !== 'merge') throw badRequest(`Unknown patch type: ${String(directive)}`);
  const out: Obj = isObj(orig) ? { ...orig } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith('$deleteFromPrimitiveList/')) continue;
    const field = k.slice('$deleteFromPrimitiveList/'.length);
    if (!Array.isArray(v)) throw badRequest(`${k} must be a list`);
    const cur = out[field];
    if (Array.isArray(cur)) out[field] = cur.filter((x) => !v.includes(x));
  }
  for (const [k, v] of Object.entries(patch)) {
    if (isDirectiveKey(k)) continue;
    const sub = [...path, k];
    if (v === null) delete out[k];
    else if (isObj(v)) {
      const merged = mergeMap(isObj(out[k]) ? (out[k] as Obj) : undefined, v, sub, schema);
      if (merged === DELETE) delete out[k];
      else out[k] = merged;
    } else if (Array.isArray(v)) out[k] = mergeList(out[k], v, sub, schema);
    else out[k] = v;
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith('$setElementOrder/') || !Array.isArray(v)) continue;
    const field = k.slice('$setElementOrder/'.length);
    const cur = out[field];
    if (Array.isArray(cur)) out[field] = applyElementOrder(cur, v, schema([...path, field])?.key);
  }
  const retain = patch.$retainKeys;
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw badRequest('$retainKeys must be a list of field names');
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  return out;
}

export function strategicMergePatch(original: Obj, patch: unknown, schema: PatchSchema = builtinSchema): Obj {
  if (!isObj(patch)) throw badRequest('strategic merge patch must be a JSON object');
  const merged = mergeMap(clone(original), patch, [], schema);
  if (merged === DELETE) throw badRequest('strategic merge patch: $patch: delete at the top level');
  return merged;
}
