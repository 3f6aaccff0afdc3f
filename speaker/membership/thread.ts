// The membership thread: member.ts's Membership run in a worker thread of its own, so that
// heartbeats leave on time whatever the main thread is doing. A burst of cluster changes
// (1,000 Services created at once) keeps the main thread busy with snapshots, elections
// and status writes for hundreds of ms at a time on a loaded node; heartbeats sent from
// there came late and peers declared the node down, then up again: two moves of every IP
// it held, for nothing (test/bench/failover.ts measures it). The thread is woken by its
// own timers and sockets only.
//
// A heartbeat still has to mean "this speaker answers ARP/NDP", which the main thread
// does: the main thread sends a tick every TICK_MS, and when none has come for
// MAIN_STALL_MS the thread stops heartbeating (the peers take over after one detection
// time) until ticks come again. Stalls of a second or so, which a loaded node has, do
// not flap the membership; a main thread that hangs for good does not hold IPs dark.
//
// Messages (thread-protocol.ts): threaded.ts, the main side, sends `ToThread`; this file
// answers `FromThread`.
// Logs and counters are relayed, so this thread loads neither pino nor prom-client.
import { parentPort, workerData } from 'node:worker_threads';
import { Membership, type MemberLog } from './member.js';
import { CountingMetrics } from './metrics.js';
import { MAIN_STALL_MS, METRICS_EVERY_MS, TICK_MS, type FromThread, type LogLevel, type ThreadInit, type ToThread } from './thread-protocol.js';

function run(): void {
  const port = parentPort;
  if (!port) throw new Error('speaker/membership/thread.ts runs as a worker thread');
  const init = workerData as ThreadInit;
  const post = (m: FromThread): void => port.postMessage(m);
  const relay =
    (level: LogLevel) =>
    (a: unknown, b?: unknown): void => {
      const [fields, msg] = typeof a === 'string' ? [{}, a] : [(a ?? {}) as Record<string, unknown>, typeof b === 'string' ? b : ''];
      post({ t: 'log', level, fields, msg });
    };
  const log = { debug: relay('debug'), info: relay('info'), warn: relay('warn'), error: relay('error') } as unknown as MemberLog;
  const metrics = new CountingMetrics();
  const m = new Membership({ ...init.config, key: Buffer.from(init.config.key), logger: log, metrics });
  const flushMetrics = (): void => {
    const delta = metrics.take();
    if (delta) post({ t: 'metrics', delta });
  };
  m.onChange((live, events) => {
    flushMetrics();
    post({ t: 'change', live: [...live], events: [...events] });
  });

  const stallMs = init.mainStallMs ?? MAIN_STALL_MS;
  let lastTick = performance.now();
  let stalled = false;
  const watchdog = setInterval(() => {
    const silent = performance.now() - lastTick;
    if (!stalled && silent >= stallMs) {
      stalled = true;
      m.pause();
      log.warn({ silentMs: Math.round(silent) }, 'membership: the main thread is not answering; heartbeats stop until it does');
    }
  }, TICK_MS);
  const metricsTimer = setInterval(flushMetrics, METRICS_EVERY_MS);

  port.on('message', (msg: ToThread) => {
    switch (msg.t) {
      case 'tick':
        lastTick = performance.now();
        if (stalled) {
          stalled = false;
          m.resume();
          log.info('membership: the main thread answers again; heartbeats resume');
        }
        return;
      case 'setPeers':
        m.setPeers(msg.peers);
        return;
      case 'setKey':
        m.setKey(Buffer.from(msg.key));
        return;
      case 'leave':
        void m.leave().finally(() => post({ t: 'left' }));
        return;
      case 'stop':
        clearInterval(watchdog);
        clearInterval(metricsTimer);
        void m.stop().finally(() => {
          flushMetrics();
          post({ t: 'stopped' });
        });
        return;
    }
  });
  m.start().then(
    () => post({ t: 'started', port: m.port() }),
    (err: unknown) => post({ t: 'startFailed', message: err instanceof Error ? err.message : String(err) }),
  );
}

run();
