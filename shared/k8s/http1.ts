// Keep-alive HTTP/1.1 connections for the REST client's request/response exchanges.
//
// Why not node:https: each of its requests builds a ClientRequest, an IncomingMessage
// and their streams, and costed the controller ~240 µs of CPU per status write against
// ~80 µs for one string written to a TLS socket and a small reader (http1-parser.ts);
// at 10,000 Services that was a second and a half of a cold start on two cores. Watches,
// which stream for minutes, stay on node:https (transport.ts).
//
// One request at a time per connection (no pipelining: a slow answer must not hold up
// the ones behind it), at most `maxSockets` connections, idle ones reused most recent
// first and closed after `idleMs`. A request written to a reused connection that the
// server closed meanwhile (the keep-alive race, RFC 9112 §9.3.1) is sent again on a new
// one unless it is a POST, which may have been acted on.
import net from 'node:net';
import tls from 'node:tls';
import { Http1Error, Http1ResponseReader, type Http1Response } from './http1-parser.js';

export interface Http1Target {
  /** Host and port to connect to (an IPv6 literal without brackets). */
  hostname: string;
  port: number;
  /** The Host header: host[:port] as in the server URL. */
  host: string;
  /** TLS settings; plain TCP when absent. */
  tls?: { secureContext: tls.SecureContext; rejectUnauthorized: boolean; servername?: string };
}

export interface Http1ClientOptions {
  maxSockets?: number;
  /** Idle connections are closed after this long; default 30 s. */
  idleMs?: number;
}

/** No answer within the request's time limit (the connection is dropped). */
export class Http1Timeout extends Error {
  override readonly name = 'Http1Timeout';
}

export interface Http1Client {
  /** Sends one request; rejects with an Error on network failure or timeout. */
  request(method: string, path: string, headers: Readonly<Record<string, string | number>>, body: string | undefined, timeoutMs: number): Promise<Http1Response>;
  /** Closes every connection; pending requests fail. */
  close(): void;
}

interface Exchange {
  resolve(r: Http1Response): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  /** Any byte of the answer seen. */
  answered: boolean;
  retry?: () => void;
}

interface Conn {
  socket: net.Socket;
  reader: Http1ResponseReader;
  current: Exchange | undefined;
  /** Has carried a request before: a close before any answer may be the keep-alive race. */
  reused: boolean;
  dead: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

export function createHttp1Client(target: Http1Target, o: Http1ClientOptions = {}): Http1Client {
  const maxSockets = o.maxSockets ?? 32;
  const idleMs = o.idleMs ?? 30_000;
  const idle: Conn[] = [];
  const all = new Set<Conn>();
  const waiting: { resolve: (c: Conn) => void; reject: (err: Error) => void }[] = [];
  let closed = false;

  const drop = (c: Conn, err: Error): void => {
    if (c.dead) return;
    c.dead = true;
    all.delete(c);
    const i = idle.indexOf(c);
    if (i >= 0) idle.splice(i, 1);
    if (c.idleTimer) clearTimeout(c.idleTimer);
    c.socket.destroy();
    const ex = c.current;
    c.current = undefined;
    if (ex) {
      clearTimeout(ex.timer);
      if (!ex.answered && c.reused && ex.retry) ex.retry();
      else ex.reject(err);
    }
    // A waiter may now open a connection of its own.
    if (!closed) waiting.shift()?.resolve(open());
  };

  const release = (c: Conn): void => {
    if (c.dead) return;
    c.reused = true;
    const w = waiting.shift();
    if (w) return w.resolve(c);
    idle.push(c);
    c.idleTimer = setTimeout(() => drop(c, new Error('idle')), idleMs);
    c.idleTimer.unref();
  };

  const open = (): Conn => {
    const socket = target.tls
      ? tls.connect({
          host: target.hostname,
          port: target.port,
          secureContext: target.tls.secureContext,
          rejectUnauthorized: target.tls.rejectUnauthorized,
          ...(target.tls.servername !== undefined ? { servername: target.tls.servername } : {}),
          ALPNProtocols: ['http/1.1'],
        })
      : net.connect({ host: target.hostname, port: target.port });
    socket.setNoDelay(true);
    const c: Conn = { socket, reader: new Http1ResponseReader(), current: undefined, reused: false, dead: false, idleTimer: undefined };
    all.add(c);
    socket.on('data', (chunk: Buffer) => {
      let responses: Http1Response[];
      try {
        if (c.current) c.current.answered = true;
        responses = c.reader.push(chunk);
      } catch (err) {
        return drop(c, err instanceof Error ? err : new Http1Error(String(err)));
      }
      for (const r of responses) finish(c, r);
    });
    socket.on('end', () => {
      let r: Http1Response | undefined;
      try {
        r = c.reader.end();
      } catch (err) {
        return drop(c, err instanceof Error ? err : new Http1Error(String(err)));
      }
      if (r) finish(c, r);
      drop(c, new Error('connection closed by the server before the answer'));
    });
    socket.on('error', (err) => drop(c, err));
    socket.on('close', () => drop(c, new Error('connection closed before the answer')));
    return c;
  };

  const finish = (c: Conn, r: Http1Response): void => {
    const ex = c.current;
    if (!ex) return drop(c, new Http1Error('an answer nobody asked for'));
    c.current = undefined;
    clearTimeout(ex.timer);
    ex.resolve(r);
    if (r.close) drop(c, new Error('closed'));
    else release(c);
  };

  const acquire = (): Promise<Conn> => {
    for (;;) {
      const c = idle.pop();
      if (!c) break;
      if (c.idleTimer) clearTimeout(c.idleTimer);
      c.idleTimer = undefined;
      if (!c.dead && !c.socket.destroyed) return Promise.resolve(c);
    }
    if (all.size < maxSockets) return Promise.resolve(open());
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };

  const request = (method: string, path: string, headers: Readonly<Record<string, string | number>>, body: string | undefined, timeoutMs: number, again = false): Promise<Http1Response> => {
    if (closed) return Promise.reject(new Error('client closed'));
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${target.host}\r\n`;
    for (const k in headers) head += `${k}: ${headers[k]}\r\n`;
    if (body !== undefined && headers['content-length'] === undefined) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
    const wire = `${head}\r\n${body ?? ''}`;
    return acquire().then(
      (c) =>
        new Promise<Http1Response>((resolve, reject) => {
          // Failed between being handed out and now: start over on another.
          if (c.dead) return void request(method, path, headers, body, timeoutMs, again).then(resolve, reject);
          const ex: Exchange = {
            resolve,
            reject,
            answered: false,
            timer: setTimeout(() => {
              delete ex.retry;
              drop(c, new Http1Timeout(`no answer in ${timeoutMs} ms`));
            }, timeoutMs),
          };
          if (method !== 'POST' && !again) {
            ex.retry = () => void request(method, path, headers, body, timeoutMs, true).then(resolve, reject);
          }
          c.current = ex;
          c.socket.write(wire);
        }),
    );
  };

  return {
    request: (method, path, headers, body, timeoutMs) => request(method, path, headers, body, timeoutMs),
    close: () => {
      closed = true;
      for (const c of [...all]) drop(c, new Error('client closed'));
      for (const w of waiting.splice(0)) w.reject(new Error('client closed'));
    },
  };
}
