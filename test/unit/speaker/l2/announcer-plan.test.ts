import assert from 'node:assert/strict';
import { electL2 } from '../../../../speaker/election.js';
import { diffL2, EMPTY_PLAN, planL2 } from '../../../../speaker/l2/plan.js';
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
});
