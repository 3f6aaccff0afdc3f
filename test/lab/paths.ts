// Where the lab keeps its state: `.lab/` at the repository root (ignored by git).
import { join } from 'node:path';
import { packageRoot } from '../../shared/repo-root.js';

export interface LabPaths {
  repo: string;
  /** `.lab/` */
  root: string;
  pids: string;
  logs: string;
  /** Runtime files of the router daemons (sockets, pid files, rendered configuration). */
  router: string;
  /** Options the lab was brought up with, read by status, down and endpoints. */
  state: string;
  /** The admin kubeconfig, for kubectl and the lab itself. */
  kubeconfig: string;
  /** The API server's unix socket: reachable from every network namespace. */
  apiSocket: string;
}

export const REPO_ROOT = packageRoot(import.meta.url);

export function labPaths(repo: string = REPO_ROOT): LabPaths {
  const root = join(repo, '.lab');
  return {
    repo,
    root,
    pids: join(root, 'pids'),
    logs: join(root, 'logs'),
    router: join(root, 'router'),
    state: join(root, 'state.json'),
    kubeconfig: join(root, 'kubeconfig'),
    apiSocket: join(root, 'api.sock'),
  };
}
