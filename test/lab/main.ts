// `npm run -s herald -- lab up | down | status | endpoints`: the network-namespace
// testbed of DESIGN.md, "The lab".
// Modules load per subcommand: `lab down` must stay quick and not pull in the
// Kubernetes client.
import { parseArgs } from 'node:util';
import { labPaths } from './paths.js';
import { MAX_NODES, labPlan } from './plan.js';
import { isRouterKind, ROUTER_KINDS } from './router.js';
import { readState } from './state.js';

const USAGE = `usage: npm run -s herald -- lab <command>

  up [--nodes N] [--router frr|bird|gobgp] [--ibgp] [--bgp-password KEY] [--no-components] [--no-api]
        build the lab: namespaces hl-router, hl-node1..N (default 3), hl-client, hl-ext;
        the router (default frr); the embedded API server (.lab/kubeconfig); herald's
        controller and one speaker per node (unless --no-components); --no-api leaves
        out the API server too (network, router and HTTP responders only)
  down [--force]
        stop every lab process and remove every lab namespace (safe to repeat); a lab
        that another live run is using is left alone unless --force
        (\`up\` waits up to 15 minutes for such a lab to be taken down)
  status [--json]
        namespaces, processes, BGP sessions, service IPs and who answers for them
  endpoints <namespace/name> --nodes hl-node1,hl-node3 [--not-ready hl-node2]
        put the Service's ready endpoints on these nodes (for externalTrafficPolicy: Local)

Needs root. State, logs and router runtime files live in .lab/.`;

async function up(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      nodes: { type: 'string', default: '3' },
      router: { type: 'string', default: 'frr' },
      ibgp: { type: 'boolean', default: false },
      'bgp-password': { type: 'string' },
      'no-components': { type: 'boolean', default: false },
      'no-api': { type: 'boolean', default: false },
    },
  });
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) throw new UsageError(`--nodes: an integer from 1 to ${MAX_NODES}`);
  const kind = values.router ?? 'frr';
  if (!isRouterKind(kind)) throw new UsageError(`--router: one of ${ROUTER_KINDS.join(', ')}`);
  const paths = labPaths();
  const t0 = Date.now();
  const { labUp } = await import('./lab-up.js');
  const res = await labUp(
    paths,
    {
      nodes,
      router: { kind, ibgp: values.ibgp ?? false, ...(values['bgp-password'] !== undefined ? { password: values['bgp-password'] } : {}) },
      components: !values['no-components'],
      api: !values['no-api'],
    },
    (line) => console.log(line),
  );
  for (const m of res.missing) console.log(`not in this build: ${m}`);
  console.log(`lab up in ${((Date.now() - t0) / 1000).toFixed(1)} s; \`npm run -s herald -- lab status\` to look, \`lab down\` to remove it`);
  return 0;
}

async function down(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { force: { type: 'boolean', default: false } } });
  const t0 = Date.now();
  const { labDown } = await import('./lab-down.js');
  const r = await labDown(labPaths(), { force: values.force ?? false });
  console.log(`lab down: ${r.processes} processes stopped, ${r.namespaces.length} namespaces removed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (const p of r.problems) console.error(`lab down: ${p}`);
  return r.problems.length > 0 ? 1 : 0;
}

async function status(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const { formatStatus, labStatus } = await import('./lab-status.js');
  const r = await labStatus(labPaths());
  console.log(values.json ? JSON.stringify(r, null, 2) : formatStatus(r));
  return 0;
}

async function endpoints(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { nodes: { type: 'string' }, 'not-ready': { type: 'string' } },
  });
  const [target] = positionals;
  const m = target ? /^([^/]+)\/([^/]+)$/.exec(target) : null;
  if (!m || values.nodes === undefined) throw new UsageError('lab endpoints <namespace/name> --nodes hl-node1,hl-node2');
  const paths = labPaths();
  const state = readState(paths);
  if (!state || state.apiPort === undefined) throw new Error('the lab is not up with an API server');
  const plan = labPlan(state.nodes);
  const list = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const ready = list(values.nodes);
  const notReady = list(values['not-ready']);
  const known = new Set(plan.nodes.map((n) => n.name));
  const unknown = [...ready, ...notReady].filter((n) => !known.has(n));
  if (unknown.length > 0) throw new UsageError(`not lab nodes: ${unknown.join(', ')} (the lab has ${[...known].join(', ')})`);
  const { connect, moveEndpoints } = await import('./lab-api.js');
  const client = connect(paths.kubeconfig);
  try {
    const slices = await moveEndpoints(client, m[1] ?? '', m[2] ?? '', plan.nodes, { ready, notReady });
    console.log(`${target}: ready endpoints on ${ready.join(', ') || 'no node'}${notReady.length ? `; not ready on ${notReady.join(', ')}` : ''} (${slices.map((s) => s.metadata.name).join(', ')})`);
  } finally {
    client.close();
  }
  return 0;
}

class UsageError extends Error {}

export async function main(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  try {
    switch (cmd) {
      case 'up':
        return await up(rest);
      case 'down':
        return await down(rest);
      case 'status':
        return await status(rest);
      case 'endpoints':
        return await endpoints(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        console.error(`lab: unknown command "${cmd}" (lab --help for usage)`);
        return 2;
    }
  } catch (e) {
    const parseError = e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS');
    if (e instanceof UsageError || parseError) {
      console.error(`lab: ${e.message} (lab --help for usage)`);
      return 2;
    }
    console.error(`lab: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
