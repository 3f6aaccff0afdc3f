// Router sanity with each daemon the lab can run: stand-in peers (gobgpd) in the node
// namespaces open sessions, their routes land in hl-router's kernel table with ECMP,
// IPv4 and IPv6, and hl-ext reaches the nodes through them. With a TCP-MD5 key, a peer
// with the wrong key stays out. Root only; uses the real hl-* namespaces.
import assert from 'node:assert/strict';
import { startStandIn, type StandIn } from '../../lab/bgp-stand-in.js';
import { labDown } from '../../lab/lab-down.js';
import { routerNextHops } from '../../lab/lab-status.js';
import { labUp } from '../../lab/lab-up.js';
import { labPaths } from '../../lab/paths.js';
import { NODE_ASN, ROUTER_ASN, type LabPlan } from '../../lab/plan.js';
import { httpGet } from '../../lab/probes.js';
import type { RouterKind } from '../../lab/router.js';
import { createRouter } from '../../lab/routers.js';
import { holdVip, hostLabFootprint, isRoot, leftovers, waitFor } from './helpers.js';

const paths = labPaths();

interface Case {
  kind: RouterKind;
  ibgp: boolean;
  password?: string;
}

const CASES: Case[] = [
  { kind: 'frr', ibgp: true, password: 'lab-key-1' },
  { kind: 'bird', ibgp: false, password: 'lab-key-2' },
  { kind: 'bird', ibgp: true },
  { kind: 'gobgp', ibgp: false, password: 'lab-key-3' },
  { kind: 'gobgp', ibgp: true },
];

(isRoot ? describe : describe.skip)('lab routers', function () {
  this.timeout(120_000);
  let hostBefore: string[];

  before(async function () {
    await labDown(paths);
    hostBefore = await hostLabFootprint();
  });

  after(async function () {
    await labDown(paths);
    assert.deepEqual(await leftovers(paths), []);
    assert.deepEqual(await hostLabFootprint(), hostBefore);
  });

  CASES.forEach((c, i) => {
    const label = `${c.kind}, ${c.ibgp ? 'iBGP' : 'eBGP'}${c.password ? ', TCP-MD5' : ''}`;
    describe(label, function () {
      let plan: LabPlan;
      const standIns: StandIn[] = [];
      const v4 = `203.0.113.${20 + i}`;
      const v6 = `2001:db8:ff::${20 + i}`;

      before(async function () {
        const opts = { kind: c.kind, ibgp: c.ibgp, ...(c.password ? { password: c.password } : {}) };
        ({ plan } = await labUp(paths, { nodes: 3, router: opts, components: false, api: false }));
      });

      after(async function () {
        for (const s of standIns) await s.stop().catch(() => {});
        const r = await labDown(paths);
        assert.deepEqual(r.problems, []);
        assert.deepEqual(await leftovers(paths), []);
      });

      it('installs routes from two peers as ECMP kernel routes (IPv4 and IPv6) that ext can reach', async function () {
        const routerAsn = c.ibgp ? NODE_ASN : ROUTER_ASN;
        const started = Date.now();
        const peers = plan.nodes.map((n, k) =>
          startStandIn(paths, plan, n, {
            localAsn: NODE_ASN,
            routerAsn,
            // The third node has the wrong key when there is one.
            ...(c.password ? { password: k < 2 ? c.password : 'wrong-key' } : {}),
          }),
        );
        standIns.push(...(await Promise.all(peers)));
        for (const s of standIns.slice(0, 2)) {
          await s.announce(`${v4}/32`);
          await s.announce(`${v6}/128`);
        }
        for (const ip of [v4, v6]) await holdVip(plan.nodes.map((n) => n.ns), ip);
        await waitFor(
          'ECMP routes in hl-router',
          async () => {
            const [a, b] = await Promise.all([routerNextHops(plan, v4), routerNextHops(plan, v6)]);
            return a.length === 2 && b.length === 2 ? true : undefined;
          },
          40_000,
          200,
        );
        assert.deepEqual(await routerNextHops(plan, v4), ['hl-node1', 'hl-node2']);
        assert.deepEqual(await routerNextHops(plan, v6), ['hl-node1', 'hl-node2']);
        for (const ip of [v4, v6]) {
          const body = await httpGet('hl-ext', ip);
          assert.ok(body === 'hl-node1\n' || body === 'hl-node2\n', `ext reached ${ip}: ${String(body)}`);
        }

        const router = createRouter({ paths, plan, opts: c });
        const up = (await router.sessions()).filter((s) => s.established).map((s) => s.peer);
        for (const peer of ['192.0.2.11', '192.0.2.12', '2001:db8:0:2::11', '2001:db8:0:2::12']) assert.ok(up.includes(peer), `${peer} in ${up.join(' ')}`);
        if (c.password) {
          // gobgpd's first connect comes 5–10 s after it starts; by 12 s it has tried.
          await new Promise((r) => setTimeout(r, Math.max(0, 12_000 - (Date.now() - started))));
          const again = (await router.sessions()).filter((s) => s.established).map((s) => s.peer);
          assert.ok(!again.includes('192.0.2.13') && !again.includes('2001:db8:0:2::13'), `the wrong key is refused: ${again.join(' ')}`);
          const seen = await standIns[2]?.sessions();
          assert.ok([...(seen?.values() ?? [])].every((st) => st !== 'Established'));
        }
      });
    });
  });
});
