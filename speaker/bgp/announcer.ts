// The BGP announcer: one BGPSession per peer this node should hold, each told the whole
// set of prefixes it should advertise (planner.ts), plus what the cluster sees of it:
// BGPSessionState and ServiceBGPStatus objects, the nodeAssigned event and the metrics.
// Sessions are keyed by BGPPeer name; a change to one peer (its address, its password
// Secret) reconfigures that session only, and the session itself decides whether the
// change needs a new connection (session-config.ts restartReasons).
//
// Stop (SIGTERM): a session to a peer with enableGracefulRestart closes without a
// NOTIFICATION, so the router keeps our routes, marked stale, for the restart time (RFC
// 4724 §4.2) and traffic keeps flowing through a rolling upgrade or a rescheduled pod; the
// next speaker re-sends them with End-of-RIB. Any other session ends with Cease /
// Administrative Shutdown (RFC 8203 message): the router withdraws our routes at once
// instead of black-holing traffic until its hold timer (90 s by default) expires.
//
// No listening socket: every peer is connected to actively, as MetalLB's native speaker
// does; binding port 179 would need CAP_NET_BIND_SERVICE, which the speaker does not have.
import { isDeepStrictEqual } from 'node:util';
import type { OwnerReference } from '../../shared/api/types.js';
import type { Clock, TimerHandle } from '../../shared/k8s/clock.js';
import type { EventRecorder, ObjectReference } from '../../shared/k8s/events.js';
import type { StatusObject, StatusWriter } from '../../shared/k8s/writers.js';
import type { Logger } from '../../shared/log.js';
import type { Announcer } from '../announcer.js';
import type { SpeakerSnapshot } from '../snapshot.js';
import { BGPMetrics } from './announcer-metrics.js';
import { BGPPlanner, type BGPPlan, type PeerPlan, type ServicePlan } from './planner.js';
import type { Advertisement, SessionConfig, SessionStatus } from './session.js';
import {
  SERVICE_STATUSES,
  SESSION_STATES,
  serviceStatusName,
  serviceStatusObject,
  sessionStateName,
  sessionStateObject,
  StatusSync,
} from './status.js';
import type { Metrics } from '../../shared/metrics.js';
import { BFD_NOT_CONFIGURED, PeerBFD, type BFDSessions, type PeerBFDConfig } from '../bfd/index.js';

function bfdConfig(p: PeerPlan): PeerBFDConfig {
  return {
    peerAddress: p.config.peerAddress,
    ...(p.config.sourceAddress ? { sourceAddress: p.config.sourceAddress } : {}),
    ebgpMultiHop: p.config.ebgpMultiHop,
    ...(p.bfdProfile ? { profile: p.bfdProfile } : {}),
  };
}

/** What the announcer needs of a session (BGPSession; a fake in tests). */
export interface SessionLike {
  start(): void;
  setWanted(ads: readonly Advertisement[]): void;
  reconfigure(cfg: SessionConfig): void;
  status(): SessionStatus;
  onStatus(cb: (s: SessionStatus) => void): () => void;
  stop(opts?: { mode?: 'shutdown' | 'graceful-restart'; message?: string }): Promise<void>;
  /** Tear the connection down now (BFD saw the path die; RFC 5882 §4.3). */
  linkDown(reason: string): void;
}

export type SessionFactory = (cfg: SessionConfig) => SessionLike;

export interface BGPAnnouncerOptions {
  log: Logger;
  clock: Clock;
  nodeName: string;
  namespace: string;
  status: StatusWriter;
  events: EventRecorder;
  metrics: Metrics;
  newSession: SessionFactory;
  /** This node's status objects already in the cluster, from an earlier speaker process. */
  existing?: { sessionStates: readonly StatusObject[]; serviceStatuses: readonly StatusObject[] };
  /** The Service as an event target (with its uid, so `kubectl describe` shows the event). */
  serviceRef?: (namespace: string, name: string) => ObjectReference;
  /** The Node as owner of the status objects, when known. */
  nodeOwner?: () => OwnerReference | undefined;
  /** Least time between two writes of one BGPSessionState, state changes aside; default 1000 ms. */
  statusIntervalMs?: number;
  /** Concurrent status writes; default 4. */
  statusConcurrency?: number;
  /** BFD for peers with a bfdProfile; without it such peers run without BFD. */
  bfd?: BFDSessions;
}

interface SessionEntry {
  readonly session: SessionLike;
  config: SessionConfig;
  advertisements: readonly Advertisement[];
  unsubscribe: () => void;
  /** Status written last: its state, and when. */
  writtenState?: string;
  writtenAt: number;
  timer?: TimerHandle;
  bfd?: PeerBFD;
}

function sameAdvertisements(a: readonly Advertisement[], b: readonly Advertisement[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    // The planner hands out the same objects for unchanged routes.
    if (x === y) continue;
    if (x.prefix !== y.prefix || x.length !== y.length || x.family !== y.family || x.localPref !== y.localPref) return false;
    if (x.communities.length !== y.communities.length || x.communities.some((c, j) => c !== y.communities[j])) return false;
    if (!isDeepStrictEqual(x.largeCommunities, y.largeCommunities)) return false;
  }
  return true;
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export class BGPAnnouncer implements Announcer {
  readonly protocol = 'bgp' as const;
  private readonly sessions = new Map<string, SessionEntry>();
  /** Services announced, as last planned: sorted by key. */
  private announced: readonly ServicePlan[] = [];
  private readonly planner = new BGPPlanner();
  private readonly sync: StatusSync;
  private readonly metrics: BGPMetrics;
  private readonly log: Logger;
  /** Services found announced by an earlier process: no new nodeAssigned event for them. */
  private readonly inherited = new Set<string>();
  private readonly staleSessionStates = new Set<string>();
  private readonly staleServiceStatuses = new Set<string>();
  private skippedKey = '';
  private stopped = false;
  private last: BGPPlan | undefined;

  constructor(private readonly o: BGPAnnouncerOptions) {
    this.log = o.log.child({ protocol: 'bgp' });
    this.sync = new StatusSync({ writer: o.status, log: this.log, clock: o.clock, ...(o.statusConcurrency ? { concurrency: o.statusConcurrency } : {}) });
    this.metrics = new BGPMetrics(o.metrics, o.nodeName);
    for (const obj of o.existing?.sessionStates ?? []) {
      this.sync.markExisting(SESSION_STATES, o.namespace, obj.metadata.name);
      this.staleSessionStates.add(obj.metadata.name);
    }
    for (const obj of o.existing?.serviceStatuses ?? []) {
      this.sync.markExisting(SERVICE_STATUSES, o.namespace, obj.metadata.name);
      this.staleServiceStatuses.add(obj.metadata.name);
      const st = (obj.status ?? {}) as { serviceName?: string; serviceNamespace?: string };
      if (st.serviceName && st.serviceNamespace) this.inherited.add(`${st.serviceNamespace}/${st.serviceName}`);
    }
  }

  /** The plan last acted on (for tests and diagnostics). */
  plan(): BGPPlan | undefined {
    return this.last;
  }

  /** Resolves once every status write so far has been made (tests, benchmarks). */
  settled(): Promise<void> {
    return this.sync.idle();
  }

  update(snapshot: SpeakerSnapshot): void {
    if (this.stopped) return;
    const plan = this.planner.plan(snapshot);
    this.last = plan;
    this.reportSkipped(plan);
    this.reconcileSessions(plan);
    this.reconcileServices(plan);
    this.removeStale();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.metrics.close();
    const entries = [...this.sessions.entries()];
    const graceful = entries.filter(([, e]) => e.config.enableGracefulRestart).length;
    await Promise.all(
      entries.map(async ([name, e]) => {
        e.timer?.cancel();
        e.unsubscribe();
        e.bfd?.remove();
        const mode = e.config.enableGracefulRestart ? 'graceful-restart' : 'shutdown';
        try {
          await e.session.stop({ mode, message: 'herald speaker shutting down' });
        } catch (err) {
          this.log.error({ err, peer: name }, 'stopping a BGP session failed');
        }
        // A graceful restart leaves the router holding our routes: the state object
        // stays for the next process to overwrite. Otherwise the session is gone.
        if (mode === 'shutdown') this.sync.remove(SESSION_STATES, this.o.namespace, sessionStateName(this.o.nodeName, name));
      }),
    );
    if (graceful === 0) {
      for (const svc of this.announced) this.removeService(svc);
      this.announced = [];
    }
    this.sessions.clear();
    await this.o.bfd?.close();
    await this.sync.close();
    this.log.info({ sessions: entries.length, gracefulRestart: graceful }, 'BGP announcer stopped');
  }

  // ---- sessions ----

  private reconcileSessions(plan: BGPPlan): void {
    const wanted = new Set(plan.peers.map((p) => p.name));
    for (const [name, e] of this.sessions) {
      if (wanted.has(name)) continue;
      this.sessions.delete(name);
      this.dropSession(name, e);
    }
    for (const p of plan.peers) {
      const e = this.sessions.get(p.name);
      if (!e) this.addSession(p);
      else this.updateSession(p, e);
    }
  }

  private addSession(p: PeerPlan): void {
    const session = this.o.newSession(p.config);
    const e: SessionEntry = { session, config: p.config, advertisements: p.advertisements, unsubscribe: () => {}, writtenAt: -Infinity };
    this.sessions.set(p.name, e);
    if (this.o.bfd) {
      e.bfd = new PeerBFD(this.o.bfd, session, bfdConfig(p), () => {
        if (this.sessions.get(p.name) === e) this.writeSessionState(p.name, e, session.status());
      });
    }
    e.unsubscribe = session.onStatus((s) => this.onSessionStatus(p.name, e, s));
    this.log.info({ peer: p.name, peerAddress: p.config.peerAddress, prefixes: p.advertisements.length }, 'BGP session added');
    session.setWanted(p.advertisements);
    session.start();
    this.staleSessionStates.delete(sessionStateName(this.o.nodeName, p.name));
    this.onSessionStatus(p.name, e, session.status());
  }

  private updateSession(p: PeerPlan, e: SessionEntry): void {
    e.bfd?.update(bfdConfig(p));
    if (!isDeepStrictEqual(e.config, p.config)) {
      this.log.info({ peer: p.name }, 'BGP peer configuration changed');
      e.config = p.config;
      e.session.reconfigure(p.config);
      this.writeSessionState(p.name, e, e.session.status());
    }
    if (!sameAdvertisements(e.advertisements, p.advertisements)) {
      e.advertisements = p.advertisements;
      e.session.setWanted(p.advertisements);
    }
  }

  private dropSession(name: string, e: SessionEntry): void {
    e.timer?.cancel();
    e.unsubscribe();
    e.bfd?.remove();
    this.log.info({ peer: name }, 'BGP session removed');
    // The peer is gone from the configuration: withdraw everything at once.
    e.session.stop({ mode: 'shutdown', message: 'herald: peer removed from the configuration' }).catch((err: unknown) => this.log.error({ err, peer: name }, 'stopping a BGP session failed'));
    this.sync.remove(SESSION_STATES, this.o.namespace, sessionStateName(this.o.nodeName, name));
    this.metrics.dropPeer(name);
  }

  private onSessionStatus(name: string, e: SessionEntry, s: SessionStatus): void {
    if (this.sessions.get(name) !== e) return;
    this.metrics.session(name, e.session, s);
    const now = this.o.clock.now();
    const interval = this.o.statusIntervalMs ?? 1000;
    if (s.state !== e.writtenState || now - e.writtenAt >= interval) {
      this.writeSessionState(name, e, s);
      return;
    }
    // Counters move with every UPDATE: one write per interval carries the latest.
    e.timer ??= this.o.clock.setTimeout(() => {
      e.timer = undefined;
      if (this.sessions.get(name) === e) this.writeSessionState(name, e, e.session.status());
    }, e.writtenAt + interval - now);
  }

  private writeSessionState(name: string, e: SessionEntry, s: SessionStatus): void {
    e.timer?.cancel();
    e.timer = undefined;
    e.writtenState = s.state;
    e.writtenAt = this.o.clock.now();
    const owner = this.o.nodeOwner?.();
    this.sync.put(
      SESSION_STATES,
      sessionStateObject({ namespace: this.o.namespace, node: this.o.nodeName, config: e.config, status: s, bfdStatus: e.bfd?.status() ?? BFD_NOT_CONFIGURED, ...(owner ? { owner } : {}) }),
    );
  }

  private reportSkipped(plan: BGPPlan): void {
    const key = JSON.stringify(plan.skipped);
    if (key === this.skippedKey) return;
    this.skippedKey = key;
    for (const s of plan.skipped) this.log.warn({ peer: s.peer, reason: s.reason }, 'BGP peer not used');
  }

  // ---- services ----

  /**
   * The last plan's Services against the new one's, both sorted by key, walked in step:
   * 10,000 announced Services need no map of their own.
   */
  private reconcileServices(plan: BGPPlan): void {
    const before = this.announced;
    const after = plan.services;
    // The planner hands out the same list when no Service changed.
    if (after === before) return;
    this.announced = after;
    this.metrics.announced = after;
    const owner = this.o.nodeOwner?.();
    let i = 0;
    for (const svc of after) {
      while (i < before.length && before[i]!.key < svc.key) this.removeService(before[i++]!);
      const prev = i < before.length && before[i]!.key === svc.key ? before[i++] : undefined;
      if (prev && (prev === svc || (sameList(prev.ips, svc.ips) && sameList(prev.peers, svc.peers)))) continue;
      this.staleServiceStatuses.delete(serviceStatusName(svc.namespace, svc.name, this.o.nodeName));
      this.sync.put(SERVICE_STATUSES, () => serviceStatusObject({ namespace: this.o.namespace, node: this.o.nodeName, service: svc, ...(owner ? { owner } : {}) }));
      // MetalLB #2387: an event on every resync floods the Service; only a change is news.
      const inherited = this.inherited.delete(svc.key);
      if (!prev && !inherited) this.assignedEvent(svc);
      else if (prev && !sameList(prev.ips, svc.ips)) this.assignedEvent(svc);
    }
    while (i < before.length) this.removeService(before[i++]!);
    this.inherited.clear();
  }

  private removeService(e: ServicePlan): void {
    this.sync.remove(SERVICE_STATUSES, this.o.namespace, serviceStatusName(e.namespace, e.name, this.o.nodeName));
  }

  private assignedEvent(svc: ServicePlan): void {
    const ref = this.o.serviceRef?.(svc.namespace, svc.name) ?? { apiVersion: 'v1', kind: 'Service', namespace: svc.namespace, name: svc.name };
    this.o.events.event(ref, 'Normal', 'nodeAssigned', `announcing from node "${this.o.nodeName}" with protocol "bgp"`);
  }

  /** Objects of an earlier process that the first plans did not claim. */
  private removeStale(): void {
    for (const name of this.staleSessionStates) this.sync.remove(SESSION_STATES, this.o.namespace, name);
    for (const name of this.staleServiceStatuses) this.sync.remove(SERVICE_STATUSES, this.o.namespace, name);
    this.staleSessionStates.clear();
    this.staleServiceStatuses.clear();
  }
}
