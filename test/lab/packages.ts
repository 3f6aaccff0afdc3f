// The Debian packages the lab needs: test/setup.sh installs them as root, or names them.
import { join } from 'node:path';
import { tryRun } from './exec.js';
import type { LabPaths } from './paths.js';

/** A command the lab runs, and the package that brings it. */
export const REQUIRED: readonly [cmd: string, pkg: string][] = [
  ['ip', 'iproute2'],
  ['sysctl', 'procps'],
  ['runuser', 'util-linux'],
  ['vtysh', 'frr'],
  ['bird', 'bird2'],
  ['gobgpd', 'gobgpd'],
  ['arping', 'arping'],
  ['ndisc6', 'ndisc6'],
  ['curl', 'curl'],
];

async function has(cmd: string): Promise<boolean> {
  const r = await tryRun('sh', ['-c', `command -v ${cmd} || PATH="$PATH:/usr/sbin:/sbin" command -v ${cmd}`]);
  return r.code === 0;
}

export async function missingPackages(): Promise<string[]> {
  const out: string[] = [];
  for (const [cmd, pkg] of REQUIRED) if (!(await has(cmd)) && !out.includes(pkg)) out.push(pkg);
  return out;
}

/** Runs test/setup.sh when something is missing; throws with the package names otherwise. */
export async function ensurePackages(paths: LabPaths): Promise<void> {
  const missing = await missingPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() === 0) {
    const r = await tryRun('bash', [join(paths.repo, 'test', 'setup.sh')]);
    if (r.code !== 0) throw new Error(`test/setup.sh failed:\n${r.stderr.trim()}`);
    // setup.sh knows the test suite's list; the few the lab adds go in directly.
    const still = await missingPackages();
    if (still.length === 0) return;
    const apt = await tryRun('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...still], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (apt.code === 0 && (await missingPackages()).length === 0) return;
    throw new Error(`missing Debian packages: ${still.join(' ')} (run: apt-get install ${still.join(' ')})`);
  }
  throw new Error(`missing Debian packages: ${missing.join(' ')} (run: sudo apt-get install ${missing.join(' ')})`);
}
