// Fakes for the BGP announcer tests: sessions that record what they were told, a status
// writer over an in-memory store, and an event recorder that keeps the events.
import { FakeClock } from '../../../../shared/k8s/clock.js';
import type { EventRecorder, EventType, ObjectReference } from '../../../../shared/k8s/events.js';
import type { K8sObject } from '../../../../shared/k8s/informer.js';
import type { ResourceType } from '../../../../shared/k8s/resources.js';
import type { StatusObject, StatusWriter } from '../../../../shared/k8s/writers.js';
import { silentLogger } from '../../../../shared/log.js';
import { createMetrics, type Metrics } from '../../../../shared/metrics.js';
import { BGPAnnouncer, type BGPAnnouncerOptions, type SessionLike } from '../../../../speaker/bgp/announcer.js';
import type { Advertisement, SessionConfig, SessionStatus } from '../../../../speaker/bgp/session.js';

export class FakeSession implements SessionLike {
  readonly calls: string[] = [];
  wanted: readonly Advertisement[] = [];
  private current: SessionStatus = { state: 'Idle', prefixesSent: 0, updatesSent: 0, pendingPrefixes: 0 };
  private readonly listeners = new Set<(s: SessionStatus) => void>();
  stoppedWith: { mode?: string; message?: string } | undefined;

  constructor(public config: SessionConfig) {}

  start(): void {
    this.calls.push('start');
  }
  setWanted(ads: readonly Advertisement[]): void {
    this.calls.push(`setWanted:${ads.length}`);
    this.wanted = ads;
  }
  reconfigure(cfg: SessionConfig): void {
    this.calls.push('reconfigure');
    this.config = cfg;
  }
  linkDown(reason: string): void {
    this.calls.push(`linkDown:${reason}`);
  }
  status(): SessionStatus {
    return this.current;
  }
  onStatus(cb: (s: SessionStatus) => void): () => void {
    this.listeners.add(cb);
    return () => void this.listeners.delete(cb);
  }
  stop(opts?: { mode?: 'shutdown' | 'graceful-restart'; message?: string }): Promise<void> {
    this.calls.push(`stop:${opts?.mode ?? 'shutdown'}`);
    this.stoppedWith = opts ?? {};
    return Promise.resolve();
  }
  /** Plays a status report from the session. */
  emit(s: Partial<SessionStatus>): void {
    this.current = { ...this.current, ...s };
    for (const l of [...this.listeners]) l(this.current);
  }
}

export class MemoryStatusWriter implements StatusWriter {
  readonly objects = new Map<string, StatusObject>();
  readonly log: string[] = [];
  failNext = 0;

  private key(r: ResourceType, ns: string | undefined, name: string): string {
    return `${r.kind}/${ns ?? ''}/${name}`;
  }
  apply<T extends StatusObject>(resource: ResourceType, obj: T): Promise<T> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('injected failure'));
    }
    this.log.push(`apply ${resource.kind} ${obj.metadata.name}`);
    this.objects.set(this.key(resource, obj.metadata.namespace, obj.metadata.name), structuredClone(obj));
    return Promise.resolve(obj);
  }
  patchStatus<T extends StatusObject>(): Promise<T> {
    return Promise.reject(new Error('not used'));
  }
  delete(resource: ResourceType, namespace: string | undefined, name: string): Promise<void> {
    this.log.push(`delete ${resource.kind} ${name}`);
    this.objects.delete(this.key(resource, namespace, name));
    return Promise.resolve();
  }
  ofKind(kind: string): StatusObject[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${kind}/`)).map(([, v]) => v);
  }
  get(kind: string, name: string): StatusObject | undefined {
    return this.objects.get(`${kind}/herald-system/${name}`);
  }
}

export class EventLog implements EventRecorder {
  readonly events: { ref: ObjectReference; type: EventType; reason: string; message: string }[] = [];
  event(obj: K8sObject | ObjectReference, type: EventType, reason: string, message: string): void {
    this.events.push({ ref: obj as ObjectReference, type, reason, message });
  }
}

export interface Harness {
  announcer: BGPAnnouncer;
  clock: FakeClock;
  writer: MemoryStatusWriter;
  events: EventLog;
  metrics: Metrics;
  /** Every session made, in order; the live one per peer is `live(name)`. */
  made: FakeSession[];
  live(peer: string): FakeSession;
  settle(): Promise<void>;
  metric(name: string): Promise<{ labels: Record<string, string | number>; value: number }[]>;
}

export function harness(over: Partial<BGPAnnouncerOptions> = {}): Harness {
  const clock = new FakeClock();
  const writer = new MemoryStatusWriter();
  const events = new EventLog();
  const metrics = over.metrics ?? createMetrics({ defaultMetrics: false, labels: { node: 'n1' } });
  const made: FakeSession[] = [];
  const announcer = new BGPAnnouncer({
    log: silentLogger(),
    clock,
    nodeName: 'n1',
    namespace: 'herald-system',
    status: writer,
    events,
    metrics,
    newSession: (cfg) => {
      const s = new FakeSession(cfg);
      made.push(s);
      return s;
    },
    ...over,
  });
  return {
    announcer,
    clock,
    writer,
    events,
    metrics,
    made,
    live: (peer) => {
      const s = [...made].reverse().find((m) => m.config.name === peer && m.stoppedWith === undefined);
      if (!s) throw new Error(`no live session to ${peer}`);
      return s;
    },
    settle: async () => {
      await clock.advance(0);
      await announcer.settled();
    },
    metric: async (name) => {
      const m = await metrics.registry.getSingleMetric(name)?.get();
      return (m?.values ?? []).map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
    },
  };
}
