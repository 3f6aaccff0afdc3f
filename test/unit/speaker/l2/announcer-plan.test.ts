import assert from 'node:assert/strict';
import { electL2 } from '../../../../speaker/election.js';
import { diffL2, EMPTY_PLAN, planL2, planOnBehalf } from '../../../../speaker/l2/plan.js';
import { ad, config, node, service, snapshot } from '../election-helpers.js';

const NODES = [node('n1'), node('n2'), node('n3')];
const SNAP = snapshot(config([ad('l2', ['l2'])]), NODES, [
  service('a', ['192.0.2.200']),
  service('b', ['192.0.2.201', '2001:db8:0:2::201']),
  service('c', ['192.0.2.202']),
  service('d', ['192.0.2.203'], { policy: 'Local', endpoints: ['n3'] }),
]);
const ALL = new Set(['n1', 'n2', 'n3']);

describe('speaker/l2/plan', () => {
  it('planL2 keeps exactly the IPs this node wins, with their Services and interfaces', () => {
    const elections = electL2(SNAP, ALL);
    for (const self of ['n1', 'n2', 'n3']) {
      const plan = planL2(elections, self);
      const mine = [...elections.values()].filter((e) => e.winner === self).map((e) => e.ipText);
      assert.deepEqual([...plan.wanted.keys()], mine);
      for (const ip of mine) assert.deepEqual(plan.services.get(ip), elections.get(ip)?.services);
    }
    assert.ok(planL2(elections, 'n3').wanted.has('192.0.2.203'), 'the Local service only on its endpoint node');
  });

  it('diffL2 from nothing: everything is won, every Service is new', () => {
    const elections = electL2(SNAP, ALL);
    const owner = elections.get('192.0.2.201')?.winner as string;
    const d = diffL2(EMPTY_PLAN, planL2(elections, owner));
    assert.ok(d.won.includes('192.0.2.201'));
    assert.deepEqual(d.lost, []);
    assert.ok(d.newServices.includes('default/b'));
    assert.ok(d.added.some((a) => a.service === 'default/b' && a.ipText === '192.0.2.201'));
  });

  it('a peer going down moves its IPs to the next node: won there, and nowhere lost', () => {
    const before = electL2(SNAP, ALL);
    const victim = before.get('192.0.2.200')?.winner as string;
    const live = new Set([...ALL].filter((n) => n !== victim));
    const after = electL2(SNAP, live);
    const heir = after.get('192.0.2.200')?.winner as string;
    const d = diffL2(planL2(before, heir), planL2(after, heir));
    assert.ok(d.won.includes('192.0.2.200'));
    assert.deepEqual(d.lost, [], 'losing a peer takes nothing from the others');
    assert.deepEqual(d.added.filter((a) => a.ipText === '192.0.2.200'), [{ service: 'default/a', ipText: '192.0.2.200' }]);
  });

  it('a joiner that sorts first takes IPs: lost and removed on the old winner', () => {
    const without = new Set(['n1', 'n2']);
    const before = electL2(SNAP, without);
    const after = electL2(SNAP, ALL);
    let moved = 0;
    for (const [ip, e] of after) {
      const prev = before.get(ip)?.winner;
      if (e.winner !== 'n3' || !prev || prev === 'n3') continue;
      moved++;
      const old = diffL2(planL2(before, prev), planL2(after, prev));
      assert.ok(old.lost.includes(ip));
      assert.ok(old.removed.some((r) => r.ipText === ip));
      assert.ok(diffL2(planL2(before, 'n3'), planL2(after, 'n3')).won.includes(ip));
    }
    assert.ok(moved > 0, 'some IP moved to the joiner in this fixture');
  });

  it('newServices names a Service once, when its first IP starts being announced here', () => {
    const elections = electL2(SNAP, ALL);
    const b4 = elections.get('192.0.2.201')?.winner as string;
    const first = diffL2(EMPTY_PLAN, planL2(elections, b4));
    assert.ok(first.newServices.includes('default/b'));
    const again = diffL2(planL2(elections, b4), planL2(elections, b4));
    assert.deepEqual(again.newServices, []);
    assert.deepEqual(again.added, []);
  });

  it('planOnBehalf: the IPs of a held node go to exactly the node that would win them without it, with its MACs; unknown MACs, no answer', () => {
    const full = electL2(SNAP, ALL);
    const held = full.get('192.0.2.201')?.winner as string;
    const without = electL2(SNAP, new Set([...ALL].filter((n) => n !== held)));
    const macs = new Map([['eth0', '02:00:00:00:00:22']]);
    const heldIPs = [...full.values()].filter((e) => e.winner === held).map((e) => e.ipText);
    const answeredBy = new Map<string, string[]>();
    for (const self of ALL) {
      const plan = planOnBehalf(full, without, self, new Set([held]), (node) => (node === held ? macs : undefined));
      if (self === held) assert.equal(plan.size, 0);
      for (const [ip, w] of plan) {
        assert.equal(w.onBehalfOf, macs);
        assert.equal(without.get(ip)?.winner, self);
        answeredBy.set(ip, [...(answeredBy.get(ip) ?? []), self]);
      }
    }
    // Every IP of the held node that another node could announce (not 192.0.2.203: Local, endpoints on n3 only).
    const coverable = heldIPs.filter((ip) => without.get(ip)?.winner !== undefined);
    assert.ok(coverable.length >= 2);
    assert.deepEqual([...answeredBy.keys()].sort(), coverable.sort());
    for (const nodes of answeredBy.values()) assert.equal(nodes.length, 1, 'by one node');
    const other = [...ALL].find((n) => n !== held) as string;
    assert.equal(planOnBehalf(full, without, other, new Set([held]), () => undefined).size, 0, 'no MACs known: nothing');
    assert.equal(planOnBehalf(full, without, other, new Set(), () => macs).size, 0, 'nobody held: nothing');
  });
});
