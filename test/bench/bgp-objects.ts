// Services and EndpointSlices as a Kubernetes API server lists them (v1.30 shapes, after
// herald's controller assigned an IP): the fields the API server fills in, a ready
// endpoint with its Pod reference, the controller's annotation. The BGP benchmark's
// sender parses them from JSON in pages of 500, as the speaker's informers do, and keeps
// what the speaker's informer transform keeps.
import { createHash } from 'node:crypto';

const uid = (text: string): string => {
  const h = createHash('sha1').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

export interface ObjectSpec {
  /** Service name. */
  name: string;
  namespace: string;
  /** The IP the controller assigned. */
  ip: string;
  family: 4 | 6;
  /** The node its one Pod runs on, and whether it is ready. */
  node: string;
  ready: boolean;
  /** Distinguishes list generations (the resourceVersion). */
  version: number;
}

export function serviceJSON(s: ObjectSpec, index: number): object {
  const clusterIP = s.family === 4 ? `10.96.${(index >> 8) & 255}.${index & 255}` : `fd00:10:96::${index.toString(16)}`;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: s.name,
      namespace: s.namespace,
      uid: uid(`svc/${s.namespace}/${s.name}`),
      resourceVersion: String(100_000 + index * 3),
      creationTimestamp: '2025-01-01T00:00:00Z',
      labels: { app: s.name, 'app.kubernetes.io/name': s.name, 'app.kubernetes.io/part-of': 'bench' },
      annotations: { 'herald.dev/ip-allocated-from-pool': 'bench' },
    },
    spec: {
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30000 + (index % 2767) }],
      selector: { app: s.name },
      clusterIP,
      clusterIPs: [clusterIP],
      type: 'LoadBalancer',
      sessionAffinity: 'None',
      externalTrafficPolicy: 'Cluster',
      ipFamilies: [s.family === 4 ? 'IPv4' : 'IPv6'],
      ipFamilyPolicy: 'SingleStack',
      allocateLoadBalancerNodePorts: true,
      internalTrafficPolicy: 'Cluster',
    },
    status: { loadBalancer: { ingress: [{ ip: s.ip, ipMode: 'VIP' }] } },
  };
}

export function endpointSliceJSON(s: ObjectSpec, index: number): object {
  const suffix = uid(`eps/${s.name}`).slice(0, 5);
  const pod = `${s.name}-7d9f8b6c4-${suffix}`;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${s.name}-${suffix}`,
      generateName: `${s.name}-`,
      namespace: s.namespace,
      uid: uid(`eps/${s.namespace}/${s.name}`),
      resourceVersion: String(100_001 + index * 3 + s.version * 1_000_000),
      generation: 1 + s.version,
      creationTimestamp: '2025-01-01T00:00:00Z',
      labels: { app: s.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'kubernetes.io/service-name': s.name },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2025-01-01T00:00:01Z' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: s.name, uid: uid(`svc/${s.namespace}/${s.name}`), controller: true, blockOwnerDeletion: true }],
    },
    addressType: s.family === 4 ? 'IPv4' : 'IPv6',
    endpoints: [
      {
        addresses: [s.family === 4 ? `10.244.${(index >> 8) & 255}.${index & 255}` : `fd00:10:244::${index.toString(16)}`],
        conditions: { ready: s.ready, serving: s.ready, terminating: false },
        targetRef: { kind: 'Pod', namespace: s.namespace, name: pod, uid: uid(`pod/${pod}`) },
        nodeName: s.node,
        zone: 'zone-a',
      },
    ],
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  };
}

/** The objects in list pages of `pageSize`, each page parsed from its JSON text as a list response would be. */
export function* listPages<T>(specs: readonly ObjectSpec[], make: (s: ObjectSpec, i: number) => object, pageSize = 500): Generator<T[]> {
  for (let start = 0; start < specs.length; start += pageSize) {
    const items = specs.slice(start, start + pageSize).map((s, j) => make(s, start + j));
    yield (JSON.parse(JSON.stringify({ metadata: { resourceVersion: '1' }, items })) as { items: T[] }).items;
  }
}
