// The herald.dev/v1beta1 kinds, as they appear in the API (JSON). Field names follow
// MetalLB's (metallb.io v1beta1/v1beta2) wherever the meaning is the same, so that a
// MetalLB user feels at home. The CRD schemas in manifests/crds/ describe the same
// shapes; test/unit/shared/api/crd-drift.test.ts fails if the two drift apart.

export const GROUP = 'herald.dev';
export const VERSION = 'v1beta1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const DEFAULT_NAMESPACE = 'herald-system';

/** Service annotations; the metallb.io spellings of the same keys are honoured too. */
export const ANNOTATIONS = {
  addressPool: 'herald.dev/address-pool',
  loadBalancerIPs: 'herald.dev/loadBalancerIPs',
  allowSharedIP: 'herald.dev/allow-shared-ip',
  /** Written by the controller: the pool an IP was allocated from. */
  allocatedFromPool: 'herald.dev/ip-allocated-from-pool',
} as const;

export const METALLB_ANNOTATIONS = {
  addressPool: 'metallb.io/address-pool',
  loadBalancerIPs: 'metallb.io/loadBalancerIPs',
  allowSharedIP: 'metallb.io/allow-shared-ip',
} as const;

/** Node label that keeps a node from announcing anything (as in Kubernetes). */
export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** metav1.LabelSelector */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** metav1.Condition */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

// ---------------------------------------------------------------- IPAddressPool

export interface ServiceAllocation {
  /** Lower wins; unset is the lowest priority. */
  priority?: number;
  namespaces?: string[];
  namespaceSelectors?: LabelSelector[];
  serviceSelectors?: LabelSelector[];
}

export interface IPAddressPoolSpec {
  /** CIDRs (`192.0.2.0/24`), ranges (`192.0.2.10-192.0.2.20`) or single IPs; IPv4 and IPv6. */
  addresses: string[];
  /** Default true. False: only Services asking for this pool or one of its IPs get addresses. */
  autoAssign?: boolean;
  /** Default false. Skip IPv4 addresses ending in .0 or .255. */
  avoidBuggyIPs?: boolean;
  serviceAllocation?: ServiceAllocation;
}

export interface IPAddressPoolStatus {
  /** Counts saturate at Number.MAX_SAFE_INTEGER (an IPv6 /64 pool has 2^64 addresses). */
  assignedIPv4?: number;
  assignedIPv6?: number;
  availableIPv4?: number;
  availableIPv6?: number;
  observedGeneration?: number;
  /** `Ready`, `Overlap`, `InvalidAddresses` … */
  conditions?: Condition[];
}

export interface IPAddressPool {
  apiVersion: typeof API_VERSION;
  kind: 'IPAddressPool';
  metadata: ObjectMeta;
  spec: IPAddressPoolSpec;
  status?: IPAddressPoolStatus;
}

// ---------------------------------------------------------------- L2Advertisement

export interface L2AdvertisementSpec {
  /** Pools by name; with neither this nor ipAddressPoolSelectors, every pool. */
  ipAddressPools?: string[];
  ipAddressPoolSelectors?: LabelSelector[];
  /** Nodes that may announce; empty means all. */
  nodeSelectors?: LabelSelector[];
  /** Interfaces to announce on; empty means every eligible interface. */
  interfaces?: string[];
}

/** The status of a configuration object other than a pool: Ready and Degraded (controller/config-status.ts). */
export interface AdvertisementStatus {
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface L2Advertisement {
  apiVersion: typeof API_VERSION;
  kind: 'L2Advertisement';
  metadata: ObjectMeta;
  spec: L2AdvertisementSpec;
  status?: AdvertisementStatus;
}

// ---------------------------------------------------------------- BGPAdvertisement

export interface BGPAdvertisementSpec {
  /** Default 32. */
  aggregationLength?: number;
  /** Default 128. */
  aggregationLengthV6?: number;
  /** iBGP only. */
  localPref?: number;
  /** `65000:100`, `large:1:2:3`, or the name of a Community alias. */
  communities?: string[];
  ipAddressPools?: string[];
  ipAddressPoolSelectors?: LabelSelector[];
  nodeSelectors?: LabelSelector[];
  /** BGPPeer names; empty means every peer. */
  peers?: string[];
}

export interface BGPAdvertisement {
  apiVersion: typeof API_VERSION;
  kind: 'BGPAdvertisement';
  metadata: ObjectMeta;
  spec: BGPAdvertisementSpec;
  status?: AdvertisementStatus;
}

// ---------------------------------------------------------------- BGPPeer

export interface SecretReference {
  name: string;
  namespace?: string;
}

export interface BGPPeerSpec {
  myASN: number;
  /** Exactly one of peerASN and dynamicASN. */
  peerASN?: number;
  dynamicASN?: 'internal' | 'external';
  peerAddress: string;
  sourceAddress?: string;
  /** Default 179. */
  peerPort?: number;
  /** Duration (`90s`); default 90s; 0 or at least 3s. */
  holdTime?: string;
  /** Duration; default holdTime / 3; at most holdTime. */
  keepaliveTime?: string;
  /** Duration; default 120s. */
  connectTime?: string;
  routerID?: string;
  nodeSelectors?: LabelSelector[];
  /** TCP-MD5 key; exclusive with passwordSecret. */
  password?: string;
  /** A `kubernetes.io/basic-auth` Secret; key `password`. */
  passwordSecret?: SecretReference;
  bfdProfile?: string;
  enableGracefulRestart?: boolean;
  ebgpMultiHop?: boolean;
  vrf?: string;
  disableMP?: boolean;
}

export interface BGPPeer {
  apiVersion: typeof API_VERSION;
  kind: 'BGPPeer';
  metadata: ObjectMeta;
  spec: BGPPeerSpec;
  status?: AdvertisementStatus;
}

// ---------------------------------------------------------------- Community

export interface CommunityAlias {
  name: string;
  /** `65000:100` or `large:1:2:3`. */
  value: string;
}

export interface CommunitySpec {
  communities?: CommunityAlias[];
}

export interface Community {
  apiVersion: typeof API_VERSION;
  kind: 'Community';
  metadata: ObjectMeta;
  spec: CommunitySpec;
  status?: AdvertisementStatus;
}

// ---------------------------------------------------------------- BFDProfile

export interface BFDProfileSpec {
  /** Milliseconds, 10..60000, default 300. */
  receiveInterval?: number;
  /** Milliseconds, 10..60000, default 300. */
  transmitInterval?: number;
  /** 2..255, default 3. */
  detectMultiplier?: number;
  /** Milliseconds, 10..60000, default 50. */
  echoInterval?: number;
  echoMode?: boolean;
  passiveMode?: boolean;
  /** 1..254, default 254. */
  minimumTtl?: number;
}

export interface BFDProfile {
  apiVersion: typeof API_VERSION;
  kind: 'BFDProfile';
  metadata: ObjectMeta;
  spec: BFDProfileSpec;
  status?: AdvertisementStatus;
}

// ---------------------------------------------------------------- status kinds

export interface InterfaceInfo {
  name: string;
  /** The interface's MAC, lowercase aa:bb:cc:dd:ee:ff. */
  mac?: string;
}

export interface ServiceL2StatusStatus {
  node?: string;
  serviceName?: string;
  serviceNamespace?: string;
  /** The service IP this object reports on (election is per IP). */
  ip?: string;
  interfaces?: InterfaceInfo[];
}

export interface ServiceL2Status {
  apiVersion: typeof API_VERSION;
  kind: 'ServiceL2Status';
  metadata: ObjectMeta;
  spec?: Record<string, never>;
  status?: ServiceL2StatusStatus;
}

export interface ServiceBGPStatusStatus {
  node?: string;
  serviceName?: string;
  serviceNamespace?: string;
  /** BGPPeer names the service's prefixes are advertised to from this node. */
  peers?: string[];
}

export interface ServiceBGPStatus {
  apiVersion: typeof API_VERSION;
  kind: 'ServiceBGPStatus';
  metadata: ObjectMeta;
  spec?: Record<string, never>;
  status?: ServiceBGPStatusStatus;
}

export type BGPSessionFSMState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export interface BGPSessionStateStatus {
  node?: string;
  peer?: string;
  peerAddress?: string;
  vrf?: string;
  bgpStatus?: BGPSessionFSMState;
  bfdStatus?: string;
  /** RFC 3339 time the session last reached Established. */
  establishedSince?: string;
  prefixesSent?: number;
  /** The last error or NOTIFICATION received, human-readable. */
  lastError?: string;
  lastErrorTime?: string;
  conditions?: Condition[];
}

export interface BGPSessionState {
  apiVersion: typeof API_VERSION;
  kind: 'BGPSessionState';
  metadata: ObjectMeta;
  spec?: Record<string, never>;
  status?: BGPSessionStateStatus;
}

export type HeraldObject =
  | IPAddressPool
  | L2Advertisement
  | BGPAdvertisement
  | BGPPeer
  | Community
  | BFDProfile
  | ServiceL2Status
  | ServiceBGPStatus
  | BGPSessionState;

export type HeraldKind = HeraldObject['kind'];

/** kind → plural resource name, as served under /apis/herald.dev/v1beta1. */
export const PLURALS: Record<HeraldKind, string> = {
  IPAddressPool: 'ipaddresspools',
  L2Advertisement: 'l2advertisements',
  BGPAdvertisement: 'bgpadvertisements',
  BGPPeer: 'bgppeers',
  Community: 'communities',
  BFDProfile: 'bfdprofiles',
  ServiceL2Status: 'servicel2statuses',
  ServiceBGPStatus: 'servicebgpstatuses',
  BGPSessionState: 'bgpsessionstates',
};
