// The lab's Node processes: the embedded API server (host namespace), the per-node
// proxies (responder + API relay), the lab agent, and herald's controller and speakers.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './exec.js';
import { connect } from './lab-api.js';
import type { LabPaths } from './paths.js';
import type { LabPlan } from './plan.js';
import { isAlive, logFile, logTail, startProcess, type ProcRecord, type ProcSpec } from './processes.js';

/** `node --import tsx <file> …`: one process, no tsx wrapper in between. */
function tsNode(paths: LabPaths, file: string, args: string[]): Pick<ProcSpec, 'cmd' | 'args'> {
  return { cmd: process.execPath, args: ['--import', 'tsx', join(paths.repo, file), ...args] };
}

function herald(paths: LabPaths, args: string[]): Pick<ProcSpec, 'cmd' | 'args'> {
  return tsNode(paths, 'shared/cli.ts', args);
}

/** A free TCP port on the host's loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Waits for a line matching `re` in a process's log; fails early if the process dies. */
export async function waitForLog(paths: LabPaths, rec: ProcRecord, re: RegExp, what: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    what,
    async () => {
      let text = '';
      try {
        text = readFileSync(logFile(paths, rec.name), 'utf8');
      } catch {
        // Not written yet.
      }
      if (re.test(text)) return true;
      if (!isAlive(rec)) throw new Error(`${rec.name} exited:\n${logTail(paths, rec.name)}`);
      return undefined;
    },
    timeoutMs,
    50,
  );
}

export function apiServerInBuild(paths: LabPaths): boolean {
  return existsSync(join(paths.repo, 'test', 'apiserver', 'main.ts'));
}

export async function startApiServer(paths: LabPaths, port: number): Promise<void> {
  const rec = await startProcess(paths, {
    name: 'apiserver',
    ...herald(paths, ['apiserver', '--listen', `127.0.0.1:${port}`, '--unix-socket', paths.apiSocket, '--kubeconfig-out', paths.kubeconfig]),
  });
  await waitFor(
    'the API server',
    async () => {
      if (!isAlive(rec)) throw new Error(`apiserver exited:\n${logTail(paths, rec.name)}`);
      if (!existsSync(paths.kubeconfig) || !existsSync(paths.apiSocket)) return undefined;
      const client = connect(paths.kubeconfig);
      try {
        await client.rest.request('GET', '/version');
        return true;
      } finally {
        client.close();
      }
    },
    30_000,
    100,
  );
}

export async function startNodeProxies(paths: LabPaths, plan: LabPlan, apiPort: number | undefined): Promise<void> {
  const recs = await Promise.all(
    plan.nodes.map((n) =>
      startProcess(paths, {
        name: `node-proxy-${n.name}`,
        netns: n.ns,
        ...tsNode(paths, 'test/lab/node-proxy.ts', [
          '--node',
          n.name,
          ...(apiPort !== undefined ? ['--api-port', String(apiPort), '--api-socket', paths.apiSocket] : []),
        ]),
      }),
    ),
  );
  await Promise.all(recs.map((r) => waitForLog(paths, r, /: ready/, `${r.name} to listen`)));
}

export async function startAgent(paths: LabPaths, plan: LabPlan): Promise<void> {
  const rec = await startProcess(paths, {
    name: 'lab-agent',
    ...tsNode(paths, 'test/lab/lab-agent.ts', ['--kubeconfig', paths.kubeconfig, '--nodes', String(plan.nodes.length)]),
  });
  await waitForLog(paths, rec, /lab agent ready/, 'the lab agent');
}

/**
 * herald itself: the controller in the host namespace, a speaker in each node. They are
 * started, not waited for: whatever they do (or fail to do) shows in their logs and
 * in `lab status`.
 */
export async function startHerald(paths: LabPaths, plan: LabPlan, metricsPort: number): Promise<void> {
  // Each with its own service account's kubeconfig, so RBAC applies as in a cluster.
  const kubeconfig = (id: string): string[] => ['--kubeconfig', existsSync(`${paths.kubeconfig}.${id}`) ? `${paths.kubeconfig}.${id}` : paths.kubeconfig];
  // The controller shares the host's network: a free port, not its default :7472.
  await startProcess(paths, { name: 'controller', ...herald(paths, ['controller', ...kubeconfig('controller'), '--metrics-addr', `127.0.0.1:${metricsPort}`]) });
  await Promise.all(
    plan.nodes.map((n) =>
      startProcess(paths, { name: `speaker-${n.name}`, netns: n.ns, ...herald(paths, ['speaker', ...kubeconfig('speaker'), '--node-name', n.name]) }),
    ),
  );
}
