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

  it('diffL2 from nothing: everything is won, every Service is new, nothing is stale', () => {
    const elections = electL2(SNAP, ALL);
    const owner = elections.get('192.0.2.201')?.winner as string;
    const d = diffL2(EMPTY_PLAN, planL2(elections, owner), new Map(), ALL, owner);
    assert.ok(d.won.includes('192.0.2.201'));
    assert.deepEqual(d.lost, []);
    assert.ok(d.newServices.includes('default/b'));
    assert.deepEqual(d.staleStatuses, []);
  });

  it('a takeover from a dead peer leaves the peer\'s status objects to the new winner', () => {
    const before = electL2(SNAP, ALL);
    const victim = before.get('192.0.2.200')?.winner as string;
    const live = new Set([...ALL].filter((n) => n !== victim));
    const after = electL2(SNAP, live);
    const heir = after.get('192.0.2.200')?.winner as string;
    const d = diffL2(planL2(before, heir), planL2(after, heir), before, live, heir);
    assert.ok(d.won.includes('192.0.2.200'));
    assert.deepEqual(
      d.staleStatuses.filter((s) => s.ipText === '192.0.2.200'),
      [{ service: 'default/a', ipText: '192.0.2.200', node: victim }],
    );
  });

  it('a move to a live node (a joiner) leaves its status objects alone: the old winner deletes its own', () => {
    const without = new Set(['n1', 'n2']);
    const before = electL2(SNAP, without);
    const after = electL2(SNAP, ALL);
    for (const [ip, e] of after) {
      const prev = before.get(ip)?.winner;
      if (e.winner !== 'n3' || !prev || prev === 'n3') continue;
      const joiner = diffL2(planL2(before, 'n3'), planL2(after, 'n3'), before, ALL, 'n3');
      assert.ok(!joiner.staleStatuses.some((s) => s.ipText === ip), 'the joiner does not delete the live old winner\'s object');
      const old = diffL2(planL2(before, prev), planL2(after, prev), before, ALL, prev);
      assert.ok(old.lost.includes(ip));
      assert.ok(old.staleStatuses.some((s) => s.ipText === ip && s.node === prev), 'the old winner deletes its own');
      assert.ok(old.removed.some((r) => r.ipText === ip));
      return;
    }
    assert.fail('no IP moved to the joiner in this fixture');
  });

  it('newServices names a Service once, when its first IP starts being announced here', () => {
    const elections = electL2(SNAP, ALL);
    const b4 = elections.get('192.0.2.201')?.winner as string;
    const first = diffL2(EMPTY_PLAN, planL2(elections, b4), new Map(), ALL, b4);
    assert.ok(first.newServices.includes('default/b'));
    const again = diffL2(planL2(elections, b4), planL2(elections, b4), elections, ALL, b4);
    assert.deepEqual(again.newServices, []);
    assert.deepEqual(again.added, []);
  });
});
