// The status objects the BGP announcer owns: one BGPSessionState per (node, peer) and one
// ServiceBGPStatus per (Service, node), their names and labels, and the writer that
// keeps them in the cluster. The builders are pure; StatusSync is the thin adapter: the
// latest wanted state per object wins, identical writes are skipped, failures are
// retried with backoff, and at most a few requests run at once so that 10,000 Services
// cannot flood the API server.
import { createHash } from 'node:crypto';
import type { BGPSessionStateStatus, OwnerReference, ServiceBGPStatusStatus } from '../../shared/api/types.js';
import type { Clock, TimerHandle } from '../../shared/k8s/clock.js';
import { isConflict } from '../../shared/k8s/errors.js';
import { heraldResource, type ResourceType } from '../../shared/k8s/resources.js';
import type { StatusObject, StatusWriter } from '../../shared/k8s/writers.js';
import type { Logger } from '../../shared/log.js';
import type { ServicePlan } from './planner.js';
import type { SessionConfig, SessionStatus } from './session.js';

export const SESSION_STATES = heraldResource('BGPSessionState');
export const SERVICE_STATUSES = heraldResource('ServiceBGPStatus');

/** Labels that let a speaker find what it wrote (a list by node on start). */
export const LABELS = {
  node: 'herald.dev/node',
  peer: 'herald.dev/peer',
  serviceName: 'herald.dev/service-name',
  serviceNamespace: 'herald.dev/service-namespace',
} as const;

/** Kept as short as a DNS label, so the names read well in `kubectl get`. */
const MAX_NAME = 63;
/** metav1 validation of label values. */
const MAX_LABEL_VALUE = 63;
/** The CRD's maxLength of status.lastError. */
const MAX_ERROR_TEXT = 1024;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * `<parts joined by ->`, lower-cased, characters outside a DNS subdomain replaced; when
 * that is longer than 63 characters or had to be changed, truncated and suffixed with a
 * hash of the parts, so distinct inputs keep distinct names.
 */
export function objectName(parts: readonly string[]): string {
  const joined = parts.join('-');
  const clean = joined.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  if (clean === joined && clean.length <= MAX_NAME && /^[a-z0-9]/.test(clean) && /[a-z0-9]$/.test(clean)) return clean;
  const hash = shortHash(JSON.stringify(parts));
  const head = clean.slice(0, MAX_NAME - hash.length - 1).replace(/^[^a-z0-9]+/, '').replace(/[^a-z0-9]+$/, '');
  return head ? `${head}-${hash}` : hash;
}

/** A valid label value standing for `value` (hashed when it is too long). */
export function labelValue(value: string): string {
  if (value.length <= MAX_LABEL_VALUE && /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value)) return value;
  return objectName([value]).slice(0, MAX_LABEL_VALUE);
}

/** The label selector of the status objects one node's speaker owns. */
export function ownedSelector(node: string): string {
  return `${LABELS.node}=${labelValue(node)}`;
}

export function sessionStateName(node: string, peer: string): string {
  return objectName([node, peer]);
}

export function serviceStatusName(namespace: string, name: string, node: string): string {
  return objectName([namespace, name, node]);
}

/** metav1.Time: RFC 3339 with whole seconds. */
export function timeText(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function meta(namespace: string, name: string, labels: Record<string, string>, owner: OwnerReference | undefined): StatusObject['metadata'] {
  return { name, namespace, labels, ...(owner ? { ownerReferences: [owner] } : {}) };
}

/**
 * The BGPSessionState of one session. The owner reference to the Node lets the garbage
 * collector remove the object with its node, should the speaker never come back.
 */
export function sessionStateObject(
  o: { namespace: string; node: string; config: SessionConfig; status: SessionStatus; owner?: OwnerReference; bfdStatus?: string },
): StatusObject<BGPSessionStateStatus> {
  const { status: s, config } = o;
  const lastError = s.lastError !== undefined && s.lastError.length > MAX_ERROR_TEXT ? `${s.lastError.slice(0, MAX_ERROR_TEXT - 1)}…` : s.lastError;
  return {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'BGPSessionState',
    metadata: meta(o.namespace, sessionStateName(o.node, config.name), { [LABELS.node]: labelValue(o.node), [LABELS.peer]: labelValue(config.name) }, o.owner),
    status: {
      node: o.node,
      peer: config.name,
      peerAddress: config.peerAddress,
      bgpStatus: s.state,
      ...(o.bfdStatus !== undefined ? { bfdStatus: o.bfdStatus } : {}),
      ...(s.establishedSince ? { establishedSince: timeText(s.establishedSince) } : {}),
      prefixesSent: s.prefixesSent,
      ...(lastError !== undefined ? { lastError } : {}),
      ...(s.lastErrorTime ? { lastErrorTime: timeText(s.lastErrorTime) } : {}),
    },
  };
}

export function serviceStatusObject(o: { namespace: string; node: string; service: ServicePlan; owner?: OwnerReference }): StatusObject<ServiceBGPStatusStatus> {
  const svc = o.service;
  return {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'ServiceBGPStatus',
    metadata: meta(
      o.namespace,
      serviceStatusName(svc.namespace, svc.name, o.node),
      { [LABELS.node]: labelValue(o.node), [LABELS.serviceName]: labelValue(svc.name), [LABELS.serviceNamespace]: labelValue(svc.namespace) },
      o.owner,
    ),
    status: { node: o.node, serviceName: svc.name, serviceNamespace: svc.namespace, peers: [...svc.peers] },
  };
}

type Want =
  | { readonly op: 'put'; readonly resource: ResourceType; readonly obj: StatusObject | (() => StatusObject); readonly fingerprint: number }
  | { readonly op: 'delete'; readonly resource: ResourceType; readonly namespace: string; readonly name: string };

export interface StatusSyncOptions {
  writer: StatusWriter;
  log: Logger;
  clock: Clock;
  /** Requests in flight at once; default 4. */
  concurrency?: number;
  /** First retry delay after a failed write, doubling up to maxRetryMs; default 500. */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * Keeps status objects as last wanted. put/remove never block and never throw; the
 * writes happen in the background, one at a time per object, the newest wish replacing
 * an older one still waiting.
 */
export class StatusSync {
  private readonly waiting = new Map<string, Want>();
  /** Keys to write, in order (a Set: 10,000 Services must not cost a scan per key). */
  private readonly queue = new Set<string>();
  private readonly inflight = new Set<string>();
  /** What the cluster holds as far as we know: a fingerprint, -1 when unknown, or null when absent. */
  private readonly known = new Map<string, number | null>();
  private readonly retryTimers = new Map<string, TimerHandle>();
  private readonly failures = new Map<string, number>();
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly o: StatusSyncOptions) {}

  /** Records that an object exists (found on start), so removing it is not skipped. */
  markExisting(resource: ResourceType, namespace: string, name: string): void {
    this.known.set(keyOf(resource, namespace, name), -1);
  }

  /**
   * The object as it should be. Given as a function, it is made again when its write is
   * due: 10,000 Services' status objects waiting for the API server would otherwise be
   * held all at once (megabytes, for as long as the writes take).
   */
  put(resource: ResourceType, obj: StatusObject | (() => StatusObject)): void {
    const o = typeof obj === 'function' ? obj() : obj;
    const key = keyOf(resource, o.metadata.namespace ?? '', o.metadata.name);
    this.want(key, { op: 'put', resource, obj, fingerprint: fingerprint(o) });
  }

  remove(resource: ResourceType, namespace: string, name: string): void {
    this.want(keyOf(resource, namespace, name), { op: 'delete', resource, namespace, name });
  }

  /** Objects with writes waiting, in flight or backing off. */
  get pending(): number {
    return new Set([...this.waiting.keys(), ...this.inflight, ...this.retryTimers.keys()]).size;
  }

  private get busy(): boolean {
    return this.waiting.size > 0 || this.inflight.size > 0 || this.retryTimers.size > 0;
  }

  /** Resolves once nothing is waiting, in flight or backing off. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops retrying and waits for the writes under way, at most `deadlineMs`. */
  async close(deadlineMs = 2000): Promise<void> {
    let timer: TimerHandle | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = this.o.clock.setTimeout(resolve, deadlineMs);
    });
    // Retries backing off are due now: one last attempt each.
    for (const [key, t] of this.retryTimers) {
      t.cancel();
      this.retryTimers.delete(key);
      this.enqueue(key);
    }
    this.pump();
    await Promise.race([this.idle(), deadline]);
    timer?.cancel();
    this.closed = true;
    for (const t of this.retryTimers.values()) t.cancel();
    this.retryTimers.clear();
    this.waiting.clear();
    this.queue.clear();
  }

  private want(key: string, w: Want): void {
    if (this.closed) return;
    const known = this.known.get(key);
    const current = this.waiting.get(key) ?? undefined;
    if (!current && !this.inflight.has(key) && !this.retryTimers.has(key)) {
      if (w.op === 'put' && known === w.fingerprint) return;
      if (w.op === 'delete' && known === null) return;
    }
    this.waiting.set(key, w);
    if (!this.inflight.has(key) && !this.retryTimers.has(key)) this.enqueue(key);
    this.pump();
  }

  private enqueue(key: string): void {
    this.queue.add(key);
  }

  private pump(): void {
    const limit = this.o.concurrency ?? 4;
    while (this.inflight.size < limit && this.queue.size > 0) {
      const key = this.queue.values().next().value as string;
      this.queue.delete(key);
      const w = this.waiting.get(key);
      if (!w) continue;
      this.waiting.delete(key);
      this.inflight.add(key);
      void this.run(key, w);
    }
    this.checkIdle();
  }

  private async run(key: string, w: Want): Promise<void> {
    try {
      if (w.op === 'put') {
        if (this.known.get(key) !== w.fingerprint) await this.o.writer.apply(w.resource, typeof w.obj === 'function' ? w.obj() : w.obj);
        this.known.set(key, w.fingerprint);
      } else {
        await this.o.writer.delete(w.resource, w.namespace, w.name);
        this.known.set(key, null);
      }
      this.failures.delete(key);
    } catch (err) {
      // What we know of the object is unsure now: write it again whatever it holds.
      this.known.delete(key);
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      if (!this.waiting.has(key)) this.waiting.set(key, w);
      const base = this.o.retryMs ?? 500;
      const delay = isConflict(err) ? 0 : Math.min(base * 2 ** (n - 1), this.o.maxRetryMs ?? 30_000);
      const level = n >= 3 && !isConflict(err) ? 'warn' : 'debug';
      this.o.log[level]({ err, resource: w.resource.plural, object: key.slice(key.indexOf('/') + 1), attempt: n, retryInMs: delay }, 'status object write failed; retrying');
      if (!this.closed) {
        this.retryTimers.set(
          key,
          this.o.clock.setTimeout(() => {
            this.retryTimers.delete(key);
            this.enqueue(key);
            this.pump();
          }, delay),
        );
      } else {
        this.waiting.delete(key);
      }
    } finally {
      this.inflight.delete(key);
      if (this.waiting.has(key) && !this.retryTimers.has(key)) this.enqueue(key);
      this.pump();
    }
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || this.busy) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/**
 * A 52-bit hash of the object's JSON (two FNV-1a lanes). Kept instead of the JSON itself:
 * 10,000 Services' last writes would otherwise hold megabytes of strings.
 */
function fingerprint(obj: StatusObject): number {
  const text = JSON.stringify(obj);
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  return (a & 0xfffff) * 0x100000000 + b;
}

/** A short tag per resource, so the keys held for 10,000 Services stay short. */
const tags = new Map<string, string>();

/** One flat string (joined): a template literal would keep its parts as concatenation nodes, held for every Service. */
function keyOf(resource: ResourceType, namespace: string, name: string): string {
  const id = `${resource.group}/${resource.plural}`;
  let tag = tags.get(id);
  if (tag === undefined) tags.set(id, (tag = String(tags.size)));
  return [tag, namespace, name].join('/');
}
