// Builds speaker snapshots for the planner and announcer tests through the real pipeline:
// raw herald objects → config model, raw Services/EndpointSlices/Nodes → snapshot.
import { strict as assert } from 'node:assert';
import type { ConfigInput } from '../../../../shared/config/model.js';
import { buildSnapshot, type RawEndpointSlice, type RawNode, type RawService, type SpeakerSnapshot } from '../../../../speaker/snapshot.js';
import { build } from '../../shared/config/factories.js';

export { bgpAdv, community, peer, pool, secret } from '../../shared/config/factories.js';

export interface SvcSpec {
  name: string;
  namespace?: string;
  ips: string[];
  policy?: 'Cluster' | 'Local';
  /** Nodes with a ready endpoint; default one on n2 (so Cluster announces everywhere). */
  ready?: string[];
  notReady?: string[];
}

export function rawService(s: SvcSpec): RawService {
  return {
    metadata: { name: s.name, namespace: s.namespace ?? 'default' },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: s.policy ?? 'Cluster' },
    status: { loadBalancer: { ingress: s.ips.map((ip) => ({ ip })) } },
  };
}

export function rawSlice(s: SvcSpec): RawEndpointSlice {
  const ready = s.ready ?? ['n2'];
  return {
    metadata: { namespace: s.namespace ?? 'default', labels: { 'kubernetes.io/service-name': s.name } },
    endpoints: [
      ...ready.map((n) => ({ nodeName: n, conditions: { ready: true } })),
      ...(s.notReady ?? []).map((n) => ({ nodeName: n, conditions: { ready: false } })),
    ],
  };
}

export function rawNode(name: string, labels: Record<string, string> = {}, extra: Partial<RawNode> = {}): RawNode {
  const index = Number(/\d+$/.exec(name)?.[0] ?? '1');
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${10 + index}` }, { type: 'Hostname', address: name }] },
    ...extra,
  };
}

export function snapshotOf(o: { node?: string; config: Partial<ConfigInput>; services: SvcSpec[]; nodes?: RawNode[] }): SpeakerSnapshot {
  const { model, errors } = build(o.config);
  assert.deepEqual(errors, [], 'test config must be valid and free of conflicts');
  return buildSnapshot({
    nodeName: o.node ?? 'n1',
    config: model,
    services: o.services.map(rawService),
    endpointSlices: o.services.map(rawSlice),
    nodes: o.nodes ?? [rawNode('n1', { zone: 'a' }), rawNode('n2', { zone: 'b' }), rawNode('n3', { zone: 'a' })],
  });
}
