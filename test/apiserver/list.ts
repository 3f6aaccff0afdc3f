// Lists as etcd serves them: in key order, filtered by label and field selectors, in
// pages of `limit` with `continue` tokens that expire (410) with the watch history.
import { badRequest, gone } from './errors.js';
import { readMeta, type Obj } from './object.js';
import type { ResourceDef } from './registry.js';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Store, Stored } from './store.js';

export interface ListResult {
  items: Stored[];
  rv: number;
  continue?: string;
  remaining?: number;
}

function encodeContinue(rv: number, key: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: key })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
    if (typeof t.rv === 'number' && typeof t.start === 'string') return { rv: t.rv, start: t.start };
  } catch {
    // fall through
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

export function listObjects(store: Store, def: ResourceDef, ns: string | undefined, q: URLSearchParams, external: (o: Obj) => Obj): ListResult {
  const labels = parseLabelSelector(q.get('labelSelector'));
  const fields = parseFieldSelector(q.get('fieldSelector'));
  const limit = Number(q.get('limit') ?? 0);
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`limit: Invalid value: ${q.get('limit')}`);
  const bucket = store.bucket(def.bucket);
  const token = q.get('continue');
  let rv = store.revision;
  let startKey: string | undefined;
  if (token) {
    const t = decodeContinue(token);
    if (t.rv < bucket.compactedRV) {
      throw gone(
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
      );
    }
    rv = t.rv;
    startKey = t.start;
  }
  const scope = def.namespaced ? ns : undefined;
  const matches = (s: Stored): boolean =>
    (scope === undefined || s.namespace === scope) &&
    (labels.length === 0 || matchLabels(labels, readMeta(s.obj).labels)) &&
    (fields.length === 0 || matchFields(fields, external(s.obj)));
  const items: Stored[] = [];
  if (limit === 0 && startKey === undefined) {
    for (const k of bucket.sortedKeys()) {
      const s = bucket.objects.get(k) as Stored;
      if (matches(s)) items.push(s);
    }
    return { items, rv };
  }
  const keys = bucket.sortedKeys();
  let i = 0;
  if (startKey !== undefined) {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((keys[mid] as string) <= startKey) lo = mid + 1;
      else hi = mid;
    }
    i = lo;
  }
  for (; i < keys.length; i++) {
    const s = bucket.objects.get(keys[i] as string) as Stored;
    if (!matches(s)) continue;
    if (limit > 0 && items.length === limit) {
      const last = items[items.length - 1] as Stored;
      const out: ListResult = { items, rv, continue: encodeContinue(rv, last.namespace ? `${last.namespace}/${last.name}` : last.name) };
      if (labels.length === 0 && fields.length === 0 && scope === undefined) out.remaining = keys.length - i;
      return out;
    }
    items.push(s);
  }
  return { items, rv };
}
