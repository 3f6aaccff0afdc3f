// herald's BGP speaker against BIRD 2 in the lab (eBGP, TCP-MD5): routes with their
// communities in BIRD's table, ECMP in the kernel, HTTP from hl-ext, and withdrawal.
import assert from 'node:assert/strict';
import type { LabPlan } from '../../lab/plan.js';
import {
  apply,
  bgpAdvertisement,
  bgpPeer,
  birdRoute,
  deleteObject,
  downLab,
  httpFromExt,
  isRoot,
  passwordSecret,
  pool,
  service,
  serviceIPs,
  upLab,
  waitNextHops,
  waitSessions,
} from './helpers.js';

const KEY = 'herald-bird-key';
const ALL = ['hl-node1', 'hl-node2', 'hl-node3'];

(isRoot ? describe : describe.skip)('BGP with BIRD (eBGP, TCP-MD5)', function () {
  this.timeout(120_000);
  let plan: LabPlan;

  before(async function () {
    this.timeout(300_000);
    plan = await upLab({ kind: 'bird', ibgp: false, password: KEY });
    await apply(
      pool('routed', { addresses: ['203.0.113.0/24', '2001:db8:ff::/120'], autoAssign: false }),
      passwordSecret('router-key', KEY),
      bgpPeer('hl-router', { myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.1', passwordSecret: { name: 'router-key' }, connectTime: '5s' }),
      bgpAdvertisement('routed', { ipAddressPools: ['routed'], communities: ['65000:100', 'large:64512:1:2'] }),
    );
  });

  after(async function () {
    this.timeout(60_000);
    await downLab();
  });

  it('IPv4 and IPv6 routes in BIRD with their communities, ECMP in the kernel, reachable over HTTP', async () => {
    await waitSessions(plan, 'hl-router', 'Established');
    await apply(service('web', { pool: 'routed', dual: true }));
    const ips = await serviceIPs('web', 2);
    for (const ip of ips) await waitNextHops(plan, ip, ALL);
    const v4 = ips.find((i) => !i.includes(':')) ?? '';
    const table = await birdRoute(plan, `${v4}/32`);
    assert.match(table, /BGP\.community: \(65000,100\)/);
    assert.match(table, /BGP\.large_community: \(64512, 1, 2\)/);
    assert.match(table, /BGP\.as_path: 64512/);
    for (const ip of ips) assert.ok(ALL.includes((await httpFromExt(plan, ip)) ?? ''), `HTTP to ${ip}`);
  });

  it('withdraws on Service delete', async () => {
    const ips = await serviceIPs('web', 2);
    await deleteObject('service', 'web');
    for (const ip of ips) await waitNextHops(plan, ip, []);
  });
});
