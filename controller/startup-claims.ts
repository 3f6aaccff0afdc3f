// Re-taking the addresses Services already show, before any Service is served. A
// controller that starts (or takes over the lead) and serves pending Services first can
// hand a pending Service an address that a Service it has not processed yet still holds:
// MetalLB #1774, #2443 and #1984 were IPs handed out twice that way. Claims run in one
// stable order (oldest Service first, then by key), so when two Services show the same
// address without being allowed to share it, the older one keeps it on every replica
// and after every restart. Pure.
import type { IP } from '../shared/ip/ip.js';
import { ANNOTATIONS } from '../shared/api/types.js';
import type { Allocator } from './allocator.js';
import type { DroppedIP, ServiceDesc } from './allocator-types.js';
import { describeService } from './service-request.js';
import { keyOfService, statusIPs, type ServiceObject } from './service-plan.js';

/** What a claim needs to know about a Service that shows addresses: a few hundred bytes, not the object. */
export interface ClaimCandidate {
  key: string;
  /** metadata.creationTimestamp in ms since the epoch (NaN sorts last). */
  created: number;
  desc: ServiceDesc;
  ips: IP[];
  fromPool?: string;
}

/** The claim a Service makes, or undefined when it shows no address or is not ours. */
export function claimCandidate(svc: ServiceObject, namespaceLabels: Readonly<Record<string, string>>, lbClass: string | undefined): ClaimCandidate | undefined {
  const ips = statusIPs(svc);
  if (ips.length === 0) return undefined;
  const d = describeService(svc, namespaceLabels, lbClass === undefined ? {} : { lbClass });
  if (!d.ok) return undefined;
  const fromPool = svc.metadata?.annotations?.[ANNOTATIONS.allocatedFromPool];
  const created = Date.parse(svc.metadata?.creationTimestamp ?? '');
  return { key: keyOfService(svc), created, desc: d.desc, ips, ...(fromPool !== undefined ? { fromPool } : {}) };
}

export function compareClaims(a: ClaimCandidate, b: ClaimCandidate): number {
  const ta = Number.isNaN(a.created) ? Infinity : a.created;
  const tb = Number.isNaN(b.created) ? Infinity : b.created;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export interface ClaimSummary {
  /** Services that kept at least one address. */
  claimed: number;
  /** Addresses shown but not kept; the Services' next reconcile reports and replaces them. */
  dropped: (DroppedIP & { key: string })[];
}

/** Claims every candidate's addresses, oldest Service first. */
export function claimAll(alloc: Allocator, candidates: readonly ClaimCandidate[]): ClaimSummary {
  const summary: ClaimSummary = { claimed: 0, dropped: [] };
  for (const c of [...candidates].sort(compareClaims)) {
    const r = alloc.claim(c.desc, c.ips, c.fromPool);
    if (r.kept.length > 0) summary.claimed++;
    for (const d of r.dropped) summary.dropped.push({ key: c.key, ...d });
  }
  return summary;
}
