// Turns a Service (plain JSON as the API returns it) into the allocator's ServiceDesc:
// which Services are ours, and what each asks for. Pure; problems come back as values
// with a message for an AllocationFailed event, never as exceptions.
import { ANNOTATIONS, METALLB_ANNOTATIONS } from '../shared/api/types.js';
import { formatIP, parseIP, type Family, type IP } from '../shared/ip/ip.js';
import type { FamilyPolicy, Protocol, ServiceDesc, ServicePort } from './allocator-types.js';

/**
 * The fields read from a Service. `V1Service` from @kubernetes/client-node is assignable
 * to it, and so is the JSON of a watch event.
 */
export interface ServiceLike {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    type?: string;
    loadBalancerClass?: string;
    loadBalancerIP?: string;
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalTrafficPolicy?: string;
    selector?: Record<string, string>;
    ports?: { protocol?: string; port: number }[];
  };
}

export interface DescribeOptions {
  /** The controller's --lb-class flag. */
  lbClass?: string;
}

export type ServiceRequestProblem =
  /** Not type LoadBalancer: not ours. */
  | 'NotLoadBalancer'
  /** spec.loadBalancerClass is another implementation's (or set while we have no --lb-class). */
  | 'OtherLoadBalancerClass'
  /** An annotation's value cannot be used (bad address, too many, two of one family). */
  | 'InvalidAnnotation'
  /** The herald.dev/ and metallb.io/ spellings of one annotation disagree. */
  | 'ConflictingAnnotations'
  /** Both spec.loadBalancerIP and a loadBalancerIPs annotation, or a bad spec.loadBalancerIP. */
  | 'InvalidLoadBalancerIP';

export type DescribeResult =
  | { ok: true; desc: ServiceDesc }
  | {
      ok: false;
      reason: ServiceRequestProblem;
      message: string;
      /** True when the Service is simply not ours (hold nothing, report nothing). */
      ignore: boolean;
    };

/**
 * Spellings of each annotation, herald's first. metallb.universe.tf/ is what MetalLB used
 * before v0.15 and what most existing Services carry; honouring it too lets them move
 * over unchanged.
 */
const SPELLINGS = {
  addressPool: [ANNOTATIONS.addressPool, METALLB_ANNOTATIONS.addressPool, 'metallb.universe.tf/address-pool'],
  loadBalancerIPs: [ANNOTATIONS.loadBalancerIPs, METALLB_ANNOTATIONS.loadBalancerIPs, 'metallb.universe.tf/loadBalancerIPs'],
  allowSharedIP: [ANNOTATIONS.allowSharedIP, METALLB_ANNOTATIONS.allowSharedIP, 'metallb.universe.tf/allow-shared-ip'],
} as const;

type Problem = { ok: false; reason: ServiceRequestProblem; message: string; ignore: boolean };

const problem = (reason: ServiceRequestProblem, message: string, ignore = false): Problem => ({ ok: false, reason, message, ignore });

/** One annotation under any of its spellings: its normalised value, or a conflict. */
function readAnnotation(
  annotations: Record<string, string>,
  names: readonly string[],
  normalise: (value: string, name: string) => { ok: true; value: string } | Problem,
): { ok: true; value?: string; name?: string } | Problem {
  let found: { value: string; name: string } | undefined;
  for (const name of names) {
    const raw = annotations[name];
    if (raw === undefined || raw.trim() === '') continue;
    const n = normalise(raw.trim(), name);
    if (!n.ok) return n;
    if (found && found.value !== n.value) {
      return problem('ConflictingAnnotations', `${found.name}: "${found.value}" and ${name}: "${n.value}" disagree; remove one or make them equal`);
    }
    found ??= { value: n.value, name };
  }
  return { ok: true, ...found };
}

function parseIPList(text: string, name: string): { ok: true; ips: IP[] } | Problem {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length > 2) return problem('InvalidAnnotation', `${name} lists ${parts.length} addresses; at most two, one IPv4 and one IPv6`);
  const ips: IP[] = [];
  for (const p of parts) {
    const ip = parseIP(p);
    if (!ip) return problem('InvalidAnnotation', `${name}: "${p}" is not an IP address`);
    if (ips.some((x) => x.family === ip.family)) {
      return problem('InvalidAnnotation', `${name} lists two ${ip.family === 4 ? 'IPv4' : 'IPv6'} addresses; at most one of each family`);
    }
    ips.push(ip);
  }
  return { ok: true, ips };
}

function familiesOf(spec: NonNullable<ServiceLike['spec']>, requested: readonly IP[], policy: FamilyPolicy): Family[] {
  const fromSpec = (spec.ipFamilies ?? []).flatMap((f): Family[] => (f === 'IPv4' ? [4] : f === 'IPv6' ? [6] : []));
  if (fromSpec.length > 0) return [...new Set(fromSpec)];
  // Older API servers (and hand-made objects) may leave ipFamilies unset: use the ClusterIPs.
  const clusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  const fromClusterIPs = clusterIPs.flatMap((t) => {
    const ip = parseIP(t);
    return ip ? [ip.family] : [];
  });
  if (fromClusterIPs.length > 0) return [...new Set(fromClusterIPs)];
  if (requested.length > 0) return requested.map((ip) => ip.family);
  return policy === 'SingleStack' ? [4] : [4, 6];
}

/** `Cluster`, or `Local:` and the selector as sorted `k=v` pairs, so equal selectors give equal keys. */
export function backendKeyOf(spec: NonNullable<ServiceLike['spec']>): string {
  if (spec.externalTrafficPolicy !== 'Local') return 'Cluster';
  const selector = Object.entries(spec.selector ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `Local:${selector}`;
}

function portsOf(spec: NonNullable<ServiceLike['spec']>): ServicePort[] {
  return (spec.ports ?? []).map((p) => {
    const proto = (p.protocol ?? 'TCP').toUpperCase();
    const protocol: Protocol = proto === 'UDP' || proto === 'SCTP' ? proto : 'TCP';
    return { protocol, port: p.port };
  });
}

/**
 * Whether the Service is ours and what it asks for. `namespaceLabels` are the labels of
 * its namespace (for serviceAllocation.namespaceSelectors).
 */
export function describeService(
  svc: ServiceLike,
  namespaceLabels: Readonly<Record<string, string>>,
  opts: DescribeOptions = {},
): DescribeResult {
  const meta = svc.metadata ?? {};
  const spec = svc.spec ?? {};
  const namespace = meta.namespace ?? 'default';
  const key = `${namespace}/${meta.name ?? ''}`;

  if (spec.type !== 'LoadBalancer') return problem('NotLoadBalancer', `${key} is of type ${spec.type ?? 'ClusterIP'}`, true);
  const cls = spec.loadBalancerClass;
  if (opts.lbClass === undefined ? cls !== undefined && cls !== '' : cls !== opts.lbClass) {
    const want = opts.lbClass === undefined ? 'no loadBalancerClass' : `loadBalancerClass "${opts.lbClass}"`;
    return problem('OtherLoadBalancerClass', `${key} has loadBalancerClass ${cls ? `"${cls}"` : 'unset'}; this controller serves ${want}`, true);
  }

  const annotations = meta.annotations ?? {};
  const pool = readAnnotation(annotations, SPELLINGS.addressPool, (v) => ({ ok: true, value: v }));
  if (!pool.ok) return pool;
  const sharing = readAnnotation(annotations, SPELLINGS.allowSharedIP, (v) => ({ ok: true, value: v }));
  if (!sharing.ok) return sharing;
  const ipsAnnotation = readAnnotation(annotations, SPELLINGS.loadBalancerIPs, (v, name) => {
    const parsed = parseIPList(v, name);
    if (!parsed.ok) return parsed;
    // Order-insensitive, canonical text, so "2001:db8::1,192.0.2.1" equals its reverse.
    return { ok: true, value: parsed.ips.map(formatIP).sort().join(',') };
  });
  if (!ipsAnnotation.ok) return ipsAnnotation;

  let requestedIPs: IP[] = [];
  if (ipsAnnotation.value !== undefined) {
    const parsed = parseIPList(ipsAnnotation.value, ipsAnnotation.name ?? '');
    if (parsed.ok) requestedIPs = parsed.ips;
  }
  const lbIP = spec.loadBalancerIP?.trim();
  if (lbIP) {
    if (requestedIPs.length > 0) {
      return problem('InvalidLoadBalancerIP', `${key} sets both spec.loadBalancerIP and ${ipsAnnotation.name}; use only the annotation`);
    }
    const ip = parseIP(lbIP);
    if (!ip) return problem('InvalidLoadBalancerIP', `spec.loadBalancerIP "${lbIP}" is not an IP address`);
    requestedIPs = [ip];
  }

  const policyText = spec.ipFamilyPolicy;
  const familyPolicy: FamilyPolicy =
    policyText === 'PreferDualStack' || policyText === 'RequireDualStack' ? policyText : 'SingleStack';
  const desc: ServiceDesc = {
    key,
    namespace,
    namespaceLabels: { ...namespaceLabels },
    labels: { ...(meta.labels ?? {}) },
    ports: portsOf(spec),
    requestedIPs,
    backendKey: backendKeyOf(spec),
    families: familiesOf(spec, requestedIPs, familyPolicy),
    familyPolicy,
  };
  if (pool.value !== undefined) desc.requestedPool = pool.value;
  if (sharing.value !== undefined) desc.sharingKey = sharing.value;
  return { ok: true, desc };
}
