// Builders and a sequential scenario runner for the allocator tests: each row acts on
// the state the rows before it left, as in MetalLB's allocator tests.
import { strict as assert } from 'node:assert';
import type { LabelSelector } from '../../../shared/api/types.js';
import type { Pool, PoolServiceAllocation } from '../../../shared/config/types.js';
import { formatIP, parseAddressSpec, parseIP, type Family, type IP, type IPRange } from '../../../shared/ip/ip.js';
import { Allocator } from '../../../controller/allocator.js';
import type { AllocationFailureReason, FamilyPolicy, ServiceDesc, ServicePort } from '../../../controller/allocator-types.js';

export function ip(text: string): IP {
  const v = parseIP(text);
  if (!v) throw new Error(`bad IP ${text}`);
  return v;
}

export function ranges(specs: readonly string[]): IPRange[] {
  return specs.map((s) => {
    const r = parseAddressSpec(s);
    if (!r.ok) throw new Error(r.error);
    return r.value;
  });
}

export interface PoolOpts {
  autoAssign?: boolean;
  avoidBuggyIPs?: boolean;
  priority?: number;
  namespaces?: string[];
  namespaceSelectors?: LabelSelector[];
  serviceSelectors?: LabelSelector[];
  /** Give the pool a serviceAllocation even with nothing else set. */
  serviceAllocation?: boolean;
}

export function pool(name: string, addresses: readonly string[], o: PoolOpts = {}): Pool {
  const p: Pool = {
    name,
    labels: {},
    ranges: ranges(addresses),
    autoAssign: o.autoAssign ?? true,
    avoidBuggyIPs: o.avoidBuggyIPs ?? false,
  };
  if (o.serviceAllocation || o.priority !== undefined || o.namespaces || o.namespaceSelectors || o.serviceSelectors) {
    const sa: PoolServiceAllocation = {
      namespaces: o.namespaces ?? [],
      namespaceSelectors: o.namespaceSelectors ?? [],
      serviceSelectors: o.serviceSelectors ?? [],
    };
    if (o.priority !== undefined) sa.priority = o.priority;
    p.serviceAllocation = sa;
  }
  return p;
}

export interface SvcOpts {
  ns?: string;
  nsLabels?: Record<string, string>;
  labels?: Record<string, string>;
  /** `TCP/80` */
  ports?: string[];
  pool?: string;
  request?: string[];
  share?: string;
  backend?: string;
  families?: Family[];
  policy?: FamilyPolicy;
}

export function svc(name: string, o: SvcOpts = {}): ServiceDesc {
  const ns = o.ns ?? 'default';
  const d: ServiceDesc = {
    key: `${ns}/${name}`,
    namespace: ns,
    namespaceLabels: o.nsLabels ?? {},
    labels: o.labels ?? {},
    ports: (o.ports ?? ['TCP/80']).map((p): ServicePort => {
      const [protocol, port] = p.split('/');
      return { protocol: protocol as ServicePort['protocol'], port: Number(port) };
    }),
    requestedIPs: (o.request ?? []).map(ip),
    backendKey: o.backend ?? 'Cluster',
    families: o.families ?? [4],
    familyPolicy: o.policy ?? 'SingleStack',
  };
  if (o.pool !== undefined) d.requestedPool = o.pool;
  if (o.share !== undefined) d.sharingKey = o.share;
  return d;
}

/** One row of a scenario. Exactly one of assign/claim/release/pools. */
export type Row = { name: string } & (
  | {
      assign: ServiceDesc;
      /** The status the Service shows; default: what the previous rows left in it. */
      current?: string[];
      want?: string[];
      pool?: string;
      changed?: boolean;
      err?: AllocationFailureReason;
      /** Substring of the failure message. */
      msg?: string;
      /** Reasons of the dropped IPs, `ip reason`. */
      dropped?: string[];
    }
  | { claim: ServiceDesc; ips: string[]; fromPool?: string; kept: string[]; dropped?: string[] }
  | { release: string }
  | { pools: Pool[]; invalid?: string[]; released?: string[]; repooled?: string[] }
  | { usage: string; v4?: [assigned: bigint, available: bigint]; v6?: [assigned: bigint, available: bigint]; services?: number }
);

const texts = (ips: readonly IP[]): string[] => ips.map(formatIP);

/** Runs rows in order against one allocator, simulating the Services' status. */
export function runScenario(initialPools: Pool[], rows: readonly Row[], invalid: string[] = []): Allocator {
  const a = new Allocator(initialPools, invalid);
  const status = new Map<string, string[]>();
  for (const row of rows) {
    const at = `row "${row.name}"`;
    if ('assign' in row) {
      const current = (row.current ?? status.get(row.assign.key) ?? []).map(ip);
      const r = a.assign(row.assign, current);
      if (row.err !== undefined) {
        assert.equal(r.ok, false, `${at}: expected ${row.err}, got ${r.ok ? texts(r.ips).join(',') : ''}`);
        if (!r.ok) {
          assert.equal(r.reason, row.err, `${at}: ${r.message}`);
          if (row.msg !== undefined) assert.ok(r.message.includes(row.msg), `${at}: message "${r.message}" lacks "${row.msg}"`);
        }
        assert.equal(a.holding(row.assign.key), undefined, `${at}: a failed Service must hold nothing`);
        status.set(row.assign.key, []);
      } else {
        assert.ok(r.ok, `${at}: ${r.ok ? '' : `${r.reason}: ${r.message}`}`);
        if (r.ok) {
          if (row.want !== undefined) assert.deepEqual(texts(r.ips), row.want, at);
          if (row.pool !== undefined) assert.equal(r.pool, row.pool, at);
          if (row.changed !== undefined) assert.equal(r.changed, row.changed, `${at}: changed`);
          assert.deepEqual(texts(a.holding(row.assign.key)?.ips ?? []), texts(r.ips), `${at}: holding`);
          status.set(row.assign.key, texts(r.ips));
        }
      }
      if (row.dropped !== undefined) {
        assert.deepEqual(r.dropped.map((d) => `${formatIP(d.ip)} ${d.reason}`).sort(), [...row.dropped].sort(), `${at}: dropped`);
      }
    } else if ('claim' in row) {
      const r = a.claim(row.claim, row.ips.map(ip), row.fromPool);
      assert.deepEqual(texts(r.kept), row.kept, `${at}: kept`);
      if (row.dropped !== undefined) {
        assert.deepEqual(r.dropped.map((d) => `${formatIP(d.ip)} ${d.reason}`).sort(), [...row.dropped].sort(), `${at}: dropped`);
      }
      status.set(row.claim.key, texts(r.kept));
    } else if ('release' in row) {
      a.release(row.release);
      status.delete(row.release);
    } else if ('pools' in row) {
      const r = a.setPools(row.pools, row.invalid ?? []);
      if (row.released !== undefined) {
        assert.deepEqual(r.released.map((x) => `${x.key} ${formatIP(x.ip)}`).sort(), [...row.released].sort(), `${at}: released`);
      }
      if (row.repooled !== undefined) {
        assert.deepEqual(r.repooled.map((x) => `${x.key} ${x.from}->${x.to}`).sort(), [...row.repooled].sort(), `${at}: repooled`);
      }
    } else {
      const u = a.poolUsage(row.usage);
      assert.ok(u, `${at}: pool ${row.usage} unknown`);
      if (row.v4) assert.deepEqual([u.assignedIPv4, u.availableIPv4], row.v4, `${at}: IPv4 usage`);
      if (row.v6) assert.deepEqual([u.assignedIPv6, u.availableIPv6], row.v6, `${at}: IPv6 usage`);
      if (row.services !== undefined) assert.equal(u.services, row.services, `${at}: services`);
    }
  }
  return a;
}
