// The objects of one resource as last seen, by namespace and name, and the change each
// list or watch event makes to them (client-go's thread-safe store plus the Reflector's
// replace). No I/O: the informer feeds it and delivers what it returns.
import { keyOf } from './resources.js';

export interface CachedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export type CacheChange<T> = { type: 'add'; key: string; obj: T } | { type: 'update'; key: string; obj: T; old: T } | { type: 'delete'; key: string; obj: T };

export class ObjectCache<T extends CachedObject> {
  /** namespace ('' when cluster-scoped) → name → object */
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.byNamespace.get(namespace ?? '')?.get(name);
  }

  /** Every object, or those of one namespace. */
  list(namespace?: string): T[] {
    if (namespace) return [...(this.byNamespace.get(namespace)?.values() ?? [])];
    const out: T[] = [];
    for (const m of this.byNamespace.values()) for (const o of m.values()) out.push(o);
    return out;
  }

  /**
   * An ADDED or MODIFIED event, or a listed item. Unchanged when the cached object has
   * the same resourceVersion (a relist, or a watch replaying what a list already gave).
   */
  upsert(obj: T): CacheChange<T> | undefined {
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    let m = this.byNamespace.get(ns);
    if (!m) this.byNamespace.set(ns, (m = new Map()));
    const old = m.get(name);
    const key = keyOf({ namespace: ns, name });
    if (!old) {
      m.set(name, obj);
      this.count++;
      return { type: 'add', key, obj };
    }
    const rv = obj.metadata?.resourceVersion;
    if (rv !== undefined && rv === old.metadata?.resourceVersion) return undefined;
    m.set(name, obj);
    return { type: 'update', key, obj, old };
  }

  /** A DELETED event: its object (the last state) is what is delivered. */
  remove(obj: T): CacheChange<T> | undefined {
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    const m = this.byNamespace.get(ns);
    if (!m?.delete(name)) return undefined;
    this.count--;
    if (m.size === 0) this.byNamespace.delete(ns);
    return { type: 'delete', key: keyOf({ namespace: ns, name }), obj };
  }

  /**
   * A full list replaces the cache: deletes for what it no longer holds (the deletes a
   * broken watch missed) first, then adds and updates in list order.
   */
  replace(items: readonly T[]): CacheChange<T>[] {
    const listed = new Set<string>();
    for (const o of items) listed.add(keyOf({ namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' }));
    const changes: CacheChange<T>[] = [];
    for (const [ns, m] of this.byNamespace) {
      for (const [name, old] of m) {
        if (!listed.has(keyOf({ namespace: ns, name }))) {
          m.delete(name);
          this.count--;
          changes.push({ type: 'delete', key: keyOf({ namespace: ns, name }), obj: old });
        }
      }
      if (m.size === 0) this.byNamespace.delete(ns);
    }
    for (const o of items) {
      const c = this.upsert(o);
      if (c) changes.push(c);
    }
    return changes;
  }
}
