// MetalLB → herald migration: turns MetalLB's configuration objects (metallb.io v1beta1 /
// v1beta2 CRDs, the legacy v1beta1 AddressPool, and the pre-0.13 `config` ConfigMap)
// into herald.dev/v1beta1 objects. Pure: objects in, objects and a report out.
// Services need no change: herald honours the metallb.io/ annotations.
import yaml from 'js-yaml';
import { API_VERSION, DEFAULT_NAMESPACE, type HeraldObject, type LabelSelector, type ObjectMeta } from '../api/types.js';

export interface ImportNote {
  severity: 'warning' | 'error';
  /** `Kind/name` of the MetalLB object the note is about. */
  source: string;
  field?: string;
  message: string;
}

export interface SecretOut {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: ObjectMeta;
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface ImportResult {
  objects: (HeraldObject | SecretOut)[];
  notes: ImportNote[];
}

type Obj = Record<string, unknown>;

const METALLB_KINDS = new Set([
  'IPAddressPool',
  'L2Advertisement',
  'BGPAdvertisement',
  'BGPPeer',
  'Community',
  'BFDProfile',
  'AddressPool',
]);

/** Metadata a migrated object keeps: name, labels and the user's own annotations. */
const DROPPED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function meta(src: Obj, namespace: string, nameOverride?: string): ObjectMeta {
  const m = isObj(src.metadata) ? src.metadata : {};
  const out: ObjectMeta = { name: nameOverride ?? str(m.name) ?? '', namespace };
  if (isObj(m.labels) && Object.keys(m.labels).length > 0) out.labels = { ...(m.labels as Record<string, string>) };
  if (isObj(m.annotations)) {
    const ann = Object.fromEntries(
      Object.entries(m.annotations as Record<string, string>).filter(([k]) => !DROPPED_ANNOTATIONS.includes(k)),
    );
    if (Object.keys(ann).length > 0) out.annotations = ann;
  }
  return out;
}

/** Copies the listed fields that are set, unchanged. */
function pick(spec: Obj, fields: readonly string[]): Obj {
  const out: Obj = {};
  for (const f of fields) if (spec[f] !== undefined && spec[f] !== null) out[f] = spec[f];
  return out;
}

function warnUnknown(spec: Obj, known: readonly string[], source: string, notes: ImportNote[]): void {
  for (const k of Object.keys(spec)) {
    if (!known.includes(k)) notes.push({ severity: 'warning', source, field: `spec.${k}`, message: `unknown field "${k}" dropped` });
  }
}

const POOL_FIELDS = ['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation'] as const;
const L2_FIELDS = ['ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'interfaces'] as const;
const BGPADV_FIELDS = [
  'aggregationLength',
  'aggregationLengthV6',
  'localPref',
  'communities',
  'ipAddressPools',
  'ipAddressPoolSelectors',
  'nodeSelectors',
  'peers',
] as const;
const PEER_FIELDS = [
  'myASN',
  'peerASN',
  'dynamicASN',
  'peerAddress',
  'sourceAddress',
  'peerPort',
  'holdTime',
  'keepaliveTime',
  'connectTime',
  'routerID',
  'nodeSelectors',
  'password',
  'passwordSecret',
  'bfdProfile',
  'enableGracefulRestart',
  'ebgpMultiHop',
  'disableMP',
] as const;
/** BGPPeer fields herald cannot carry over, and why. */
const PEER_UNSUPPORTED: Record<string, string> = {
  interface: 'BGP unnumbered (peering over an interface) is not supported by herald; set peerAddress instead',
  vrf: 'VRFs are not supported by herald\'s native speaker; the session would run in the default VRF',
  dualStackAddressFamily:
    'not needed: herald negotiates IPv4 and IPv6 unicast on every session unless disableMP is set',
};
const BFD_FIELDS = [
  'receiveInterval',
  'transmitInterval',
  'detectMultiplier',
  'echoInterval',
  'echoMode',
  'passiveMode',
  'minimumTtl',
] as const;

/**
 * MetalLB v1beta1 BGPPeer nodeSelectors used its own `{matchLabels, matchExpressions}`
 * type whose expressions are shaped like metav1's; they convert as they are.
 */
function nodeSelectors(v: unknown): LabelSelector[] | undefined {
  return Array.isArray(v) ? (v as LabelSelector[]) : undefined;
}

function convertCRD(doc: Obj, namespace: string, notes: ImportNote[], secrets: Map<string, SecretOut>): HeraldObject[] {
  const kind = str(doc.kind) ?? '';
  const name = isObj(doc.metadata) ? (str(doc.metadata.name) ?? '') : '';
  const source = `${kind}/${name}`;
  const spec = isObj(doc.spec) ? doc.spec : {};
  const m = meta(doc, namespace);
  switch (kind) {
    case 'IPAddressPool':
      warnUnknown(spec, POOL_FIELDS, source, notes);
      return [{ apiVersion: API_VERSION, kind, metadata: m, spec: pick(spec, POOL_FIELDS) as never }];
    case 'L2Advertisement':
      warnUnknown(spec, L2_FIELDS, source, notes);
      return [{ apiVersion: API_VERSION, kind, metadata: m, spec: pick(spec, L2_FIELDS) }];
    case 'BGPAdvertisement':
      warnUnknown(spec, BGPADV_FIELDS, source, notes);
      return [{ apiVersion: API_VERSION, kind, metadata: m, spec: pick(spec, BGPADV_FIELDS) }];
    case 'Community':
      warnUnknown(spec, ['communities'], source, notes);
      return [{ apiVersion: API_VERSION, kind, metadata: m, spec: pick(spec, ['communities']) }];
    case 'BFDProfile':
      warnUnknown(spec, BFD_FIELDS, source, notes);
      return [{ apiVersion: API_VERSION, kind, metadata: m, spec: pick(spec, BFD_FIELDS) }];
    case 'BGPPeer':
      return convertPeer(spec, m, source, namespace, notes, secrets);
    case 'AddressPool':
      return convertLegacyPool(spec, m, source, notes);
    default:
      return [];
  }
}

function convertPeer(
  spec: Obj,
  m: ObjectMeta,
  source: string,
  namespace: string,
  notes: ImportNote[],
  secrets: Map<string, SecretOut>,
): HeraldObject[] {
  const out = pick(spec, PEER_FIELDS);
  for (const k of Object.keys(spec)) {
    const why = PEER_UNSUPPORTED[k];
    if (why !== undefined) {
      const v = spec[k];
      if (v === '' || v === undefined || v === null) continue;
      const severity = k === 'interface' ? 'error' : 'warning';
      notes.push({ severity, source, field: `spec.${k}`, message: why });
    } else if (!(PEER_FIELDS as readonly string[]).includes(k)) {
      notes.push({ severity: 'warning', source, field: `spec.${k}`, message: `unknown field "${k}" dropped` });
    }
  }
  if (spec.interface && !spec.peerAddress) return [];
  const sel = nodeSelectors(spec.nodeSelectors);
  if (sel) out.nodeSelectors = sel;
  if (isObj(spec.passwordSecret)) {
    const ref = spec.passwordSecret;
    const secretName = str(ref.name) ?? '';
    out.passwordSecret = { name: secretName };
    if (!secrets.has(secretName)) {
      notes.push({
        severity: 'warning',
        source,
        field: 'spec.passwordSecret',
        message: `copy Secret "${secretName}" (type kubernetes.io/basic-auth, key "password") into namespace "${namespace}"; herald reads it there`,
      });
    }
  }
  return [{ apiVersion: API_VERSION, kind: 'BGPPeer', metadata: m, spec: out as never }];
}

/** metallb.io/v1beta1 AddressPool (removed in 0.14): a pool plus its advertisement. */
function convertLegacyPool(spec: Obj, m: ObjectMeta, source: string, notes: ImportNote[]): HeraldObject[] {
  const name = m.name ?? '';
  const pool: HeraldObject = {
    apiVersion: API_VERSION,
    kind: 'IPAddressPool',
    metadata: m,
    spec: pick(spec, POOL_FIELDS) as never,
  };
  const protocol = str(spec.protocol);
  if (protocol === 'layer2') {
    return [pool, { apiVersion: API_VERSION, kind: 'L2Advertisement', metadata: { ...m, name }, spec: { ipAddressPools: [name] } }];
  }
  if (protocol === 'bgp') {
    const advs = Array.isArray(spec.bgpAdvertisements) ? spec.bgpAdvertisements.filter(isObj) : [{}];
    const list = advs.length > 0 ? advs : [{}];
    return [
      pool,
      ...list.map((a, i): HeraldObject => ({
        apiVersion: API_VERSION,
        kind: 'BGPAdvertisement',
        metadata: { ...m, name: list.length === 1 ? name : `${name}-${i}` },
        spec: { ...pick(a, ['aggregationLength', 'aggregationLengthV6', 'localPref', 'communities']), ipAddressPools: [name] },
      })),
    ];
  }
  notes.push({ severity: 'error', source, field: 'spec.protocol', message: `unknown protocol "${protocol ?? ''}"; expected layer2 or bgp` });
  return [pool];
}

/** The pre-0.13 ConfigMap (`config` key, YAML): peers, address-pools, bgp-communities. */
function convertConfigMap(cfg: Obj, namespace: string, notes: ImportNote[]): HeraldObject[] {
  const out: HeraldObject[] = [];
  const source = 'ConfigMap/config';
  const communities = isObj(cfg['bgp-communities']) ? (cfg['bgp-communities'] as Record<string, string>) : {};
  if (Object.keys(communities).length > 0) {
    out.push({
      apiVersion: API_VERSION,
      kind: 'Community',
      metadata: { name: 'communities', namespace },
      spec: { communities: Object.entries(communities).map(([name, value]) => ({ name, value })) },
    });
  }
  const peers = Array.isArray(cfg.peers) ? cfg.peers.filter(isObj) : [];
  peers.forEach((p, i) => {
    const spec: Obj = {
      myASN: p['my-asn'],
      peerASN: p['peer-asn'],
      peerAddress: p['peer-address'],
      ...(p['peer-port'] !== undefined ? { peerPort: p['peer-port'] } : {}),
      ...(p['source-address'] !== undefined ? { sourceAddress: p['source-address'] } : {}),
      ...(p['hold-time'] !== undefined ? { holdTime: p['hold-time'] } : {}),
      ...(p['router-id'] !== undefined ? { routerID: p['router-id'] } : {}),
      ...(p.password !== undefined ? { password: p.password } : {}),
    };
    if (Array.isArray(p['node-selectors'])) {
      spec.nodeSelectors = p['node-selectors'].filter(isObj).map((s) => ({
        ...(isObj(s['match-labels']) ? { matchLabels: s['match-labels'] } : {}),
        ...(Array.isArray(s['match-expressions']) ? { matchExpressions: s['match-expressions'] } : {}),
      }));
    }
    out.push({ apiVersion: API_VERSION, kind: 'BGPPeer', metadata: { name: `peer-${i + 1}`, namespace }, spec: spec as never });
  });
  const pools = Array.isArray(cfg['address-pools']) ? cfg['address-pools'].filter(isObj) : [];
  for (const p of pools) {
    const name = str(p.name) ?? '';
    const spec: Obj = {
      addresses: p.addresses,
      ...(p['auto-assign'] !== undefined ? { autoAssign: p['auto-assign'] } : {}),
      ...(p['avoid-buggy-ips'] !== undefined ? { avoidBuggyIPs: p['avoid-buggy-ips'] } : {}),
      protocol: p.protocol,
      ...(Array.isArray(p['bgp-advertisements'])
        ? {
            bgpAdvertisements: p['bgp-advertisements'].filter(isObj).map((a) => ({
              ...(a['aggregation-length'] !== undefined ? { aggregationLength: a['aggregation-length'] } : {}),
              ...(a['localpref'] !== undefined ? { localPref: a['localpref'] } : {}),
              ...(Array.isArray(a.communities) ? { communities: a.communities } : {}),
            })),
          }
        : {}),
    };
    out.push(...convertLegacyPool(spec, { name, namespace }, `${source}:address-pools/${name}`, notes));
  }
  return out;
}

/**
 * Converts MetalLB objects. `docs` are parsed YAML documents (Lists are flattened);
 * non-MetalLB objects are skipped with a warning, except basic-auth Secrets referenced by
 * a BGPPeer, which are moved to the target namespace.
 */
export function importMetalLB(docs: readonly unknown[], opts: { namespace?: string } = {}): ImportResult {
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  const notes: ImportNote[] = [];
  const flat: Obj[] = [];
  for (const d of docs) {
    if (!isObj(d)) continue;
    if (d.kind === 'List' && Array.isArray(d.items)) flat.push(...d.items.filter(isObj));
    else flat.push(d);
  }
  const secrets = new Map<string, SecretOut>();
  for (const d of flat) {
    if (d.kind === 'Secret' && d.apiVersion === 'v1') {
      const name = isObj(d.metadata) ? (str(d.metadata.name) ?? '') : '';
      secrets.set(name, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: meta(d, namespace),
        ...(str(d.type) ? { type: str(d.type) } : {}),
        ...(isObj(d.data) ? { data: d.data as Record<string, string> } : {}),
        ...(isObj(d.stringData) ? { stringData: d.stringData as Record<string, string> } : {}),
      });
    }
  }
  const objects: (HeraldObject | SecretOut)[] = [];
  const usedSecrets = new Set<string>();
  for (const d of flat) {
    const apiVersion = str(d.apiVersion) ?? '';
    const kind = str(d.kind) ?? '';
    const name = isObj(d.metadata) ? (str(d.metadata.name) ?? '') : '';
    if (apiVersion.startsWith('metallb.io/') && METALLB_KINDS.has(kind)) {
      const converted = convertCRD(d, namespace, notes, secrets);
      for (const o of converted) {
        objects.push(o);
        if (o.kind === 'BGPPeer' && o.spec.passwordSecret) usedSecrets.add(o.spec.passwordSecret.name);
      }
    } else if (apiVersion === 'v1' && kind === 'ConfigMap' && isObj(d.data) && typeof d.data.config === 'string') {
      notes.push({ severity: 'warning', source: `ConfigMap/${name}`, message: 'legacy MetalLB ConfigMap converted; delete it after migrating' });
      objects.push(...convertConfigMap(parseLegacyConfig(d.data.config, notes), namespace, notes));
    } else if (apiVersion === 'v1' && kind === 'Secret') {
      // Handled below once we know which are referenced.
    } else if (apiVersion.startsWith('metallb.io/')) {
      notes.push({ severity: 'warning', source: `${kind}/${name}`, message: `${kind} is written by MetalLB itself and is not migrated` });
    } else {
      notes.push({ severity: 'warning', source: `${kind}/${name}`, message: 'not a MetalLB object; skipped' });
    }
  }
  for (const name of [...secrets.keys()].sort()) {
    const s = secrets.get(name);
    if (s && usedSecrets.has(name)) objects.push(s);
    else notes.push({ severity: 'warning', source: `Secret/${name}`, message: 'not referenced by any BGPPeer; skipped' });
  }
  return { objects, notes };
}

function parseLegacyConfig(text: string, notes: ImportNote[]): Obj {
  try {
    const v = yaml.load(text);
    return isObj(v) ? v : {};
  } catch (err) {
    notes.push({ severity: 'error', source: 'ConfigMap/config', message: `cannot parse data.config: ${(err as Error).message}` });
    return {};
  }
}
