// The Service strategy: what kube-apiserver's Service REST storage does on create and
// update (pkg/registry/core/service/storage): cluster IP allocation per IP family with
// ipFamilyPolicy, node ports and health check node ports, released when no longer used.
// Defaults and allocator-free checks are in service-spec.ts.
import { IPAllocator, PortAllocator, type AllocateResult } from './allocators.js';
import { fieldError, type FieldError } from './errors.js';
import { deepEqual, isObj, type Obj } from './object.js';
import type { Strategy, WriteContext } from './registry.js';
import {
  applyDefaults,
  carryAllocated,
  dropTypeDependentFields,
  familyOf,
  isHeadless,
  needsHealthCheckPort,
  needsNodePorts,
  portsOf,
  specOf,
  validateServiceStatus,
  validateSpec,
  type IPFamily,
  type Spec,
} from './service-spec.js';

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
    dropTypeDependentFields(spec, was);
    carryAllocated(spec, was);
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
    return validateServiceStatus(obj);
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

