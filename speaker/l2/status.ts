// ServiceL2Status objects: one per (Service, IP, node) for the IPs a node announces, as
// MetalLB writes one per (Service, node) — per IP here because the election is per IP.
// Each speaker keeps the objects level-triggered against an informer on them:
// - its own objects for what it announces exist and say what it does (rewritten if
//   anything else changed or deleted them);
// - its own objects for what it no longer announces are deleted (also after a restart);
// - objects of a node that is not live, for IPs this node now announces, are deleted by
//   this node (the old winner died or its link is cut: nobody else will).
// If a node was wrongly thought dead (a stalled event loop), it sees its objects vanish
// in its informer and writes them again. An owner reference to the Node lets the garbage
// collector remove the objects of a Node deleted for good.
//
// The builders and statusActions are pure. L2StatusSync is the thin adapter: the latest
// wish per object wins, identical writes are skipped, failed writes are retried with
// backoff, and a few requests at most run at once. It never blocks the caller:
// announcing never waits for the API server.
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { OwnerReference, ServiceL2StatusStatus } from '../../shared/api/types.js';
import type { Clock, TimerHandle } from '../../shared/k8s/clock.js';
import { isConflict } from '../../shared/k8s/errors.js';
import { heraldResource } from '../../shared/k8s/resources.js';
import type { StatusObject, StatusWriter } from '../../shared/k8s/writers.js';
import type { Logger } from '../../shared/log.js';

export const L2_STATUSES = heraldResource('ServiceL2Status');

/** Labels a speaker finds its own objects by (the same keys as the BGP status objects). */
export const L2_LABELS = {
  node: 'herald.dev/node',
  serviceName: 'herald.dev/service-name',
  serviceNamespace: 'herald.dev/service-namespace',
} as const;

const MAX_NAME = 63;
const MAX_LABEL_VALUE = 63;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}

/**
 * `<service name>-<ip>-<hash>`: readable in `kubectl get`, and unique by the hash of
 * (namespace, name, IP, node) — names alone can collide (`a-b`/`c` and `a`/`b-c`).
 */
export function l2StatusName(serviceNamespace: string, serviceName: string, ipText: string, node: string): string {
  const hash = shortHash(JSON.stringify([serviceNamespace, serviceName, ipText, node]));
  const head = `${serviceName}-${ipText}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, MAX_NAME - hash.length - 1)
    .replace(/^-+|-+$/g, '');
  return head ? `${head}-${hash}` : hash;
}

/** A valid label value standing for `value` (hashed when it is too long or has odd characters). */
export function l2LabelValue(value: string): string {
  if (value.length <= MAX_LABEL_VALUE && /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value)) return value;
  const hash = shortHash(value);
  const head = value.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, MAX_LABEL_VALUE - hash.length - 1).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return head ? `${head}-${hash}` : hash;
}

export interface L2StatusInput {
  /** The install namespace, where the objects live. */
  namespace: string;
  node: string;
  serviceNamespace: string;
  serviceName: string;
  ipText: string;
  /** Interfaces answering for the IP, by name. */
  interfaces: readonly string[];
  /** Their MACs by name, where known: a peer answers with them while this speaker restarts. */
  macs?: ReadonlyMap<string, string>;
  /** The Node, so that its deletion removes the object. */
  owner?: OwnerReference;
}

export function l2StatusObject(o: L2StatusInput): StatusObject<ServiceL2StatusStatus> {
  return {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'ServiceL2Status',
    metadata: {
      name: l2StatusName(o.serviceNamespace, o.serviceName, o.ipText, o.node),
      namespace: o.namespace,
      labels: {
        [L2_LABELS.node]: l2LabelValue(o.node),
        [L2_LABELS.serviceName]: l2LabelValue(o.serviceName),
        [L2_LABELS.serviceNamespace]: l2LabelValue(o.serviceNamespace),
      },
      ...(o.owner ? { ownerReferences: [o.owner] } : {}),
    },
    status: {
      node: o.node,
      serviceName: o.serviceName,
      serviceNamespace: o.serviceNamespace,
      ip: o.ipText,
      interfaces: [...o.interfaces].sort().map((name) => {
        const mac = o.macs?.get(name);
        return mac ? { name, mac } : { name };
      }),
    },
  };
}

/**
 * What the speaker keeps of each ServiceL2Status it watches (every node's): the fields
 * statusActions reads, and what the informer needs. An informer transform.
 */
export function l2StatusCached(obj: StatusObject): StatusObject {
  const md = obj.metadata;
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      name: md.name,
      ...(md.namespace !== undefined ? { namespace: md.namespace } : {}),
      ...(md.resourceVersion !== undefined ? { resourceVersion: md.resourceVersion } : {}),
      ...(md.labels ? { labels: md.labels } : {}),
      ...(md.ownerReferences ? { ownerReferences: md.ownerReferences } : {}),
    },
    ...(obj.status !== undefined ? { status: obj.status } : {}),
  };
}

/** The owner reference to a Node (cluster-scoped owners may own namespaced objects). */
export function nodeOwner(node: { metadata?: { name?: string; uid?: string } } | undefined): OwnerReference | undefined {
  const name = node?.metadata?.name;
  const uid = node?.metadata?.uid;
  return name && uid ? { apiVersion: 'v1', kind: 'Node', name, uid } : undefined;
}

export interface StatusActionsInput {
  /** The objects this node wants: one per (Service, IP) it announces. */
  desired: readonly StatusObject[];
  /** The objects the cluster holds (the informer's cache), every node's. */
  cached: readonly StatusObject[];
  self: string;
  /** The live speakers, this one included. */
  live: ReadonlySet<string>;
  /** The IPs this node announces. */
  announced: ReadonlySet<string>;
}

export interface StatusActions {
  put: StatusObject[];
  remove: string[];
}

function statusOf(o: StatusObject): ServiceL2StatusStatus {
  return (o.status ?? {}) as ServiceL2StatusStatus;
}

function differs(want: StatusObject, have: StatusObject): boolean {
  if (!isDeepStrictEqual(have.status ?? {}, want.status ?? {})) return true;
  for (const [k, v] of Object.entries(want.metadata.labels ?? {})) if (have.metadata.labels?.[k] !== v) return true;
  if (want.metadata.ownerReferences && !isDeepStrictEqual(have.metadata.ownerReferences ?? [], want.metadata.ownerReferences)) return true;
  return false;
}

/** What to write so that the cluster holds what this node wants (see the top of the file). */
export function statusActions(i: StatusActionsInput): StatusActions {
  const byName = new Map(i.cached.map((o) => [o.metadata.name, o]));
  const wanted = new Set(i.desired.map((o) => o.metadata.name));
  const put = i.desired.filter((want) => {
    const have = byName.get(want.metadata.name);
    return !have || differs(want, have);
  });
  const remove: string[] = [];
  for (const o of i.cached) {
    const st = statusOf(o);
    const node = st.node ?? '';
    if (node === i.self) {
      if (!wanted.has(o.metadata.name)) remove.push(o.metadata.name);
    } else if (st.ip !== undefined && i.announced.has(st.ip) && !i.live.has(node)) {
      remove.push(o.metadata.name);
    }
  }
  return { put, remove };
}

type Wish = { readonly op: 'put'; readonly obj: StatusObject; readonly fingerprint: string } | { readonly op: 'delete' };

export interface L2StatusSyncOptions {
  writer: StatusWriter;
  namespace: string;
  log: Logger;
  clock: Clock;
  /** Requests in flight at once; default 4. */
  concurrency?: number;
  /** First retry delay, doubling up to maxRetryMs; default 500 ms and 30 s. */
  retryMs?: number;
  maxRetryMs?: number;
}

export class L2StatusSync {
  readonly #o: L2StatusSyncOptions;
  readonly #waiting = new Map<string, Wish>();
  readonly #queue = new Set<string>();
  readonly #inflight = new Set<string>();
  /** What the cluster holds as far as we know, by name: a fingerprint, or null when absent. */
  readonly #known = new Map<string, string | null>();
  readonly #retry = new Map<string, TimerHandle>();
  readonly #failures = new Map<string, number>();
  #idle: (() => void)[] = [];
  #closed = false;

  constructor(o: L2StatusSyncOptions) {
    this.#o = o;
  }

  put(obj: StatusObject): void {
    this.#want(obj.metadata.name, { op: 'put', obj, fingerprint: JSON.stringify(obj) });
  }

  remove(name: string): void {
    this.#want(name, { op: 'delete' });
  }

  /** Whether a write of `name` is waiting, in flight or backing off. */
  busy(name: string): boolean {
    return this.#waiting.has(name) || this.#inflight.has(name) || this.#retry.has(name);
  }

  /** Forgets what the cluster holds: the next put or remove of each object is written. */
  forget(name?: string): void {
    if (name === undefined) this.#known.clear();
    else this.#known.delete(name);
  }

  get pending(): number {
    return new Set([...this.#waiting.keys(), ...this.#inflight, ...this.#retry.keys()]).size;
  }

  /** Resolves once nothing is waiting, in flight or backing off. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops retrying; waits for the writes under way at most `deadlineMs`. */
  async close(deadlineMs = 2000): Promise<void> {
    let timer: TimerHandle | undefined;
    const deadline = new Promise<void>((resolve) => (timer = this.#o.clock.setTimeout(resolve, deadlineMs)));
    for (const t of this.#retry.values()) t.cancel();
    this.#retry.clear();
    this.#queue.clear();
    this.#waiting.clear();
    this.#closed = true;
    await Promise.race([this.idle(), deadline]);
    timer?.cancel();
  }

  #want(name: string, w: Wish): void {
    if (this.#closed) return;
    const busy = this.#waiting.has(name) || this.#inflight.has(name) || this.#retry.has(name);
    if (!busy) {
      const known = this.#known.get(name);
      if (w.op === 'put' && known === w.fingerprint) return;
      if (w.op === 'delete' && known === null) return;
    }
    this.#waiting.set(name, w);
    if (!this.#inflight.has(name) && !this.#retry.has(name)) this.#queue.add(name);
    this.#pump();
  }

  #pump(): void {
    const limit = this.#o.concurrency ?? 4;
    for (const name of this.#queue) {
      if (this.#inflight.size >= limit) break;
      this.#queue.delete(name);
      const w = this.#waiting.get(name);
      if (!w) continue;
      this.#waiting.delete(name);
      this.#inflight.add(name);
      void this.#run(name, w);
    }
    if (this.pending === 0) for (const f of this.#idle.splice(0)) f();
  }

  async #run(name: string, w: Wish): Promise<void> {
    try {
      if (w.op === 'put') {
        if (this.#known.get(name) !== w.fingerprint) await this.#o.writer.apply(L2_STATUSES, w.obj);
        this.#known.set(name, w.fingerprint);
      } else {
        await this.#o.writer.delete(L2_STATUSES, this.#o.namespace, name);
        this.#known.set(name, null);
      }
      this.#failures.delete(name);
    } catch (err) {
      this.#known.delete(name);
      const n = (this.#failures.get(name) ?? 0) + 1;
      this.#failures.set(name, n);
      if (!this.#closed) {
        if (!this.#waiting.has(name)) this.#waiting.set(name, w);
        const delay = isConflict(err) ? 0 : Math.min((this.#o.retryMs ?? 500) * 2 ** (n - 1), this.#o.maxRetryMs ?? 30_000);
        this.#o.log[n >= 3 ? 'warn' : 'debug']({ err, object: name, attempt: n, retryInMs: delay }, 'l2: status write failed; retrying');
        this.#retry.set(
          name,
          this.#o.clock.setTimeout(() => {
            this.#retry.delete(name);
            this.#queue.add(name);
            this.#pump();
          }, delay),
        );
      }
    } finally {
      this.#inflight.delete(name);
      // A wish that came in while this one was in flight.
      if (this.#waiting.has(name) && !this.#retry.has(name)) this.#queue.add(name);
      this.#pump();
    }
  }
}
