// Builders for election tests: snapshots made directly of ServiceInfo / NodeInfo.
import type { NodeInfo, ServiceInfo, SpeakerSnapshot } from '../../../speaker/snapshot.js';
import type { ConfigModel, L2AdvertisementModel } from '../../../shared/config/types.js';
import type { LabelSelector } from '../../../shared/api/types.js';
import { parseAddressSpec, parseIP, type IP } from '../../../shared/ip/ip.js';

export function range(s: string) {
  const r = parseAddressSpec(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

export function ip(s: string): IP {
  const v = parseIP(s);
  if (!v) throw new Error(s);
  return v;
}

export function ad(name: string, pools: string[], nodeSelectors: LabelSelector[] = [], interfaces: string[] = []): L2AdvertisementModel {
  return { name, pools, nodeSelectors, interfaces };
}

export function config(l2Advertisements: L2AdvertisementModel[]): ConfigModel {
  return {
    pools: [
      { name: 'bgp', labels: {}, ranges: [range('203.0.113.0/24')], autoAssign: true, avoidBuggyIPs: false },
      { name: 'l2', labels: {}, ranges: [range('192.0.2.200-192.0.2.250'), range('2001:db8:0:2::200-2001:db8:0:2::2ff')], autoAssign: true, avoidBuggyIPs: false },
    ],
    l2Advertisements,
    bgpAdvertisements: [],
    peers: [],
    bfdProfiles: [],
    invalidPools: [],
  };
}

export function node(name: string, labels: Record<string, string> = {}, mayAnnounce = true): NodeInfo {
  return { name, labels, mayAnnounce };
}

export function service(
  name: string,
  ips: string[],
  opts: { policy?: 'Cluster' | 'Local'; endpoints?: string[]; ready?: boolean } = {},
): ServiceInfo {
  const endpointNodes = new Set(opts.endpoints ?? []);
  return {
    key: `default/${name}`,
    namespace: 'default',
    name,
    ips: ips.map(ip),
    externalTrafficPolicy: opts.policy ?? 'Cluster',
    endpointNodes,
    hasReadyEndpoints: opts.ready ?? (endpointNodes.size > 0 || opts.endpoints === undefined),
  };
}

export function snapshot(cfg: ConfigModel, nodes: NodeInfo[], services: ServiceInfo[]): SpeakerSnapshot {
  return { nodeName: nodes[0]?.name ?? 'n1', config: cfg, services, nodes: new Map(nodes.map((n) => [n.name, n])) };
}

