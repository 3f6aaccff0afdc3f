// Watch streams: newline-delimited JSON events over a chunked HTTP response, written as
// they happen. Resumes from a resourceVersion out of the kept history (410 Expired as an
// ERROR event when it is gone), synthetic ADDED events for the initial state when no
// version is given, selector transitions (an object leaving a selector is DELETED for
// that watch), BOOKMARKs when asked, `timeoutSeconds`, and sendInitialEvents.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ApiError, badRequest, gone } from './errors.js';
import { readMeta } from './object.js';
import { apiVersionOf, type ResourceDef } from './registry.js';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Bucket, EventType, Store, StoreEvent, Stored, Subscriber } from './store.js';
import type { Rest } from './rest.js';

export interface WatchStream {
  readonly def: ResourceDef;
  readonly namespace: string | undefined;
  close(): void;
}

export interface WatchOptions {
  bookmarkIntervalMs: number;
  /** Renders one object for this watch (JSON, or a Table row when the client asked for tables). */
  render(def: ResourceDef, s: Stored): string;
  /** Above this many buffered bytes the client is too slow and the watch is closed. */
  maxBufferedBytes?: number;
}

function parseRV(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`resourceVersion: Invalid value: "${v}": must be a non-negative integer`);
  return Number(v);
}

export class WatchHub {
  readonly streams = new Set<WatchStream>();

  constructor(
    private readonly store: Store,
    private readonly rest: Rest,
    private readonly log: Logger,
  ) {}

  /** Validates the request; throws ApiError before any byte is sent. */
  start(def: ResourceDef, ns: string | undefined, q: URLSearchParams, res: ServerResponse, opts: WatchOptions): void {
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'));
    const rv = parseRV(q.get('resourceVersion'));
    const timeoutSeconds = q.get('timeoutSeconds') ? Number(q.get('timeoutSeconds')) : undefined;
    if (timeoutSeconds !== undefined && (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0)) throw badRequest('timeoutSeconds must be a non-negative number');
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    const sendInitial = q.get('sendInitialEvents');
    if (sendInitial === 'true' && q.get('resourceVersionMatch') !== 'NotOlderThan') {
      throw badRequest('resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
    }
    const scope = def.namespaced ? ns : undefined;
    const bucket: Bucket = this.store.bucket(def.bucket);

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();

    const matches = (s: Stored): boolean =>
      (scope === undefined || s.namespace === scope) &&
      (labels.length === 0 || matchLabels(labels, readMeta(s.obj).labels)) &&
      (fields.length === 0 || matchFields(fields, this.rest.external(def, s.obj)));

    let closed = false;
    let lastRV = rv ?? this.store.revision;
    const timers: NodeJS.Timeout[] = [];
    const maxBuffered = opts.maxBufferedBytes ?? 64 * 1024 * 1024;
    let corked = false;
    const write = (type: EventType | 'BOOKMARK' | 'ERROR', objectJSON: string): void => {
      if (closed) return;
      // The events of one turn of the event loop (a burst of writes from many clients)
      // leave in one write: one TLS record and one syscall instead of one each.
      if (!corked) {
        corked = true;
        res.cork();
        setImmediate(() => {
          corked = false;
          res.uncork();
        });
      }
      res.write(`{"type":"${type}","object":${objectJSON}}\n`);
      if (res.writableLength > maxBuffered) {
        this.log.warn({ resource: def.plural, buffered: res.writableLength }, 'closing watch of a client that does not keep up');
        close();
      }
    };
    const bookmark = (annotations?: Record<string, string>): void => {
      const metadata: Record<string, unknown> = { resourceVersion: String(Math.max(lastRV, this.store.revision)) };
      if (annotations) metadata.annotations = annotations;
      write('BOOKMARK', JSON.stringify({ kind: def.kind, apiVersion: apiVersionOf(def), metadata }));
    };
    const send = (type: EventType, s: Stored): void => {
      lastRV = Math.max(lastRV, s.rv);
      write(type, opts.render(def, s));
    };
    const deliver = (ev: StoreEvent): void => {
      const now = matches(ev.cur);
      const before = ev.prev !== undefined && matches(ev.prev);
      if (ev.type === 'ADDED') {
        if (now) send('ADDED', ev.cur);
      } else if (ev.type === 'DELETED') {
        if (before || now) send('DELETED', ev.cur);
      } else if (now && before) send('MODIFIED', ev.cur);
      else if (now) send('ADDED', ev.cur);
      else if (before) send('DELETED', ev.cur);
    };
    const subscriber: Subscriber = { deliver };
    const stream: WatchStream = { def, namespace: scope, close: () => close() };
    const close = (): void => {
      if (closed) return;
      closed = true;
      timers.forEach((t) => clearTimeout(t));
      bucket.subscribers.delete(subscriber);
      this.streams.delete(stream);
      res.end();
    };
    res.on('close', () => {
      closed = true;
      timers.forEach((t) => clearTimeout(t));
      bucket.subscribers.delete(subscriber);
      this.streams.delete(stream);
    });

    const initialState = rv === undefined || rv === 0 ? sendInitial !== 'false' : sendInitial === 'true';
    if (initialState) {
      for (const k of bucket.sortedKeys()) {
        const s = bucket.objects.get(k) as Stored;
        if (matches(s)) send('ADDED', s);
      }
      lastRV = this.store.revision;
      if (sendInitial === 'true') bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else if (rv !== undefined && rv !== 0) {
      const history = bucket.eventsSince(rv);
      if (!history) {
        const err: ApiError = gone(`too old resource version: ${rv} (${bucket.compactedRV})`);
        write('ERROR', JSON.stringify(err.toStatus()));
        close();
        return;
      }
      for (const ev of history) deliver(ev);
    }
    bucket.subscribers.add(subscriber);
    this.streams.add(stream);
    if (bookmarks && opts.bookmarkIntervalMs > 0) {
      const tick = (): void => {
        bookmark();
        timers[0] = setTimeout(tick, opts.bookmarkIntervalMs);
      };
      timers[0] = setTimeout(tick, opts.bookmarkIntervalMs);
    }
    if (timeoutSeconds !== undefined && timeoutSeconds > 0) {
      timers.push(
        setTimeout(() => {
          if (bookmarks) bookmark();
          close();
        }, timeoutSeconds * 1000),
      );
    }
  }

  closeAll(filter: (s: WatchStream) => boolean = () => true): number {
    let n = 0;
    for (const s of [...this.streams]) {
      if (filter(s)) {
        s.close();
        n++;
      }
    }
    return n;
  }
}
