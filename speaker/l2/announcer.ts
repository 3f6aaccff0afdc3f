// The L2 announcer (protocol `layer2`): membership, election, responder and
// announcements wired together. The work is elsewhere: who is alive (membership/), who
// answers for each IP (election.ts, plan.ts), what to do with a frame (answer.ts), when to
// announce (announce.ts), what the cluster is told (status.ts).
//
// Failover fast path: a peer goes down (membership, ~350 ms after its last heartbeat) →
// the listener re-runs the election on the snapshot already held (memoized: no hashing)
// → the responder's table changes → the first gratuitous frames leave synchronously in
// the same callback. Nothing on that path touches the API server or waits for a timer;
// status objects and events follow in the background.
//
// The membership key. Membership datagrams are authenticated with the key of the
// `herald-memberlist` Secret, which the controller creates. Until the Secret is there the
// speaker announces nothing in layer 2 and says so: a speaker that cannot hear its peers
// would believe it is alone and claim every IP, answering beside the real owner of each
// (split brain). Waiting is the safe choice; a single-node cluster has the Secret too.
//
// Stopping (SIGTERM): stop() sends no more gratuitous frames, tells the peers this speaker
// is leaving, keeps answering for the grace period, then stops. By default the leave asks
// for a restart hold: the peers keep this node's IPs on it while its node is up, so a
// restarted speaker finds them where it left them and no IP moves (membership/core.ts,
// "Restarts"; docs/l2.md). With `--l2-restart-hold-ms 0` they take the IPs over and
// announce at once, while this node still answers (make-before-break).
import { networkInterfaces } from 'node:os';
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { ServiceL2StatusStatus } from '../../shared/api/types.js';
import { createInformer, type Informer } from '../../shared/k8s/informer.js';
import type { StatusObject } from '../../shared/k8s/writers.js';
import type { Metrics, SampledGauge } from '../../shared/metrics.js';
import { ANNOUNCED_METRIC, type AnnouncedLabels, type Announcer, type AnnouncerFactory } from '../announcer.js';
import { electL2, l2Members, type IPElection } from '../election.js';
import type { MembershipEvent } from '../membership/core.js';
import type { ChangeListener } from '../membership/member.js';
import { ThreadedMembership, type ThreadedMembershipConfig } from '../membership/threaded.js';
import { memberPeers, type MemberPeer, type NodeAddresses } from '../membership/peers.js';
import { MEMBERLIST_SECRET_NAME, memberlistKey, type SecretLike } from '../membership/secret.js';
import type { SpeakerSnapshot } from '../snapshot.js';
import type { SpeakerDeps } from '../start.js';
import { AnnouncementDriver, AnnouncementSchedule, type AnnounceTarget } from './announce.js';
import { addressedInterfaces } from './interfaces.js';
import { DEFAULT_L2_SETTINGS, type L2Settings } from './options.js';
import type { MAC } from './ethernet.js';
import { diffL2, EMPTY_PLAN, planL2, planOnBehalf, type L2Plan } from './plan.js';
import { Responder, type Conflict, type ResponderIO, type ResponderInterface, type WantedIP } from './responder.js';
import { l2StatusCached, l2StatusName, l2StatusObject, L2_STATUSES, L2StatusSync, nodeOwner, statusActions } from './status.js';

/** What the announcer needs of the membership (member.ts Membership; a fake in tests). */
export interface MembershipLike {
  start(): Promise<void>;
  setPeers(peers: readonly MemberPeer[]): void;
  setKey(key: Uint8Array): void;
  live(): ReadonlySet<string> | undefined;
  onChange(listener: ChangeListener): () => void;
  leave(): Promise<void>;
  stop(): Promise<void>;
}

export interface L2AnnouncerOptions {
  settings?: L2Settings;
  /** Packet sockets and multicast memberships; default: speaker/native. */
  io?: () => Promise<ResponderIO>;
  /** The node's interfaces and which carry an address; default: sysfs and os.networkInterfaces(). */
  readInterfaces?: () => Promise<{ infos: ResponderInterface[]; addressed: ReadonlySet<string> }>;
  /** Default: the membership in a thread of its own (membership/threaded.ts). */
  createMembership?: (config: ThreadedMembershipConfig) => MembershipLike;
  /** The ServiceL2Status objects of the install namespace; default: an informer on them. */
  statusInformer?: Informer<StatusObject>;
  /**
   * A monotonic millisecond reading (performance.now by default) that times elections and
   * status passes, whose gaps follow their cost. Tests driving a fake clock pass its time.
   */
  monotonicMs?: () => number;
}

/** Status objects are reconciled at most this often while changes keep coming. */
const STATUS_COALESCE_MS = 50;
/** The shortest gap between two snapshot-driven elections. */
const MIN_RECONCILE_GAP_MS = 50;

const PROTOCOL = 'layer2';
const KEY_WARN_EVERY_MS = 60_000;
const CONFLICT_LOG_EVERY_MS = 10_000;

interface L2Metrics {
  requestsReceived: Counter<'ip'>;
  responsesSent: Counter<'ip'>;
  gratuitousSent: Counter<'ip'>;
  sendErrors: Counter<'code'>;
  conflicts: Counter<'ip'>;
  failover: Histogram<string>;
  announced: SampledGauge<(typeof ANNOUNCED_METRIC.labelNames)[number]>;
  onBehalf: Gauge;
}

function l2Metrics(m: Metrics): L2Metrics {
  return {
    requestsReceived: m.counter({ name: 'layer2_requests_received', help: 'ARP requests and neighbor solicitations received for IPs this node announces.', labelNames: ['ip'] }),
    responsesSent: m.counter({ name: 'layer2_responses_sent', help: 'ARP replies and neighbor advertisements sent in answer.', labelNames: ['ip'] }),
    gratuitousSent: m.counter({ name: 'layer2_gratuitous_sent', help: 'Gratuitous ARP and unsolicited neighbor advertisement frames sent.', labelNames: ['ip'] }),
    sendErrors: m.counter({ name: 'layer2_send_errors_total', help: 'Frames the kernel refused to send, by error code.', labelNames: ['code'] }),
    conflicts: m.counter({ name: 'layer2_conflicts_total', help: 'Times another MAC claimed an IP this node announces.', labelNames: ['ip'] }),
    failover: m.histogram({
      name: 'layer2_failover_seconds',
      help: 'From a peer detected down to the first announcements of the IPs taken over from it.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    }),
    announced: m.sampledGauge(ANNOUNCED_METRIC),
    onBehalf: m.gauge({ name: 'layer2_answering_for_restarting_peers', help: 'IPs this node answers ARP/NDP for with the MAC of a peer whose speaker is restarting.' }),
  };
}

async function nativeIO(): Promise<ResponderIO> {
  const native = await import('../native/index.js');
  const { RESPONDER_FILTER } = await import('./filter.js');
  const memberships = new native.MulticastMemberships();
  return {
    openSocket: (ifindex, onFrame, onError) => new native.PacketSocket({ ifindex, onFrame: (f) => onFrame(f.frame), onError, filter: RESPONDER_FILTER }),
    memberships,
  };
}

async function readNodeInterfaces(): Promise<{ infos: ResponderInterface[]; addressed: ReadonlySet<string> }> {
  const { listInterfaces } = await import('../native/index.js');
  return { infos: await listInterfaces(), addressed: addressedInterfaces(networkInterfaces()) };
}

export function l2AnnouncerFactory(opts: L2AnnouncerOptions = {}): AnnouncerFactory {
  return async (deps) => {
    let io: ResponderIO;
    try {
      io = await (opts.io ?? nativeIO)();
    } catch (err) {
      // BGP must keep working on a node where layer 2 cannot (no addon, no CAP_NET_RAW).
      deps.log.error({ err }, 'l2: no packet sockets; layer 2 announcements are off on this node');
      return { protocol: PROTOCOL, update: () => {}, stop: async () => {} };
    }
    const a = new L2Announcer(deps, opts, io);
    await a.pollInterfaces();
    return a;
  };
}

export class L2Announcer implements Announcer {
  readonly protocol = PROTOCOL;
  readonly #deps: SpeakerDeps;
  readonly #now: () => number;
  readonly #opts: L2AnnouncerOptions;
  readonly #settings: L2Settings;
  readonly #m: L2Metrics;
  readonly #responder: Responder;
  readonly #driver: AnnouncementDriver;
  readonly #status: L2StatusSync;
  #snapshot: SpeakerSnapshot | undefined;
  #membership: MembershipLike | undefined;
  #unsubscribe: (() => void) | undefined;
  #keyProblem: string | undefined;
  #keyWarnedAt = Number.NEGATIVE_INFINITY;
  #peersText = '';
  #plan: L2Plan = EMPTY_PLAN;
  #live: ReadonlySet<string> = new Set();
  /** Peers whose speakers left with a restart hold and have not come back yet. */
  readonly #held = new Set<string>();
  /** How many IPs this node answers for held peers, as last logged. */
  #onBehalfCount = 0;
  /** Set once the first election ran: status objects are reconciled from then on. */
  #elected = false;
  readonly #statusInformer: Informer<StatusObject>;
  #statusTimer: { cancel(): void } | undefined;
  #lastStatusMs = 0;
  #reconcileTimer: { cancel(): void } | undefined;
  #lastReconcileAt = Number.NEGATIVE_INFINITY;
  #lastReconcileMs = 0;
  #unsubscribeStatus: (() => void) | undefined;
  #pollTimer: { cancel(): void } | undefined;
  #polling: Promise<void> | undefined;
  #conflictRecheck = new Map<string, { cancel(): void }>();
  #conflictAnnouncedAt = new Map<string, number>();
  #conflictLoggedAt = new Map<string, number>();
  #stopping = false;
  #idleLogged = false;
  readonly #detachAnnounced: () => void;

  constructor(deps: SpeakerDeps, opts: L2AnnouncerOptions, io: ResponderIO) {
    this.#deps = deps;
    this.#opts = opts;
    this.#settings = opts.settings ?? DEFAULT_L2_SETTINGS;
    this.#now = opts.monotonicMs ?? (() => performance.now());
    this.#m = l2Metrics(deps.metrics);
    this.#responder = new Responder({
      io,
      log: deps.log,
      metrics: this.#m,
      policy: { exclude: this.#settings.excludeInterfaces },
      onConflict: (c) => this.#onConflict(c),
    });
    this.#driver = new AnnouncementDriver(new AnnouncementSchedule(this.#settings.announce), deps.clock, (t) => this.#responder.announce(t));
    this.#status = new L2StatusSync({ writer: deps.status, namespace: deps.namespace, log: deps.log, clock: deps.clock });
    this.#statusInformer =
      opts.statusInformer ??
      createInformer<StatusObject>(deps.client, {
        resource: L2_STATUSES,
        namespace: deps.namespace,
        transform: (o) => l2StatusCached(o as StatusObject),
        logger: deps.log,
        clock: deps.clock,
      });
    this.#detachAnnounced = this.#m.announced.addSource(() => this.#announcedSamples());
    this.#unsubscribeStatus = this.#statusInformer.subscribe(() => this.#scheduleStatuses());
    this.#statusInformer.start();
    this.#schedulePoll();
  }

  #schedulePoll(): void {
    if (this.#stopping) return;
    this.#pollTimer = this.#deps.clock.setTimeout(() => {
      void this.pollInterfaces().finally(() => this.#schedulePoll());
    }, this.#settings.interfacePollMs);
  }

  update(snapshot: SpeakerSnapshot): void {
    if (this.#stopping) return;
    this.#snapshot = snapshot;
    const members = l2Members(snapshot);
    // The membership starts with the first L2Advertisement that selects this node, and
    // then runs until the speaker stops (an advertisement edited away and back must not
    // cost a rejoin).
    if (this.#membership || members.has(this.#deps.nodeName)) this.#ensureMembership(members);
    else if (!this.#idleLogged) {
      this.#idleLogged = true;
      this.#deps.log.info('l2: no L2Advertisement selects this node; the membership starts when one does');
    }
    this.#throttledReconcile();
  }

  /**
   * Snapshot changes are applied at once when none was applied lately, else after a gap
   * of twice what the last election took (at least MIN_RECONCILE_GAP_MS): a burst of
   * cluster changes (1,000 Services created) then costs at most a third of a core, and
   * the membership heartbeats sharing this event loop, and the other processes of the
   * node, keep their time. Membership changes (failover) never wait for this.
   */
  #throttledReconcile(): void {
    if (this.#reconcileTimer) return;
    const wait = this.#lastReconcileAt + Math.max(MIN_RECONCILE_GAP_MS, 2 * this.#lastReconcileMs) - this.#now();
    if (wait <= 0) {
      this.#reconcile([]);
      return;
    }
    this.#reconcileTimer = this.#deps.clock.setTimeout(() => {
      this.#reconcileTimer = undefined;
      if (!this.#stopping) this.#reconcile([]);
    }, wait);
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#pollTimer?.cancel();
    this.#statusTimer?.cancel();
    this.#reconcileTimer?.cancel();
    this.#unsubscribeStatus?.();
    for (const t of this.#conflictRecheck.values()) t.cancel();
    this.#conflictRecheck.clear();
    // No more gratuitous frames from here: a burst still under way would take clients back
    // from a node that has just taken over.
    this.#driver.stop();
    const m = this.#membership;
    if (m) {
      this.#deps.log.info(
        { ips: this.#plan.wanted.size, restartHoldMs: this.#settings.restartHoldMs },
        this.#settings.restartHoldMs > 0
          ? 'l2: leaving; the peers keep this node\'s IPs on it while it is up, for the next speaker to come back to'
          : 'l2: leaving; answering until the peers have taken over',
      );
      // With a hold, nobody takes over while this node is up; without, peers drop it at
      // once and announce. Either way this node answers through the grace period.
      await m.leave().catch((err: unknown) => this.#deps.log.warn({ err }, 'l2: leave failed'));
    }
    this.#unsubscribe?.();
    this.#responder.close();
    await m?.stop().catch((err: unknown) => this.#deps.log.warn({ err }, 'l2: membership stop failed'));
    this.#detachAnnounced();
    await Promise.all([this.#status.close(), this.#statusInformer.stop()]);
    this.#deps.log.info('l2: stopped');
  }

  /** Reads the interfaces and hands them to the responder; announces on pairs that appeared. */
  async pollInterfaces(): Promise<void> {
    if (this.#polling) return this.#polling;
    this.#polling = (async () => {
      try {
        const { infos, addressed } = await (this.#opts.readInterfaces ?? readNodeInterfaces)();
        if (this.#stopping) return;
        const fresh = this.#responder.setInterfaces(infos, addressed);
        this.#announce(fresh);
        if (fresh.length > 0) this.#scheduleStatuses();
      } catch (err) {
        this.#deps.log.warn({ err }, 'l2: reading the interfaces failed');
      } finally {
        this.#polling = undefined;
      }
    })();
    return this.#polling;
  }

  // ------------------------------------------------------------------ membership

  #ensureMembership(members: ReadonlySet<string>): void {
    const deps = this.#deps;
    const secret = deps.informers.secrets.get(MEMBERLIST_SECRET_NAME, deps.namespace) as SecretLike | undefined;
    const key = memberlistKey(secret);
    if (!key.ok) {
      const now = deps.clock.now();
      if (this.#keyProblem !== key.error || now - this.#keyWarnedAt >= KEY_WARN_EVERY_MS) {
        deps.log.error(
          { secret: `${deps.namespace}/${MEMBERLIST_SECRET_NAME}`, problem: key.error },
          this.#membership
            ? 'l2: the membership key is unusable; keeping the last good key'
            : 'l2: no usable membership key; announcing nothing in layer 2 until the Secret exists (the controller creates it)',
        );
        this.#keyWarnedAt = now;
      }
      this.#keyProblem = key.error;
      return;
    }
    if (this.#keyProblem !== undefined) deps.log.info('l2: membership key found');
    this.#keyProblem = undefined;
    const nodes = deps.informers.nodes.list() as NodeAddresses[];
    const self = this.#selfAddress(nodes);
    const peers = memberPeers(
      nodes.filter((n) => members.has(n.metadata?.name ?? '')),
      { self: deps.nodeName, ...(self ? { family: self.family } : {}) },
    );
    if (this.#membership) {
      this.#membership.setKey(key.key);
    } else {
      const config: ThreadedMembershipConfig = {
        node: deps.nodeName,
        key: key.key,
        port: this.#settings.membershipPort,
        restartHoldMs: this.#settings.restartHoldMs,
        ...(self ? { bindAddress: self.address } : {}),
        logger: deps.log,
        metrics: deps.metrics,
      };
      const m = (this.#opts.createMembership ?? ((c) => new ThreadedMembership(c)))(config);
      this.#membership = m;
      this.#unsubscribe = m.onChange((_live, events) => this.#onMembership(events));
      m.setPeers(peers);
      this.#peersText = JSON.stringify(peers);
      m.start().then(
        () => deps.log.info({ address: self?.address ?? 'any', port: this.#settings.membershipPort, peers: peers.length }, 'l2: membership started'),
        (err: unknown) => deps.log.error({ err }, 'l2: membership failed to start; announcing nothing in layer 2'),
      );
      return;
    }
    const text = JSON.stringify(peers);
    if (text !== this.#peersText) {
      this.#membership.setPeers(peers);
      this.#peersText = text;
    }
  }

  /** The node's first InternalIP (the address peers send to), from its Node object. */
  #selfAddress(nodes: readonly NodeAddresses[]): { address: string; family: 4 | 6 } | undefined {
    const me = nodes.find((n) => n.metadata?.name === this.#deps.nodeName);
    const addr = me?.status?.addresses?.find((a) => a.type === 'InternalIP' && a.address)?.address;
    if (!addr) return undefined;
    return { address: addr, family: addr.includes(':') ? 6 : 4 };
  }

  #onMembership(events: readonly MembershipEvent[]): void {
    if (this.#stopping) return;
    const t0 = this.#now();
    for (const e of events) {
      if (e.type === 'hold') this.#held.add(e.node);
      else if (e.type === 'up' || e.type === 'down') this.#held.delete(e.node);
    }
    const down = events.filter((e) => e.type === 'down');
    const takeovers = this.#reconcile(events);
    if (down.length > 0 && takeovers > 0) {
      const seconds = (this.#now() - t0) / 1000;
      this.#m.failover.observe(seconds);
      this.#deps.log.info(
        { peers: down.map((e) => (e.type === 'down' ? `${e.node} (${e.reason})` : '')), ips: takeovers, ms: +(seconds * 1000).toFixed(2) },
        'l2: took over from peers that went down',
      );
    }
    // A peer back from a timeout: both sides may have announced meanwhile (a partition).
    // The winners say so again, so that caches on both sides converge on them.
    if (events.some((e) => e.type === 'up' && e.reason === 'recovered')) this.#announce(this.#responder.answering());
    void this.pollInterfaces();
  }

  // ------------------------------------------------------------------ the election

  /** Re-runs the election and applies it; returns how many IPs this node took on. */
  #reconcile(events: readonly MembershipEvent[]): number {
    const snapshot = this.#snapshot;
    const live = this.#membership?.live();
    if (!snapshot || !live) return 0;
    const started = this.#now();
    try {
      return this.#apply(snapshot, live, events);
    } finally {
      this.#lastReconcileAt = this.#now();
      this.#lastReconcileMs = this.#lastReconcileAt - started;
    }
  }

  #apply(snapshot: SpeakerSnapshot, live: ReadonlySet<string>, events: readonly MembershipEvent[]): number {
    const elections = electL2(snapshot, live);
    const plan = planL2(elections, this.#deps.nodeName);
    const change = diffL2(this.#plan, plan);
    const behalf = this.#onBehalf(snapshot, live, elections);
    // Lost IPs stop being answered here, before anything else.
    const fresh = this.#responder.setAnnounced(behalf.size > 0 ? new Map([...behalf, ...plan.wanted]) : plan.wanted);
    const lost = new Set(change.lost);
    if (lost.size > 0) this.#driver.cancelWhere((t) => lost.has(t.ipText));
    this.#announce(fresh);
    this.#plan = plan;
    this.#live = live;
    this.#elected = true;

    if (change.won.length > 0 || change.lost.length > 0) {
      this.#deps.log.info(
        {
          won: change.won.slice(0, 20),
          lost: change.lost.slice(0, 20),
          wonCount: change.won.length,
          lostCount: change.lost.length,
          announcing: plan.wanted.size,
          ...(events.length > 0 ? { membership: events.map((e) => e.type) } : {}),
        },
        'l2: announcements changed',
      );
    }
    for (const service of change.newServices) this.#nodeAssigned(service);
    this.#scheduleStatuses();
    return change.won.length;
  }

  /**
   * While peers are held (restarting), the held peers' IPs this node would win without
   * them, answered with the held node's MACs (from its ServiceL2Status objects): nobody
   * else answers for them until its speaker is back, and new clients would wait.
   */
  #onBehalf(snapshot: SpeakerSnapshot, live: ReadonlySet<string>, elections: ReadonlyMap<string, IPElection>): Map<string, WantedIP> {
    for (const n of this.#held) if (!live.has(n)) this.#held.delete(n);
    const out =
      this.#held.size === 0
        ? new Map<string, WantedIP>()
        : planOnBehalf(elections, electL2(snapshot, new Set([...live].filter((n) => !this.#held.has(n)))), this.#deps.nodeName, this.#held, (node, e) => this.#macsOf(node, e));
    if (out.size !== this.#onBehalfCount) {
      this.#deps.log.info({ held: [...this.#held], ips: out.size }, out.size > 0 ? 'l2: answering for restarting peers with their MACs' : 'l2: no longer answering for restarting peers');
      this.#onBehalfCount = out.size;
      this.#m.onBehalf.set(out.size);
    }
    return out;
  }

  /** The MACs, by interface, a node's ServiceL2Status objects give for an IP it announces. */
  #macsOf(node: string, e: IPElection): ReadonlyMap<string, MAC> | undefined {
    for (const service of e.services) {
      const [namespace, name] = splitKey(service);
      const obj = this.#statusInformer.get(l2StatusName(namespace, name, e.ipText, node), this.#deps.namespace);
      const interfaces = (obj?.status as ServiceL2StatusStatus | undefined)?.interfaces ?? [];
      const macs = new Map<string, MAC>();
      for (const i of interfaces) if (i.mac) macs.set(i.name, i.mac);
      if (macs.size > 0) return macs;
    }
    return undefined;
  }

  #announce(targets: readonly AnnounceTarget[]): void {
    if (targets.length > 0) this.#driver.announce(targets);
  }

  *#announcedSamples(): Generator<readonly [AnnouncedLabels, number]> {
    for (const [ip, services] of this.#plan.services) for (const service of services) yield [{ service, protocol: PROTOCOL, node: this.#deps.nodeName, ip }, 1];
  }


  // ------------------------------------------------------------------ status and events

  /**
   * Status objects follow at most every STATUS_COALESCE_MS, and at least twice as far apart
   * as the last pass took: during a burst (1,000 Services, their 1,000 status objects
   * coming back through the informer) each pass compares every object, and back-to-back
   * passes would take the event loop from the responder.
   */
  #scheduleStatuses(): void {
    if (this.#statusTimer || this.#stopping) return;
    this.#statusTimer = this.#deps.clock.setTimeout(() => {
      this.#statusTimer = undefined;
      const t0 = this.#now();
      this.#reconcileStatuses();
      this.#lastStatusMs = this.#now() - t0;
    }, Math.max(STATUS_COALESCE_MS, 2 * this.#lastStatusMs));
  }

  /** Makes the ServiceL2Status objects agree with what this node announces (status.ts). */
  #reconcileStatuses(): void {
    if (!this.#elected || this.#stopping || !this.#statusInformer.hasSynced()) return;
    const deps = this.#deps;
    const owner = nodeOwner(deps.informers.nodes.get(deps.nodeName));
    const desired: StatusObject[] = [];
    for (const [ipText, services] of this.#plan.services) {
      const interfaces = this.#responder.interfacesOf(ipText);
      const macs = new Map<string, string>();
      for (const n of interfaces) {
        const mac = this.#responder.macOf(n);
        if (mac) macs.set(n, mac);
      }
      for (const service of services) {
        const [serviceNamespace, serviceName] = splitKey(service);
        desired.push(
          l2StatusObject({ namespace: deps.namespace, node: deps.nodeName, serviceNamespace, serviceName, ipText, interfaces, macs, ...(owner ? { owner } : {}) }),
        );
      }
    }
    const actions = statusActions({
      desired,
      cached: this.#statusInformer.list(),
      self: deps.nodeName,
      live: this.#live,
      announced: new Set(this.#plan.wanted.keys()),
    });
    // A write under way settles first; its informer event brings the next look.
    for (const obj of actions.put) {
      if (this.#status.busy(obj.metadata.name)) continue;
      this.#status.forget(obj.metadata.name);
      this.#status.put(obj);
    }
    for (const name of actions.remove) {
      if (this.#status.busy(name)) continue;
      this.#status.forget(name);
      this.#status.remove(name);
    }
  }

  #nodeAssigned(service: string): void {
    const [namespace, name] = splitKey(service);
    const svc = this.#deps.informers.services.get(name, namespace);
    if (!svc) return;
    this.#deps.events.event(
      { apiVersion: 'v1', kind: 'Service', ...svc, metadata: svc.metadata ?? { name, namespace } },
      'Normal',
      'nodeAssigned',
      `announcing from node "${this.#deps.nodeName}" with protocol "${PROTOCOL}"`,
    );
  }

  // ------------------------------------------------------------------ split brain

  #onConflict(c: Conflict): void {
    this.#m.conflicts.inc({ ip: c.ipText });
    const now = this.#deps.clock.now();
    if (now - (this.#conflictLoggedAt.get(c.ipText) ?? Number.NEGATIVE_INFINITY) >= CONFLICT_LOG_EVERY_MS) {
      this.#conflictLoggedAt.set(c.ipText, now);
      this.#deps.log.warn({ ip: c.ipText, mac: c.mac, kind: c.kind, interface: c.ifname }, 'l2: another host claims an IP this node announces');
    }
    if (this.#stopping || this.#conflictRecheck.has(c.ipText)) return;
    // Not at once: a node taking the IP over legitimately (a joiner, make-before-break)
    // announces before this one has heard of it; the election has caught up by then.
    const timer = this.#deps.clock.setTimeout(() => {
      this.#conflictRecheck.delete(c.ipText);
      if (this.#stopping || !this.#plan.wanted.has(c.ipText)) return;
      const at = this.#deps.clock.now();
      if (at - (this.#conflictAnnouncedAt.get(c.ipText) ?? Number.NEGATIVE_INFINITY) < this.#settings.conflictHoldMs) return;
      this.#conflictAnnouncedAt.set(c.ipText, at);
      this.#deps.log.info({ ip: c.ipText }, 'l2: still the elected node after a conflict; announcing again');
      this.#announce(this.#responder.answering().filter((t) => t.ipText === c.ipText));
    }, this.#settings.conflictRecheckMs);
    this.#conflictRecheck.set(c.ipText, timer);
  }

  /** For tests and diagnostics: the IPs answered now and the live set they came from. */
  state(): { announced: string[]; live: string[] } {
    return { announced: [...this.#plan.wanted.keys()], live: [...this.#live].sort() };
  }
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}
