// What `lab up` was asked for, kept in .lab/state.json for status, endpoints and down.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LabPaths } from './paths.js';
import type { RouterKind } from './router.js';
import type { VipKind } from './topology.js';

export interface LabState {
  nodes: number;
  router: RouterKind;
  ibgp: boolean;
  password?: string;
  components: boolean;
  /** The API server's port on the host's 127.0.0.1, and on each node's 127.0.0.1. */
  apiPort?: number;
  vipKind?: VipKind;
  startedAt: string;
  /** The process chain `lab up` ran in (test/lab/owner.ts). */
  owners?: number[];
}

export function readState(paths: LabPaths): LabState | undefined {
  if (!existsSync(paths.state)) return undefined;
  try {
    return JSON.parse(readFileSync(paths.state, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export function writeState(paths: LabPaths, s: LabState): void {
  mkdirSync(dirname(paths.state), { recursive: true });
  writeFileSync(paths.state, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
}
