// One watch request: GET …?watch=true, read as newline-delimited WatchEvents
// ({"type":"ADDED","object":{…}}) until the server ends it, the connection breaks, or the
// caller aborts. The call shape is client-node's Watch.watch, so code written against it
// keeps working: callback per event, `done` exactly once, an AbortController back.
//
// `done(null)` means the server ended the stream (its timeoutSeconds ran out); an error
// means it refused the watch (an ApiError with the HTTP status: 410 Gone asks for a
// relist) or the stream broke. Bookmarks and ERROR events are passed on as they come.
import type http from 'node:http';
import { ApiError } from './errors.js';
import { LineSplitter } from './ndjson.js';
import { errorFor, type Query } from './rest.js';
import { queryString, type Transport } from './transport.js';

/** One event: its type, its object (not checked: the resource's JSON), the event as sent. */
export type WatchCallback<O = unknown> = (type: string, object: O, event: unknown) => void;

/** Opens watches; `Watch` over HTTP, or a fake in tests. */
export interface Watcher {
  watch<O = unknown>(path: string, query: Query, callback: WatchCallback<O>, done: (err: unknown) => void): Promise<AbortController>;
}

export class Watch implements Watcher {
  constructor(private readonly transport: Transport) {}

  async watch<O = unknown>(path: string, query: Query, callback: WatchCallback<O>, done: (err: unknown) => void): Promise<AbortController> {
    const ctl = new AbortController();
    let finished = false;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      ctl.abort();
      done(err);
    };
    const what = `WATCH ${path}`;
    let req: http.ClientRequest;
    try {
      req = await this.transport.request('GET', path + queryString({ ...query, watch: true }), { accept: 'application/json' }, ctl.signal);
    } catch (err) {
      finish(new ApiError('Unauthorized', 0, `${what}: ${err instanceof Error ? err.message : String(err)}`));
      return ctl;
    }
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          if (status === 401) this.transport.unauthorized();
          finish(errorFor(what, status, res.headers['retry-after'], parsed, text));
        });
        res.on('error', (err) => finish(new ApiError('Network', 0, `${what}: ${err.message}`)));
        return;
      }
      // A half-open connection is caught by the caller's guard; TCP keepalive helps too.
      res.socket?.setKeepAlive(true, 30_000);
      const lines = new LineSplitter();
      const deliver = (line: string): void => {
        if (finished) return;
        let ev: { type?: unknown; object?: unknown };
        try {
          ev = JSON.parse(line) as typeof ev;
        } catch {
          // Only a stream cut mid-line yields one; what follows ends the watch anyway.
          return;
        }
        if (typeof ev.type === 'string') callback(ev.type, ev.object as O, ev);
      };
      res.on('data', (chunk: Buffer) => {
        for (const line of lines.push(chunk)) deliver(line);
      });
      res.on('end', () => {
        const last = lines.end();
        if (last !== undefined) deliver(last);
        finish(null);
      });
      res.on('error', (err) => finish(new ApiError('Network', 0, `${what}: ${err.message}`)));
      res.on('close', () => finish(res.complete ? null : new ApiError('Network', 0, `${what}: connection closed mid-stream`)));
    });
    req.on('error', (err) => finish(ctl.signal.aborted && !finished ? new ApiError('Timeout', 0, `${what}: aborted`) : new ApiError('Network', 0, `${what}: ${err.message}`)));
    req.end();
    return ctl;
  }
}
