// A stand-in BGP speaker for tests and benchmarks: gobgpd inside a node namespace,
// peering with hl-router over IPv4 (IPv4 unicast) and IPv6 (IPv6 unicast) like a node's
// speaker would, announcing whatever prefixes it is told. It is a lab process like any
// other (pid file, log, found by `lab down`).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, waitFor } from './exec.js';
import type { LabPaths } from './paths.js';
import type { LabNode, LabPlan } from './plan.js';
import { isAlive, logTail, startProcess, stopAll, forgetRecord, type ProcRecord } from './processes.js';

export interface StandInOptions {
  localAsn: number;
  routerAsn: number;
  password?: string;
  /** gobgpd's API port inside the node namespace. */
  apiPort?: number;
}

export interface StandIn {
  readonly node: LabNode;
  announce(prefix: string): Promise<void>;
  withdraw(prefix: string): Promise<void>;
  /** Sessions as the stand-in sees them: neighbor address → state. */
  sessions(): Promise<Map<string, string>>;
  stop(): Promise<void>;
}

export function standInConfig(node: LabNode, plan: LabPlan, o: StandInOptions): string {
  const neighbor = (addr: string, local: string, family: string): string =>
    [
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${addr}"`,
      `    peer-as = ${o.routerAsn}`,
      ...(o.password !== undefined ? [`    auth-password = "${o.password}"`] : []),
      '  [neighbors.timers.config]',
      '    connect-retry = 1',
      '  [neighbors.transport.config]',
      `    local-address = "${local}"`,
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      `      afi-safi-name = "${family}"`,
    ].join('\n');
  return [
    '[global.config]',
    `  as = ${o.localAsn}`,
    `  router-id = "${node.ipv4}"`,
    // Never listens: it connects to the router, as herald's speaker does.
    '  port = -1',
    neighbor(plan.router.lan.ipv4, node.ipv4, 'ipv4-unicast'),
    neighbor(plan.router.lan.ipv6, node.ipv6, 'ipv6-unicast'),
    '',
  ].join('\n');
}

export async function startStandIn(paths: LabPaths, plan: LabPlan, node: LabNode, o: StandInOptions): Promise<StandIn> {
  const name = `stand-in-${node.name}`;
  const conf = join(paths.router, `${name}.toml`);
  writeFileSync(conf, standInConfig(node, plan, o));
  const port = o.apiPort ?? 50052;
  const rec: ProcRecord = await startProcess(paths, {
    name,
    netns: node.ns,
    cmd: 'gobgpd',
    args: ['-f', conf, '--api-hosts', `127.0.0.1:${port}`, '-p', '--pprof-disable'],
  });
  const cli = (args: string[]): Promise<string> =>
    run('gobgp', ['-u', '127.0.0.1', '-p', String(port), ...args], { netns: node.ns, timeoutMs: 10_000 }).then((r) => r.stdout);
  await waitFor(
    `the stand-in in ${node.name}`,
    async () => {
      if (!isAlive(rec)) throw new Error(`gobgpd exited:\n${logTail(paths, name)}`);
      return (await cli(['global'])).includes('AS:') ? true : undefined;
    },
    10_000,
    100,
  );
  const fam = (prefix: string): string[] => (prefix.includes(':') ? ['-a', 'ipv6'] : []);
  return {
    node,
    announce: async (prefix) => void (await cli(['global', 'rib', ...fam(prefix), 'add', prefix])),
    withdraw: async (prefix) => void (await cli(['global', 'rib', ...fam(prefix), 'del', prefix])),
    sessions: async () => {
      const list = JSON.parse((await cli(['-j', 'neighbor'])) || '[]') as { state?: { neighbor_address?: string; session_state?: number } }[];
      return new Map(list.map((n) => [n.state?.neighbor_address ?? '?', n.state?.session_state === 6 ? 'Established' : String(n.state?.session_state)]));
    },
    stop: async () => {
      await stopAll([rec]);
      forgetRecord(paths, name);
    },
  };
}
