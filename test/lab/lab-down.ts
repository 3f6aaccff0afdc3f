// `lab down`: stops every lab process and deletes every lab namespace (their veths and
// the bridge go with them). Safe to run twice, and after a crash: what .lab/ does not
// remember is found through `ip netns list` (the hl- prefix), `ip netns pids`, and the
// HERALD_LAB marker in the environment of processes in the host namespace.
import { readFileSync, rmSync } from 'node:fs';
import type { LabPaths } from './paths.js';
import { markedProcesses, procStartTime, readRecords, stopAll } from './processes.js';
import { deleteNamespaces, labNamespaces, netnsPids } from './topology.js';
import { otherLiveOwners } from './owner.js';
import { readState } from './state.js';

export interface DownReport {
  processes: number;
  namespaces: string[];
  problems: string[];
}

/** Thrown when the lab belongs to another live process tree and `force` was not given. */
export class LabInUseError extends Error {
  readonly code = 'LabInUse';
}

export async function labDown(paths: LabPaths, opts: { force?: boolean } = {}): Promise<DownReport> {
  const namespaces = await labNamespaces();
  const others = namespaces.length > 0 && !opts.force ? otherLiveOwners(readState(paths)?.owners) : [];
  if (others.length > 0) {
    throw new LabInUseError(`the lab is in use by process ${others.join(', ')} (another run); not taking it down (--force to do it anyway)`);
  }
  const found = async (): Promise<Map<number, string>> => {
    const procs = new Map<number, string>();
    for (const p of markedProcesses(paths)) procs.set(p.pid, p.startTime);
    for (const ns of namespaces) {
      for (const pid of await netnsPids(ns)) {
        const st = procStartTime(pid);
        if (st !== undefined && pid !== process.pid) procs.set(pid, st);
      }
    }
    return procs;
  };
  const stopped = new Map<number, string>();
  for (const r of readRecords(paths)) stopped.set(r.pid, r.startTime);
  for (const [pid, st] of await found()) stopped.set(pid, st);
  await stopAll([...stopped].map(([pid, startTime]) => ({ pid, startTime })));
  // A process may have started one more child between the look and the signals (a
  // helper running a CLI), or be slow to go: look again, a few times, until nothing of
  // the lab is left.
  for (let round = 0; round < 3; round++) {
    const late = [...(await found())];
    if (late.length === 0) break;
    for (const [pid, st] of late) stopped.set(pid, st);
    await stopAll(late.map(([pid, startTime]) => ({ pid, startTime })));
  }
  const list = [...stopped.keys()];
  const stubborn = [...(await found()).keys()];
  const problems = await deleteNamespaces(namespaces);
  if (stubborn.length > 0) problems.push(`processes still running: ${stubborn.map((pid) => `${pid} (${commOf(pid)})`).join(', ')}`);
  for (const p of [paths.pids, paths.router, paths.state, paths.apiSocket, paths.kubeconfig, `${paths.kubeconfig}.controller`, `${paths.kubeconfig}.speaker`]) rmSync(p, { recursive: true, force: true });
  const left = await labNamespaces();
  if (left.length > 0) problems.push(`namespaces still present: ${left.join(', ')}`);
  return { processes: list.length, namespaces, problems };
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return 'gone';
  }
}
