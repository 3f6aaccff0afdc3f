import { strict as assert } from 'node:assert';
import { formatListenAddr, parseListenAddr, startMonitoringServer, type MonitoringServer } from '../../../shared/http-server.js';
import { silentLogger } from '../../../shared/log.js';
import { createMetrics } from '../../../shared/metrics.js';

async function get(addr: { host: string; port: number } | null, path: string): Promise<{ status: number; body: string }> {
  assert.ok(addr);
  const res = await fetch(`http://${formatListenAddr(addr)}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('parseListenAddr', () => {
  it('accepts host:port, :port, [v6]:port and 0', () => {
    assert.deepEqual(parseListenAddr(':7472'), { ok: true, value: { host: '', port: 7472 } });
    assert.deepEqual(parseListenAddr('127.0.0.1:0'), { ok: true, value: { host: '127.0.0.1', port: 0 } });
    assert.deepEqual(parseListenAddr('[::1]:9'), { ok: true, value: { host: '::1', port: 9 } });
    assert.deepEqual(parseListenAddr('localhost:80'), { ok: true, value: { host: 'localhost', port: 80 } });
    assert.deepEqual(parseListenAddr('0'), { ok: true, value: null });
    for (const bad of ['7472', '::1:80', 'host:', 'a:b', ':99999']) assert.equal(parseListenAddr(bad).ok, false, bad);
  });
});

describe('monitoring server', () => {
  let servers: MonitoringServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });
  const start = async (o: Omit<Parameters<typeof startMonitoringServer>[0], 'logger' | 'registry'> & { registry?: ReturnType<typeof createMetrics>['registry'] }) => {
    const s = await startMonitoringServer({ logger: silentLogger(), registry: o.registry ?? createMetrics({ defaultMetrics: false }).registry, ...o });
    servers.push(s);
    return s;
  };

  it('serves metrics with the herald_ prefix, process metrics, and probes on one port', async () => {
    const m = createMetrics();
    m.counter({ name: 'things_total', help: 'things', labelNames: ['pool'] }).inc({ pool: 'a' }, 3);
    const s = await start({ metrics: { host: '127.0.0.1', port: 0 }, registry: m.registry });
    assert.ok(s.metricsAddr && s.metricsAddr.port > 0);
    assert.deepEqual(s.healthAddr, s.metricsAddr);
    const metrics = await get(s.metricsAddr, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^herald_things_total\{pool="a"\} 3$/m);
    assert.match(metrics.body, /^process_resident_memory_bytes \d+/m);
    assert.equal((await get(s.metricsAddr, '/healthz')).status, 200);
    assert.equal((await get(s.metricsAddr, '/readyz')).status, 200);
    assert.equal((await get(s.metricsAddr, '/nope')).status, 404);
  });

  it('/readyz fails until every check passes, naming the failing ones', async () => {
    const s = await start({ metrics: { host: '127.0.0.1', port: 0 } });
    let synced = false;
    s.addReadinessCheck('informers-synced', () => synced || 'waiting for services');
    s.addReadinessCheck('always', () => true);
    s.addReadinessCheck('throws', () => {
      if (!synced) throw new Error('kaboom');
      return true;
    });
    const before = await get(s.healthAddr, '/readyz');
    assert.equal(before.status, 503);
    assert.match(before.body, /\[-\]informers-synced failed: waiting for services/);
    assert.match(before.body, /\[\+\]always ok/);
    assert.match(before.body, /\[-\]throws failed: kaboom/);
    synced = true;
    const after = await get(s.healthAddr, '/readyz');
    assert.equal(after.status, 200);
    assert.match(after.body, /readyz check passed/);
  });

  it('moves the probes to --health-addr when it differs, and 0 turns either off', async () => {
    const s = await start({ metrics: { host: '127.0.0.1', port: 0 }, health: { host: '127.0.0.1', port: 0 } });
    assert.notEqual(s.metricsAddr?.port, s.healthAddr?.port);
    assert.equal((await get(s.metricsAddr, '/healthz')).status, 404);
    assert.equal((await get(s.healthAddr, '/healthz')).status, 200);
    assert.equal((await get(s.healthAddr, '/metrics')).status, 404);

    const noProbes = await start({ metrics: { host: '127.0.0.1', port: 0 }, health: null });
    assert.equal(noProbes.healthAddr, null);
    assert.equal((await get(noProbes.metricsAddr, '/healthz')).status, 404);

    const probesOnly = await start({ metrics: null, health: { host: '127.0.0.1', port: 0 } });
    assert.equal(probesOnly.metricsAddr, null);
    assert.equal((await get(probesOnly.healthAddr, '/healthz')).status, 200);
  });

  it('fails to start, leaving nothing open, when the port is taken', async () => {
    const a = await start({ metrics: { host: '127.0.0.1', port: 0 } });
    await assert.rejects(startMonitoringServer({ logger: silentLogger(), registry: createMetrics().registry, metrics: a.metricsAddr }), /EADDRINUSE/);
  });

  it('keeps registries apart, so one process can hold many', () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.counter({ name: 'x_total', help: 'x' });
    b.counter({ name: 'x_total', help: 'x' });
    assert.ok(a.registry.getSingleMetric('herald_x_total'));
    assert.notEqual(a.registry.getSingleMetric('herald_x_total'), b.registry.getSingleMetric('herald_x_total'));
  });
});
