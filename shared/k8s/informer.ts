// A list-and-watch cache of one resource, over client-node's ListWatch (its ObjectCache
// and relist logic), with what ListWatch leaves to the caller:
// - ListWatch stops for good on any error other than 410 (a failed list, a refused or
//   broken watch, a lost connection) and only emits 'error'. This informer restarts it
//   after an exponential backoff; a restart resumes the watch from the last
//   resourceVersion, or relists if there is none.
// - 410 Gone (history compacted past our resourceVersion) makes ListWatch relist; the
//   relist diffs against the cache, so handlers see the deletes they missed.
// - ListWatch's watches never time out, so a half-open connection would leave the cache
//   silently stale. Each watch asks the server to end it after 5–10 minutes (client-go's
//   spread) and is aborted here if it outlives that by 30 s.
// - Bookmarks are requested, so a resumed watch rarely needs a relist.
// - `synced` resolves once the first list has been delivered (client-go's HasSynced).
// - List items get their kind and apiVersion back (the API server leaves them out of
//   list items but not of watch events), so handlers see one shape.
// - Optional periodic resync re-delivers every cached object as a 'resync' event.
//
// Handlers subscribe to one callback per informer; several informers can feed the same
// callback, and each event names its resource, so a reconciler has a single entry point.
import { ListWatch, type KubernetesListObject, type KubernetesObject, type Watch } from '@kubernetes/client-node';
import type { ObjectMeta } from '../api/types.js';
import { silentLogger, type Logger } from '../log.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import type { KubeClient } from './client.js';
import { toApiError } from './errors.js';
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
  backoff?: BackoffOptions;
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

  const stats = { lists: 0, watches: 0, errors: 0, restarts: 0 };
  const handlers = new Set<InformerHandler<T>>();
  const delivered = new Map<string, T>();
  const activeWatches = new Set<AbortController>();
  let started = false;
  let stopped = false;
  let synced = false;
  let justListed = false;
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

  const listFn = async (): Promise<KubernetesListObject<KubernetesObject>> => {
    stats.lists++;
    const list = await client.rest.request<{ metadata?: { resourceVersion?: string }; items?: K8sObject[] }>('GET', path, {
      query: { labelSelector: o.labelSelector, fieldSelector },
    });
    for (const item of list.items ?? []) {
      item.kind ??= res.kind;
      item.apiVersion ??= apiVersion;
    }
    backoff.reset();
    justListed = true;
    log.debug({ count: list.items?.length ?? 0, resourceVersion: list.metadata?.resourceVersion }, 'listed');
    return { ...list, items: list.items ?? [] } as KubernetesListObject<KubernetesObject>;
  };

  // ListWatch calls watch() right after it has applied a list, so the first call after a
  // list is the moment the cache holds it.
  const watch: Pick<Watch, 'watch'> = {
    watch: async (wpath, query, callback, done) => {
      if (justListed) {
        justListed = false;
        if (!synced) {
          synced = true;
          log.debug('synced');
          resolveSynced();
        }
      }
      stats.watches++;
      const timeout = Math.round(tMin + (tMax - tMin) * rand());
      // done may run before watch() returns (a refused watch), hence the holder.
      const w: { ctl?: AbortController; guard?: TimerHandle } = {};
      const wrappedDone = (err: unknown): void => {
        w.guard?.cancel();
        if (w.ctl) activeWatches.delete(w.ctl);
        done(err);
      };
      const wrappedCallback = (phase: string, apiObj: unknown, watchObj?: unknown): void => {
        // Lines already read when stop() aborted the stream may still arrive.
        if (stopped) return;
        backoff.reset();
        callback(phase, apiObj, watchObj);
      };
      const ctl = await client.watch.watch(
        wpath,
        { ...query, allowWatchBookmarks: true, timeoutSeconds: timeout },
        wrappedCallback,
        wrappedDone,
      );
      w.ctl = ctl;
      if (!ctl.signal.aborted) {
        activeWatches.add(ctl);
        w.guard = clock.setTimeout(() => {
          log.warn({ timeoutSeconds: timeout }, 'watch outlived its timeout; aborting it');
          ctl.abort();
        }, (timeout + 30) * 1000);
      }
      if (stopped) ctl.abort();
      return ctl;
    },
  };

  const lw = new ListWatch<KubernetesObject>(path, watch as Watch, listFn, false, o.labelSelector, fieldSelector);

  lw.on('add', (obj) => {
    const t = obj as T;
    const key = keyOf(t.metadata ?? {});
    delivered.set(key, t);
    deliver({ type: 'add', resource: res, key, obj: t });
  });
  lw.on('update', (obj) => {
    const t = obj as T;
    const key = keyOf(t.metadata ?? {});
    const old = delivered.get(key);
    delivered.set(key, t);
    deliver({ type: 'update', resource: res, key, obj: t, ...(old ? { old } : {}) });
  });
  lw.on('delete', (obj) => {
    const t = obj as T;
    const key = keyOf(t.metadata ?? {});
    delivered.delete(key);
    deliver({ type: 'delete', resource: res, key, obj: t });
  });
  const onError = (err: unknown): void => {
    if (stopped) return;
    stats.errors++;
    const e = toApiError(err);
    const delay = backoff.next();
    log.warn({ err: e, code: e.code, status: e.status, retryInMs: delay }, 'list/watch failed; restarting');
    restartTimer?.cancel();
    restartTimer = clock.setTimeout(() => {
      restartTimer = undefined;
      if (stopped) return;
      stats.restarts++;
      // start() resumes from the last resourceVersion, or relists when there is none.
      lw.start().catch(onError);
    }, delay);
  };
  lw.on('error', onError);

  const scheduleResync = (): void => {
    if (!o.resyncMs || stopped) return;
    resyncTimer = clock.setTimeout(() => {
      if (synced) for (const obj of lw.list()) deliver({ type: 'resync', resource: res, key: keyOf(obj.metadata ?? {}), obj: obj as T });
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
      lw.start().catch(onError);
      scheduleResync();
    },
    stop: async () => {
      stopped = true;
      restartTimer?.cancel();
      resyncTimer?.cancel();
      await lw.stop();
      for (const c of activeWatches) c.abort();
      activeWatches.clear();
    },
    get: (name, namespace) => lw.get(name, res.namespaced ? namespace : undefined) as T | undefined,
    list: (namespace) => lw.list(namespace) as readonly T[],
    subscribe: (handler, opts) => {
      if (opts?.replay) {
        for (const obj of lw.list()) {
          try {
            handler({ type: 'add', resource: res, key: keyOf(obj.metadata ?? {}), obj: obj as T });
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
