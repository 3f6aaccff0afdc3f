// The main thread's handle on the membership thread (thread.ts): the same surface as
// member.ts's Membership, with the live set kept from the thread's reports so that
// live() stays synchronous. Failover goes: a peer declared down in the thread → one
// message → the listeners here (the L2 announcer re-runs the election and announces).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../shared/log.js';
import type { Metrics } from '../../shared/metrics.js';
import { MembershipError } from './codec.js';
import type { ChangeListener, MembershipConfig } from './member.js';
import { applyDelta, type MembershipMetrics } from './metrics.js';
import type { MemberPeer } from './peers.js';
import { promMembershipMetrics } from './prom-metrics.js';
import { TICK_MS, type FromThread, type ThreadInit, type ToThread } from './thread-protocol.js';

export interface ThreadedMembershipConfig extends Omit<MembershipConfig, 'logger' | 'metrics' | 'clock' | 'probeNode'> {
  logger: Logger;
  metrics?: Metrics;
  /** How long the main thread may stall before heartbeats stop (thread.ts MAIN_STALL_MS). */
  mainStallMs?: number;
}

/**
 * The thread's heap limits. It holds the membership state and a few hundred bytes per
 * datagram in flight, and a small young generation keeps its RSS down (about 10 MB for
 * the thread as a whole). The old-space cap is a ceiling, not a reservation: 8 MB ran out
 * under code coverage (the test suite) and a thread that runs out exits, so 32.
 */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 1 };

/**
 * The worker running thread.ts next to this module: thread.js when compiled. Under tsx (the
 * tests, the lab) the worker does not get tsx's loader from `--import tsx`, so a one-line
 * bootstrap registers it before loading thread.ts.
 */
function startThread(init: ThreadInit): Worker {
  const opts = { workerData: init, resourceLimits: RESOURCE_LIMITS };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./thread.js', import.meta.url), opts);
  // tsx/esm/api's ESM build (its CommonJS one cannot register from a worker), found through
  // tsx's own exports map: this module may be compiled to CommonJS by tsx (mocha).
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  const exportsMap = (JSON.parse(readFileSync(pkg, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports;
  const tsx = pathToFileURL(join(dirname(pkg), exportsMap['./esm/api']?.import.default ?? 'dist/esm/api/index.mjs')).href;
  const entry = new URL('./thread.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { ...opts, eval: true });
}

export class ThreadedMembership {
  readonly #log: Logger;
  readonly #metrics: MembershipMetrics | undefined;
  readonly #listeners = new Set<ChangeListener>();
  #worker: Worker | undefined;
  #live: ReadonlySet<string> | undefined;
  #tick: NodeJS.Timeout | undefined;
  #waiting = new Map<'started' | 'left' | 'stopped', { resolve: () => void; reject: (e: Error) => void }>();
  #port: number | undefined;
  #exited = false;
  #stopping = false;
  readonly #init: ThreadInit;
  #peers: MemberPeer[] | undefined;

  constructor(cfg: ThreadedMembershipConfig) {
    this.#log = cfg.logger;
    this.#metrics = cfg.metrics ? promMembershipMetrics(cfg.metrics) : undefined;
    const { logger: _l, metrics: _m, mainStallMs, ...config } = cfg;
    this.#init = { config: { ...config, key: new Uint8Array(config.key) }, ...(mainStallMs !== undefined ? { mainStallMs } : {}) };
    this.#spawn();
  }

  /**
   * Starts the thread. If it dies (a bug), it is started again after a second, as a new
   * boot: the peers take this node's IPs over meanwhile and see it join again.
   */
  #spawn(): void {
    const w = startThread(this.#init);
    this.#worker = w;
    this.#exited = false;
    w.on('message', (m: FromThread) => this.#onMessage(m));
    w.on('error', (err) => this.#log.error({ err }, 'membership thread failed'));
    w.on('exit', (code) => {
      if (this.#worker !== w) return;
      this.#exited = true;
      for (const [, x] of this.#waiting) x.reject(new MembershipError('socket', `membership thread exited (${code})`));
      this.#waiting.clear();
      if (this.#stopping) return;
      this.#log.error({ code }, 'membership thread exited; starting it again in 1 s');
      setTimeout(() => {
        if (this.#stopping) return;
        this.#spawn();
        if (this.#peers) this.#send({ t: 'setPeers', peers: this.#peers });
      }, 1000).unref();
    });
  }

  /** Resolves once the thread's sockets are bound. */
  start(): Promise<void> {
    const started = this.#wait('started');
    this.#tick = setInterval(() => this.#send({ t: 'tick' }), TICK_MS);
    this.#tick.unref();
    return started;
  }

  setPeers(peers: readonly MemberPeer[]): void {
    this.#peers = peers.map((p) => ({ ...p }));
    this.#send({ t: 'setPeers', peers: this.#peers });
  }

  setKey(key: Uint8Array): void {
    // A thread started again starts from the newest key.
    this.#init.config.key = new Uint8Array(key);
    this.#send({ t: 'setKey', key: this.#init.config.key });
  }

  live(): ReadonlySet<string> | undefined {
    return this.#live;
  }

  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  port(): number | undefined {
    return this.#port;
  }

  /** As Membership.leave(): resolves after the grace period. */
  async leave(): Promise<void> {
    if (this.#exited) return;
    const left = this.#wait('left');
    this.#send({ t: 'leave' });
    await left;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#tick) clearInterval(this.#tick);
    const w = this.#worker;
    if (!w || this.#exited) return;
    const stopped = this.#wait('stopped');
    this.#send({ t: 'stop' });
    await stopped.catch(() => {});
    await w.terminate();
  }

  #send(m: ToThread): void {
    if (!this.#exited) this.#worker?.postMessage(m);
  }

  #wait(what: 'started' | 'left' | 'stopped'): Promise<void> {
    return new Promise((resolve, reject) => this.#waiting.set(what, { resolve, reject }));
  }

  #settle(what: 'started' | 'left' | 'stopped', err?: Error): void {
    const w = this.#waiting.get(what);
    this.#waiting.delete(what);
    if (err) w?.reject(err);
    else w?.resolve();
  }

  #onMessage(m: FromThread): void {
    switch (m.t) {
      case 'change':
        this.#live = new Set(m.live);
        for (const l of this.#listeners) {
          try {
            l(this.#live, m.events);
          } catch (err) {
            this.#log.error({ err }, 'membership: change listener failed');
          }
        }
        return;
      case 'log':
        this.#log[m.level](m.fields, m.msg);
        return;
      case 'metrics':
        if (this.#metrics) applyDelta(this.#metrics, m.delta);
        return;
      case 'started':
        this.#port = m.port;
        this.#settle('started');
        return;
      case 'startFailed':
        this.#settle('started', new MembershipError('socket', m.message));
        return;
      case 'left':
        this.#settle('left');
        return;
      case 'stopped':
        this.#settle('stopped');
        return;
    }
  }
}
