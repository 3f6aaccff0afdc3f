// GoBGP in hl-router: gobgpd with its gRPC API on hl-router's own loopback, and
// gobgp-fib-main.ts beside it to put the RIB into the kernel (gobgp-fib.ts says why).
import { join } from 'node:path';
import { run, waitFor } from './exec.js';
import { isAlive, logTail, startProcess } from './processes.js';
import type { LabPlan } from './plan.js';
import { renderConfig, runtimeDir, type BgpSession, type RouterContext, type RouterDaemon } from './router.js';

/** Inside hl-router's namespace, so no port is taken on the host. */
export const GOBGP_API = '127.0.0.1:50051';

export function gobgpCli(ctx: Pick<RouterContext, 'plan'>, args: string[]): Promise<string> {
  return run('gobgp', ['-u', '127.0.0.1', '-p', '50051', ...args], { netns: ctx.plan.router.ns, timeoutMs: 10_000 }).then((r) => r.stdout);
}

interface GobgpNeighbor {
  state?: { neighbor_address?: string; session_state?: number | string };
  afi_safis?: { state?: { received?: number; accepted?: number } }[];
}

// apipb.PeerState_SessionState
const STATES: Record<number, string> = { 0: 'Unknown', 1: 'Idle', 2: 'Connect', 3: 'Active', 4: 'OpenSent', 5: 'OpenConfirm', 6: 'Established' };

/** `gobgp neighbor -j`. */
export function parseGobgpNeighbors(json: string): BgpSession[] {
  const list = (json.trim() ? JSON.parse(json) : []) as GobgpNeighbor[];
  return list
    .map((n) => {
      const raw = n.state?.session_state ?? 0;
      const state = typeof raw === 'number' ? (STATES[raw] ?? String(raw)) : String(raw);
      const prefixes = (n.afi_safis ?? []).reduce((s, a) => s + (a.state?.accepted ?? 0), 0);
      return { peer: n.state?.neighbor_address ?? '?', state, established: state.toLowerCase() === 'established', prefixes };
    })
    .sort((a, b) => a.peer.localeCompare(b.peer));
}

/**
 * gobgpd sets the TCP-MD5 key on its listening socket only for neighbours it knows by
 * address, never for a dynamic-neighbor prefix: with a password, every node is also
 * listed by address (in the same peer group, so nothing else changes).
 */
export function passwordNeighbors(plan: LabPlan, password: string | undefined): string {
  if (password === undefined) return '';
  const block = (addr: string): string =>
    ['', '[[neighbors]]', '  [neighbors.config]', `    neighbor-address = "${addr}"`, '    peer-group = "nodes"', `    auth-password = "${password}"`].join('\n');
  return plan.nodes.flatMap((n) => [block(n.ipv4), block(n.ipv6)]).join('\n') + '\n';
}

export function gobgpRouter(ctx: RouterContext): RouterDaemon {
  const { paths, plan } = ctx;
  const ns = plan.router.ns;
  return {
    kind: 'gobgp',
    async start() {
      const dir = await runtimeDir(paths, 'gobgp');
      const conf = renderConfig(ctx, dir, 'gobgp.toml', passwordNeighbors(plan, ctx.opts.password));
      const d = await startProcess(paths, {
        name: 'router-gobgpd',
        netns: ns,
        cmd: 'gobgpd',
        args: ['-f', conf, '--api-hosts', GOBGP_API, '-p', '--pprof-disable'],
      });
      await waitFor(
        'gobgpd to answer its API',
        async () => {
          if (!isAlive(d)) throw new Error(`gobgpd exited:\n${logTail(paths, d.name)}`);
          return (await gobgpCli(ctx, ['global'])).includes('AS:') ? true : undefined;
        },
        15_000,
        100,
      );
      await startProcess(paths, {
        name: 'router-gobgp-fib',
        netns: ns,
        cmd: process.execPath,
        args: ['--import', 'tsx', join(paths.repo, 'test', 'lab', 'gobgp-fib-main.ts'), '--api', GOBGP_API],
      });
    },
    async sessions() {
      return parseGobgpNeighbors(await gobgpCli(ctx, ['-j', 'neighbor']));
    },
    async showRoute(prefix) {
      return gobgpCli(ctx, ['global', 'rib', ...(prefix.includes(':') ? ['-a', 'ipv6'] : []), prefix]);
    },
  };
}
