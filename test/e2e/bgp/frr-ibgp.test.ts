// herald's BGP speaker against FRR in the lab, iBGP (router and nodes in AS 64512):
// LOCAL_PREF, empty AS_PATH, community aliases and aggregation as FRR's table shows them.
import assert from 'node:assert/strict';
import type { LabPlan } from '../../lab/plan.js';
import { apply, bgpAdvertisement, bgpPeer, downLab, frrPaths, httpFromExt, isRoot, NS, pool, service, serviceIPs, upLab, waitNextHops, waitSessions } from './helpers.js';

const ALL = ['hl-node1', 'hl-node2', 'hl-node3'];

(isRoot ? describe : describe.skip)('BGP with FRR (iBGP)', function () {
  this.timeout(120_000);
  let plan: LabPlan;

  before(async function () {
    this.timeout(300_000);
    plan = await upLab({ kind: 'frr', ibgp: true });
    await apply(
      pool('routed', { addresses: ['203.0.113.0/24', '2001:db8:ff::/120'], autoAssign: false }),
      { apiVersion: 'herald.dev/v1beta1', kind: 'Community', metadata: { name: 'aliases', namespace: NS }, spec: { communities: [{ name: 'no-export', value: '65535:65281' }, { name: 'site', value: 'large:64512:7:8' }] } },
      bgpPeer('hl-router', { myASN: 64512, peerASN: 64512, peerAddress: '192.0.2.1', connectTime: '5s' }),
      bgpAdvertisement('hosts', { ipAddressPools: ['routed'], localPref: 250, communities: ['no-export', 'site', '65000:1'] }),
      bgpAdvertisement('aggregate', { ipAddressPools: ['routed'], aggregationLength: 28, aggregationLengthV6: 124, localPref: 50 }),
    );
  });

  after(async function () {
    this.timeout(60_000);
    await downLab();
  });

  it('host routes with LOCAL_PREF, an empty AS_PATH and the aliased communities, ECMP over every node', async () => {
    await waitSessions(plan, 'hl-router', 'Established');
    await apply(service('web', { pool: 'routed', dual: true }));
    const ips = await serviceIPs('web', 2);
    const v4 = ips.find((i) => !i.includes(':')) ?? '';
    const v6 = ips.find((i) => i.includes(':')) ?? '';
    await waitNextHops(plan, v4, ALL);
    await waitNextHops(plan, v6, ALL);
    for (const prefix of [`${v4}/32`, `${v6}/128`]) {
      const paths = await frrPaths(plan, prefix);
      assert.equal(paths.length, 3, prefix);
      for (const p of paths) {
        assert.equal(p.locPrf, 250, prefix);
        assert.equal(p.aspath?.length, 0, 'iBGP: empty AS_PATH');
        assert.equal(p.community?.string, '65000:1 no-export');
        assert.equal(p.largeCommunity?.string, '64512:7:8');
      }
    }
    assert.ok(ALL.includes((await httpFromExt(plan, v6)) ?? ''));
  });

  it('the aggregates of a second advertisement, with their own LOCAL_PREF', async () => {
    const ips = await serviceIPs('web', 2);
    const v4 = ips.find((i) => !i.includes(':')) ?? '';
    const agg4 = `${v4.split('.').slice(0, 3).join('.')}.${Number(v4.split('.')[3]) & ~15}/28`;
    const paths = await frrPaths(plan, agg4);
    assert.equal(paths.length, 3, agg4);
    for (const p of paths) {
      assert.equal(p.locPrf, 50);
      assert.equal(p.community, undefined);
    }
    const v6 = ips.find((i) => i.includes(':')) ?? '';
    assert.equal((await frrPaths(plan, `${v6.replace(/[0-9a-f]$/, '0')}/124`)).length, 3);
  });
});
