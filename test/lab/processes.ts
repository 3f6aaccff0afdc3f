// The lab's long-running processes: started detached with their output in .lab/logs/,
// remembered in .lab/pids/ (PID plus the kernel's start time, so a recycled PID is never
// mistaken for ours), and marked with HERALD_LAB in their environment so that `lab down`
// still finds them after .lab/ is gone.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNetns, sleep } from './exec.js';
import type { LabPaths } from './paths.js';

export const LAB_ENV = 'HERALD_LAB';

export interface ProcSpec {
  /** Unique in the lab; names the pid and log files. */
  name: string;
  cmd: string;
  args: string[];
  netns?: string;
  env?: Record<string, string>;
  cwd?: string;
}

export interface ProcRecord {
  name: string;
  pid: number;
  startTime: string;
  netns?: string;
  cmd: string[];
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields after it do not.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    if (state === 'Z' || state === 'X') return undefined;
    return rest[19];
  } catch {
    return undefined;
  }
}

export function isAlive(rec: Pick<ProcRecord, 'pid' | 'startTime'>): boolean {
  return procStartTime(rec.pid) === rec.startTime;
}

function pidFile(paths: LabPaths, name: string): string {
  return join(paths.pids, `${name}.json`);
}

export function logFile(paths: LabPaths, name: string): string {
  return join(paths.logs, `${name}.log`);
}

export async function startProcess(paths: LabPaths, spec: ProcSpec): Promise<ProcRecord> {
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.pids, { recursive: true });
  const fd = openSync(logFile(paths, spec.name), 'a');
  const [file, argv] = inNetns(spec.netns, spec.cmd, spec.args);
  const child = spawn(file, argv, {
    // Its own session: a Ctrl-C at the terminal that ran `lab up` does not reach it.
    detached: true,
    stdio: ['ignore', fd, fd],
    cwd: spec.cwd ?? paths.repo,
    env: { ...process.env, ...spec.env, [LAB_ENV]: paths.root },
  });
  closeSync(fd);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(new Error(`cannot start ${spec.name} (${spec.cmd}): ${e.message}`)));
  });
  child.unref();
  const pid = child.pid;
  const startTime = pid === undefined ? undefined : procStartTime(pid);
  if (pid === undefined || startTime === undefined) throw new Error(`${spec.name} exited at once; see ${logFile(paths, spec.name)}`);
  const rec: ProcRecord = { name: spec.name, pid, startTime, cmd: [spec.cmd, ...spec.args], ...(spec.netns ? { netns: spec.netns } : {}) };
  writeFileSync(pidFile(paths, spec.name), JSON.stringify(rec) + '\n');
  return rec;
}

/** Records for a process started by something else (a daemon that forks and writes a pid file). */
export function adoptProcess(paths: LabPaths, name: string, pid: number, netns?: string): ProcRecord | undefined {
  const startTime = procStartTime(pid);
  if (startTime === undefined) return undefined;
  const rec: ProcRecord = { name, pid, startTime, cmd: [], ...(netns ? { netns } : {}) };
  mkdirSync(paths.pids, { recursive: true });
  writeFileSync(pidFile(paths, name), JSON.stringify(rec) + '\n');
  return rec;
}

export function readRecords(paths: LabPaths): ProcRecord[] {
  if (!existsSync(paths.pids)) return [];
  const out: ProcRecord[] = [];
  for (const f of readdirSync(paths.pids)) {
    if (!f.endsWith('.json')) continue;
    try {
      const rec = JSON.parse(readFileSync(join(paths.pids, f), 'utf8')) as ProcRecord;
      if (Number.isInteger(rec.pid) && typeof rec.startTime === 'string') out.push(rec);
    } catch {
      // A half-written file from a crash: the environment scan below still finds the process.
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export function forgetRecord(paths: LabPaths, name: string): void {
  rmSync(pidFile(paths, name), { force: true });
}

/** Processes whose environment carries this lab's marker (readable as root). */
export function markedProcesses(paths: LabPaths): { pid: number; startTime: string }[] {
  const marker = `${LAB_ENV}=${paths.root}`;
  const out: { pid: number; startTime: string }[] = [];
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      if (!env.includes(marker)) continue;
      const startTime = procStartTime(pid);
      if (startTime !== undefined) out.push({ pid, startTime });
    } catch {
      // Gone already, or a kernel thread.
    }
  }
  return out;
}

function isGroupLeader(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2] === String(pid);
  } catch {
    return false;
  }
}

/** Processes started detached lead their own group: the signal reaches their children too. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(isGroupLeader(pid) ? -pid : pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * Stops processes: SIGTERM, then SIGKILL for any still alive after `graceMs`. Each is
 * checked against its start time first, so only the processes the lab started are hit.
 */
export async function stopAll(procs: { pid: number; startTime: string }[], graceMs = 3000): Promise<void> {
  const live = procs.filter(isAlive);
  for (const p of live) signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && live.some(isAlive)) await sleep(50);
  for (const p of live.filter(isAlive)) signal(p.pid, 'SIGKILL');
  const hard = Date.now() + 2000;
  while (Date.now() < hard && live.some(isAlive)) await sleep(20);
}

/** The last lines of a process's log, for error messages. */
export function logTail(paths: LabPaths, name: string, lines = 15): string {
  try {
    return readFileSync(logFile(paths, name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
