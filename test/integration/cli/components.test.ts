// The controller and the speaker as real processes (`node --import tsx shared/cli.ts …`)
// against an embedded API server in this process: start, connect, sync, serve probes,
// lead (controller), and shut down cleanly on SIGTERM.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLeaseClient } from '../../../shared/k8s/lease.js';
import type { KubeClient } from '../../../shared/k8s/client.js';
import { clientFor, startServer, waitFor, type ApiServer } from '../k8s/harness.js';

const REPO = join(import.meta.dirname, '..', '..', '..');

interface LogLine {
  level: string;
  msg: string;
  component?: string;
  node?: string;
  addr?: string;
  identity?: string;
  [k: string]: unknown;
}

class Proc {
  readonly lines: LogLine[] = [];
  stderr = '';
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited = false;
  private buf = '';

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ level: 'raw', msg: line });
        }
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => (this.stderr += d));
    this.exit = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.exited = true;
        resolve({ code, signal });
      }),
    );
  }

  find(msg: string | RegExp): LogLine | undefined {
    return this.lines.find((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg)));
  }

  async waitLog(msg: string | RegExp, timeoutMs = 15_000): Promise<LogLine> {
    await waitFor(() => this.find(msg) !== undefined || this.exited, `log "${String(msg)}"`, timeoutMs);
    const l = this.find(msg);
    if (!l) throw new Error(`process exited before logging "${String(msg)}"; stderr: ${this.stderr}\nstdout: ${JSON.stringify(this.lines)}`);
    return l;
  }
}

describe('controller and speaker processes (embedded API server)', function () {
  this.timeout(60_000);
  let api: ApiServer;
  let admin: KubeClient;
  let dir: string;
  const procs: Proc[] = [];

  before(async () => {
    api = await startServer();
    admin = clientFor(api);
    dir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
    api.writeKubeconfig(join(dir, 'controller.yaml'), 'controller');
    api.writeKubeconfig(join(dir, 'speaker.yaml'), 'speaker');
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) {
      if (!p.exited && p.child.pid) {
        p.child.kill('SIGKILL');
        await p.exit;
      }
    }
  });
  after(async () => {
    admin.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function herald(args: string[], env: Record<string, string> = {}): Proc {
    const child = spawn(process.execPath, ['--import', 'tsx', 'shared/cli.ts', ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = new Proc(child);
    procs.push(p);
    return p;
  }

  async function httpGet(addr: string, path: string): Promise<number> {
    return (await fetch(`http://${addr}${path}`)).status;
  }

  async function terminate(p: Proc): Promise<number> {
    const t = Date.now();
    p.child.kill('SIGTERM');
    const { code } = await p.exit;
    const took = Date.now() - t;
    assert.ok(took < 3_000, `took ${took} ms to exit after SIGTERM`);
    return code ?? -1;
  }

  it('controller: syncs, leads, serves probes and metrics, and releases its Lease on SIGTERM', async () => {
    const c = herald(['controller', '--kubeconfig', join(dir, 'controller.yaml'), '--metrics-addr', '127.0.0.1:0', '--lease-name', 'cli-single']);
    const listening = await c.waitLog('metrics server listening');
    const addr = String(listening.addr);
    await c.waitLog('informers synced');
    await c.waitLog(/^controller started/);
    assert.equal(c.find('connecting to the API server')?.component, 'controller');
    assert.equal(await httpGet(addr, '/healthz'), 200);
    assert.equal(await httpGet(addr, '/readyz'), 200);
    const metrics = await (await fetch(`http://${addr}/metrics`)).text();
    assert.match(metrics, /^herald_controller_leader 1$/m);
    assert.match(metrics, /^process_resident_memory_bytes /m);
    const lease = await createLeaseClient(admin.rest).get('herald-system', 'cli-single');
    assert.ok(lease?.spec?.holderIdentity, 'the lease is held while running');

    assert.equal(await terminate(c), 0);
    assert.ok(c.find('leader election: released the lease'));
    assert.ok(c.find('stopped'));
    assert.equal(c.lines.filter((l) => l.level === 'error').length, 0, JSON.stringify(c.lines.filter((l) => l.level === 'error')));
    const after = await createLeaseClient(admin.rest).get('herald-system', 'cli-single');
    assert.ok(!after?.spec?.holderIdentity, `holder after exit: ${after?.spec?.holderIdentity}`);
  });

  it('controller: two replicas, one leads; SIGTERM to the leader hands over at once', async () => {
    const args = (name: string) => ['controller', '--kubeconfig', join(dir, 'controller.yaml'), '--metrics-addr', '0', '--lease-name', 'cli-pair', '--pod-name', name];
    const a = herald(args('a'));
    await a.waitLog(/^controller started/);
    const b = herald(args('b'));
    await b.waitLog('informers synced');
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(b.find(/^controller started/), undefined, 'the standby waits');
    const t = Date.now();
    assert.equal(await terminate(a), 0);
    await b.waitLog(/^controller started/, 10_000);
    const took = Date.now() - t;
    assert.ok(took < 5_000, `standby took ${took} ms to take over`);
    const lease = await createLeaseClient(admin.rest).get('herald-system', 'cli-pair');
    assert.match(String(lease?.spec?.holderIdentity), /^b_[0-9a-f]{8}$/);
    assert.equal(await terminate(b), 0);
  });

  it('speaker: syncs as the speaker identity, serves probes on a separate health address, exits 0 on SIGTERM', async () => {
    const s = herald(['speaker', '--kubeconfig', join(dir, 'speaker.yaml'), '--metrics-addr', '127.0.0.1:0', '--health-addr', '127.0.0.1:0'], { NODE_NAME: 'node1' });
    await s.waitLog(/^speaker started/);
    const lines = s.lines.filter((l) => l.msg === 'metrics server listening' || l.msg === 'health server listening');
    assert.equal(lines.length, 2);
    const health = String(lines.find((l) => l.msg === 'health server listening')?.addr);
    const metrics = String(lines.find((l) => l.msg === 'metrics server listening')?.addr);
    assert.equal(await httpGet(health, '/readyz'), 200);
    assert.equal(await httpGet(metrics, '/healthz'), 404);
    assert.ok(s.lines.every((l) => l.level === 'raw' || l.node === 'node1'), 'every line names the node');
    assert.equal(await terminate(s), 0);
    assert.ok(s.find('stopped'));
  });

  it('exits 2 with a message on bad flags, 1 when there is no cluster to reach', async () => {
    const bad = herald(['controller', '--no-such-flag']);
    const noNode = herald(['speaker', '--kubeconfig', join(dir, 'speaker.yaml')]);
    const nowhere = herald(['controller', '--metrics-addr', '0']);
    const [b, n, w] = await Promise.all([bad.exit, noNode.exit, nowhere.exit]);
    assert.equal(b.code, 2);
    assert.match(bad.stderr, /Unknown option '--no-such-flag'/);
    assert.equal(n.code, 2);
    assert.match(noNode.stderr, /--node-name is required/);
    assert.equal(w.code, 1);
    assert.match(nowhere.stderr, /pass --kubeconfig, set KUBECONFIG, or run in a pod/);
  });

  it('SIGTERM before the first sync still exits 0 promptly', async () => {
    api.faults.latency(10_000, { verb: 'list', resource: 'services' });
    try {
      const c = herald(['controller', '--kubeconfig', join(dir, 'controller.yaml'), '--metrics-addr', '127.0.0.1:0', '--lease-name', 'cli-early']);
      const l = await c.waitLog('metrics server listening');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await httpGet(String(l.addr), '/readyz'), 503, 'not ready before sync');
      assert.equal(await terminate(c), 0);
      assert.equal(c.find(/^controller started/), undefined);
    } finally {
      api.faults.clear();
    }
  });
});
