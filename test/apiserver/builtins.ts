// The built-in kinds the server serves, with the per-kind behaviour of their registry
// strategies in kube-apiserver that herald's components, manifests and kubectl rely on.
import { coreToEventsV1, eventsV1ToCore } from './events.js';
import { fieldError, type FieldError } from './errors.js';
import { deepEqual, isObj, meta, type Obj } from './object.js';
import { ALL_VERBS, type NameRule, type ResourceDef, type Strategy } from './registry.js';
import { builtinSchema } from './strategic-merge.js';

interface DefInput {
  group?: string;
  version: string;
  kind: string;
  plural: string;
  shortNames?: string[];
  categories?: string[];
  namespaced: boolean;
  status?: boolean;
  generation?: boolean;
  resetStatus?: boolean;
  nameRule?: NameRule;
  bucket?: string;
  verbs?: string[];
  strategy?: Strategy;
  toExternal?(o: Obj): Obj;
  toInternal?(o: Obj): Obj;
}

function def(d: DefInput): ResourceDef {
  const group = d.group ?? '';
  const out: ResourceDef = {
    group,
    version: d.version,
    kind: d.kind,
    listKind: `${d.kind}List`,
    plural: d.plural,
    singular: d.kind.toLowerCase(),
    shortNames: d.shortNames ?? [],
    categories: d.categories ?? [],
    namespaced: d.namespaced,
    verbs: d.verbs ?? ALL_VERBS,
    subresources: d.status ? ['status'] : [],
    bucket: d.bucket ?? `${group}/${d.plural}`,
    generation: d.generation ?? false,
    resetStatusOnCreate: d.resetStatus ?? false,
    custom: false,
    nameRule: d.nameRule ?? 'subdomain',
    patchSchema: builtinSchema,
  };
  if (d.strategy) out.strategy = d.strategy;
  if (d.toExternal) out.toExternal = d.toExternal;
  if (d.toInternal) out.toInternal = d.toInternal;
  return out;
}

const NAME_LABEL = 'kubernetes.io/metadata.name';

/** Namespaces are Active on creation and always carry their name as a label (1.21+). */
const namespaceStrategy: Strategy = {
  prepareCreate(obj) {
    const m = meta(obj);
    m.labels = { ...(m.labels ?? {}), [NAME_LABEL]: m.name ?? '' };
    obj.spec = { finalizers: ['kubernetes'], ...(isObj(obj.spec) ? obj.spec : {}) };
    obj.status = { phase: 'Active' };
    return [];
  },
  prepareUpdate(obj, old) {
    const m = meta(obj);
    m.labels = { ...(m.labels ?? {}), [NAME_LABEL]: m.name ?? '' };
    obj.spec = old.spec;
    return [];
  },
};

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

/** Secrets: type defaults to Opaque, stringData is folded into data, data must be base64. */
const secretStrategy: Strategy = {
  prepareCreate: (obj) => normalizeSecret(obj, undefined),
  prepareUpdate: (obj, old) => normalizeSecret(obj, old),
};

function normalizeSecret(obj: Obj, old: Obj | undefined): FieldError[] {
  const errs: FieldError[] = [];
  obj.type ??= 'Opaque';
  if (old && obj.type !== old.type) errs.push(fieldError.invalid('type', obj.type, 'field is immutable'));
  const data: Record<string, unknown> = isObj(obj.data) ? { ...obj.data } : {};
  if (isObj(obj.stringData)) {
    for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    delete obj.stringData;
  }
  for (const [k, v] of Object.entries(data)) {
    if (!CONFIG_KEY.test(k)) errs.push(fieldError.invalid(`data[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
      errs.push(fieldError.invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data at input byte 0'));
    }
  }
  if (Object.keys(data).length > 0 || obj.data !== undefined) obj.data = data;
  return errs;
}

const endpointSliceStrategy: Strategy = {
  prepareCreate: (obj) => validateEndpointSlice(obj, undefined),
  prepareUpdate: (obj, old) => validateEndpointSlice(obj, old),
};

function validateEndpointSlice(obj: Obj, old: Obj | undefined): FieldError[] {
  const types = ['FQDN', 'IPv4', 'IPv6'];
  if (obj.addressType === undefined) return [fieldError.required('addressType')];
  if (!types.includes(obj.addressType as string)) return [fieldError.notSupported('addressType', obj.addressType, types)];
  if (old && old.addressType !== obj.addressType) return [fieldError.invalid('addressType', obj.addressType, 'field is immutable')];
  return [];
}

const roleBindingStrategy: Strategy = {
  prepareCreate: (obj) => (isObj(obj.roleRef) ? [] : [fieldError.required('roleRef')]),
  prepareUpdate: (obj, old) => (deepEqual(obj.roleRef, old.roleRef) ? [] : [fieldError.invalid('roleRef', obj.roleRef, 'cannot change roleRef')]),
};

const workloadStrategy = (defaultReplicas: boolean): Strategy => ({
  prepareCreate(obj) {
    const spec = isObj(obj.spec) ? obj.spec : (obj.spec = {});
    if (defaultReplicas) spec.replicas ??= 1;
    return isObj(spec.selector) ? [] : [fieldError.required('spec.selector')];
  },
  prepareUpdate(obj, old) {
    const spec = isObj(obj.spec) ? obj.spec : (obj.spec = {});
    if (defaultReplicas) spec.replicas ??= 1;
    const was = isObj(old.spec) ? old.spec : {};
    return deepEqual(spec.selector, was.selector) ? [] : [fieldError.invalid('spec.selector', spec.selector, 'field is immutable')];
  },
});

// Event validation (pkg/apis/core/validation/events.go): the involved object's namespace
// must be the event's; events.k8s.io/v1 also wants the fields of the new API set and the
// deprecated ones unset.
function eventNamespace(obj: Obj): FieldError[] {
  const ns = meta(obj).namespace ?? '';
  const inv = isObj(obj.involvedObject) ? obj.involvedObject : {};
  const invNs = typeof inv.namespace === 'string' ? inv.namespace : '';
  if (invNs === '') {
    if (ns !== '' && ns !== 'default') return [fieldError.invalid('involvedObject.namespace', invNs, 'does not match event.namespace')];
  } else if (invNs !== ns) return [fieldError.invalid('involvedObject.namespace', invNs, 'does not match event.namespace')];
  return [];
}

const coreEventStrategy: Strategy = {
  prepareCreate: eventNamespace,
  prepareUpdate: eventNamespace,
};

function validateEventsV1(obj: Obj): FieldError[] {
  const errs = eventNamespace(obj);
  if (!obj.eventTime) errs.push(fieldError.required('eventTime'));
  if (obj.type !== 'Normal' && obj.type !== 'Warning') errs.push(fieldError.invalid('type', '', `has invalid value: ${String(obj.type ?? '')}`));
  for (const f of ['firstTimestamp', 'lastTimestamp', 'count', 'source']) {
    if (obj[f] !== undefined && obj[f] !== 0 && !(isObj(obj[f]) && Object.keys(obj[f] as Obj).length === 0)) errs.push(fieldError.invalid(f, '', 'needs to be unset'));
  }
  for (const f of ['reportingComponent', 'reportingInstance', 'action', 'reason']) {
    if (typeof obj[f] !== 'string' || obj[f] === '') errs.push(fieldError.required(f === 'reportingComponent' ? 'reportingController' : f));
  }
  return errs;
}

const eventsV1Strategy: Strategy = {
  prepareCreate: validateEventsV1,
  prepareUpdate: eventNamespace,
};

const podStrategy: Strategy = {
  prepareCreate(obj) {
    obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
    const spec = isObj(obj.spec) ? obj.spec : {};
    return Array.isArray(spec.containers) && spec.containers.length > 0 ? [] : [fieldError.required('spec.containers')];
  },
};

/** Every built-in kind; `services` gets its strategy from services.ts. */
export function builtinDefs(serviceStrategy: Strategy): ResourceDef[] {
  return [
    def({ version: 'v1', kind: 'Namespace', plural: 'namespaces', shortNames: ['ns'], namespaced: false, status: true, nameRule: 'dns1123', strategy: namespaceStrategy }),
    def({ version: 'v1', kind: 'Node', plural: 'nodes', shortNames: ['no'], namespaced: false, status: true }),
    def({ version: 'v1', kind: 'Pod', plural: 'pods', shortNames: ['po'], categories: ['all'], namespaced: true, status: true, strategy: podStrategy }),
    def({ version: 'v1', kind: 'Service', plural: 'services', shortNames: ['svc'], categories: ['all'], namespaced: true, status: true, nameRule: 'dns1035', strategy: serviceStrategy }),
    def({ version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, strategy: secretStrategy }),
    def({ version: 'v1', kind: 'ConfigMap', plural: 'configmaps', shortNames: ['cm'], namespaced: true }),
    def({ version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', shortNames: ['sa'], namespaced: true }),
    def({ version: 'v1', kind: 'Event', plural: 'events', shortNames: ['ev'], namespaced: true, bucket: 'events', strategy: coreEventStrategy }),
    def({
      group: 'events.k8s.io',
      version: 'v1',
      kind: 'Event',
      plural: 'events',
      shortNames: ['ev'],
      namespaced: true,
      bucket: 'events',
      strategy: eventsV1Strategy,
      toExternal: coreToEventsV1,
      toInternal: eventsV1ToCore,
    }),
    def({ group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true, strategy: endpointSliceStrategy }),
    def({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true }),
    def({ group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', shortNames: ['deploy'], categories: ['all'], namespaced: true, status: true, generation: true, resetStatus: true, strategy: workloadStrategy(true) }),
    def({ group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', shortNames: ['ds'], categories: ['all'], namespaced: true, status: true, generation: true, resetStatus: true, strategy: workloadStrategy(false) }),
    def({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', namespaced: true, nameRule: 'path' }),
    def({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false, nameRule: 'path' }),
    def({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true, nameRule: 'path', strategy: roleBindingStrategy }),
    def({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false, nameRule: 'path', strategy: roleBindingStrategy }),
  ];
}

/** Access reviews: answered at once from RBAC, never stored (http.ts answers them). */
export function accessReviewDefs(): ResourceDef[] {
  return [
    def({ group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', namespaced: false, verbs: ['create'] }),
    def({ group: 'authorization.k8s.io', version: 'v1', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', namespaced: false, verbs: ['create'] }),
  ];
}

export function crdDefinitionDef(strategy: Strategy): ResourceDef {
  return def({
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    namespaced: false,
    status: true,
    generation: true,
    strategy,
  });
}
