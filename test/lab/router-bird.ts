// BIRD 2 in hl-router, with its control socket and pid file in .lab/router/bird.
import { join } from 'node:path';
import { run, waitFor } from './exec.js';
import { isAlive, logTail, startProcess } from './processes.js';
import { renderConfig, runtimeDir, type BgpSession, type RouterContext, type RouterDaemon } from './router.js';

export function birdSocket(ctx: Pick<RouterContext, 'paths'>): string {
  return join(ctx.paths.router, 'bird', 'bird.ctl');
}

export function birdc(ctx: Pick<RouterContext, 'paths'>, command: string[]): Promise<string> {
  return run('birdc', ['-s', birdSocket(ctx), ...command], { timeoutMs: 10_000 }).then((r) => r.stdout);
}

/**
 * `birdc show protocols all`: one block per protocol, a header line
 * (`node4_1    BGP    ---    up    10:00:00.000  Established`) then indented details,
 * among them `Neighbor address:` and, per channel, `Routes: N imported, …`.
 */
export function parseBirdProtocols(text: string): BgpSession[] {
  const out: BgpSession[] = [];
  let cur: (BgpSession & { dynamicTemplate: boolean }) | undefined;
  const flush = (): void => {
    if (cur && !cur.dynamicTemplate && cur.peer) out.push({ peer: cur.peer, state: cur.state, established: cur.established, prefixes: cur.prefixes ?? 0 });
    cur = undefined;
  };
  for (const line of text.split('\n')) {
    const head = /^(\S+)\s+BGP\s+\S+\s+(\S+)\s+\S+(?:\s+(.*))?$/.exec(line);
    if (head) {
      flush();
      const info = (head[3] ?? '').trim();
      // A dynamic template ("Passive") is not a session: its spawned children are.
      cur = { peer: '', state: info || (head[2] ?? ''), established: info.startsWith('Established'), dynamicTemplate: info === 'Passive' };
      continue;
    }
    if (/^\S/.test(line)) flush();
    if (!cur) continue;
    const nb = /^\s+Neighbor address:\s+(\S+)/.exec(line);
    if (nb?.[1]) cur.peer = nb[1].replace(/%.*$/, '');
    const routes = /^\s+Routes:\s+(\d+) imported/.exec(line);
    if (routes?.[1]) cur.prefixes = (cur.prefixes ?? 0) + Number(routes[1]);
  }
  flush();
  return out.sort((a, b) => a.peer.localeCompare(b.peer));
}

export function birdRouter(ctx: RouterContext): RouterDaemon {
  const { paths, plan } = ctx;
  return {
    kind: 'bird',
    async start() {
      const dir = await runtimeDir(paths, 'bird');
      const conf = renderConfig(ctx, dir, 'bird.conf');
      const proc = await startProcess(paths, {
        name: 'router-bird',
        netns: plan.router.ns,
        cmd: 'bird',
        // -f: stay in the foreground, so the PID is the daemon's and logs reach our file.
        args: ['-f', '-c', conf, '-s', birdSocket(ctx), '-P', join(dir, 'bird.pid')],
      });
      await waitFor(
        'BIRD to answer birdc',
        async () => {
          if (!isAlive(proc)) throw new Error(`bird exited:\n${logTail(paths, proc.name)}`);
          return (await birdc(ctx, ['show', 'status'])).includes('Daemon is up') ? true : undefined;
        },
        15_000,
        100,
      );
    },
    async sessions() {
      return parseBirdProtocols(await birdc(ctx, ['show', 'protocols', 'all']));
    },
    async showRoute(prefix) {
      return birdc(ctx, ['show', 'route', 'for', prefix, 'all']);
    },
  };
}
