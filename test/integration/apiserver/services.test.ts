// Services as on a real cluster: cluster IPs per family, ipFamilyPolicy, node ports,
// defaults, type changes and the checks that refuse bad specs.
import assert from 'node:assert/strict';
import { request, startHarness, svc, type Harness } from './harness.js';

const SVC = '/api/v1/namespaces/default/services';

describe('apiserver: Services', function () {
  let h: Harness;
  let single: Harness;
  before(async () => {
    h = await startHarness();
    single = await startHarness({ serviceCIDRs: ['10.100.0.0/24'] });
  });
  after(async () => {
    await h.close();
    await single.close();
  });

  const create = (name: string, spec: Record<string, unknown>, on: Harness = h) => request(on.api, 'POST', SVC, { body: svc(name, spec) });

  it('defaults a ClusterIP Service: one IPv4 cluster IP, SingleStack, TCP, targetPort, policies', async () => {
    const r = await create('plain', { ports: [{ port: 80 }] });
    assert.equal(r.status, 201, r.text);
    const s = r.body.spec;
    assert.equal(s.type, 'ClusterIP');
    assert.match(s.clusterIP, /^10\.96\.\d+\.\d+$/);
    assert.deepEqual(s.clusterIPs, [s.clusterIP]);
    assert.deepEqual(s.ipFamilies, ['IPv4']);
    assert.equal(s.ipFamilyPolicy, 'SingleStack');
    assert.equal(s.sessionAffinity, 'None');
    assert.equal(s.internalTrafficPolicy, 'Cluster');
    assert.equal(s.externalTrafficPolicy, undefined);
    assert.deepEqual(s.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);
    assert.deepEqual(r.body.status, { loadBalancer: {} });
  });

  it('allocates node ports and defaults for LoadBalancer Services, and releases them on delete', async () => {
    const r = await create('lb', { type: 'LoadBalancer', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] });
    assert.equal(r.status, 201, r.text);
    const s = r.body.spec;
    assert.equal(s.externalTrafficPolicy, 'Cluster');
    assert.equal(s.allocateLoadBalancerNodePorts, true);
    const ports = s.ports.map((p: { nodePort: number }) => p.nodePort);
    for (const p of ports) assert.ok(p >= 30000 && p <= 32767, `nodePort ${p} in range`);
    assert.notEqual(ports[0], ports[1]);
    const taken = await create('lb-clash', { type: 'NodePort', ports: [{ port: 80, nodePort: ports[0] }] });
    assert.equal(taken.status, 422);
    assert.equal(taken.body.message, `Service "lb-clash" is invalid: spec.ports[0].nodePort: Invalid value: ${ports[0]}: provided port is already allocated`);
    await request(h.api, 'DELETE', `${SVC}/lb`);
    assert.equal((await create('lb-reuse', { type: 'NodePort', ports: [{ port: 80, nodePort: ports[0] }] })).status, 201);
  });

  it('allocates no node ports when allocateLoadBalancerNodePorts is false, and a health check port for Local', async () => {
    const r = await create('lb-nonp', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false });
    assert.equal(r.body.spec.ports[0].nodePort, undefined);
    const local = await create('lb-local', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
    assert.ok(local.body.spec.healthCheckNodePort >= 30000);
  });

  it('gives RequireDualStack and PreferDualStack one IP per family, in the order asked', async () => {
    const r = await create('dual', { ipFamilyPolicy: 'RequireDualStack' });
    assert.deepEqual(r.body.spec.ipFamilies, ['IPv4', 'IPv6']);
    assert.equal(r.body.spec.clusterIPs.length, 2);
    assert.match(r.body.spec.clusterIPs[1], /^fd00:10:96::/);
    const v6first = await create('dual6', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6'] });
    assert.deepEqual(v6first.body.spec.ipFamilies, ['IPv6', 'IPv4']);
    assert.equal(v6first.body.spec.clusterIP, v6first.body.spec.clusterIPs[0]);
    assert.match(v6first.body.spec.clusterIP, /:/);
    const two = await create('dual-implied', { ipFamilies: ['IPv4', 'IPv6'] });
    assert.equal(two.body.spec.ipFamilyPolicy, 'RequireDualStack', 'two families without a policy mean dual-stack');
    const v6 = await create('only6', { ipFamilies: ['IPv6'] });
    assert.deepEqual(v6.body.spec.ipFamilies, ['IPv6']);
    assert.equal(v6.body.spec.ipFamilyPolicy, 'SingleStack');
  });

  it('refuses dual-stack and unknown families on a single-stack cluster, but PreferDualStack gets one', async () => {
    const req = await create('rds', { ipFamilyPolicy: 'RequireDualStack' }, single);
    assert.equal(req.status, 422);
    assert.match(req.body.message, /spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services/);
    const pref = await create('pds', { ipFamilyPolicy: 'PreferDualStack' }, single);
    assert.deepEqual(pref.body.spec.ipFamilies, ['IPv4']);
    assert.match(pref.body.spec.clusterIP, /^10\.100\.0\./);
    const v6 = await create('v6', { ipFamilies: ['IPv6'] }, single);
    assert.equal(v6.status, 422);
    assert.match(v6.body.message, /spec.ipFamilies\[0\]: Invalid value: "IPv6": not configured on this cluster/);
  });

  it('takes a requested cluster IP, refuses one outside the range or taken, and keeps it immutable', async () => {
    const r = await create('fixed', { clusterIP: '10.96.200.7' });
    assert.equal(r.body.spec.clusterIP, '10.96.200.7');
    const again = await create('fixed2', { clusterIP: '10.96.200.7' });
    assert.equal(again.status, 422);
    assert.match(again.body.message, /failed to allocate IP 10.96.200.7: provided IP is already allocated/);
    const outside = await create('outside', { clusterIP: '192.0.2.1' });
    assert.match(outside.body.message, /The range of valid IPs is 10.96.0.0\/16/);
    const change = await request(h.api, 'PATCH', `${SVC}/fixed`, { body: { spec: { clusterIP: '10.96.200.8', clusterIPs: ['10.96.200.8'] } }, contentType: 'application/merge-patch+json' });
    assert.equal(change.status, 422);
    assert.match(change.body.message, /field is immutable/);
    const headless = await create('headless', { clusterIP: 'None', selector: { app: 'x' } });
    assert.deepEqual(headless.body.spec.clusterIPs, ['None']);
  });

  it('keeps cluster IPs and node ports on an update that leaves them out (PUT without them)', async () => {
    const r = await create('keep', { type: 'NodePort', ports: [{ name: 'web', port: 80 }] });
    const body = structuredClone(r.body);
    delete body.spec.clusterIP;
    delete body.spec.clusterIPs;
    delete body.spec.ports[0].nodePort;
    body.spec.ports[0].port = 8080;
    const u = await request(h.api, 'PUT', `${SVC}/keep`, { body });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.body.spec.clusterIP, r.body.spec.clusterIP);
    assert.equal(u.body.spec.ports[0].nodePort, r.body.spec.ports[0].nodePort, 'matched by port name');
  });

  it('upgrades to dual-stack and back, and drops node ports when the type no longer needs them', async () => {
    const r = await create('updown', { type: 'LoadBalancer' });
    const up = await request(h.api, 'PATCH', `${SVC}/updown`, { body: { spec: { ipFamilyPolicy: 'PreferDualStack' } }, contentType: 'application/merge-patch+json' });
    assert.equal(up.status, 200, up.text);
    assert.deepEqual(up.body.spec.ipFamilies, ['IPv4', 'IPv6']);
    assert.equal(up.body.spec.clusterIPs[0], r.body.spec.clusterIP);
    const down = await request(h.api, 'PATCH', `${SVC}/updown`, { body: { spec: { ipFamilyPolicy: 'SingleStack' } }, contentType: 'application/merge-patch+json' });
    assert.deepEqual(down.body.spec.ipFamilies, ['IPv4']);
    assert.deepEqual(down.body.spec.clusterIPs, [r.body.spec.clusterIP]);
    const toCIP = await request(h.api, 'PATCH', `${SVC}/updown`, { body: { spec: { type: 'ClusterIP' } }, contentType: 'application/merge-patch+json' });
    assert.equal(toCIP.status, 200, toCIP.text);
    assert.equal(toCIP.body.spec.ports[0].nodePort, undefined);
    assert.equal(toCIP.body.spec.externalTrafficPolicy, undefined);
    assert.equal(toCIP.body.spec.allocateLoadBalancerNodePorts, undefined);
    const nodePort = r.body.spec.ports[0].nodePort;
    assert.equal((await create('updown-np', { type: 'NodePort', ports: [{ port: 80, nodePort }] })).status, 201, 'the node port was released');
  });

  it('keeps spec.loadBalancerClass immutable and only for LoadBalancer', async () => {
    const r = await create('cls', { type: 'LoadBalancer', loadBalancerClass: 'herald.dev/herald' });
    assert.equal(r.body.spec.loadBalancerClass, 'herald.dev/herald');
    const change = await request(h.api, 'PATCH', `${SVC}/cls`, { body: { spec: { loadBalancerClass: 'other.example/lb' } }, contentType: 'application/merge-patch+json' });
    assert.equal(change.status, 422);
    assert.equal(change.body.message, 'Service "cls" is invalid: spec.loadBalancerClass: Invalid value: "other.example/lb": may not change once set');
    const set = await request(h.api, 'PATCH', `${SVC}/plain`, { body: { spec: { loadBalancerClass: 'herald.dev/herald' } }, contentType: 'application/merge-patch+json' });
    assert.equal(set.status, 422);
    assert.match(set.body.message, /spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'/);
  });

  it('refuses bad specs with Kubernetes messages', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ type: 'Bogus' }, /spec.type: Unsupported value: "Bogus": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"/],
      [{ ports: [] }, /spec.ports: Required value/],
      [{ ports: [{ port: 0 }] }, /spec.ports\[0\].port: Invalid value: 0: must be between 1 and 65535, inclusive/],
      [{ ports: [{ port: 80, protocol: 'ICMP' }] }, /spec.ports\[0\].protocol: Unsupported value: "ICMP"/],
      [{ ports: [{ port: 80 }, { port: 81 }] }, /spec.ports\[0\].name: Required value/],
      [{ ports: [{ port: 80, nodePort: 30080 }] }, /spec.ports\[0\].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'/],
      [{ type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }, /provided port is not in the valid range. The range of valid ports is 30000-32767/],
      [{ externalTrafficPolicy: 'Local' }, /spec.externalTrafficPolicy: Invalid value: "Local": may only be set when `type` is 'NodePort' or 'LoadBalancer'/],
      [{ ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4', 'IPv6'] }, /spec.ipFamilyPolicy: Invalid value: "SingleStack"/],
      [{ type: 'ExternalName' }, /spec.externalName: Required value/],
    ];
    for (const [i, [spec, msg]] of cases.entries()) {
      const r = await create(`bad-${i}`, spec);
      assert.equal(r.status, 422, `case ${i}: ${r.text}`);
      assert.match(r.body.message, msg, `case ${i}`);
      assert.equal(r.body.reason, 'Invalid');
    }
  });

  it('checks status conditions as metav1.Condition', async () => {
    await create('cond', { type: 'LoadBalancer' });
    const good = { type: 'herald.dev/Allocated', status: 'True', reason: 'IPAllocated', message: 'ok', lastTransitionTime: '2024-01-01T00:00:00Z', observedGeneration: 0 };
    const ok = await request(h.api, 'PATCH', `${SVC}/cond/status`, { body: { status: { conditions: [good] } }, contentType: 'application/merge-patch+json' });
    assert.equal(ok.status, 200, ok.text);
    const bad = await request(h.api, 'PATCH', `${SVC}/cond/status`, {
      body: { status: { conditions: [{ ...good, reason: 'not ok', status: 'Maybe' }, { type: good.type, status: 'True' }] } },
      contentType: 'application/merge-patch+json',
    });
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.body.details.causes.map((c: { field: string }) => c.field), [
      'status.conditions[0].status',
      'status.conditions[0].reason',
      'status.conditions[1].type',
      'status.conditions[1].lastTransitionTime',
      'status.conditions[1].reason',
    ]);
  });

  it('merges spec.ports by port with a strategic merge patch', async () => {
    await create('smp', { ports: [{ name: 'a', port: 80 }, { name: 'b', port: 443 }] });
    const r = await request(h.api, 'PATCH', `${SVC}/smp`, {
      body: { spec: { ports: [{ port: 443, targetPort: 8443 }, { port: 80, $patch: 'delete' }] } },
      contentType: 'application/strategic-merge-patch+json',
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.spec.ports, [{ name: 'b', port: 443, protocol: 'TCP', targetPort: 8443 }]);
  });
});
