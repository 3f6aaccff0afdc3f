// `herald controller`: flags, wiring, leader election, shutdown. The work itself is
// behind startController (start.ts).
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { heraldResource, NAMESPACES, SECRETS, SERVICES } from '../shared/k8s/resources.js';
import type { BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement } from '../shared/api/types.js';
import { aborted, shutdownSignal, startRuntime } from '../shared/k8s/bootstrap.js';
import { createEventRecorder } from '../shared/k8s/events.js';
import type { K8sObject } from '../shared/k8s/informer.js';
import { LeaderElector } from '../shared/k8s/leader.js';
import { createLeaseClient } from '../shared/k8s/lease.js';
import { createServiceWriter, createStatusWriter } from '../shared/k8s/writers.js';
import { parseClientFlags, type FlagSpec } from '../shared/flags.js';
import { configSecret } from './config-status-sync.js';
import { startController, type RunningController } from './start.js';

export const CONTROLLER_FLAGS: FlagSpec = {
  command: 'controller',
  summary: 'Assigns IPs from IPAddressPools to LoadBalancer Services. Run two replicas: one leads (Lease "herald-controller").',
  defaultMetricsAddr: ':7472',
  extra: {
    'lease-name': { type: 'string', arg: 'NAME', help: 'Lease used for leader election', default: 'herald-controller' },
    'pod-name': { type: 'string', arg: 'NAME', help: 'this replica, in the Lease holder identity (default: hostname)', env: 'POD_NAME' },
  },
};

export async function main(args: string[]): Promise<number> {
  const parsed = parseClientFlags(args, process.env, CONTROLLER_FLAGS);
  if (parsed.kind === 'help') {
    console.log(parsed.text);
    return 0;
  }
  if (parsed.kind === 'error') {
    console.error(parsed.message);
    return 2;
  }
  const { flags, extra } = parsed;
  let rt;
  try {
    rt = await startRuntime({ flags, component: 'controller' });
  } catch (err) {
    console.error(`controller: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const { log, client, clock } = rt;
  const stop = shutdownSignal(log);

  const informers = {
    services: rt.informer<K8sObject>({ resource: SERVICES }),
    pools: rt.informer<IPAddressPool>({ resource: heraldResource('IPAddressPool'), namespace: flags.namespace }),
    namespaces: rt.informer<K8sObject>({ resource: NAMESPACES }),
  };
  const ns = flags.namespace;
  const config = {
    l2Advertisements: rt.informer<L2Advertisement & K8sObject>({ resource: heraldResource('L2Advertisement'), namespace: ns }),
    bgpAdvertisements: rt.informer<BGPAdvertisement & K8sObject>({ resource: heraldResource('BGPAdvertisement'), namespace: ns }),
    bgpPeers: rt.informer<BGPPeer & K8sObject>({ resource: heraldResource('BGPPeer'), namespace: ns }),
    communities: rt.informer<Community & K8sObject>({ resource: heraldResource('Community'), namespace: ns }),
    bfdProfiles: rt.informer<BFDProfile & K8sObject>({ resource: heraldResource('BFDProfile'), namespace: ns }),
    secrets: rt.informer<K8sObject>({ resource: SECRETS, namespace: ns, transform: configSecret }),
  };
  const events = createEventRecorder({ rest: client.rest, component: 'herald-controller', clock, logger: log, metrics: rt.metrics });
  const leaderGauge = rt.metrics.gauge({ name: 'controller_leader', help: '1 while this replica is the leader' });
  leaderGauge.set(0);

  // The controller runs beside the elector, not inside its callback: the elector renews
  // only after onStartedLeading returns, and a start that reads 50,000 Services must not
  // let the Lease lapse while it does.
  let running: { abort: AbortController; controller: Promise<RunningController | undefined> } | undefined;
  let elector: LeaderElector | undefined;
  let exitCode = 0;
  if (await rt.waitForSync(stop.signal)) {
    log.info('informers synced');
    const identity = `${String(extra['pod-name'] ?? hostname())}_${randomBytes(4).toString('hex')}`;
    elector = new LeaderElector({
      // Short, so that a hung API server delays neither losing the lead nor shutdown.
      leases: createLeaseClient(client.rest, { timeoutMs: 2_000 }),
      namespace: flags.namespace,
      name: String(extra['lease-name']),
      identity,
      clock,
      logger: log,
      onStartedLeading: () => {
        leaderGauge.set(1);
        const abort = new AbortController();
        const controller = startController({
          log,
          clock,
          namespace: flags.namespace,
          lbClass: flags.lbClass,
          informers,
          config,
          services: createServiceWriter(client.rest),
          status: createStatusWriter(client.rest),
          events,
          metrics: rt.metrics,
          client,
          signal: abort.signal,
        }).catch((err: unknown) => {
          if (abort.signal.aborted) return undefined;
          // Leading without reconciling would block the standby: give the Lease up and exit.
          log.error({ err }, 'starting the controller failed');
          exitCode = 1;
          stop.trigger('controller failed to start');
          return undefined;
        });
        running = { abort, controller };
      },
      onStoppedLeading: async () => {
        leaderGauge.set(0);
        const r = running;
        running = undefined;
        if (!r) return;
        r.abort.abort();
        await (await r.controller)?.stop();
      },
    });
    const e = elector;
    // Ready as leader or as standby, once the Lease API answers (a replica that cannot
    // campaign, e.g. for want of RBAC, is not a standby).
    rt.monitoring.addReadinessCheck('leader-election', () => e.hasObservedLease() || 'the Lease has not been read yet');
    elector.start();
    await aborted(stop.signal);
  }

  await elector?.stop();
  await events.close();
  await rt.close();
  stop.dispose();
  log.info('stopped');
  return exitCode;
}
