// `herald apiserver` as a process: it starts, writes kubeconfigs for each identity,
// kubectl works against it, and SIGTERM stops it cleanly.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './harness.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('apiserver: herald apiserver command', function () {
  this.timeout(30_000);
  let dir: string;
  let child: ChildProcess | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hlt-apiserver-cli-'));
  });
  afterEach(() => {
    if (child && child.exitCode === null && child.pid) child.kill('SIGKILL');
    child = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints its flags with --help', async () => {
    const r = await run('npm', ['run', '-s', 'herald', '--', 'apiserver', '--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const flag of ['--listen', '--kubeconfig-out', '--unix-socket', '--log-level']) assert.ok(r.stdout.includes(flag), flag);
  });

  it('serves, writes kubeconfigs that kubectl uses, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const kc = join(dir, 'kubeconfig');
    const sock = join(dir, 'api.sock');
    child = spawn(process.execPath, ['--import', 'tsx', 'shared/cli.ts', 'apiserver', '--listen', `127.0.0.1:${port}`, '--kubeconfig-out', kc, '--unix-socket', sock, '--log-level', 'info'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    await eventually(() => existsSync(`${kc}.speaker`), `kubeconfigs (output so far: ${out})`, 15_000);
    assert.match(readFileSync(kc, 'utf8'), new RegExp(`server: https://127.0.0.1:${port}`));
    assert.ok(existsSync(`${kc}.controller`));
    assert.ok(existsSync(sock), 'unix socket');
    const ns = await run('kubectl', ['--kubeconfig', kc, '--cache-dir', join(dir, 'cache'), 'get', 'ns']);
    assert.equal(ns.code, 0, ns.stderr);
    assert.match(ns.stdout, /herald-system\s+Active/);
    const who = await run('kubectl', ['--kubeconfig', `${kc}.controller`, '--cache-dir', join(dir, 'cache'), 'get', 'secrets', '-n', 'kube-system']);
    assert.match(who.stderr, /User "system:serviceaccount:herald-system:controller" cannot list resource "secrets"/);
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    assert.match(out, /"msg":"API server stopped"/);
    assert.ok(!existsSync(sock), 'socket removed');
  });
});
