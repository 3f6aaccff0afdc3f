// `lab up`: builds the lab of DESIGN.md, "The lab", step by step; on any failure it
// takes down what it built and says which step failed.
import { mkdirSync, rmSync } from 'node:fs';
import { DEFAULT_NAMESPACE } from '../../shared/api/types.js';
import { apiServerInBuild, freePort, startAgent, startApiServer, startHerald, startNodeProxies } from './components.js';
import { connect, ensureNamespace, registerNodes } from './lab-api.js';
import { labDown } from './lab-down.js';
import { ensurePackages } from './packages.js';
import { markedProcesses, stopAll } from './processes.js';
import type { LabPaths } from './paths.js';
import { labPlan, type LabPlan } from './plan.js';
import type { RouterOptions } from './router.js';
import { createRouter } from './routers.js';
import { readState, writeState, type LabState } from './state.js';
import { otherLiveOwners, processChain } from './owner.js';
import { buildTopology, labNamespaces } from './topology.js';

export interface UpOptions {
  nodes: number;
  router: RouterOptions;
  /** Start herald's controller and speakers. */
  components: boolean;
  /** Run the API server and the lab agent (default true); without, only the network and the router. */
  api?: boolean;
  /** How long to wait for a lab that another live process tree is using (default 900 s). */
  waitSeconds?: number;
}

/**
 * Waits while the lab exists and belongs to another live process tree (a concurrent test
 * run), so that two runs take turns instead of failing or tearing each other down.
 */
async function waitForOtherOwner(paths: LabPaths, waitSeconds: number, say: (line: string) => void): Promise<void> {
  const deadline = Date.now() + waitSeconds * 1000;
  let told = false;
  for (;;) {
    const others = (await labNamespaces()).length > 0 ? otherLiveOwners(readState(paths)?.owners) : [];
    if (others.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the lab is in use by process ${others.join(', ')}; waited ${waitSeconds} s`);
    if (!told) say(`the lab is in use by process ${others.join(', ')}; waiting for it to be taken down`);
    told = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface UpResult {
  plan: LabPlan;
  state: LabState;
  /** Parts the lab could not run in this build (named for the user). */
  missing: string[];
}

export async function labUp(paths: LabPaths, o: UpOptions, say: (line: string) => void = () => {}): Promise<UpResult> {
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces, veth pairs, routing daemons)');
  const plan = labPlan(o.nodes);
  await ensurePackages(paths);
  await waitForOtherOwner(paths, o.waitSeconds ?? 900, say);
  const existing = await labNamespaces();
  if (existing.length > 0) throw new Error(`the lab is already up (${existing.join(', ')}); run \`lab down\` first`);
  // Host-namespace processes of a lab whose namespaces were deleted by hand.
  await stopAll(markedProcesses(paths));

  for (const d of [paths.pids, paths.logs, paths.router]) rmSync(d, { recursive: true, force: true });
  mkdirSync(paths.logs, { recursive: true });
  const state: LabState = {
    nodes: o.nodes,
    router: o.router.kind,
    ibgp: o.router.ibgp,
    ...(o.router.password !== undefined ? { password: o.router.password } : {}),
    components: o.components,
    startedAt: new Date().toISOString(),
    owners: processChain(),
  };
  writeState(paths, state);
  const missing: string[] = [];
  let step = 'network namespaces';
  try {
    state.vipKind = await buildTopology(plan);
    say(`namespaces: ${plan.router.ns}, ${plan.nodes.map((n) => n.ns).join(', ')}, ${plan.client.ns}, ${plan.ext.ns}`);

    step = `${o.router.kind} router`;
    await createRouter({ paths, plan, opts: o.router }).start();
    say(`router: ${o.router.kind} in ${plan.router.ns}, ${o.router.ibgp ? 'iBGP (AS 64512)' : 'eBGP (AS 64500 ↔ nodes AS 64512)'}${o.router.password !== undefined ? ', TCP-MD5' : ''}`);

    const inBuild = apiServerInBuild(paths);
    const withApi = o.api !== false && inBuild;
    if (withApi) {
      step = 'API server';
      state.apiPort = await freePort();
      await startApiServer(paths, state.apiPort);
      const client = connect(paths.kubeconfig);
      try {
        await ensureNamespace(client, DEFAULT_NAMESPACE);
        await registerNodes(client, plan.nodes);
        say(`API server: ${client.rest.server} (kubeconfig ${paths.kubeconfig}); Nodes ${plan.nodes.map((n) => n.name).join(', ')} registered`);
      } finally {
        client.close();
      }
    } else if (!inBuild) {
      missing.push('API server (test/apiserver/main.ts is not in this build): no Nodes, no agent, no controller or speakers');
    }
    writeState(paths, state);

    step = 'node proxies';
    await startNodeProxies(paths, plan, state.apiPort);
    say(`kube-proxy stand-in: HTTP on port 80 in every node; service IPs held on kube-ipvs0 (${state.vipKind}, strict ARP)`);

    if (withApi) {
      step = 'lab agent';
      await startAgent(paths, plan);
      if (o.components) {
        step = 'controller and speakers';
        await startHerald(paths, plan, await freePort());
        say(`herald: controller and ${plan.nodes.length} speakers started (logs in ${paths.logs})`);
      }
    }
    writeState(paths, state);
    return { plan, state, missing };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    say(`lab up failed at the ${step}: ${why}`);
    say('taking down what was built (logs stay in .lab/logs/)');
    await labDown(paths);
    throw new Error(`lab up failed at the ${step}: ${why}`, { cause: e });
  }
}
