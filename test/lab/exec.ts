// Running the system tools the lab drives (ip, sysctl, vtysh, birdc, gobgp, arping …).
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** Written to the command's stdin. */
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  readonly code = 'CommandFailed';
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    super(`${command}: exit ${result.code}${result.stderr.trim() ? `: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
  }
}

export function inNetns(netns: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, cmd, ...args]] : [cmd, args];
}

/** Runs a command to completion; never throws for a non-zero exit (see `run`). */
export function tryRun(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  const [file, argv] = inNetns(o.netns, cmd, args);
  return new Promise((resolve) => {
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: o.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (o.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      resolve({ code: 127, stdout: '', stderr: e.message });
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8') + (signal ? `\n(killed by ${signal})` : '');
      resolve({ code: code ?? 128, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(o.input ?? '');
  });
}

/** Runs a command and throws CommandError when it fails. */
export async function run(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  const r = await tryRun(cmd, args, o);
  if (r.code !== 0) throw new CommandError([...(o.netns ? [`[${o.netns}]`] : []), cmd, ...args].join(' '), r);
  return r;
}

/** `ip -batch -` in a namespace: many changes for the price of one process. */
export async function ipBatch(netns: string | undefined, lines: string[], o: { force?: boolean } = {}): Promise<void> {
  if (lines.length === 0) return;
  // -force: carry on past a failing line (and still exit non-zero).
  const args = [...(netns ? ['-n', netns] : []), ...(o.force ? ['-force'] : []), '-batch', '-'];
  await run('ip', args, { input: lines.join('\n') + '\n' });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it returns something other than undefined or false, or throws after
 * `timeoutMs` naming `what` (and the last error the probe threw). Every test harness waits
 * through this one.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(everyMs);
  }
}
