// `lab down`: stops every lab process and deletes every lab namespace (their veths and
// the bridge go with them). Safe to run twice, and after a crash: what .lab/ does not
// remember is found through `ip netns list` (the hl- prefix), `ip netns pids`, and the
// HERALD_LAB marker in the environment of processes in the host namespace.
import { rmSync } from 'node:fs';
import type { LabPaths } from './paths.js';
import { markedProcesses, procStartTime, readRecords, stopAll } from './processes.js';
import { deleteNamespaces, labNamespaces, netnsPids } from './topology.js';

export interface DownReport {
  processes: number;
  namespaces: string[];
  problems: string[];
}

export async function labDown(paths: LabPaths): Promise<DownReport> {
  const namespaces = await labNamespaces();
  const procs = new Map<number, string>();
  for (const r of readRecords(paths)) procs.set(r.pid, r.startTime);
  for (const p of markedProcesses(paths)) procs.set(p.pid, p.startTime);
  for (const ns of namespaces) {
    for (const pid of await netnsPids(ns)) {
      const st = procStartTime(pid);
      if (st !== undefined && pid !== process.pid) procs.set(pid, st);
    }
  }
  const list = [...procs].map(([pid, startTime]) => ({ pid, startTime }));
  await stopAll(list);
  const problems = await deleteNamespaces(namespaces);
  for (const p of [paths.pids, paths.router, paths.state, paths.apiSocket, paths.kubeconfig, `${paths.kubeconfig}.controller`, `${paths.kubeconfig}.speaker`]) rmSync(p, { recursive: true, force: true });
  const left = await labNamespaces();
  if (left.length > 0) problems.push(`namespaces still present: ${left.join(', ')}`);
  return { processes: list.length, namespaces, problems };
}
