// What the small network-namespace labs of the integration tests (bgp/lab.ts, bfd/lab.ts)
// share: commands, waiting, namespaces left by crashed runs, and processes started in a
// namespace that are killed by PID when the test ends.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, waitFor as poll } from '../lab/exec.js';

/** Runs a command (in `ns` when given); its stdout, or an Error with its output. */
export function sh(cmd: string, args: string[], opts: { allowFail?: boolean; ns?: string } = {}): string {
  const [bin, argv] = opts.ns ? ['ip', ['netns', 'exec', opts.ns, cmd, ...args]] : [cmd, args];
  const r = spawnSync(bin, argv, { encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout || r.error?.message}`);
  return r.stdout ?? '';
}

export { sleep };

/** Polls `probe` until it gives something other than undefined or false (test/lab/exec.ts). */
export function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  return poll(what, probe, timeoutMs, everyMs);
}

/**
 * Deletes namespaces named `<base>-<pid>-…` whose run is gone (a crash, a kill -9); those
 * of this process and of live ones (another suite at the same time) are left alone.
 */
export function deleteLeftovers(base: string): void {
  const re = new RegExp(`^(${base}-(\\d+)-\\S+)`);
  for (const line of sh('ip', ['netns', 'list'], { allowFail: true }).split('\n')) {
    const m = re.exec(line);
    if (!m?.[1] || Number(m[2]) === process.pid) continue;
    if (spawnSync('kill', ['-0', m[2] as string]).status === 0) continue;
    sh('ip', ['netns', 'del', m[1]], { allowFail: true });
  }
}

/** A private temporary directory the lab's daemons (running as other users) can read. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

const started = new Set<ChildProcess>();

/** Starts cmd in ns; stderr (and stdout unless the caller reads it) goes to logFile when it exits. */
export function spawnIn(ns: string, cmd: string, args: string[], logFile: string, readsStdout = false): ChildProcess {
  // `ip netns exec` execs the command: the child's PID is the daemon's.
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  started.add(child);
  const chunks: Buffer[] = [];
  child.stderr?.on('data', (d: Buffer) => chunks.push(d));
  if (!readsStdout) child.stdout?.on('data', (d: Buffer) => chunks.push(d));
  child.on('exit', () => {
    started.delete(child);
    writeFileSync(logFile, Buffer.concat(chunks));
  });
  return child;
}

/** Signals a child by PID and waits for it; SIGKILL after 3 s. */
export function killProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid, signal);
  const hard = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }, 3000);
  return gone.finally(() => clearTimeout(hard));
}

/** Every process spawnIn started that still runs, by PID. */
export async function killAll(): Promise<void> {
  await Promise.all([...started].map((c) => killProcess(c)));
}
