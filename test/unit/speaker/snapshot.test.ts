import { strict as assert } from 'node:assert';
import { buildSnapshot, endpointReady, handlesService, nodeInfo, poolOf, type RawService } from '../../../speaker/snapshot.js';
import type { ConfigModel } from '../../../shared/config/types.js';
import { parseAddressSpec, parseIP, formatIP } from '../../../shared/ip/ip.js';

function range(s: string) {
  const r = parseAddressSpec(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const config: ConfigModel = {
  pools: [
    { name: 'bgp', labels: {}, ranges: [range('203.0.113.0/24')], autoAssign: true, avoidBuggyIPs: false },
    { name: 'l2', labels: {}, ranges: [range('192.0.2.200-192.0.2.250')], autoAssign: true, avoidBuggyIPs: false },
  ],
  l2Advertisements: [],
  bgpAdvertisements: [],
  peers: [],
  bfdProfiles: [],
  invalidPools: [],
};

function svc(name: string, over: Partial<RawService['spec']> = {}, ips: string[] = ['192.0.2.200']): RawService {
  return {
    metadata: { name, namespace: 'default' },
    spec: { type: 'LoadBalancer', ...over },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  };
}

describe('speaker snapshot', () => {
  it('counts an endpoint ready when ready is unset or true, or when it still serves', () => {
    const cases: [Parameters<typeof endpointReady>[0], boolean][] = [
      [undefined, true],
      [{}, true],
      [{ ready: true }, true],
      [{ ready: null }, true],
      [{ ready: false }, false],
      [{ ready: false, serving: true }, true],
      [{ ready: false, serving: false }, false],
    ];
    for (const [c, want] of cases) assert.equal(endpointReady(c), want, JSON.stringify(c));
  });

  it('handles only LoadBalancer Services of the configured class', () => {
    assert.equal(handlesService(svc('a'), undefined), true);
    assert.equal(handlesService(svc('a', { type: 'ClusterIP' }), undefined), false);
    assert.equal(handlesService(svc('a', { loadBalancerClass: 'other' }), undefined), false);
    assert.equal(handlesService(svc('a', { loadBalancerClass: 'herald' }), 'herald'), true);
    assert.equal(handlesService(svc('a'), 'herald'), false);
  });

  it('keeps nodes that are NetworkUnavailable or excluded from announcing', () => {
    assert.equal(nodeInfo({ metadata: { name: 'n1' } })?.mayAnnounce, true);
    assert.equal(
      nodeInfo({ metadata: { name: 'n1' }, status: { conditions: [{ type: 'NetworkUnavailable', status: 'True' }] } })?.mayAnnounce,
      false,
    );
    assert.equal(
      nodeInfo({ metadata: { name: 'n1' }, status: { conditions: [{ type: 'NetworkUnavailable', status: 'False' }] } })?.mayAnnounce,
      true,
    );
    assert.equal(
      nodeInfo({ metadata: { name: 'n1', labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } } })?.mayAnnounce,
      false,
    );
  });

  it('joins Services with their EndpointSlices and drops Services without IPs', () => {
    const snap = buildSnapshot({
      nodeName: 'n1',
      config,
      services: [svc('web', { externalTrafficPolicy: 'Local' }), svc('pending', {}, [])],
      endpointSlices: [
        {
          metadata: { namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
          endpoints: [
            { nodeName: 'n2', conditions: { ready: true } },
            { nodeName: 'n3', conditions: { ready: false } },
          ],
        },
        { metadata: { namespace: 'other', labels: { 'kubernetes.io/service-name': 'web' } }, endpoints: [{ nodeName: 'n3' }] },
      ],
      nodes: [{ metadata: { name: 'n1' } }],
    });
    assert.equal(snap.services.length, 1);
    const web = snap.services[0]!;
    assert.equal(web.key, 'default/web');
    assert.equal(web.externalTrafficPolicy, 'Local');
    assert.deepEqual([...web.endpointNodes], ['n2']);
    assert.equal(web.hasReadyEndpoints, true);
    assert.deepEqual(web.ips.map(formatIP), ['192.0.2.200']);
  });

  it('finds the pool of an IP', () => {
    assert.equal(poolOf(config, parseIP('203.0.113.7')!)?.name, 'bgp');
    assert.equal(poolOf(config, parseIP('192.0.2.201')!)?.name, 'l2');
    assert.equal(poolOf(config, parseIP('192.0.2.199')!), undefined);
  });
});
