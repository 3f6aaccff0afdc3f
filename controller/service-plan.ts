// What the controller should do about one Service: the plain function the reconciler
// calls and acts on (STYLE.md: reconcilers decide nothing). It asks the allocator for the
// Service's addresses and compares the answer with what the Service shows, giving the
// status to write (if any) and the events that go with it. Events follow from a change
// the API can see (the ingress or the herald condition), so they are emitted once per
// change however often the Service is reconciled (MetalLB #2387), with no memory beyond
// the Service itself. No I/O, no clock: `now` comes in.
import { ANNOTATIONS, type Condition } from '../shared/api/types.js';
import type { EventType } from '../shared/k8s/events.js';
import type { K8sObject } from '../shared/k8s/informer.js';
import type { LoadBalancerIngress, ServiceStatus } from '../shared/k8s/writers.js';
import { canonicalIP, formatIP, parseIP, type IP } from '../shared/ip/ip.js';
import type { Allocator } from './allocator.js';
import type { AllocationFailureReason, ServiceDesc } from './allocator-types.js';
import { conditionNews, mergeConditions, nextCondition, sameConditions, withoutConditions, type ConditionSpec } from './conditions.js';
import { describeService, type ServiceLike, type ServiceRequestProblem } from './service-request.js';

/**
 * The Service condition herald keeps: True when the Service holds what it asked for
 * (reason IPAllocated, or PreferDualStackPartial while one family is still missing),
 * False with the allocator's or the request's reason code and a message naming what to
 * fix. Only the controller writes it.
 */
export const SERVICE_CONDITION = 'herald.dev/LoadBalancerAllocated';

export type ServiceObject = K8sObject & ServiceLike & { status?: ServiceStatus };

export interface PlannedEvent {
  type: EventType;
  reason: 'IPAllocated' | 'AllocationFailed' | 'ClearAssignment';
  message: string;
}

/** The Service's status and annotations as they should be; only what differs is written. */
export interface ServiceWrite {
  ingress: LoadBalancerIngress[];
  /** The whole list (others' conditions kept). */
  conditions: Condition[];
  /** Annotations to change: a string sets, null removes. */
  annotations: Record<string, string | null>;
}

export type ServiceOutcome =
  | { kind: 'ignored' }
  | { kind: 'allocated'; ips: IP[]; /** `ips` as text. */ texts: string[]; pool: string; changed: boolean }
  | { kind: 'failed'; reason: AllocationFailureReason | ServiceRequestProblem; message: string };

export interface ServicePlan {
  key: string;
  outcome: ServiceOutcome;
  /** Undefined when the Service already shows what it should. */
  write?: ServiceWrite;
  /** To record once the write (if any) has succeeded. */
  events: PlannedEvent[];
}

export interface PlanOptions {
  lbClass?: string;
  /** metav1.Time text for condition transitions. */
  now: string;
}

/** The IPs a Service's status shows (unparsable entries and hostnames left out). */
export function statusIPs(svc: ServiceObject): IP[] {
  const out: IP[] = [];
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
    const ip = ing.ip === undefined ? undefined : parseIP(ing.ip);
    if (ip && !out.some((x) => x.family === ip.family && x.value === ip.value)) out.push(ip);
  }
  return out;
}

export function keyOfService(svc: ServiceObject): string {
  return `${svc.metadata?.namespace ?? 'default'}/${svc.metadata?.name ?? ''}`;
}

/** Whether a reconcile might now give this Service something it lacks (after an IP was freed). */
export function mayWantMore(svc: ServiceObject): boolean {
  if (svc.spec?.type !== 'LoadBalancer') return false;
  const cond = svc.status?.conditions?.find((c) => c.type === SERVICE_CONDITION);
  if (cond && (cond.status !== 'True' || cond.reason !== 'IPAllocated')) return true;
  return statusIPs(svc).length === 0;
}

const ipList = (texts: readonly string[]): string => `[${texts.map((t) => `"${t}"`).join(',')}]`;

function sameIngress(current: readonly LoadBalancerIngress[] | undefined, want: readonly LoadBalancerIngress[]): boolean {
  const cur = current ?? [];
  return (
    cur.length === want.length &&
    cur.every((c, i) => {
      const w = want[i] as LoadBalancerIngress;
      // Text first: what herald wrote is canonical already, and parsing is not free.
      const sameIP = c.ip !== undefined && (c.ip === w.ip || canonicalIP(c.ip) === w.ip);
      return sameIP && c.ipMode === w.ipMode && c.hostname === undefined && (c.ports?.length ?? 0) === 0;
    })
  );
}

function clearEvents(dropped: readonly { ip: IP; reason: string; message: string }[], shown: readonly IP[]): PlannedEvent[] {
  return dropped
    .filter((d) => shown.some((s) => s.family === d.ip.family && s.value === d.ip.value))
    .map((d) => ({
      type: d.reason === 'RequestChanged' ? 'Normal' : 'Warning',
      reason: 'ClearAssignment',
      message: `Released ${formatIP(d.ip)}: ${d.message}`,
    }));
}

/**
 * Decides one Service. Calls the allocator (assign or release), so the allocator's
 * record moves with the plan; calling it again for an unchanged Service is a no-op.
 */
export function planService(alloc: Allocator, svc: ServiceObject, namespaceLabels: Readonly<Record<string, string>>, o: PlanOptions): ServicePlan {
  const key = keyOfService(svc);
  const shown = statusIPs(svc);
  const annotations = svc.metadata?.annotations ?? {};
  const poolAnnotation = annotations[ANNOTATIONS.allocatedFromPool];
  const conditions = svc.status?.conditions;
  const mine = conditions?.find((c) => c.type === SERVICE_CONDITION);
  const d = describeService(svc, namespaceLabels, o.lbClass === undefined ? {} : { lbClass: o.lbClass });

  if (!d.ok && d.ignore) {
    alloc.release(key);
    // A Service that stopped being a LoadBalancer loses what herald gave it (MetalLB
    // clears the status too); one of another class is another implementation's to touch.
    const wasOurs = poolAnnotation !== undefined || mine !== undefined;
    if (d.reason !== 'NotLoadBalancer' || !wasOurs) return { key, outcome: { kind: 'ignored' }, events: [] };
    return {
      key,
      outcome: { kind: 'ignored' },
      write: {
        ingress: [],
        conditions: withoutConditions(conditions, [SERVICE_CONDITION]),
        annotations: poolAnnotation !== undefined ? { [ANNOTATIONS.allocatedFromPool]: null } : {},
      },
      events: shown.map((ip) => ({ type: 'Normal' as const, reason: 'ClearAssignment' as const, message: `Released ${formatIP(ip)}: ${d.message}` })),
    };
  }

  const generation = svc.metadata?.generation;
  const gen = generation !== undefined ? { observedGeneration: generation } : {};
  let want: ConditionSpec;
  let ingress: LoadBalancerIngress[] = [];
  let pool: string | undefined;
  let outcome: ServiceOutcome;
  const events: PlannedEvent[] = [];

  if (!d.ok) {
    alloc.release(key);
    outcome = { kind: 'failed', reason: d.reason, message: d.message };
    events.push(...clearEvents(shown.map((ip) => ({ ip, reason: d.reason, message: d.message })), shown));
    want = { type: SERVICE_CONDITION, status: 'False', reason: d.reason, message: d.message, ...gen };
  } else {
    const r = alloc.assign(d.desc, shown);
    events.push(...clearEvents(r.dropped, shown));
    if (r.ok) {
      pool = r.pool;
      const texts = r.ips.map(formatIP);
      ingress = texts.map((ip) => ({ ip, ipMode: 'VIP' as const }));
      outcome = { kind: 'allocated', ips: r.ips, texts, pool: r.pool, changed: r.changed };
      want = allocatedCondition(d.desc, r.ips, texts, r.pool, gen);
      if (r.changed && r.ips.some((ip) => !shown.some((s) => s.family === ip.family && s.value === ip.value))) {
        events.push({ type: 'Normal', reason: 'IPAllocated', message: `Assigned IP ${ipList(texts)} from pool "${r.pool}"` });
      }
    } else {
      outcome = { kind: 'failed', reason: r.reason, message: r.message };
      want = { type: SERVICE_CONDITION, status: 'False', reason: r.reason, message: r.message, ...gen };
    }
  }
  if (want.status === 'False' && conditionNews(mine, want)) {
    events.push({ type: 'Warning', reason: 'AllocationFailed', message: want.message });
  }

  const nextConditions = mergeConditions(conditions, [nextCondition(mine, want, o.now)]);
  const annotationChange: Record<string, string | null> = {};
  if (pool !== undefined && poolAnnotation !== pool) annotationChange[ANNOTATIONS.allocatedFromPool] = pool;
  if (pool === undefined && poolAnnotation !== undefined) annotationChange[ANNOTATIONS.allocatedFromPool] = null;

  const unchanged =
    sameIngress(svc.status?.loadBalancer?.ingress, ingress) && sameConditions(conditions, nextConditions) && Object.keys(annotationChange).length === 0;
  if (unchanged) return { key, outcome, events: [] };
  return { key, outcome, write: { ingress, conditions: nextConditions, annotations: annotationChange }, events };
}

function allocatedCondition(desc: ServiceDesc, ips: readonly IP[], texts: readonly string[], pool: string, gen: { observedGeneration?: number }): ConditionSpec {
  const text = `${texts.join(', ')} from pool "${pool}"`;
  const wanted = new Set(desc.families);
  if (desc.familyPolicy === 'PreferDualStack' && desc.requestedIPs.length === 0 && ips.length < wanted.size) {
    const missing = [...wanted].filter((f) => !ips.some((ip) => ip.family === f)).map((f) => (f === 4 ? 'IPv4' : 'IPv6'));
    return {
      type: SERVICE_CONDITION,
      status: 'True',
      reason: 'PreferDualStackPartial',
      message: `holds ${text}; no ${missing.join(' or ')} address is free in that pool yet, it is added when one is (PreferDualStack)`,
      ...gen,
    };
  }
  return { type: SERVICE_CONDITION, status: 'True', reason: 'IPAllocated', message: `holds ${text}`, ...gen };
}
