// herald's BGP speaker against GoBGP in the lab (iBGP): LOCAL_PREF and communities in
// GoBGP's RIB, ECMP in the kernel (the lab's FIB helper), HTTP, and Local policy.
import assert from 'node:assert/strict';
import type { LabPlan } from '../../lab/plan.js';
import {
  apply,
  bgpAdvertisement,
  bgpPeer,
  downLab,
  gobgpRib,
  httpFromExt,
  isRoot,
  moveEndpoints,
  pool,
  service,
  serviceIPs,
  upLab,
  waitNextHops,
  waitSessions,
} from './helpers.js';

const ALL = ['hl-node1', 'hl-node2', 'hl-node3'];

interface GobgpPath {
  nexthop?: string;
  attrs?: { type: number; value?: number; communities?: number[] }[];
}

(isRoot ? describe : describe.skip)('BGP with GoBGP (iBGP)', function () {
  this.timeout(120_000);
  let plan: LabPlan;

  before(async function () {
    this.timeout(300_000);
    plan = await upLab({ kind: 'gobgp', ibgp: true });
    await apply(
      pool('routed', { addresses: ['203.0.113.0/24', '2001:db8:ff::/120'], autoAssign: false }),
      bgpPeer('hl-router', { myASN: 64512, peerASN: 64512, peerAddress: '192.0.2.1', connectTime: '5s' }),
      bgpAdvertisement('routed', { ipAddressPools: ['routed'], localPref: 300, communities: ['65000:200'] }),
    );
  });

  after(async function () {
    this.timeout(60_000);
    await downLab();
  });

  it('routes with LOCAL_PREF and communities in GoBGP, ECMP in the kernel, reachable over HTTP', async () => {
    await waitSessions(plan, 'hl-router', 'Established');
    await apply(service('web', { pool: 'routed', dual: true }));
    const ips = await serviceIPs('web', 2);
    for (const ip of ips) await waitNextHops(plan, ip, ALL);
    const v4 = ips.find((i) => !i.includes(':')) ?? '';
    const rib = (await gobgpRib(plan, `${v4}/32`)) as Record<string, GobgpPath[]>;
    const paths = rib[`${v4}/32`] ?? [];
    assert.equal(paths.length, 3, JSON.stringify(rib));
    for (const p of paths) {
      // Path attribute type codes: 5 LOCAL_PREF, 8 COMMUNITIES (RFC 4271 §5.1.5, RFC 1997).
      assert.equal(p.attrs?.find((a) => a.type === 5)?.value, 300);
      assert.deepEqual(p.attrs?.find((a) => a.type === 8)?.communities, [65000 * 65536 + 200]);
    }
    for (const ip of ips) assert.ok(ALL.includes((await httpFromExt(plan, ip)) ?? ''), `HTTP to ${ip}`);
  });

  it('Local policy follows the ready endpoints', async () => {
    await apply(service('local', { pool: 'routed', policy: 'Local' }));
    const [ip = ''] = await serviceIPs('local');
    await moveEndpoints(plan, 'default/local', ['hl-node2']);
    await waitNextHops(plan, ip, ['hl-node2']);
    assert.equal(await httpFromExt(plan, ip), 'hl-node2');
    await moveEndpoints(plan, 'default/local', [], ALL);
    await waitNextHops(plan, ip, []);
  });
});
