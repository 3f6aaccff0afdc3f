// Services and EndpointSlices as a Kubernetes API server lists them (v1.30 shapes, after
// herald's controller assigned an IP): the fields the API server fills in, a ready
// endpoint with its Pod reference, the controller's annotation. The BGP benchmark writes
// them as list pages of 500 to files before herald's side starts; the sender reads and
// parses one page at a time, as the speaker's informers receive and parse responses, and
// keeps what the speaker's informer transform keeps. Nothing of the API server's side
// (building the objects, serializing them) happens in the process whose memory is measured.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIP, parseCIDR } from '../../shared/ip/ip.js';

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

/** The JSON text of list pages of `pageSize` objects, as an API server sends them. */
export function listTexts(specs: readonly ObjectSpec[], make: (s: ObjectSpec, i: number) => object, pageSize = 500): string[] {
  const out: string[] = [];
  for (let start = 0; start < specs.length; start += pageSize) {
    const items = specs.slice(start, start + pageSize).map((s, j) => make(s, start + j));
    out.push(JSON.stringify({ metadata: { resourceVersion: '1' }, items }));
  }
  return out;
}

/** `count` Services with one IP each from `pool` (the first addresses after its network), one Pod each on `node`. */
export function benchSpecs(family: 4 | 6, pool: string, count: number, node: string, ready: boolean): ObjectSpec[] {
  const base = parseCIDR(pool);
  if (!base.ok) throw new Error(base.error);
  const out: ObjectSpec[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ name: `svc-${i}`, namespace: 'bench', ip: formatIP({ family, value: base.value.first + BigInt(i + 1) }), family, node, ready, version: ready ? 0 : 1 });
  }
  return out;
}

/** The list pages a benchmark run reads, by name. */
export type ListName = 'services' | 'slices' | 'slices-withdrawn';

/** Writes the Services, their ready EndpointSlices, and the same slices not ready (the withdrawal), as page files under `dir`. */
export function writeLists(dir: string, family: 4 | 6, pool: string, count: number, node: string): void {
  mkdirSync(dir, { recursive: true });
  const ready = benchSpecs(family, pool, count, node, true);
  const pages: [ListName, string[]][] = [
    ['services', listTexts(ready, serviceJSON)],
    ['slices', listTexts(ready, endpointSliceJSON)],
    ['slices-withdrawn', listTexts(benchSpecs(family, pool, count, node, false), endpointSliceJSON)],
  ];
  for (const [name, texts] of pages) texts.forEach((t, i) => writeFileSync(join(dir, `${family}-${name}.${String(i).padStart(4, '0')}.json`), t));
}

/** The objects of the pages written by writeLists, read and parsed one page at a time. */
export function* readLists<T>(dir: string, family: 4 | 6, name: ListName): Generator<T> {
  const prefix = `${family}-${name}.`;
  for (const f of readdirSync(dir).filter((x) => x.startsWith(prefix)).sort()) yield* (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { items: T[] }).items;
}
