// JSON Patch (RFC 6902) over JSON Pointers (RFC 6901), and JSON Merge Patch (RFC 7386).
import { badRequest, ApiError } from './errors.js';
import { deepEqual, clone, isObj } from './object.js';

/** RFC 7386 §2: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, unknown> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function invalidPatch(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

/** RFC 6901 §4: `~1` is `/`, `~0` is `~`. */
function parsePointer(p: unknown): string[] {
  if (typeof p !== 'string') throw badRequest('json patch: "path" must be a string');
  if (p === '') return [];
  if (!p.startsWith('/')) throw invalidPatch(`json patch: invalid pointer "${p}"`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function parentOf(doc: unknown, path: string[], op: string): { parent: Container; key: string } {
  let cur: unknown = doc;
  for (const seg of path.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, seg, false)];
    else if (isObj(cur)) cur = cur[seg];
    else cur = undefined;
    if (cur === undefined) throw invalidPatch(`the server rejected our request due to an error in our request: doc is missing path: "/${path.join('/')}": missing value (${op})`);
  }
  if (!Array.isArray(cur) && !isObj(cur)) throw invalidPatch(`json patch ${op}: parent of "/${path.join('/')}" is not a container`);
  return { parent: cur, key: path[path.length - 1] as string };
}

function arrayIndex(arr: unknown[], seg: string, forAdd: boolean): number {
  if (forAdd && seg === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(seg)) throw invalidPatch(`json patch: invalid array index "${seg}"`);
  const i = Number(seg);
  if (i > arr.length || (!forAdd && i === arr.length)) throw invalidPatch(`json patch: array index ${i} out of bounds`);
  return i;
}

function getAt(doc: unknown, path: string[], op: string): unknown {
  if (path.length === 0) return doc;
  const { parent, key } = parentOf(doc, path, op);
  const v = Array.isArray(parent) ? parent[arrayIndex(parent, key, false)] : parent[key];
  if (v === undefined) throw invalidPatch(`the server rejected our request due to an error in our request: doc is missing key: /${path.join('/')}: missing value`);
  return v;
}

function removeAt(doc: unknown, path: string[], op: string): unknown {
  const { parent, key } = parentOf(doc, path, op);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, false), 1)[0];
  if (!(key in parent)) throw invalidPatch(`the server rejected our request due to an error in our request: doc is missing key: /${path.join('/')}: missing value`);
  const v = parent[key];
  delete parent[key];
  return v;
}

function addAt(doc: unknown, path: string[], value: unknown, op: string): unknown {
  if (path.length === 0) return value;
  const { parent, key } = parentOf(doc, path, op);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, value);
  else parent[key] = value;
  return doc;
}

/** Applies RFC 6902 operations in order; the whole patch fails if one does (§5). */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json patch must be a JSON array of operations');
  let cur = clone(doc);
  for (const raw of ops) {
    if (!isObj(raw)) throw badRequest('json patch: each operation must be an object');
    const op = raw.op;
    const path = parsePointer(raw.path);
    switch (op) {
      case 'add':
        if (!('value' in raw)) throw badRequest('json patch add: missing "value"');
        cur = addAt(cur, path, clone(raw.value), 'add');
        break;
      case 'remove':
        if (path.length === 0) throw invalidPatch('json patch remove: cannot remove the whole document');
        removeAt(cur, path, 'remove');
        break;
      case 'replace':
        if (!('value' in raw)) throw badRequest('json patch replace: missing "value"');
        if (path.length === 0) cur = clone(raw.value);
        else {
          removeAt(cur, path, 'replace');
          cur = addAt(cur, path, clone(raw.value), 'replace');
        }
        break;
      case 'move': {
        const from = parsePointer(raw.from);
        const v = removeAt(cur, from, 'move');
        cur = addAt(cur, path, v, 'move');
        break;
      }
      case 'copy': {
        const from = parsePointer(raw.from);
        cur = addAt(cur, path, clone(getAt(cur, from, 'copy')), 'copy');
        break;
      }
      case 'test':
        if (!deepEqual(getAt(cur, path, 'test'), raw.value)) {
          throw invalidPatch(`the server rejected our request due to an error in our request: testing value /${path.join('/')} failed: test failed`);
        }
        break;
      default:
        throw badRequest(`json patch: unknown operation ${JSON.stringify(op)}`);
    }
  }
  return cur;
}
