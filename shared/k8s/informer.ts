// A list-and-watch cache of one resource (client-go's Reflector and Informer, in small):
// - It lists, then watches from the list's resourceVersion; a watch the server ends
//   (its timeoutSeconds ran out) or the connection drops is resumed from the last
//   resourceVersion seen, without a relist.
// - 410 Gone (history compacted past our resourceVersion, as the watch's HTTP status or
//   an ERROR event in it) makes it relist; the relist is diffed against the cache, so
//   handlers see the deletes they missed.
// - Any other failure (a failed list, a refused or broken watch, an ERROR event) restarts
//   it after an exponential backoff, from the last resourceVersion, or with a relist if
//   there is none. So does a watch that ends within a second of opening, so a server that
//   closes watches at once is not hammered.
// - Watches never time out on their own, so a half-open connection would leave the cache
//   silently stale. Each watch asks the server to end it after 5–10 minutes (client-go's
//   spread) and is aborted here if it outlives that by 30 s.
// - Bookmarks are requested, so a resumed watch rarely needs a relist.
// - `synced` resolves once the first list has been delivered (client-go's HasSynced).
// - Lists come in pages of 500 (client-go's reflector pages the same way), so a list of
//   10,000 Services never sits in memory as one 6 MB response and its parse at once.
// - List items get their kind and apiVersion back (the API server leaves them out of
//   list items but not of watch events), so handlers see one shape.
// - metadata.managedFields is dropped from cached objects: herald never reads it, and
//   on a real API server it is often the larger part of an object (client-go users
//   strip it with a transform for the same reason).
// - Optional periodic resync re-delivers every cached object as a 'resync' event.
// - An optional transform (client-go's SetTransform) keeps only what the handlers read:
//   the speaker holds every Service and EndpointSlice of the cluster, most of whose
//   fields it never looks at.
//
// Handlers subscribe to one callback per informer; several informers can feed the same
// callback, and each event names its resource, so a reconciler has a single entry point.
import type { ObjectMeta } from '../api/types.js';
import { silentLogger, type Logger } from '../log.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import type { KubeClient } from './client.js';
import { toApiError } from './errors.js';
import { ObjectCache, type CacheChange } from './object-cache.js';
import { apiVersionOf, collectionPath, keyOf, type ResourceType } from './resources.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './retry.js';

/** Any Kubernetes object as plain JSON. */
export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export type InformerEventType = 'add' | 'update' | 'delete' | 'resync';

export interface InformerEvent<T> {
  type: InformerEventType;
  resource: ResourceType;
  /** "namespace/name", or "name" when cluster-scoped. */
  key: string;
  obj: T;
  /** The object as last delivered, on 'update'. */
  old?: T;
}

export type InformerHandler<T> = (ev: InformerEvent<T>) => void;

export interface InformerOptions {
  resource: ResourceType;
  /** Only this namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Only the object of this name (a metadata.name field selector). */
  name?: string;
  /** Re-deliver the whole cache this often; 0 (default) never. */
  resyncMs?: number;
  /**
   * Applied to every listed or watched object before it is cached and delivered (after
   * managedFields is dropped). It must keep metadata.name, namespace and resourceVersion.
   */
  transform?: (obj: K8sObject) => K8sObject;
  backoff?: BackoffOptions;
  /** Items per list page; 0 lists in one response. Default 500. */
  pageSize?: number;
  /** Range for the server-side watch timeout, seconds. Default [300, 600]. */
  watchTimeoutSeconds?: [number, number];
  clock?: Clock;
  logger?: Logger;
  rand?: () => number;
}

export interface InformerStats {
  /** A watch stream is open now. */
  watching: boolean;
  lists: number;
  watches: number;
  errors: number;
  restarts: number;
}

export interface Informer<T extends K8sObject> {
  readonly resource: ResourceType;
  /** Resolves when the first list has been delivered to subscribers. */
  readonly synced: Promise<void>;
  hasSynced(): boolean;
  start(): void;
  stop(): Promise<void>;
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
  /** `replay` delivers the objects already cached as 'add' events first. */
  subscribe(handler: InformerHandler<T>, opts?: { replay?: boolean }): () => void;
  stats(): InformerStats;
}

export function createInformer<T extends K8sObject>(client: KubeClient, o: InformerOptions): Informer<T> {
  const clock = o.clock ?? realClock;
  const rand = o.rand ?? Math.random;
  const res = o.resource;
  const log = (o.logger ?? silentLogger()).child({ resource: res.plural, ...(o.namespace ? { namespace: o.namespace } : {}) });
  const backoff = new Backoff(o.backoff ?? DEFAULT_BACKOFF, rand);
  const [tMin, tMax] = o.watchTimeoutSeconds ?? [300, 600];
  const fieldSelector = [o.fieldSelector, o.name ? `metadata.name=${o.name}` : undefined].filter(Boolean).join(',') || undefined;
  const path = collectionPath(res, o.namespace);
  const apiVersion = apiVersionOf(res);
  const pageSize = o.pageSize ?? 500;
  const keep = (obj: T): T => (o.transform ? (o.transform(obj) as T) : obj);

  const stats = { lists: 0, watches: 0, errors: 0, restarts: 0 };
  const handlers = new Set<InformerHandler<T>>();
  const cache = new ObjectCache<T>();
  const activeWatches = new Set<AbortController>();
  /** Where the next watch starts; '' means list first. */
  let resourceVersion = '';
  let started = false;
  let stopped = false;
  let synced = false;
  let restartTimer: TimerHandle | undefined;
  let resyncTimer: TimerHandle | undefined;
  let resolveSynced!: () => void;
  const syncedPromise = new Promise<void>((r) => (resolveSynced = r));

  const deliver = (ev: InformerEvent<T>): void => {
    for (const h of handlers) {
      try {
        h(ev);
      } catch (err) {
        // A handler's bug must not break the cache.
        log.error({ err, key: ev.key, event: ev.type }, 'informer handler threw');
      }
    }
  };
  const deliverChange = (c: CacheChange<T> | undefined): void => {
    if (c) deliver({ ...c, resource: res });
  };

  const list = async (): Promise<void> => {
    stats.lists++;
    const items: T[] = [];
    let listRV = '';
    // Every page comes from the first one's snapshot; an expired continue token (410) fails
    // the list, and the restart lists again from the start.
    for (let cont: string | undefined; ; ) {
      const page = await client.rest.request<{ metadata?: { resourceVersion?: string; continue?: string }; items?: T[] }>('GET', path, {
        query: { labelSelector: o.labelSelector, fieldSelector, limit: pageSize || undefined, continue: cont },
      });
      if (stopped) return;
      for (const item of page.items ?? []) {
        item.kind ??= res.kind;
        item.apiVersion ??= apiVersion;
        items.push(keep(trim(item)));
      }
      listRV = page.metadata?.resourceVersion ?? '';
      cont = page.metadata?.continue || undefined;
      if (!cont) break;
    }
    for (const c of cache.replace(items)) deliverChange(c);
    resourceVersion = listRV;
    backoff.reset();
    log.debug({ count: items.length, resourceVersion }, 'listed');
    if (!synced) {
      synced = true;
      log.debug('synced');
      resolveSynced();
    }
  };

  const watch = async (): Promise<void> => {
    stats.watches++;
    const timeout = Math.round(tMin + (tMax - tMin) * rand());
    const openedAt = clock.now();
    // done may run before watch() returns (a refused watch), hence the holder.
    const w: { ctl?: AbortController; guard?: TimerHandle; guardFired?: boolean; gone?: boolean; failure?: unknown } = {};
    const onEvent = (type: string, obj: unknown): void => {
      // Lines already read when stop() aborted the stream may still arrive.
      if (stopped || w.failure || w.gone) return;
      const t = trim(obj as T);
      switch (type) {
        case 'ADDED':
        case 'MODIFIED':
          deliverChange(cache.upsert(keep(t)));
          break;
        case 'DELETED':
          deliverChange(cache.remove(keep(t)));
          break;
        case 'BOOKMARK':
          break;
        case 'ERROR': {
          // A metav1.Status; the server ends the stream after it.
          const st = obj as { code?: number; reason?: string; message?: string };
          if (st.code === 410) w.gone = true;
          else w.failure = Object.assign(new Error(st.message ?? 'watch ERROR event'), { statusCode: st.code, body: st });
          return;
        }
        default:
          return;
      }
      backoff.reset();
      resourceVersion = t.metadata?.resourceVersion || resourceVersion;
    };
    const onDone = (err: unknown): void => {
      w.guard?.cancel();
      if (w.ctl) activeWatches.delete(w.ctl);
      if (stopped) return;
      if (w.guardFired) return restart(0);
      const failure = err ?? w.failure;
      if (w.gone || (failure && toApiError(failure).code === 'Gone')) {
        resourceVersion = '';
        return restart(0);
      }
      if (failure) return onError(failure);
      // Ended by the server: resume at once, unless it ends watches as soon as they open.
      restart(clock.now() - openedAt >= 1_000 ? 0 : backoff.next());
    };
    const ctl = await client.watch.watch(
      path,
      { resourceVersion, labelSelector: o.labelSelector, fieldSelector, allowWatchBookmarks: true, timeoutSeconds: timeout },
      onEvent,
      onDone,
    );
    w.ctl = ctl;
    if (!ctl.signal.aborted) {
      activeWatches.add(ctl);
      w.guard = clock.setTimeout(() => {
        log.warn({ timeoutSeconds: timeout }, 'watch outlived its timeout; aborting it');
        w.guardFired = true;
        ctl.abort();
      }, (timeout + 30) * 1000);
    }
    if (stopped) ctl.abort();
  };

  const run = async (): Promise<void> => {
    if (stopped) return;
    if (!resourceVersion) await list();
    if (!stopped) await watch();
  };

  const restart = (delayMs: number): void => {
    restartTimer?.cancel();
    restartTimer = clock.setTimeout(() => {
      restartTimer = undefined;
      if (stopped) return;
      stats.restarts++;
      run().catch(onError);
    }, delayMs);
  };

  const onError = (err: unknown): void => {
    if (stopped) return;
    stats.errors++;
    const e = toApiError(err);
    const delay = backoff.next();
    log.warn({ err: e, code: e.code, status: e.status, retryInMs: delay }, 'list/watch failed; restarting');
    restart(delay);
  };

  const scheduleResync = (): void => {
    if (!o.resyncMs || stopped) return;
    resyncTimer = clock.setTimeout(() => {
      if (synced) for (const obj of cache.list()) deliver({ type: 'resync', resource: res, key: keyOfObject(obj), obj });
      scheduleResync();
    }, o.resyncMs);
  };

  return {
    resource: res,
    synced: syncedPromise,
    hasSynced: () => synced,
    start: () => {
      if (started) return;
      started = true;
      log.debug({ labelSelector: o.labelSelector, fieldSelector }, 'starting informer');
      run().catch(onError);
      scheduleResync();
    },
    stop: async () => {
      stopped = true;
      restartTimer?.cancel();
      resyncTimer?.cancel();
      for (const c of activeWatches) c.abort();
      activeWatches.clear();
    },
    get: (name, namespace) => cache.get(name, res.namespaced ? namespace : undefined),
    list: (namespace) => cache.list(namespace),
    subscribe: (handler, opts) => {
      if (opts?.replay) {
        for (const obj of cache.list()) {
          try {
            handler({ type: 'add', resource: res, key: keyOfObject(obj), obj });
          } catch (err) {
            log.error({ err }, 'informer handler threw during replay');
          }
        }
      }
      handlers.add(handler);
      return () => void handlers.delete(handler);
    },
    stats: () => ({ watching: activeWatches.size > 0, ...stats }),
  };
}

const keyOfObject = (o: K8sObject): string => keyOf(o.metadata ?? {});

function trim<T extends K8sObject>(o: T): T {
  if (o.metadata && 'managedFields' in o.metadata) delete (o.metadata as { managedFields?: unknown }).managedFields;
  return o;
}
