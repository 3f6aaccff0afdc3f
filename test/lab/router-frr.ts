// FRR in hl-router: zebra (the kernel FIB) and bgpd, started directly with every path
// pointed into .lab/router/frr, so the host's /etc/frr and /run/frr are never touched.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, waitFor } from './exec.js';
import { logTail, startProcess, type ProcRecord, isAlive } from './processes.js';
import { NODE_ASN, ROUTER_ASN } from './plan.js';
import { checkPassword, renderConfig, runtimeDir, type BgpSession, type RouterContext, type RouterDaemon } from './router.js';

const FRR_BIN = '/usr/lib/frr';

export function frrRunDir(ctx: Pick<RouterContext, 'paths'>): string {
  return join(ctx.paths.router, 'frr');
}

/** vtysh against the lab's daemons. */
export function vtysh(ctx: Pick<RouterContext, 'paths'>, commands: string[]): Promise<string> {
  const dir = frrRunDir(ctx);
  const args = ['--vty_socket', dir, '--config_dir', dir, ...commands.flatMap((c) => ['-c', c])];
  return run('vtysh', args, { timeoutMs: 10_000 }).then((r) => r.stdout);
}

interface FrrPeer {
  state?: string;
  pfxRcd?: number;
  peerState?: string;
}

/** `show bgp summary json`: per family, the peers; a peer appears once per family it uses. */
export function parseFrrSummary(json: string): BgpSession[] {
  const doc = JSON.parse(json) as Record<string, { peers?: Record<string, FrrPeer> }>;
  const byPeer = new Map<string, BgpSession>();
  for (const fam of Object.values(doc)) {
    for (const [peer, p] of Object.entries(fam.peers ?? {})) {
      const state = p.state ?? 'unknown';
      const prev = byPeer.get(peer);
      const prefixes = (prev?.prefixes ?? 0) + (p.pfxRcd ?? 0);
      byPeer.set(peer, { peer, state, established: state === 'Established', prefixes });
    }
  }
  return [...byPeer.values()].sort((a, b) => a.peer.localeCompare(b.peer));
}

export function frrRouter(ctx: RouterContext): RouterDaemon {
  const { paths, plan, opts } = ctx;
  const ns = plan.router.ns;
  return {
    kind: 'frr',
    async start() {
      const dir = await runtimeDir(paths, 'frr', 'frr');
      const conf = renderConfig(ctx, dir, 'frr.conf');
      writeFileSync(join(dir, 'zebra.conf'), 'hostname hl-router\n', { mode: 0o644 });
      writeFileSync(join(dir, 'vtysh.conf'), 'service integrated-vtysh-config\n', { mode: 0o644 });
      // -P 0: no TCP vty; the unix sockets in `dir` are vtysh's way in.
      const common = ['-u', 'frr', '-g', 'frr', '-P', '0', '--vty_socket', dir, '-z', join(dir, 'zserv.api')];
      const procs: ProcRecord[] = [];
      procs.push(
        await startProcess(paths, {
          name: 'router-zebra',
          netns: ns,
          cmd: join(FRR_BIN, 'zebra'),
          args: [...common, '-i', join(dir, 'zebra.pid'), '-f', join(dir, 'zebra.conf'), '--log', 'stdout'],
        }),
      );
      // bgpd registers with zebra at start; give zebra its socket first.
      await waitFor('zebra', async () => (existsSync(join(dir, 'zserv.api')) ? true : undefined), 10_000);
      procs.push(
        await startProcess(paths, {
          name: 'router-bgpd',
          netns: ns,
          cmd: join(FRR_BIN, 'bgpd'),
          args: [...common, '-i', join(dir, 'bgpd.pid'), '-f', conf, '--log', 'stdout'],
        }),
      );
      await waitFor(
        'FRR bgpd to answer vtysh',
        async () => {
          for (const p of procs) if (!isAlive(p)) throw new Error(`${p.name} exited:\n${logTail(paths, p.name)}`);
          return (await vtysh(ctx, ['show bgp summary json'])) ? true : undefined;
        },
        15_000,
        100,
      );
      if (opts.password !== undefined) {
        checkPassword(opts.password);
        const asn = opts.ibgp ? NODE_ASN : ROUTER_ASN;
        await vtysh(ctx, [
          'configure terminal',
          `router bgp ${asn}`,
          `neighbor NODES password ${opts.password}`,
          `neighbor NODES6 password ${opts.password}`,
        ]);
      }
    },
    async sessions() {
      return parseFrrSummary(await vtysh(ctx, ['show bgp summary json']));
    },
    async showRoute(prefix) {
      const v6 = prefix.includes(':');
      return vtysh(ctx, [`show ${v6 ? 'ipv6' : 'ip'} route ${prefix}`]);
    },
  };
}
