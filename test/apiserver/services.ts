// The Service strategy: what kube-apiserver's Service REST storage does on create and
// update (pkg/registry/core/service/storage, pkg/apis/core/validation): defaults, cluster
// IP allocation per IP family with ipFamilyPolicy, node ports, health check node ports,
// type-dependent fields dropped on type change, and the checks that refuse bad specs.
import { parseIP } from '../../shared/ip/ip.js';
import { IPAllocator, PortAllocator, type AllocateResult } from './allocators.js';
import { fieldError, type FieldError } from './errors.js';
import { isObj, deepEqual, type Obj } from './object.js';
import type { Strategy, WriteContext } from './registry.js';
import { validateConditions } from './validation.js';

type IPFamily = 'IPv4' | 'IPv6';
const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

interface Port {
  name?: unknown;
  protocol?: unknown;
  port?: unknown;
  targetPort?: unknown;
  nodePort?: unknown;
}

interface Spec {
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

function specOf(o: Obj): Spec {
  if (!isObj(o.spec)) o.spec = {};
  return o.spec as Spec;
}

function portsOf(spec: Spec): Port[] {
  return Array.isArray(spec.ports) ? (spec.ports.filter(isObj) as Port[]) : [];
}

function familyOf(ip: string): IPFamily | undefined {
  const p = parseIP(ip);
  return p ? (p.family === 4 ? 'IPv4' : 'IPv6') : undefined;
}

function needsNodePorts(spec: Spec): boolean {
  return spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}

function needsHealthCheckPort(spec: Spec): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

function isHeadless(spec: Spec): boolean {
  return spec.clusterIP === 'None' || (Array.isArray(spec.clusterIPs) && spec.clusterIPs[0] === 'None');
}

function applyDefaults(spec: Spec): void {
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
function validateSpec(spec: Spec): FieldError[] {
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

export interface ServiceNetwork {
  /** Service CIDRs, primary family first (kube-apiserver --service-cluster-ip-range). */
  serviceCIDRs: string[];
  nodePortRange?: [number, number];
}

export class ServiceStrategy implements Strategy {
  private readonly allocators = new Map<IPFamily, IPAllocator>();
  private readonly primary: IPFamily;
  readonly nodePorts: PortAllocator;

  constructor(net: ServiceNetwork) {
    for (const cidr of net.serviceCIDRs) {
      const a = new IPAllocator(cidr);
      const fam: IPFamily = a.family === 4 ? 'IPv4' : 'IPv6';
      if (this.allocators.has(fam)) throw new Error(`two service CIDRs of family ${fam}`);
      this.allocators.set(fam, a);
    }
    const first = this.allocators.values().next().value;
    if (!first) throw new Error('no service CIDR');
    this.primary = first.family === 4 ? 'IPv4' : 'IPv6';
    this.nodePorts = new PortAllocator(...(net.nodePortRange ?? [30000, 32767]));
  }

  private get dualStack(): boolean {
    return this.allocators.size === 2;
  }

  private other(f: IPFamily): IPFamily {
    return f === 'IPv4' ? 'IPv6' : 'IPv4';
  }

  prepareCreate(obj: Obj, ctx: WriteContext): FieldError[] {
    obj.status = { loadBalancer: {} };
    const spec = specOf(obj);
    applyDefaults(spec);
    const errs = validateSpec(spec);
    if (errs.length > 0) return errs;
    if (spec.type !== 'ExternalName') {
      errs.push(...this.families(spec, undefined));
      if (errs.length === 0) errs.push(...this.allocateIPs(spec, undefined, ctx));
    }
    if (errs.length === 0) errs.push(...this.allocatePorts(spec, undefined, ctx));
    return errs;
  }

  prepareUpdate(obj: Obj, old: Obj, ctx: WriteContext): FieldError[] {
    const spec = specOf(obj);
    const was = specOf(old);
    this.dropTypeDependentFields(spec, was);
    this.carryAllocated(spec, was);
    applyDefaults(spec);
    const errs = validateSpec(spec);
    if (was.type === 'LoadBalancer' && spec.type === 'LoadBalancer' && (was.loadBalancerClass ?? null) !== (spec.loadBalancerClass ?? null)) {
      errs.push(fieldError.invalid('spec.loadBalancerClass', spec.loadBalancerClass ?? null, 'may not change once set'));
    }
    if (errs.length > 0) return errs;
    if (spec.type === 'ExternalName') {
      this.releaseIPs(was, spec, ctx);
    } else {
      errs.push(...this.families(spec, was.type === 'ExternalName' ? undefined : was));
      if (errs.length === 0) errs.push(...this.allocateIPs(spec, was.type === 'ExternalName' ? undefined : was, ctx));
    }
    if (errs.length === 0) errs.push(...this.allocatePorts(spec, was, ctx));
    return errs;
  }

  validateStatus(obj: Obj): FieldError[] {
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

  deleted(obj: Obj): void {
    const spec = specOf(obj);
    for (const ip of Array.isArray(spec.clusterIPs) ? spec.clusterIPs : []) this.releaseIP(ip);
    for (const p of portsOf(spec)) if (typeof p.nodePort === 'number') this.nodePorts.release(p.nodePort);
    if (typeof spec.healthCheckNodePort === 'number') this.nodePorts.release(spec.healthCheckNodePort);
  }

  private releaseIP(ip: unknown): void {
    if (typeof ip !== 'string') return;
    const fam = familyOf(ip);
    if (fam) this.allocators.get(fam)?.release(ip);
  }

  // When the type changes, fields the new type cannot have are cleared if the user left
  // them as they were (storage.go dropTypeDependentFields).
  private dropTypeDependentFields(spec: Spec, was: Spec): void {
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
  private carryAllocated(spec: Spec, was: Spec): void {
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

  /** Defaults and checks ipFamilyPolicy, ipFamilies and the shape of clusterIPs. */
  private families(spec: Spec, was: Spec | undefined): FieldError[] {
    const errs: FieldError[] = [];
    if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '' && spec.clusterIPs === undefined) spec.clusterIPs = [spec.clusterIP];
    const ips = (Array.isArray(spec.clusterIPs) ? spec.clusterIPs : []).filter((x) => x !== '') as unknown[];
    if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '' && ips[0] !== spec.clusterIP) {
      errs.push(fieldError.invalid('spec.clusterIPs[0]', ips[0] ?? '', 'must match `clusterIP` when present'));
      return errs;
    }
    const headless = isHeadless(spec);
    ips.forEach((ip, i) => {
      if (headless) {
        if (i > 0) errs.push(fieldError.invalid(`spec.clusterIPs[${i}]`, ip, 'must not be set when `clusterIP` is "None"'));
      } else if (typeof ip !== 'string' || !familyOf(ip)) {
        errs.push(fieldError.invalid(`spec.clusterIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
      }
    });
    if (errs.length > 0) return errs;
    const ipFams = headless ? [] : (ips as string[]).map((ip) => familyOf(ip) as IPFamily);
    if (ipFams.length === 2 && ipFams[0] === ipFams[1]) errs.push(fieldError.invalid('spec.clusterIPs[1]', ips[1], 'must be a different IP family than spec.clusterIPs[0]'));
    let fams = (Array.isArray(spec.ipFamilies) ? spec.ipFamilies : []) as IPFamily[];
    if (spec.ipFamilyPolicy === undefined || spec.ipFamilyPolicy === null) {
      // Two families or two IPs without a policy mean dual-stack (alloc.go initIPFamilyFields);
      // a headless Service without selector serves every family the cluster has.
      if (fams.length === 2 || ipFams.length === 2) spec.ipFamilyPolicy = 'RequireDualStack';
      else if (headless && !isObj(spec.selector) && this.dualStack) spec.ipFamilyPolicy = 'RequireDualStack';
      else spec.ipFamilyPolicy = 'SingleStack';
    }
    const policy = spec.ipFamilyPolicy as string;
    if (was && policy === 'SingleStack' && Array.isArray(was.ipFamilies) && was.ipFamilies.length === 2) {
      // Downgrade to single-stack: the secondary family is dropped (and released on commit).
      if (fams.length === 2 && deepEqual(fams, was.ipFamilies)) fams = fams.slice(0, 1);
      if (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length === 2 && deepEqual(spec.clusterIPs, was.clusterIPs)) spec.clusterIPs = spec.clusterIPs.slice(0, 1);
      ipFams.splice(1);
    }
    if (policy === 'SingleStack' && (fams.length > 1 || ipFams.length > 1)) {
      errs.push(fieldError.invalid('spec.ipFamilyPolicy', policy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
      return errs;
    }
    if (policy === 'RequireDualStack' && !this.dualStack) {
      errs.push(fieldError.invalid('spec.ipFamilyPolicy', policy, 'this cluster is not configured for dual-stack services'));
      return errs;
    }
    ipFams.forEach((f, i) => {
      if (fams[i] !== undefined && fams[i] !== f) errs.push(fieldError.invalid(`spec.ipFamilies[${i}]`, fams[i], `must match the address family of spec.clusterIPs[${i}]`));
    });
    if (errs.length > 0) return errs;
    if (fams.length < ipFams.length) fams = [...fams, ...ipFams.slice(fams.length)];
    if (fams.length === 0) fams = [was && Array.isArray(was.ipFamilies) && was.ipFamilies[0] ? (was.ipFamilies[0] as IPFamily) : this.primary];
    if (policy !== 'SingleStack' && fams.length === 1 && this.dualStack) fams = [fams[0] as IPFamily, this.other(fams[0] as IPFamily)];
    fams.forEach((f, i) => {
      if (!this.allocators.has(f)) errs.push(fieldError.invalid(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster'));
    });
    if (was && Array.isArray(was.ipFamilies) && was.ipFamilies[0] !== undefined && fams[0] !== was.ipFamilies[0]) {
      errs.push(fieldError.invalid('spec.ipFamilies[0]', fams[0], 'may not change once set'));
    }
    spec.ipFamilies = fams;
    return errs;
  }

  private allocateIPs(spec: Spec, was: Spec | undefined, ctx: WriteContext): FieldError[] {
    const fams = spec.ipFamilies as IPFamily[];
    const wasIPs = (was && Array.isArray(was.clusterIPs) ? was.clusterIPs : []) as string[];
    if (isHeadless(spec)) {
      if (was && wasIPs.length > 0 && wasIPs[0] !== 'None') return [fieldError.invalid('spec.clusterIPs[0]', 'None', 'may not change once set')];
      spec.clusterIP = 'None';
      spec.clusterIPs = ['None'];
      return [];
    }
    if (was && wasIPs.length > 0 && wasIPs[0] === 'None') return [fieldError.invalid('spec.clusterIPs[0]', spec.clusterIP ?? '', 'may not change once set')];
    const want = (Array.isArray(spec.clusterIPs) ? spec.clusterIPs : []) as string[];
    if (was && wasIPs[0] !== undefined && want[0] !== undefined && want[0] !== wasIPs[0]) {
      return [fieldError.invalid('spec.clusterIP', want[0], 'field is immutable')];
    }
    const out: string[] = [];
    const errs: FieldError[] = [];
    const reserved: string[] = [];
    fams.forEach((fam, i) => {
      const alloc = this.allocators.get(fam) as IPAllocator;
      const given = want[i];
      if (given !== undefined && wasIPs.includes(given)) {
        out.push(given);
        return;
      }
      if (given !== undefined) {
        const r = alloc.allocate(given);
        if (r !== 'ok') {
          errs.push(fieldError.invalid('spec.clusterIPs', want, `failed to allocate IP ${given}: ${ipFailure(r, given, alloc.cidr)}`));
          return;
        }
        reserved.push(given);
        out.push(given);
        return;
      }
      const ip = alloc.allocateNext();
      if (ip === undefined) {
        errs.push(fieldError.invalid('spec.clusterIPs', want, `failed to allocate a serviceIP: range is full`));
        return;
      }
      reserved.push(ip);
      out.push(ip);
    });
    const undo = (): void => reserved.forEach((ip) => this.releaseIP(ip));
    if (errs.length > 0) {
      undo();
      return errs;
    }
    ctx.onRollback(undo);
    const dropped = wasIPs.filter((ip) => !out.includes(ip));
    ctx.onCommit(() => dropped.forEach((ip) => this.releaseIP(ip)));
    spec.clusterIPs = out;
    spec.clusterIP = out[0];
    return [];
  }

  private releaseIPs(was: Spec, spec: Spec, ctx: WriteContext): void {
    const ips = (Array.isArray(was.clusterIPs) ? was.clusterIPs : []) as string[];
    ctx.onCommit(() => ips.forEach((ip) => this.releaseIP(ip)));
    delete spec.clusterIP;
    delete spec.clusterIPs;
    delete spec.ipFamilies;
    delete spec.ipFamilyPolicy;
  }

  private allocatePorts(spec: Spec, was: Spec | undefined, ctx: WriteContext): FieldError[] {
    const before = new Set<number>();
    if (was) {
      for (const p of portsOf(was)) if (typeof p.nodePort === 'number') before.add(p.nodePort);
      if (typeof was.healthCheckNodePort === 'number') before.add(was.healthCheckNodePort);
    }
    const reserved: number[] = [];
    const kept = new Set<number>();
    const errs: FieldError[] = [];
    const take = (given: unknown, field: string, allocateIfUnset: boolean): number | undefined => {
      if (typeof given === 'number' && given !== 0) {
        if (before.has(given) || reserved.includes(given)) {
          kept.add(given);
          return given;
        }
        const r: AllocateResult = this.nodePorts.allocate(given);
        if (r !== 'ok') {
          errs.push(fieldError.invalid(field, given, r === 'taken' ? 'provided port is already allocated' : `provided port is not in the valid range. The range of valid ports is ${this.nodePorts.range}`));
          return undefined;
        }
        reserved.push(given);
        return given;
      }
      if (!allocateIfUnset) return undefined;
      const p = this.nodePorts.allocateNext();
      if (p === undefined) errs.push(fieldError.invalid(field, given ?? 0, 'failed to allocate a nodePort: range is full'));
      else reserved.push(p);
      return p;
    };
    const allocate = needsNodePorts(spec);
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      portsOf(spec).forEach((p, i) => {
        const n = take(p.nodePort, `spec.ports[${i}].nodePort`, allocate);
        if (n !== undefined) p.nodePort = n;
      });
    }
    if (needsHealthCheckPort(spec)) {
      const n = take(spec.healthCheckNodePort, 'spec.healthCheckNodePort', true);
      if (n !== undefined) spec.healthCheckNodePort = n;
    }
    const undo = (): void => reserved.forEach((p) => this.nodePorts.release(p));
    if (errs.length > 0) {
      undo();
      return errs;
    }
    ctx.onRollback(undo);
    const dropped = [...before].filter((p) => !kept.has(p));
    ctx.onCommit(() => dropped.forEach((p) => this.nodePorts.release(p)));
    return [];
  }
}

function ipFailure(r: AllocateResult, ip: string, cidr: string): string {
  return r === 'taken'
    ? 'provided IP is already allocated'
    : `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${cidr}`;
}

