// The allocator's vocabulary: the plain description of a Service it works from (never a
// Kubernetes object, unlike MetalLB's allocator, so the rules are testable as tables) and
// the outcomes it returns. Built from a Service by controller/service-request.ts.
import type { Family, IP } from '../shared/ip/ip.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePort {
  protocol: Protocol;
  port: number;
}

export type FamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

/** What the allocator needs to know about one LoadBalancer Service. */
export interface ServiceDesc {
  /** `namespace/name`: the identity of the Service in the allocator. */
  key: string;
  namespace: string;
  /** Labels of the Service's namespace, for serviceAllocation.namespaceSelectors. */
  namespaceLabels: Readonly<Record<string, string>>;
  /** The Service's own labels, for serviceAllocation.serviceSelectors. */
  labels: Readonly<Record<string, string>>;
  ports: readonly ServicePort[];
  /** The pool named by the address-pool annotation. */
  requestedPool?: string;
  /** From the loadBalancerIPs annotation or spec.loadBalancerIP; at most one per family. */
  requestedIPs: readonly IP[];
  /** The allow-shared-ip annotation; empty or undefined never shares. */
  sharingKey?: string;
  /**
   * Services sharing an IP must reach the same backends: `Cluster`, or `Local:<selector>`
   * with the canonical selector (MetalLB: both Cluster, or both Local with equal selectors).
   */
  backendKey: string;
  /** The ClusterIP families (spec.ipFamilies), primary first. */
  families: readonly Family[];
  familyPolicy: FamilyPolicy;
}

/**
 * Why a Service gets no address (or loses one). Stable codes for events and conditions;
 * the message beside each names the pool, IP or Service a person has to look at.
 */
export type AllocationFailureReason =
  /** No pool that may serve this Service has addresses of the family it needs. */
  | 'NoPool'
  /** Pools that may serve it exist, but every address in them is taken. */
  | 'PoolExhausted'
  /** The requested pool does not exist, or is invalid right now. */
  | 'UnknownPool'
  /** The pool's serviceAllocation does not cover this Service's namespace or labels. */
  | 'PoolNotAllowed'
  /** A requested IP is in no pool (or is a .0/.255 address of an avoidBuggyIPs pool). */
  | 'IPNotInPool'
  /** A requested IP is in a pool other than the requested pool. */
  | 'WrongPool'
  /** The requested IPs lie in two different pools. */
  | 'IPsInDifferentPools'
  /** The IP is held by a Service that does not share, or this one does not share. */
  | 'IPInUse'
  /** Both share, but with another key, a colliding port, or other backends. */
  | 'SharingConflict'
  /** RequireDualStack, and no single pool can give one address of each family. */
  | 'DualStackUnavailable'
  /** A requested IP's family is not one of the Service's ipFamilies. */
  | 'FamilyMismatch'
  /** The Service no longer asks for the IP it held (other IP, other pool, other family). */
  | 'RequestChanged';

export interface AllocationFailure {
  reason: AllocationFailureReason;
  message: string;
}

/** An IP a Service held (or presented in its status) that it does not keep, and why. */
export interface DroppedIP extends AllocationFailure {
  ip: IP;
}

export type AssignResult =
  | {
      ok: true;
      /** One per family, in the order of ServiceDesc.families. */
      ips: IP[];
      /** The pool all of `ips` come from. */
      pool: string;
      /** True when `ips` differ (as a set) from the `current` IPs passed in. */
      changed: boolean;
      /** IPs of `current` (or of the allocator's own record) the Service no longer holds. */
      dropped: DroppedIP[];
    }
  | {
      ok: false;
      reason: AllocationFailureReason;
      message: string;
      /** The Service holds nothing now; these are the IPs it lost. */
      dropped: DroppedIP[];
    };

export interface ClaimResult {
  /** The IPs now held for the Service, in the order of ServiceDesc.families. */
  kept: IP[];
  /** The pool of `kept`, when any. */
  pool?: string;
  dropped: DroppedIP[];
}

export interface PoolUsage {
  assignedIPv4: bigint;
  assignedIPv6: bigint;
  availableIPv4: bigint;
  availableIPv6: bigint;
  /** Services holding at least one address of the pool. */
  services: number;
}

export interface SetPoolsResult {
  /** IPs that left every pool: the Service no longer holds them and needs assign() again. */
  released: { key: string; ip: IP; pool: string }[];
  /** Services whose IPs are still held but now belong to another pool (ranges moved). */
  repooled: { key: string; from: string; to: string }[];
}
