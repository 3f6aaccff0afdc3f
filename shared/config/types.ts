// The validated configuration model: what the config builder (shared/config/model.ts)
// makes of the raw herald objects. Pure data; the allocator, the L2 election and the BGP
// advertisement planner all read this and never the raw objects.
import type { LabelSelector } from '../api/types.js';
import type { IP, IPRange } from '../ip/ip.js';

/** A problem with one object, naming the field (`spec.addresses[2]`). */
export interface ConfigError {
  kind: string;
  name: string;
  field: string;
  message: string;
  /** `Invalid` (the object is unusable), `Conflict` (clashes with another object), `Reference` (names a missing object). */
  reason: 'Invalid' | 'Conflict' | 'Reference';
}

export interface PoolServiceAllocation {
  /** Lower wins; undefined sorts after every number. */
  priority?: number;
  namespaces: readonly string[];
  namespaceSelectors: readonly LabelSelector[];
  serviceSelectors: readonly LabelSelector[];
}

export interface Pool {
  name: string;
  labels: Readonly<Record<string, string>>;
  /**
   * The ranges the pool may allocate from: its valid spec.addresses, minus any part that
   * overlaps a pool created earlier (that part is reported as a Conflict error instead).
   */
  ranges: readonly IPRange[];
  autoAssign: boolean;
  avoidBuggyIPs: boolean;
  serviceAllocation?: PoolServiceAllocation;
}

export interface L2AdvertisementModel {
  name: string;
  /** Names of the pools this advertisement covers. */
  pools: readonly string[];
  nodeSelectors: readonly LabelSelector[];
  /** Empty: every eligible interface. */
  interfaces: readonly string[];
}

export interface CommunityValues {
  /** RFC 1997 communities as 32-bit numbers (high 16 bits ASN). */
  standard: readonly number[];
  /** RFC 8092 large communities: [global administrator, local data 1, local data 2]. */
  large: readonly (readonly [number, number, number])[];
}

export interface BGPAdvertisementModel {
  name: string;
  pools: readonly string[];
  aggregationLength: number;
  aggregationLengthV6: number;
  localPref?: number;
  communities: CommunityValues;
  nodeSelectors: readonly LabelSelector[];
  /** BGPPeer names; empty means every peer. */
  peers: readonly string[];
}

export interface BFDProfileModel {
  name: string;
  receiveInterval: number;
  transmitInterval: number;
  detectMultiplier: number;
  echoInterval: number;
  echoMode: boolean;
  passiveMode: boolean;
  minimumTtl: number;
}

export interface PeerModel {
  name: string;
  myASN: number;
  peerASN?: number;
  dynamicASN?: 'internal' | 'external';
  peerAddress: IP;
  sourceAddress?: IP;
  peerPort: number;
  /** Seconds; 0 disables keepalives and the hold timer. */
  holdTime: number;
  /** Seconds. */
  keepaliveTime: number;
  /** Seconds. */
  connectTime: number;
  routerID?: string;
  nodeSelectors: readonly LabelSelector[];
  /** TCP-MD5 key, resolved from password or passwordSecret. */
  password?: string;
  bfdProfile?: BFDProfileModel;
  enableGracefulRestart: boolean;
  ebgpMultiHop: boolean;
  vrf: string;
  disableMP: boolean;
}

export interface ConfigModel {
  /** Sorted by name. */
  pools: readonly Pool[];
  l2Advertisements: readonly L2AdvertisementModel[];
  bgpAdvertisements: readonly BGPAdvertisementModel[];
  peers: readonly PeerModel[];
  bfdProfiles: readonly BFDProfileModel[];
  /**
   * Pools that exist but are invalid right now. Consumers must not release IPs a Service
   * holds from one of these: an invalid edit must not move assigned IPs.
   */
  invalidPools: readonly string[];
}

export interface ConfigResult {
  model: ConfigModel;
  errors: readonly ConfigError[];
}
