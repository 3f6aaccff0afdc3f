import { strict as assert } from 'node:assert';
import { Allocator } from '../../../controller/allocator.js';
import type { ServiceObject } from '../../../controller/service-plan.js';
import { claimAll, claimCandidate, type ClaimCandidate } from '../../../controller/startup-claims.js';
import { formatIP } from '../../../shared/ip/ip.js';
import { pool } from './allocator-helpers.js';

function shown(name: string, created: string | undefined, ips: string[], extra: Partial<NonNullable<ServiceObject['spec']>> = {}): ServiceObject {
  return {
    metadata: { name, namespace: 'default', ...(created ? { creationTimestamp: created } : {}) },
    spec: { type: 'LoadBalancer', ports: [{ protocol: 'TCP', port: 80 }], ipFamilies: ['IPv4'], ...extra },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  };
}

const candidates = (svcs: ServiceObject[]): ClaimCandidate[] => svcs.map((s) => claimCandidate(s, {}, undefined)).filter((c): c is ClaimCandidate => c !== undefined);

describe('controller/startup-claims', () => {
  it('gives a contested address to the oldest Service, whatever order the list came in', () => {
    const svcs = [
      shown('young', '2025-01-03T00:00:00Z', ['192.0.2.1']),
      shown('old', '2025-01-01T00:00:00Z', ['192.0.2.1']),
      shown('b-same-age', '2025-01-02T00:00:00Z', ['192.0.2.2']),
      shown('a-same-age', '2025-01-02T00:00:00Z', ['192.0.2.2']),
      shown('undated', undefined, ['192.0.2.3']),
    ];
    for (const order of [svcs, [...svcs].reverse()]) {
      const alloc = new Allocator([pool('lan', ['192.0.2.1-192.0.2.9'])]);
      const s = claimAll(alloc, candidates(order));
      assert.deepEqual(alloc.holdersOf({ family: 4, value: 0xc0000201n }), ['default/old']);
      assert.deepEqual(alloc.holdersOf({ family: 4, value: 0xc0000202n }), ['default/a-same-age'], 'same age: by key');
      assert.deepEqual(alloc.holdersOf({ family: 4, value: 0xc0000203n }), ['default/undated']);
      assert.equal(s.claimed, 3);
      assert.deepEqual(s.dropped.map((d) => `${d.key} ${formatIP(d.ip)} ${d.reason}`).sort(), ['default/b-same-age 192.0.2.2 IPInUse', 'default/young 192.0.2.1 IPInUse']);
    }
  });

  it('claims nothing for Services that show no address or are not ours', () => {
    assert.equal(claimCandidate(shown('none', undefined, []), {}, undefined), undefined);
    assert.equal(claimCandidate(shown('cluster', undefined, ['192.0.2.1'], { type: 'ClusterIP' }), {}, undefined), undefined);
    assert.equal(claimCandidate(shown('classy', undefined, ['192.0.2.1'], { loadBalancerClass: 'x/y' }), {}, undefined), undefined);
    assert.ok(claimCandidate(shown('classy', undefined, ['192.0.2.1'], { loadBalancerClass: 'x/y' }), {}, 'x/y'));
  });
});
