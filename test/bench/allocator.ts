// Micro-benchmark of the allocator alone: 50,000 assignments into an IPv4 /16 and into
// an IPv6 /64, then churn (release a spread of Services and assign new ones), then a
// restart (claim everything). Shows that cost per allocation does not grow with pool size.
//   node --import tsx test/bench/allocator.ts [count]
import { Allocator } from '../../controller/allocator.js';
import type { ServiceDesc } from '../../controller/allocator-types.js';
import type { Pool } from '../../shared/config/types.js';
import { parseAddressSpec, type Family, type IP } from '../../shared/ip/ip.js';

const count = Number(process.argv[2] ?? 50_000);

function pool(name: string, cidr: string, avoidBuggyIPs = false): Pool {
  const r = parseAddressSpec(cidr);
  if (!r.ok) throw new Error(r.error);
  return { name, labels: {}, ranges: [r.value], autoAssign: true, avoidBuggyIPs };
}

function desc(i: number, family: Family): ServiceDesc {
  return {
    key: `bench/svc-${i}`,
    namespace: 'bench',
    namespaceLabels: {},
    labels: {},
    ports: [{ protocol: 'TCP', port: 80 }],
    requestedIPs: [],
    backendKey: 'Cluster',
    families: [family],
    familyPolicy: 'SingleStack',
  };
}

function time<T>(fn: () => T): [T, number] {
  const t = process.hrtime.bigint();
  const r = fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e6];
}

function bench(label: string, p: Pool, family: Family): void {
  const a = new Allocator([p]);
  const held = new Map<string, IP[]>();
  const [, fill] = time(() => {
    for (let i = 0; i < count; i++) {
      const r = a.assign(desc(i, family));
      if (!r.ok) throw new Error(`${label}: ${r.message}`);
      held.set(`bench/svc-${i}`, r.ips);
    }
  });
  // Churn: free every 7th Service, then give the holes to new ones.
  const [, churn] = time(() => {
    for (let i = 0; i < count; i += 7) a.release(`bench/svc-${i}`);
    for (let i = 0; i < count; i += 7) {
      const r = a.assign(desc(count + i, family));
      if (!r.ok) throw new Error(`${label} churn: ${r.message}`);
    }
  });
  const churned = Math.ceil(count / 7);
  // Restart: a new allocator claims what the first one handed out.
  const [, claim] = time(() => {
    const b = new Allocator([p]);
    for (const [key, ips] of held) b.claim(desc(Number(key.slice('bench/svc-'.length)), family), ips);
    const r = b.assign(desc(10 * count, family));
    if (!r.ok) throw new Error(`${label} after restart: ${r.message}`);
  });
  const u = a.poolUsage(p.name);
  const us = (ms: number, n: number) => ((ms * 1000) / n).toFixed(1);
  console.log(
    `${label.padEnd(22)} fill ${count}: ${fill.toFixed(0).padStart(5)} ms (${us(fill, count)} µs each)` +
      `  churn ${churned}+${churned}: ${churn.toFixed(0).padStart(4)} ms` +
      `  restart claim ${count} + 1 assign: ${claim.toFixed(0).padStart(4)} ms` +
      `  assigned v4/v6 ${u?.assignedIPv4}/${u?.assignedIPv6}`,
  );
}

/** The same number of assignments into a /28: fill it, free it, again. */
function benchSmall(): void {
  const p = pool('small', '192.0.2.0/28');
  const a = new Allocator([p]);
  const [, ms] = time(() => {
    for (let i = 0; i < count; i++) {
      const r = a.assign(desc(i, 4));
      if (!r.ok) throw new Error(`small: ${r.message}`);
      if (i % 16 === 15) for (let j = i - 15; j <= i; j++) a.release(`bench/svc-${j}`);
    }
  });
  console.log(`${'IPv4 /28 (refilled)'.padEnd(22)} fill ${count}: ${ms.toFixed(0).padStart(5)} ms (${((ms * 1000) / count).toFixed(1)} µs each)`);
}

benchSmall();
// A /16 only exists outside the IPv4 documentation ranges; loopback stands in (nothing is sent).
bench('IPv4 /16', pool('v4', '127.1.0.0/16'), 4);
bench('IPv4 /16 avoidBuggyIPs', pool('v4b', '127.2.0.0/16', true), 4);
bench('IPv6 /64', pool('v6', '2001:db8::/64'), 6);
