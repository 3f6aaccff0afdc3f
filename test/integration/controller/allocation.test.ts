// The controller against the embedded API server, objects applied with the real kubectl:
// every annotation and request form, family policies over dual-stack pools, the
// loadBalancerClass rule, sharing, and what the controller reports (events only on
// change, the Service condition, pool status, the memberlist Secret).
import { strict as assert } from 'node:assert';
import { objectPath, SECRETS } from '../../../shared/k8s/resources.js';
import {
  apply,
  conditionOf,
  doubleAllocations,
  eventsFor,
  getPool,
  getService,
  ipsOf,
  kubectl,
  lbServiceYAML,
  listServices,
  NS,
  poolYAML,
  sleep,
  startEnv,
  startReplica,
  waitFor,
  waitForIPs,
  type Env,
  type Replica,
} from './harness.js';

describe('controller: allocation through the API (kubectl)', function () {
  this.timeout(30_000);
  let env: Env;
  let ctl: Replica;

  before(async () => {
    env = await startEnv();
    await apply(env, poolYAML('lan', ['192.0.2.200-192.0.2.209', '2001:db8::200-2001:db8::20f']));
    await apply(env, poolYAML('reserved', ['198.51.100.10-198.51.100.19'], '  autoAssign: false\n'));
    await kubectl(env, ['create', 'namespace', 'apps']);
    ctl = await startReplica(env);
  });
  after(async () => {
    await ctl?.stop();
    await env?.close();
  });
  afterEach(async () => {
    assert.deepEqual(doubleAllocations(await listServices(env)), [], 'no address held by two non-sharing Services');
  });

  it('gives a plain Service the lowest free address, ipMode VIP, a True condition and one IPAllocated event', async () => {
    await apply(env, lbServiceYAML('apps', 'web'));
    const [ip] = await waitForIPs(env, 'apps', 'web');
    assert.equal(ip, '192.0.2.200');
    const svc = await getService(env, 'apps', 'web');
    assert.equal(svc.status?.loadBalancer?.ingress?.[0]?.ipMode, 'VIP');
    const c = conditionOf(svc);
    assert.equal(c?.status, 'True');
    assert.equal(c?.reason, 'IPAllocated');
    await waitFor('IPAllocated event', async () => (await eventsFor(env, 'apps', 'web')).some((e) => e.reason === 'IPAllocated'));
    // Touch the Service: a reconcile that changes nothing sends nothing.
    await kubectl(env, ['label', 'svc', '-n', 'apps', 'web', 'touched=yes']);
    await sleep(300);
    const evs = await eventsFor(env, 'apps', 'web');
    assert.equal(evs.filter((e) => e.reason === 'IPAllocated').length, 1);
    assert.equal(evs.find((e) => e.reason === 'IPAllocated')?.count ?? 1, 1);
    assert.deepEqual(ipsOf(await getService(env, 'apps', 'web')), ['192.0.2.200']);
  });

  it('writes the herald.dev/ip-allocated-from-pool annotation with the status', async () => {
    // Through /status: kube-apiserver's serviceStatusStrategy resets only spec there.
    await apply(env, lbServiceYAML('apps', 'annotated'));
    await waitForIPs(env, 'apps', 'annotated');
    assert.equal((await getService(env, 'apps', 'annotated')).metadata?.annotations?.['herald.dev/ip-allocated-from-pool'], 'lan');
  });

  for (const prefix of ['herald.dev', 'metallb.io']) {
    it(`honours ${prefix}/address-pool and ${prefix}/loadBalancerIPs`, async () => {
      const a = `pool-${prefix.split('.')[0]}`;
      await apply(env, lbServiceYAML('apps', a, { annotations: { [`${prefix}/address-pool`]: 'reserved' } }));
      const [ip] = await waitForIPs(env, 'apps', a);
      assert.match(ip ?? '', /^198\.51\.100\.1\d$/);
      const b = `ips-${prefix.split('.')[0]}`;
      const want = prefix === 'herald.dev' ? '198.51.100.15' : '192.0.2.205';
      await apply(env, lbServiceYAML('apps', b, { annotations: { [`${prefix}/loadBalancerIPs`]: want } }));
      assert.deepEqual(await waitForIPs(env, 'apps', b), [want]);
    });
  }

  it('honours spec.loadBalancerIP, and refuses it beside the annotation with a reason', async () => {
    await apply(env, lbServiceYAML('apps', 'legacy', { spec: '  loadBalancerIP: 192.0.2.207\n' }));
    assert.deepEqual(await waitForIPs(env, 'apps', 'legacy'), ['192.0.2.207']);
    await apply(env, lbServiceYAML('apps', 'both', { annotations: { 'herald.dev/loadBalancerIPs': '192.0.2.208' }, spec: '  loadBalancerIP: 192.0.2.208\n' }));
    const c = await waitFor('a False condition', async () => {
      const cond = conditionOf(await getService(env, 'apps', 'both'));
      return cond?.status === 'False' ? cond : undefined;
    });
    assert.equal(c.reason, 'InvalidLoadBalancerIP');
    const failed = await waitFor('AllocationFailed', async () => (await eventsFor(env, 'apps', 'both')).find((e) => e.reason === 'AllocationFailed'));
    assert.equal(failed.type, 'Warning');
    assert.match(failed.message, /loadBalancerIP/);
    assert.deepEqual(ipsOf(await getService(env, 'apps', 'both')), []);
  });

  it('reports an address outside every pool, once however often the Service is reconciled', async () => {
    await apply(env, lbServiceYAML('apps', 'outside', { annotations: { 'herald.dev/loadBalancerIPs': '203.0.113.9' } }));
    await waitFor('AllocationFailed', async () => (await eventsFor(env, 'apps', 'outside')).find((e) => e.reason === 'AllocationFailed'));
    for (let i = 0; i < 3; i++) await kubectl(env, ['label', '--overwrite', 'svc', '-n', 'apps', 'outside', `n=${i}`]);
    await sleep(300);
    const evs = (await eventsFor(env, 'apps', 'outside')).filter((e) => e.reason === 'AllocationFailed');
    assert.equal(evs.length, 1);
    assert.equal(evs[0]?.count ?? 1, 1, 'not re-sent (the recorder would only count it up)');
    assert.match(evs[0]?.message ?? '', /203\.0\.113\.9 is not in any IPAddressPool/);
    assert.equal(conditionOf(await getService(env, 'apps', 'outside'))?.reason, 'IPNotInPool');
  });

  it('serves the three ipFamilyPolicy values from a dual-stack pool', async () => {
    await apply(env, lbServiceYAML('apps', 'single', { spec: '  ipFamilyPolicy: SingleStack\n' }));
    const single = await waitForIPs(env, 'apps', 'single', 1);
    assert.match(single[0] ?? '', /^192\.0\.2\./);
    await apply(env, lbServiceYAML('apps', 'prefer', { spec: '  ipFamilyPolicy: PreferDualStack\n  ipFamilies: [IPv4, IPv6]\n' }));
    const prefer = await waitForIPs(env, 'apps', 'prefer', 2);
    assert.match(prefer[0] ?? '', /^192\.0\.2\./);
    assert.match(prefer[1] ?? '', /^2001:db8::2/);
    await apply(env, lbServiceYAML('apps', 'require', { spec: '  ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv6, IPv4]\n' }));
    const require = await waitForIPs(env, 'apps', 'require', 2);
    assert.match(require[0] ?? '', /^2001:db8::/, 'primary family first');
    assert.match(require[1] ?? '', /^192\.0\.2\./);
  });

  it('leaves Services of another loadBalancerClass alone', async () => {
    await apply(env, lbServiceYAML('apps', 'classy', { spec: '  loadBalancerClass: example.com/other\n' }));
    await sleep(400);
    const svc = await getService(env, 'apps', 'classy');
    assert.deepEqual(ipsOf(svc), []);
    assert.equal(conditionOf(svc), undefined);
  });

  it('shares an address between Services with the same key and no port clash', async () => {
    const shared = { 'herald.dev/allow-shared-ip': 'dns' };
    await apply(env, lbServiceYAML('apps', 'dns-tcp', { annotations: { ...shared, 'herald.dev/loadBalancerIPs': '192.0.2.209' } }).replace('port: 80, protocol: TCP', 'port: 53, protocol: TCP'));
    await apply(env, lbServiceYAML('apps', 'dns-udp', { annotations: { ...shared, 'herald.dev/loadBalancerIPs': '192.0.2.209' } }).replace('port: 80, protocol: TCP', 'port: 53, protocol: UDP'));
    assert.deepEqual(await waitForIPs(env, 'apps', 'dns-tcp'), ['192.0.2.209']);
    assert.deepEqual(await waitForIPs(env, 'apps', 'dns-udp'), ['192.0.2.209']);
    // Same key, same port: refused, with the reason.
    await apply(env, lbServiceYAML('apps', 'dns-clash', { annotations: { ...shared, 'herald.dev/loadBalancerIPs': '192.0.2.209' } }).replace('port: 80, protocol: TCP', 'port: 53, protocol: UDP'));
    const c = await waitFor('refusal', async () => {
      const cond = conditionOf(await getService(env, 'apps', 'dns-clash'));
      return cond?.status === 'False' ? cond : undefined;
    });
    assert.equal(c.reason, 'SharingConflict');
  });

  it('clears the status when a Service stops being a LoadBalancer', async () => {
    await apply(env, lbServiceYAML('apps', 'shrinking'));
    const [ip] = await waitForIPs(env, 'apps', 'shrinking');
    await kubectl(env, ['patch', 'svc', '-n', 'apps', 'shrinking', '--type=merge', '-p', '{"spec":{"type":"ClusterIP"}}']);
    await waitFor('cleared status', async () => ipsOf(await getService(env, 'apps', 'shrinking')).length === 0);
    const svc = await getService(env, 'apps', 'shrinking');
    assert.equal(svc.metadata?.annotations?.['herald.dev/ip-allocated-from-pool'], undefined);
    assert.equal(conditionOf(svc), undefined);
    const clear = await waitFor('ClearAssignment', async () => (await eventsFor(env, 'apps', 'shrinking')).find((e) => e.reason === 'ClearAssignment'));
    assert.match(clear.message, new RegExp(`Released ${ip?.replace(/\./g, '\\.')}`));
  });

  it('keeps IPAddressPool status current: counts per family, observedGeneration, Ready', async () => {
    const pool = await waitFor('pool status', async () => {
      const p = await getPool(env, 'lan');
      return (p.status?.assignedIPv4 ?? 0) > 0 && (p.status?.assignedIPv6 ?? 0) > 0 ? p : undefined;
    });
    const svcs = await listServices(env);
    const lan = new Set(svcs.flatMap(ipsOf).filter((ip) => ip.startsWith('192.0.2.') || ip.startsWith('2001:db8::')));
    await waitFor('counts to settle', async () => {
      const p = await getPool(env, 'lan');
      const v4 = [...lan].filter((ip) => ip.includes('.')).length;
      return p.status?.assignedIPv4 === v4 && p.status.availableIPv4 === 10 - v4 && p.status.assignedIPv6 === lan.size - v4 ? true : undefined;
    });
    assert.equal(pool.status?.observedGeneration, pool.metadata.generation);
    assert.equal(pool.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(pool.status?.conditions?.find((c) => c.type === 'Overlap')?.status, 'False');
  });

  it('with --lb-class, serves only Services of that class and leaves the others as they are', async () => {
    // Controllers of different classes must not share addresses (as with MetalLB): the
    // class's Services get a pool of their own, by namespace.
    await kubectl(env, ['delete', 'svc', '-n', 'apps', 'classy']);
    await kubectl(env, ['create', 'namespace', 'lbc']);
    await apply(env, poolYAML('lbc', ['203.0.113.40-203.0.113.41'], '  serviceAllocation:\n    namespaces: [lbc]\n'));
    const before = ipsOf(await getService(env, 'apps', 'web'));
    await ctl.stop();
    ctl = await startReplica(env, { lbClass: 'example.com/other' });
    await apply(env, lbServiceYAML('lbc', 'classy', { spec: '  loadBalancerClass: example.com/other\n' }));
    assert.deepEqual(await waitForIPs(env, 'lbc', 'classy'), ['203.0.113.40']);
    await apply(env, lbServiceYAML('apps', 'plain'));
    await sleep(300);
    assert.deepEqual(ipsOf(await getService(env, 'apps', 'plain')), [], 'a Service without the class is not served…');
    assert.deepEqual(ipsOf(await getService(env, 'apps', 'web')), before, '…and one served before keeps its status untouched');
    await ctl.stop();
    ctl = await startReplica(env);
    const [plain] = await waitForIPs(env, 'apps', 'plain');
    assert.match(plain ?? '', /^192\.0\.2\./);
    assert.deepEqual(ipsOf(await getService(env, 'lbc', 'classy')), ['203.0.113.40'], 'the default controller leaves the class alone');
  });

  it('creates the memberlist Secret', async () => {
    const s = await waitFor('Secret', () => env.admin.rest.request<{ type: string; data: Record<string, string> }>('GET', objectPath(SECRETS, NS, 'herald-memberlist')));
    assert.equal(s.type, 'Opaque');
    assert.equal(Buffer.from(s.data.secretkey ?? '', 'base64').length, 32);
  });
});
