// Object storage in the shape of etcd behind the watch cache: one global revision counter
// (every write gets the next resourceVersion), objects per resource in Maps, and per
// resource a bounded history of change events from which watches resume. A watch from a
// revision older than the kept history gets 410 Gone, as after an etcd compaction.
import { objectKey, type Obj } from './object.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Stored {
  readonly obj: Obj;
  /** The object serialized once, reused by every list and watch that sends it. */
  readonly json: string;
  readonly rv: number;
  readonly namespace: string;
  readonly name: string;
}

export interface StoreEvent {
  readonly type: EventType;
  readonly rv: number;
  readonly cur: Stored;
  /** The object before this change (MODIFIED and DELETED), for selector transitions. */
  readonly prev?: Stored;
}

export interface Subscriber {
  deliver(ev: StoreEvent): void;
}

class History {
  private readonly ring: (StoreEvent | undefined)[];
  private head = 0;
  size = 0;

  constructor(readonly limit: number) {
    this.ring = new Array<StoreEvent | undefined>(Math.max(1, limit));
  }

  /** Returns the event that fell off the end, if any. */
  push(ev: StoreEvent): StoreEvent | undefined {
    const cap = this.ring.length;
    let dropped: StoreEvent | undefined;
    if (this.size === cap) {
      dropped = this.ring[this.head];
      this.ring[this.head] = ev;
      this.head = (this.head + 1) % cap;
    } else {
      this.ring[(this.head + this.size) % cap] = ev;
      this.size++;
    }
    return dropped;
  }

  at(i: number): StoreEvent {
    return this.ring[(this.head + i) % this.ring.length] as StoreEvent;
  }

  /** Events with rv > after, oldest first (binary search: history is ordered by rv). */
  since(after: number): StoreEvent[] {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).rv <= after) lo = mid + 1;
      else hi = mid;
    }
    const out: StoreEvent[] = [];
    for (let i = lo; i < this.size; i++) out.push(this.at(i));
    return out;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.size = 0;
  }
}

export class Bucket {
  readonly objects = new Map<string, Stored>();
  readonly subscribers = new Set<Subscriber>();
  /** Watches may resume from any rv >= this; older ones get 410. */
  compactedRV = 0;
  private readonly history: History;
  private sorted: string[] | undefined;

  constructor(readonly name: string, historyLimit: number) {
    this.history = new History(historyLimit);
  }

  /** Keys in etcd order (namespace/name), cached until an object is added or removed. */
  sortedKeys(): string[] {
    if (!this.sorted) this.sorted = [...this.objects.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this.sorted;
  }

  record(ev: StoreEvent): void {
    const dropped = this.history.push(ev);
    if (dropped) this.compactedRV = Math.max(this.compactedRV, dropped.rv);
    for (const s of [...this.subscribers]) s.deliver(ev);
  }

  /** Events after rv, or undefined when that part of the history is gone. */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.compactedRV) return undefined;
    return this.history.since(rv);
  }

  compactTo(rv: number): void {
    this.history.clear();
    this.compactedRV = Math.max(this.compactedRV, rv);
  }

  invalidateOrder(): void {
    this.sorted = undefined;
  }
}

export class Store {
  private rev = 0;
  private compacted = 0;
  private readonly buckets = new Map<string, Bucket>();
  /** Objects per namespace over all resources, so a terminating namespace knows when it is empty. */
  private readonly perNamespace = new Map<string, number>();

  constructor(private readonly historyLimit: number) {}

  get revision(): number {
    return this.rev;
  }

  bucket(name: string): Bucket {
    let b = this.buckets.get(name);
    if (!b) {
      b = new Bucket(name, this.historyLimit);
      b.compactedRV = this.compacted;
      this.buckets.set(name, b);
    }
    return b;
  }

  allBuckets(): Iterable<Bucket> {
    return this.buckets.values();
  }

  dropBucket(name: string): void {
    this.buckets.delete(name);
  }

  countInNamespace(namespace: string): number {
    return this.perNamespace.get(namespace) ?? 0;
  }

  get(bucket: string, namespace: string | undefined, name: string): Stored | undefined {
    return this.buckets.get(bucket)?.objects.get(objectKey(namespace, name));
  }

  /** Stores obj (its metadata.resourceVersion is set here) and records the event. */
  put(bucket: string, obj: Obj, serialize: (o: Obj) => string = JSON.stringify): Stored {
    const b = this.bucket(bucket);
    const m = obj.metadata as { name: string; namespace?: string; resourceVersion?: string };
    const key = objectKey(m.namespace, m.name);
    const prev = b.objects.get(key);
    const rv = ++this.rev;
    m.resourceVersion = String(rv);
    const cur: Stored = { obj, json: serialize(obj), rv, namespace: m.namespace ?? '', name: m.name };
    b.objects.set(key, cur);
    if (!prev) {
      b.invalidateOrder();
      if (m.namespace) this.perNamespace.set(m.namespace, (this.perNamespace.get(m.namespace) ?? 0) + 1);
    }
    b.record(prev ? { type: 'MODIFIED', rv, cur, prev } : { type: 'ADDED', rv, cur });
    return cur;
  }

  /** Removes the object; the DELETED event carries it at a new resourceVersion, as etcd does. */
  remove(bucket: string, obj: Obj, serialize: (o: Obj) => string = JSON.stringify): Stored | undefined {
    const b = this.buckets.get(bucket);
    const m = obj.metadata as { name: string; namespace?: string; resourceVersion?: string };
    const key = objectKey(m.namespace, m.name);
    const prev = b?.objects.get(key);
    if (!b || !prev) return undefined;
    const rv = ++this.rev;
    m.resourceVersion = String(rv);
    const cur: Stored = { obj, json: serialize(obj), rv, namespace: m.namespace ?? '', name: m.name };
    b.objects.delete(key);
    b.invalidateOrder();
    if (m.namespace) {
      const n = (this.perNamespace.get(m.namespace) ?? 1) - 1;
      if (n > 0) this.perNamespace.set(m.namespace, n);
      else this.perNamespace.delete(m.namespace);
    }
    b.record({ type: 'DELETED', rv, cur, prev });
    return cur;
  }

  /**
   * Forgets all history: every resourceVersion handed out so far becomes too old to
   * watch from. The revision moves on by one so that even a client that saw the very
   * last write has to relist.
   */
  compact(): void {
    const rv = ++this.rev;
    this.compacted = rv;
    for (const b of this.buckets.values()) b.compactTo(rv);
  }
}
