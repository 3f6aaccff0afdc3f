// Which pools may serve a Service, and in which order they are tried.
import { matchesSelector } from '../shared/api/selector.js';
import type { Pool } from '../shared/config/types.js';
import type { ServiceDesc } from './allocator-types.js';

/**
 * Whether a pool's serviceAllocation covers the Service. A pool without one serves every
 * Service. With one: the namespace must be listed in `namespaces` or match one of
 * `namespaceSelectors` (when either is set), and the Service's labels must match one of
 * `serviceSelectors` (when set). A serviceAllocation that sets only a priority covers
 * every Service. (MetalLB never auto-assigns from such a pool; herald treats it as
 * matching everything, which is what the priority asks for.)
 */
export function poolServes(pool: Pool, desc: ServiceDesc): boolean {
  const sa = pool.serviceAllocation;
  if (!sa) return true;
  if (sa.namespaces.length > 0 || sa.namespaceSelectors.length > 0) {
    const inNamespace =
      sa.namespaces.includes(desc.namespace) || sa.namespaceSelectors.some((s) => matchesSelector(s, desc.namespaceLabels));
    if (!inNamespace) return false;
  }
  if (sa.serviceSelectors.length > 0 && !sa.serviceSelectors.some((s) => matchesSelector(s, desc.labels))) return false;
  return true;
}

/** A human-readable account of why `poolServes` said no. */
export function whyPoolRefuses(pool: Pool, desc: ServiceDesc): string {
  const sa = pool.serviceAllocation;
  if (!sa) return `pool "${pool.name}" serves every Service`;
  const parts: string[] = [];
  if (sa.namespaces.length > 0 || sa.namespaceSelectors.length > 0) {
    const inNamespace =
      sa.namespaces.includes(desc.namespace) || sa.namespaceSelectors.some((s) => matchesSelector(s, desc.namespaceLabels));
    if (!inNamespace) parts.push(`namespace "${desc.namespace}" is not in its serviceAllocation.namespaces/namespaceSelectors`);
  }
  if (sa.serviceSelectors.length > 0 && !sa.serviceSelectors.some((s) => matchesSelector(s, desc.labels))) {
    parts.push(`the Service's labels match none of its serviceAllocation.serviceSelectors`);
  }
  return `pool "${pool.name}" does not serve ${desc.key}: ${parts.join('; ')}`;
}

function byName(a: Pool, b: Pool): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The pools automatic allocation tries for a Service, as tiers tried one after the
 * other: first the autoAssign pools whose serviceAllocation covers it (lower priority
 * first, unset last, then by name), then the autoAssign pools without serviceAllocation
 * (by name; MetalLB uses Go map order here, herald a stable one). A pool with a
 * serviceAllocation that does not cover the Service is never used for it.
 */
export function candidateTiers(pools: readonly Pool[], desc: ServiceDesc): Pool[][] {
  const preferred: Pool[] = [];
  const plain: Pool[] = [];
  for (const p of pools) {
    if (!p.autoAssign) continue;
    if (!p.serviceAllocation) plain.push(p);
    else if (poolServes(p, desc)) preferred.push(p);
  }
  preferred.sort((a, b) => {
    const pa = a.serviceAllocation?.priority ?? Number.POSITIVE_INFINITY;
    const pb = b.serviceAllocation?.priority ?? Number.POSITIVE_INFINITY;
    return pa !== pb ? (pa < pb ? -1 : 1) : byName(a, b);
  });
  plain.sort(byName);
  return [preferred, plain].filter((t) => t.length > 0);
}
