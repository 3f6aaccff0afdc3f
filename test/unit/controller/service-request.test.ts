import { strict as assert } from 'node:assert';
import type { V1Service } from '@kubernetes/client-node';
import { describeService, type ServiceLike } from '../../../controller/service-request.js';
import { formatIP } from '../../../shared/ip/ip.js';

type Spec = NonNullable<ServiceLike['spec']>;

function service(annotations: Record<string, string> = {}, spec: Spec = {}, labels: Record<string, string> = {}): ServiceLike {
  return {
    metadata: { name: 'web', namespace: 'shop', labels, annotations },
    spec: { type: 'LoadBalancer', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ port: 80 }], ...spec },
  };
}

function ok(svc: ServiceLike, opts: { lbClass?: string } = {}) {
  const r = describeService(svc, { team: 'a' }, opts);
  assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.message}`);
  return r.desc;
}

function problem(svc: ServiceLike, opts: { lbClass?: string } = {}) {
  const r = describeService(svc, {}, opts);
  assert.equal(r.ok, false, 'expected a problem');
  return r as Extract<typeof r, { ok: false }>;
}

describe('describeService', () => {
  it('describes a plain LoadBalancer Service', () => {
    const d = ok(service({}, { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }, { app: 'web' }));
    assert.deepEqual(d, {
      key: 'shop/web',
      namespace: 'shop',
      namespaceLabels: { team: 'a' },
      labels: { app: 'web' },
      ports: [
        { protocol: 'TCP', port: 80 },
        { protocol: 'UDP', port: 53 },
      ],
      requestedIPs: [],
      backendKey: 'Cluster',
      families: [4],
      familyPolicy: 'SingleStack',
    });
  });

  it('accepts a client-node V1Service', () => {
    const v: V1Service = { metadata: { name: 'x', namespace: 'y' }, spec: { type: 'LoadBalancer', ports: [{ port: 443, protocol: 'TCP' }] } };
    assert.equal(ok(v).key, 'y/x');
  });

  it('ignores Services that are not LoadBalancer or of another class', () => {
    const rows: { name: string; spec: Spec; lbClass?: string; reason: string }[] = [
      { name: 'ClusterIP', spec: { type: 'ClusterIP' }, reason: 'NotLoadBalancer' },
      { name: 'NodePort', spec: { type: 'NodePort' }, reason: 'NotLoadBalancer' },
      { name: 'class set, no flag', spec: { loadBalancerClass: 'other.io/lb' }, reason: 'OtherLoadBalancerClass' },
      { name: 'flag, no class', spec: {}, lbClass: 'herald.dev/lb', reason: 'OtherLoadBalancerClass' },
      { name: 'flag, other class', spec: { loadBalancerClass: 'other.io/lb' }, lbClass: 'herald.dev/lb', reason: 'OtherLoadBalancerClass' },
    ];
    for (const row of rows) {
      const opts = row.lbClass === undefined ? {} : { lbClass: row.lbClass };
      const p = problem(service({}, row.spec), opts);
      assert.equal(p.reason, row.reason, row.name);
      assert.equal(p.ignore, true, row.name);
    }
    assert.equal(ok(service({}, { loadBalancerClass: 'herald.dev/lb' }), { lbClass: 'herald.dev/lb' }).key, 'shop/web');
  });

  it('reads the pool, IPs and sharing key under each spelling', () => {
    for (const prefix of ['herald.dev/', 'metallb.io/', 'metallb.universe.tf/']) {
      const d = ok(
        service(
          {
            [`${prefix}address-pool`]: 'gold',
            [`${prefix}loadBalancerIPs`]: '2001:db8::5, 192.0.2.5',
            [`${prefix}allow-shared-ip`]: 'dns',
          },
          { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' },
        ),
      );
      assert.equal(d.requestedPool, 'gold', prefix);
      assert.equal(d.sharingKey, 'dns', prefix);
      assert.deepEqual(d.requestedIPs.map(formatIP).sort(), ['192.0.2.5', '2001:db8::5'], prefix);
      assert.deepEqual(d.families, [4, 6]);
      assert.equal(d.familyPolicy, 'RequireDualStack');
    }
  });

  it('accepts both spellings when they agree, refuses them when they differ', () => {
    const same = ok(service({ 'herald.dev/loadBalancerIPs': '192.0.2.5,2001:db8::5', 'metallb.io/loadBalancerIPs': '2001:db8:0::5 , 192.0.2.5' }));
    assert.equal(same.requestedIPs.length, 2);
    const rows: Record<string, string>[] = [
      { 'herald.dev/address-pool': 'a', 'metallb.io/address-pool': 'b' },
      { 'herald.dev/allow-shared-ip': 'a', 'metallb.universe.tf/allow-shared-ip': 'b' },
      { 'herald.dev/loadBalancerIPs': '192.0.2.5', 'metallb.io/loadBalancerIPs': '192.0.2.6' },
    ];
    for (const a of rows) {
      const p = problem(service(a));
      assert.equal(p.reason, 'ConflictingAnnotations', JSON.stringify(a));
      assert.equal(p.ignore, false);
    }
  });

  it('refuses unusable loadBalancerIPs and spec.loadBalancerIP clashes', () => {
    const rows: { name: string; a?: Record<string, string>; spec?: Spec; reason: string; msg: string }[] = [
      { name: 'not an IP', a: { 'herald.dev/loadBalancerIPs': '192.0.2.300' }, reason: 'InvalidAnnotation', msg: '192.0.2.300' },
      { name: 'three', a: { 'herald.dev/loadBalancerIPs': '192.0.2.1,192.0.2.2,2001:db8::1' }, reason: 'InvalidAnnotation', msg: 'at most two' },
      { name: 'two IPv4', a: { 'herald.dev/loadBalancerIPs': '192.0.2.1,192.0.2.2' }, reason: 'InvalidAnnotation', msg: 'two IPv4' },
      {
        name: 'both ways',
        a: { 'herald.dev/loadBalancerIPs': '192.0.2.1' },
        spec: { loadBalancerIP: '192.0.2.1' },
        reason: 'InvalidLoadBalancerIP',
        msg: 'both',
      },
      { name: 'bad spec IP', spec: { loadBalancerIP: 'nope' }, reason: 'InvalidLoadBalancerIP', msg: 'nope' },
    ];
    for (const row of rows) {
      const p = problem(service(row.a ?? {}, row.spec ?? {}));
      assert.equal(p.reason, row.reason, row.name);
      assert.ok(p.message.includes(row.msg), `${row.name}: ${p.message}`);
    }
  });

  it('takes spec.loadBalancerIP as a request; empty annotations are absent', () => {
    const d = ok(service({ 'herald.dev/address-pool': ' ', 'herald.dev/allow-shared-ip': '' }, { loadBalancerIP: '192.0.2.7' }));
    assert.deepEqual(d.requestedIPs.map(formatIP), ['192.0.2.7']);
    assert.equal(d.requestedPool, undefined);
    assert.equal(d.sharingKey, undefined);
  });

  it('derives families from ipFamilies, else the ClusterIPs, else the policy', () => {
    const rows: { spec: Spec; families: number[]; policy: string }[] = [
      { spec: { ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'PreferDualStack' }, families: [6, 4], policy: 'PreferDualStack' },
      { spec: { ipFamilies: [], clusterIPs: ['2001:db8::10'], ipFamilyPolicy: undefined }, families: [6], policy: 'SingleStack' },
      { spec: { ipFamilies: undefined, clusterIP: '192.0.2.10' }, families: [4], policy: 'SingleStack' },
      { spec: { ipFamilies: undefined, ipFamilyPolicy: 'RequireDualStack' }, families: [4, 6], policy: 'RequireDualStack' },
      { spec: { ipFamilies: undefined, ipFamilyPolicy: undefined }, families: [4], policy: 'SingleStack' },
    ];
    for (const row of rows) {
      const d = ok(service({}, row.spec));
      assert.deepEqual(d.families, row.families, JSON.stringify(row.spec));
      assert.equal(d.familyPolicy, row.policy);
    }
  });

  it('builds the backend key from externalTrafficPolicy and the selector', () => {
    assert.equal(ok(service({}, { externalTrafficPolicy: 'Cluster', selector: { app: 'a' } })).backendKey, 'Cluster');
    const a = ok(service({}, { externalTrafficPolicy: 'Local', selector: { b: '2', a: '1' } })).backendKey;
    const b = ok(service({}, { externalTrafficPolicy: 'Local', selector: { a: '1', b: '2' } })).backendKey;
    assert.equal(a, 'Local:a=1,b=2');
    assert.equal(a, b, 'selector order does not matter');
    assert.notEqual(ok(service({}, { externalTrafficPolicy: 'Local', selector: { a: '2' } })).backendKey, a);
  });
});
