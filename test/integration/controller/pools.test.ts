// Pool changes seen through the API: a shrunk pool takes its address back with an event
// and the Service gets another; a deleted pool leaves its Services without addresses (and
// says why); overlapping pools are reported on the later one; namespace labels steer
// serviceAllocation.namespaceSelectors as they change.
import { strict as assert } from 'node:assert';
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
  startEnv,
  startReplica,
  waitFor,
  waitForIPs,
  type Env,
  type Replica,
} from './harness.js';

describe('controller: pool changes (kubectl)', function () {
  this.timeout(30_000);
  let env: Env;
  let ctl: Replica;

  before(async () => {
    env = await startEnv();
    await kubectl(env, ['create', 'namespace', 'team-a']);
    await kubectl(env, ['create', 'namespace', 'team-b']);
    ctl = await startReplica(env);
  });
  after(async () => {
    await ctl?.stop();
    await env?.close();
  });
  afterEach(async () => {
    assert.deepEqual(doubleAllocations(await listServices(env)), []);
  });

  it('serves a Service that waited for a pool once the pool appears', async () => {
    await apply(env, lbServiceYAML('team-a', 'early'));
    const c = await waitFor('NoPool', async () => {
      const cond = conditionOf(await getService(env, 'team-a', 'early'));
      return cond?.status === 'False' ? cond : undefined;
    });
    assert.equal(c.reason, 'NoPool');
    await apply(env, poolYAML('main', ['192.0.2.10-192.0.2.13']));
    assert.deepEqual(await waitForIPs(env, 'team-a', 'early'), ['192.0.2.10']);
    assert.equal(conditionOf(await getService(env, 'team-a', 'early'))?.status, 'True');
  });

  it('releases an address the pool no longer holds, with ClearAssignment, and gives another', async () => {
    await apply(env, lbServiceYAML('team-a', 'second'));
    await apply(env, lbServiceYAML('team-a', 'third'));
    assert.deepEqual(await waitForIPs(env, 'team-a', 'second'), ['192.0.2.11']);
    assert.deepEqual(await waitForIPs(env, 'team-a', 'third'), ['192.0.2.12']);
    // Shrink: .10 and .11 leave the pool; .14 and .15 join.
    await apply(env, poolYAML('main', ['192.0.2.12-192.0.2.15']));
    const early = await waitFor('early moved', async () => {
      const ips = ipsOf(await getService(env, 'team-a', 'early'));
      return ips.length === 1 && ips[0] !== '192.0.2.10' ? ips : undefined;
    });
    const second = await waitFor('second moved', async () => {
      const ips = ipsOf(await getService(env, 'team-a', 'second'));
      return ips.length === 1 && ips[0] !== '192.0.2.11' ? ips : undefined;
    });
    assert.deepEqual([...early, ...second].sort(), ['192.0.2.13', '192.0.2.14']);
    assert.deepEqual(ipsOf(await getService(env, 'team-a', 'third')), ['192.0.2.12'], 'a still-valid address never moves');
    const clear = await waitFor('ClearAssignment', async () => (await eventsFor(env, 'team-a', 'early')).find((e) => e.reason === 'ClearAssignment'));
    assert.equal(clear.type, 'Warning');
    assert.match(clear.message, /Released 192\.0\.2\.10: 192\.0\.2\.10 is no longer in any IPAddressPool/);
    assert.equal((await eventsFor(env, 'team-a', 'third')).filter((e) => e.reason === 'ClearAssignment').length, 0);
  });

  it('reports an overlapping pool on the later one, with one Warning event, and allocates nothing from the overlap', async () => {
    // Named to sort after "main": creation times have one-second precision, and pools
    // created in the same second are ordered by name.
    await apply(env, poolYAML('overlapping', ['192.0.2.14-192.0.2.17']));
    const later = await waitFor('Overlap condition', async () => {
      const p = await getPool(env, 'overlapping');
      return p.status?.conditions?.find((c) => c.type === 'Overlap' && c.status === 'True') ? p : undefined;
    });
    const overlap = later.status?.conditions?.find((c) => c.type === 'Overlap');
    assert.match(overlap?.message ?? '', /spec\.addresses\[0\]: .*already in pool "main"/);
    assert.equal(later.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal((await getPool(env, 'main')).status?.conditions?.find((c) => c.type === 'Overlap')?.status, 'False');
    const evs = await waitFor('event', async () => {
      const e = (await eventsFor(env, NS, 'overlapping', 'IPAddressPool')).filter((x) => x.reason === 'OverlapsPool');
      return e.length > 0 ? e : undefined;
    });
    assert.equal(evs.length, 1);
    assert.equal(evs[0]?.type, 'Warning');
    // The pool's own addresses outside the overlap: .16 and .17.
    assert.equal(later.status?.availableIPv4, 2);
  });

  it('marks a pool with unusable addresses not Ready, naming the field', async () => {
    // The CRD refuses a malformed entry at the door; two entries of one pool that
    // overlap pass it, and the config model rejects them naming the second.
    await apply(env, poolYAML('dup', ['192.0.2.50/31', '192.0.2.51']));
    const p = await waitFor('conditions', async () => {
      const x = await getPool(env, 'dup');
      return x.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False') ? x : undefined;
    });
    const bad = p.status?.conditions?.find((c) => c.type === 'InvalidAddresses');
    assert.equal(bad?.status, 'True');
    assert.match(bad?.message ?? '', /^spec\.addresses\[1\]: .*overlaps spec\.addresses\[0\]/);
    await kubectl(env, ['delete', 'ipaddresspool', '-n', NS, 'dup']);
  });

  it('steers Services by namespace labels (namespaceSelectors) as the labels change', async () => {
    await apply(
      env,
      poolYAML(
        'gold',
        ['198.51.100.1-198.51.100.4'],
        '  serviceAllocation:\n    priority: 10\n    namespaceSelectors:\n    - matchLabels: {tier: gold}\n',
      ),
    );
    await waitFor('gold status', async () => (await getPool(env, 'gold')).status?.conditions !== undefined);
    await apply(env, lbServiceYAML('team-b', 'plain'));
    const [before] = await waitForIPs(env, 'team-b', 'plain');
    assert.match(before ?? '', /^192\.0\.2\./);
    await kubectl(env, ['label', 'namespace', 'team-b', 'tier=gold']);
    // A label change alone does not move an address that is still valid…
    await apply(env, lbServiceYAML('team-b', 'new'));
    assert.deepEqual(await waitForIPs(env, 'team-b', 'new'), ['198.51.100.1'], '…but new Services of the namespace get the preferred pool');
    assert.deepEqual(ipsOf(await getService(env, 'team-b', 'plain')), [before]);
    // Restricting the pool to the label: a Service whose namespace loses it must leave.
    await apply(
      env,
      poolYAML('gold', ['198.51.100.1-198.51.100.4'], '  autoAssign: false\n  serviceAllocation:\n    priority: 10\n    namespaceSelectors:\n    - matchLabels: {tier: gold}\n'),
    );
    await apply(env, lbServiceYAML('team-b', 'pinned', { annotations: { 'herald.dev/address-pool': 'gold' } }));
    assert.deepEqual(await waitForIPs(env, 'team-b', 'pinned'), ['198.51.100.2']);
    await kubectl(env, ['label', 'namespace', 'team-b', 'tier-']);
    const c = await waitFor('refused after the label went', async () => {
      const cond = conditionOf(await getService(env, 'team-b', 'pinned'));
      return cond?.status === 'False' ? cond : undefined;
    });
    assert.equal(c.reason, 'PoolNotAllowed');
    assert.deepEqual(ipsOf(await getService(env, 'team-b', 'pinned')), []);
    // An automatically assigned Service of the namespace moves back to a pool that serves it.
    await waitFor('new left gold', async () => /^192\.0\.2\./.test(ipsOf(await getService(env, 'team-b', 'new'))[0] ?? ''));
    await kubectl(env, ['label', 'namespace', 'team-b', 'tier=gold']);
    const [back] = await waitForIPs(env, 'team-b', 'pinned');
    assert.match(back ?? '', /^198\.51\.100\.[1-4]$/);
  });

  it('leaves a deleted pool\'s Services without addresses, saying why', async () => {
    await apply(env, poolYAML('temp', ['203.0.113.1-203.0.113.2'], '  autoAssign: false\n'));
    await apply(env, lbServiceYAML('team-a', 'ontemp', { annotations: { 'metallb.io/address-pool': 'temp' } }));
    assert.deepEqual(await waitForIPs(env, 'team-a', 'ontemp'), ['203.0.113.1']);
    await kubectl(env, ['delete', 'ipaddresspool', '-n', NS, 'temp']);
    const c = await waitFor('failed', async () => {
      const cond = conditionOf(await getService(env, 'team-a', 'ontemp'));
      return cond?.status === 'False' ? cond : undefined;
    });
    assert.equal(c.reason, 'UnknownPool');
    assert.deepEqual(ipsOf(await getService(env, 'team-a', 'ontemp')), []);
    const evs = await eventsFor(env, 'team-a', 'ontemp');
    assert.ok(evs.some((e) => e.reason === 'ClearAssignment' && /203\.0\.113\.1/.test(e.message)));
    assert.ok(evs.some((e) => e.reason === 'AllocationFailed' && /pool "temp" does not exist/.test(e.message)));
  });

  it('exports the allocator metrics under MetalLB\'s names', async () => {
    const text = await ctl.metrics.registry.metrics();
    const value = (name: string, pool: string): number => Number(new RegExp(`^${name}\\{pool="${pool}"\\} (\\d+)`, 'm').exec(text)?.[1]);
    const main = (await getPool(env, 'main')).status;
    assert.equal(value('herald_allocator_addresses_total', 'main'), 4);
    assert.equal(value('herald_allocator_ipv4_addresses_total', 'main'), 4);
    assert.equal(value('herald_allocator_ipv6_addresses_total', 'main'), 0);
    assert.equal(value('herald_allocator_addresses_in_use_total', 'main'), main?.assignedIPv4);
    assert.equal(value('herald_allocator_ipv4_addresses_in_use_total', 'main'), main?.assignedIPv4);
    assert.equal(value('herald_allocator_services_allocated_total', 'main'), main?.assignedIPv4);
    assert.match(text, /^herald_config_errors\{kind="IPAddressPool"\} 1$/m, 'the overlap of pool "overlapping"');
    assert.match(text, /^herald_controller_reconcile_total\{result="allocated"\} \d+/m);
    assert.match(text, /^herald_controller_time_to_ip_seconds_count \d+/m);
  });
});
