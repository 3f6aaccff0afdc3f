// The Service spec as kube-apiserver defaults and checks it (pkg/apis/core/v1/defaults.go,
// pkg/apis/core/validation ValidateService, pkg/registry/core/service/storage): defaults,
// the checks that need no allocator, and the spec changes an update brings with it.
import { parseIP } from '../../shared/ip/ip.js';
import { fieldError, type FieldError } from './errors.js';
import { deepEqual, isObj, type Obj } from './object.js';
import { validateConditions } from './validation.js';

export type IPFamily = 'IPv4' | 'IPv6';
const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

export interface Port {
  name?: unknown;
  protocol?: unknown;
  port?: unknown;
  targetPort?: unknown;
  nodePort?: unknown;
}

export interface Spec {
  type?: unknown;
  clusterIP?: unknown;
  clusterIPs?: unknown;
  ipFamilies?: unknown;
  ipFamilyPolicy?: unknown;
  ports?: unknown;
  selector?: unknown;
  sessionAffinity?: unknown;
  sessionAffinityConfig?: unknown;
  externalTrafficPolicy?: unknown;
  internalTrafficPolicy?: unknown;
  healthCheckNodePort?: unknown;
  loadBalancerClass?: unknown;
  allocateLoadBalancerNodePorts?: unknown;
  externalName?: unknown;
}

export function specOf(o: Obj): Spec {
  if (!isObj(o.spec)) o.spec = {};
  return o.spec as Spec;
}

export function portsOf(spec: Spec): Port[] {
  return Array.isArray(spec.ports) ? (spec.ports.filter(isObj) as Port[]) : [];
}

export function familyOf(ip: string): IPFamily | undefined {
  const p = parseIP(ip);
  return p ? (p.family === 4 ? 'IPv4' : 'IPv6') : undefined;
}

export function needsNodePorts(spec: Spec): boolean {
  return spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}

export function needsHealthCheckPort(spec: Spec): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

export function isHeadless(spec: Spec): boolean {
  return spec.clusterIP === 'None' || (Array.isArray(spec.clusterIPs) && spec.clusterIPs[0] === 'None');
}

export function applyDefaults(spec: Spec): void {
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig === undefined) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  for (const p of portsOf(spec)) {
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined && typeof p.port === 'number') p.targetPort = p.port;
  }
}

function validPort(n: unknown): boolean {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** Checks that need no allocator (ValidateService). */
export function validateSpec(spec: Spec): FieldError[] {
  const errs: FieldError[] = [];
  if (!TYPES.includes(spec.type as string)) errs.push(fieldError.notSupported('spec.type', spec.type, TYPES));
  if (spec.type === 'ExternalName') {
    if (typeof spec.externalName !== 'string' || spec.externalName === '') errs.push(fieldError.required('spec.externalName'));
    if (spec.clusterIP !== undefined && spec.clusterIP !== '') {
      errs.push(fieldError.forbidden('spec.clusterIP', 'may not be set for ExternalName services'));
    }
  } else {
    const ports = Array.isArray(spec.ports) ? spec.ports : [];
    if (ports.length === 0 && !isHeadless(spec)) errs.push(fieldError.required('spec.ports'));
  }
  const names = new Set<string>();
  const keys = new Set<string>();
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  ports.forEach((raw, i) => {
    const f = `spec.ports[${i}]`;
    if (!isObj(raw)) {
      errs.push(fieldError.invalid(f, raw, 'must be an object'));
      return;
    }
    const p = raw as Port;
    if (ports.length > 1 && (typeof p.name !== 'string' || p.name === '')) errs.push(fieldError.required(`${f}.name`));
    if (typeof p.name === 'string' && p.name !== '') {
      if (names.has(p.name)) errs.push(fieldError.duplicate(`${f}.name`, p.name));
      names.add(p.name);
    }
    if (!validPort(p.port)) errs.push(fieldError.invalid(`${f}.port`, p.port, 'must be between 1 and 65535, inclusive'));
    if (!PROTOCOLS.includes(p.protocol as string)) errs.push(fieldError.notSupported(`${f}.protocol`, p.protocol, PROTOCOLS));
    const key = `${String(p.port)}/${String(p.protocol)}`;
    if (keys.has(key)) errs.push(fieldError.duplicate(f, { port: p.port, protocol: p.protocol }));
    keys.add(key);
    if (p.targetPort !== undefined && typeof p.targetPort !== 'string' && !validPort(p.targetPort)) {
      errs.push(fieldError.invalid(`${f}.targetPort`, p.targetPort, 'must be between 1 and 65535, inclusive'));
    }
    if (p.nodePort !== undefined && p.nodePort !== 0) {
      if (spec.type === 'ClusterIP' || spec.type === 'ExternalName') {
        errs.push(fieldError.forbidden(`${f}.nodePort`, `may not be used when \`type\` is '${String(spec.type)}'`));
      } else if (!validPort(p.nodePort)) {
        errs.push(fieldError.invalid(`${f}.nodePort`, p.nodePort, 'must be between 1 and 65535, inclusive'));
      }
    }
  });
  if (!['None', 'ClientIP'].includes(spec.sessionAffinity as string)) {
    errs.push(fieldError.notSupported('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']));
  }
  if (spec.externalTrafficPolicy !== undefined) {
    if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') {
      errs.push(fieldError.invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
    } else if (!['Cluster', 'Local'].includes(spec.externalTrafficPolicy as string)) {
      errs.push(fieldError.notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, ['Cluster', 'Local']));
    }
  }
  if (spec.internalTrafficPolicy !== undefined && !['Cluster', 'Local'].includes(spec.internalTrafficPolicy as string)) {
    errs.push(fieldError.notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, ['Cluster', 'Local']));
  }
  if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== null) {
    if (spec.type !== 'LoadBalancer') errs.push(fieldError.forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
    else if (typeof spec.loadBalancerClass !== 'string' || !/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(spec.loadBalancerClass)) {
      errs.push(fieldError.invalid('spec.loadBalancerClass', spec.loadBalancerClass, 'must be a qualified name (e.g. example.com/class)'));
    }
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.type !== 'LoadBalancer') {
    errs.push(fieldError.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  if (spec.healthCheckNodePort !== undefined && spec.healthCheckNodePort !== 0 && !needsHealthCheckPort(spec)) {
    errs.push(fieldError.invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, 'may only be set when `type` is \'LoadBalancer\' and `externalTrafficPolicy` is \'Local\''));
  }
  if (spec.ipFamilyPolicy !== undefined && !POLICIES.includes(spec.ipFamilyPolicy as string)) {
    errs.push(fieldError.notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, POLICIES));
  }
  if (spec.ipFamilies !== undefined) {
    if (!Array.isArray(spec.ipFamilies)) errs.push(fieldError.invalid('spec.ipFamilies', spec.ipFamilies, 'must be a list'));
    else {
      if (spec.ipFamilies.length > 2) errs.push({ type: 'FieldValueTooMany', field: 'spec.ipFamilies', message: `Too many: ${spec.ipFamilies.length}: must have at most 2 items` });
      spec.ipFamilies.forEach((f, i) => {
        if (f !== 'IPv4' && f !== 'IPv6') errs.push(fieldError.notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
        else if (spec.ipFamilies instanceof Array && spec.ipFamilies.indexOf(f) !== i) errs.push(fieldError.duplicate(`spec.ipFamilies[${i}]`, f));
      });
    }
  }
  if (spec.clusterIPs !== undefined && !Array.isArray(spec.clusterIPs)) errs.push(fieldError.invalid('spec.clusterIPs', spec.clusterIPs, 'must be a list'));
  if (spec.clusterIP !== undefined && typeof spec.clusterIP !== 'string') errs.push(fieldError.invalid('spec.clusterIP', spec.clusterIP, 'must be a string'));
  return errs;
}

export function validateServiceStatus(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const status = isObj(obj.status) ? obj.status : {};
  const lb = isObj(status.loadBalancer) ? status.loadBalancer : {};
  const ingress = Array.isArray(lb.ingress) ? lb.ingress : [];
  ingress.forEach((raw, i) => {
    const f = `status.loadBalancer.ingress[${i}]`;
    if (!isObj(raw)) return;
    if (raw.ip !== undefined && (typeof raw.ip !== 'string' || !parseIP(raw.ip))) {
      errs.push(fieldError.invalid(`${f}.ip`, raw.ip, 'must be a valid IP address'));
    }
    if (raw.ipMode !== undefined) {
      if (raw.ip === undefined) errs.push(fieldError.required(`${f}.ipMode`, 'must be specified when `ip` is set'));
      else if (raw.ipMode !== 'VIP' && raw.ipMode !== 'Proxy') errs.push(fieldError.notSupported(`${f}.ipMode`, raw.ipMode, ['Proxy', 'VIP']));
    }
  });
  errs.push(...validateConditions(status.conditions, 'status.conditions'));
  return errs;
}

// When the type changes, fields the new type cannot have are cleared if the user left
// them as they were (storage.go dropTypeDependentFields).
export function dropTypeDependentFields(spec: Spec, was: Spec): void {
  if (spec.type === was.type) return;
  if (needsNodePorts(was) && !needsNodePorts(spec)) {
    const oldPorts = portsOf(was);
    for (const p of portsOf(spec)) if (p.nodePort !== undefined && oldPorts.some((o) => o.nodePort === p.nodePort)) delete p.nodePort;
  }
  if (spec.type !== 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts === was.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass === was.loadBalancerClass) delete spec.loadBalancerClass;
  }
  if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer' && spec.externalTrafficPolicy === was.externalTrafficPolicy) {
    delete spec.externalTrafficPolicy;
  }
  if (!needsHealthCheckPort(spec) && spec.healthCheckNodePort === was.healthCheckNodePort) delete spec.healthCheckNodePort;
  if (spec.type === 'ExternalName') {
    if (spec.clusterIP === was.clusterIP) delete spec.clusterIP;
    if (deepEqual(spec.clusterIPs, was.clusterIPs)) delete spec.clusterIPs;
    if (deepEqual(spec.ipFamilies, was.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === was.ipFamilyPolicy) delete spec.ipFamilyPolicy;
    if (spec.internalTrafficPolicy === was.internalTrafficPolicy) delete spec.internalTrafficPolicy;
  }
}

// An update that leaves allocated values empty keeps them (storage.go patchAllocatedValues).
export function carryAllocated(spec: Spec, was: Spec): void {
  const keepsIPs = spec.type !== 'ExternalName' && was.type !== 'ExternalName';
  if (keepsIPs && (spec.clusterIP === undefined || spec.clusterIP === '')) {
    if (was.clusterIP !== undefined) spec.clusterIP = was.clusterIP;
    if ((spec.clusterIPs === undefined || (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length === 0)) && was.clusterIPs !== undefined) {
      spec.clusterIPs = was.clusterIPs;
    }
  }
  if (keepsIPs && spec.ipFamilies === undefined && was.ipFamilies !== undefined) spec.ipFamilies = was.ipFamilies;
  if (keepsIPs && spec.ipFamilyPolicy === undefined && was.ipFamilyPolicy !== undefined) spec.ipFamilyPolicy = was.ipFamilyPolicy;
  if (needsNodePorts(spec) && needsNodePorts(was)) {
    // Matched by port name, skipping node ports another port of the update still uses.
    const newPorts = portsOf(spec);
    const used = new Set(newPorts.map((p) => p.nodePort).filter((n) => typeof n === 'number' && n !== 0));
    const byName = new Map(portsOf(was).map((o) => [String(o.name ?? ''), o.nodePort]));
    for (const p of newPorts) {
      if (p.nodePort !== undefined && p.nodePort !== 0) continue;
      const old = byName.get(String(p.name ?? ''));
      if (typeof old === 'number' && !used.has(old)) {
        p.nodePort = old;
        used.add(old);
      }
    }
  }
  if (needsHealthCheckPort(spec) && needsHealthCheckPort(was) && (spec.healthCheckNodePort === undefined || spec.healthCheckNodePort === 0)) {
    if (was.healthCheckNodePort !== undefined) spec.healthCheckNodePort = was.healthCheckNodePort;
  }
}
