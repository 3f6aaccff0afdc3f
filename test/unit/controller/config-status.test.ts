import { strict as assert } from 'node:assert';
import type { AdvertisementStatus, Condition } from '../../../shared/api/types.js';
import type { ConfigResult } from '../../../shared/config/types.js';
import { describeErrors, planConfigStatus, usedInModel, type ConfigKind, type ConfigObjectLike } from '../../../controller/config-status.js';
import { bfd, bgpAdv, build, community, l2, peer, pool, secret } from '../shared/config/factories.js';

const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-01T01:00:00Z';

type Obj = ConfigObjectLike & { kind: ConfigKind; metadata: { name?: string } };

function plan(config: ConfigResult, obj: Obj, now = T0) {
  const name = obj.metadata.name ?? '';
  const errors = config.errors.filter((e) => e.kind === obj.kind && e.name === name);
  return planConfigStatus({ kind: obj.kind, obj, used: usedInModel(obj.kind, name, config), errors, now });
}

const cond = (s: AdvertisementStatus, type: string): Condition | undefined => s.conditions?.find((c) => c.type === type);
const written = <T extends Obj>(obj: T, status: AdvertisementStatus): T => ({ ...obj, status });

describe('controller/config-status', () => {
  const lan = pool('lan', { addresses: ['192.0.2.200-192.0.2.250'] });

  it('a valid object: Ready, not Degraded, no event; once written nothing changes', () => {
    const adv = l2('l2', { ipAddressPools: ['lan'] }, { generation: 3 });
    const config = build({ pools: [lan], l2Advertisements: [adv] });
    const p = plan(config, adv);
    assert.equal(p.changed, true);
    assert.equal(p.status.observedGeneration, 3);
    assert.deepEqual(
      p.status.conditions?.map((c) => [c.type, c.status, c.reason, c.observedGeneration]),
      [
        ['Ready', 'True', 'Valid', 3],
        ['Degraded', 'False', 'NoProblems', 3],
      ],
    );
    assert.deepEqual(p.events, []);
    const again = plan(config, written(adv, p.status), T1);
    assert.equal(again.changed, false);
    assert.deepEqual(again.events, []);
  });

  it('an invalid object is not Ready, naming the field, with one Warning; fixed, it is Ready again with a Normal event', () => {
    const bad = l2('l2', { ipAddressPools: ['lan'], interfaces: ['eth0', 'not/an/interface'] });
    const p = plan(build({ pools: [lan], l2Advertisements: [bad] }), bad);
    const ready = cond(p.status, 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'InvalidConfiguration');
    assert.match(ready?.message ?? '', /^spec\.interfaces\[1\]: /);
    assert.equal(cond(p.status, 'Degraded')?.status, 'False');
    assert.deepEqual(p.events.map((e) => `${e.type} ${e.reason}`), ['Warning InvalidConfiguration']);
    assert.equal(p.events[0]?.message, ready?.message);

    // The next pass, with the same problem: written already, said already.
    const same = plan(build({ pools: [lan], l2Advertisements: [bad] }), written(bad, p.status), T1);
    assert.equal(same.changed, false);
    assert.deepEqual(same.events, []);

    const fixed = { ...l2('l2', { ipAddressPools: ['lan'], interfaces: ['eth0'] }), status: p.status };
    const f = plan(build({ pools: [lan], l2Advertisements: [fixed] }), fixed, T1);
    assert.equal(cond(f.status, 'Ready')?.status, 'True');
    assert.equal(cond(f.status, 'Ready')?.lastTransitionTime, T1, 'the transition is when it flipped');
    assert.deepEqual(f.events.map((e) => `${e.type} ${e.reason}`), ['Normal Valid']);
  });

  it('a peer whose password Secret is missing is left out: UnresolvedReference, naming the Secret; with the Secret it is Ready', () => {
    const p1 = peer('router', { passwordSecret: { name: 'bgp-password' } });
    const p = plan(build({ peers: [p1] }), p1);
    const ready = cond(p.status, 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'UnresolvedReference');
    assert.match(ready?.message ?? '', /^spec\.passwordSecret: Secret "bgp-password" in namespace herald-system does not exist/);
    const ok = plan(build({ peers: [p1], secrets: [secret('bgp-password', { password: 'hunter2' })] }), written(p1, p.status), T1);
    assert.equal(cond(ok.status, 'Ready')?.status, 'True');
    assert.deepEqual(ok.events.map((e) => e.reason), ['Valid']);
  });

  it('a peer naming an invalid BFD profile is left out; the profile itself says why it is invalid', () => {
    const profile = bfd('fast', { detectMultiplier: 1 });
    const p1 = peer('router', { bfdProfile: 'fast' });
    const config = build({ peers: [p1], bfdProfiles: [profile] });
    assert.equal(cond(plan(config, p1).status, 'Ready')?.status, 'False');
    const pr = cond(plan(config, profile).status, 'Ready');
    assert.equal(pr?.status, 'False');
    assert.match(pr?.message ?? '', /spec\.detectMultiplier/);
  });

  it('used in part: a BGPAdvertisement naming a peer that does not exist is Ready and Degraded, with a Warning', () => {
    const adv = bgpAdv('to-router', { ipAddressPools: ['lan'], peers: ['nobody'] });
    const p = plan(build({ pools: [lan], bgpAdvertisements: [adv] }), adv);
    assert.equal(cond(p.status, 'Ready')?.status, 'True');
    assert.match(cond(p.status, 'Ready')?.message ?? '', /in part/);
    const d = cond(p.status, 'Degraded');
    assert.equal(d?.status, 'True');
    assert.equal(d?.reason, 'UnresolvedReference');
    assert.match(d?.message ?? '', /^spec\.peers\[0\]: BGPPeer "nobody" does not exist/);
    assert.deepEqual(p.events.map((e) => `${e.type} ${e.reason}`), ['Warning UnresolvedReference']);
  });

  it('an alias defined twice: the later Community is Degraded (Conflict, naming the older one), the older one is not', () => {
    const older = community('first', [{ name: 'upstream', value: '65000:100' }]);
    const newer = community('second', [
      { name: 'upstream', value: '65000:200' },
      { name: 'local', value: '65000:300' },
    ]);
    const config = build({ communities: [newer, older] });
    const n = plan(config, newer);
    assert.equal(cond(n.status, 'Ready')?.status, 'True', 'its other alias is usable');
    assert.equal(cond(n.status, 'Degraded')?.reason, 'Conflict');
    assert.match(cond(n.status, 'Degraded')?.message ?? '', /^spec\.communities\[0\]\.name: alias "upstream" is already defined by Community "first"/);
    assert.equal(cond(plan(config, older).status, 'Degraded')?.status, 'False');
    const broken = community('third', [{ name: '65000:1', value: '65000:1' }]);
    assert.equal(cond(plan(build({ communities: [broken] }), broken).status, 'Ready')?.reason, 'InvalidConfiguration');
  });

  it('keeps the conditions others wrote, and a message within what a condition holds', () => {
    const adv = l2('l2', { ipAddressPools: ['lan'] });
    const foreign: Condition = { type: 'example.com/Audited', status: 'True', lastTransitionTime: T0, reason: 'Seen', message: 'by someone else' };
    const p = plan(build({ pools: [lan], l2Advertisements: [adv] }), written(adv, { conditions: [foreign] }));
    assert.deepEqual(p.status.conditions?.map((c) => c.type), ['example.com/Audited', 'Ready', 'Degraded']);
    const many = Array.from({ length: 2000 }, (_, i) => ({ kind: 'L2Advertisement', name: 'l2', field: `spec.interfaces[${i}]`, message: 'x'.repeat(30), reason: 'Invalid' as const }));
    const text = describeErrors(many);
    assert.equal(text.length, 32_768);
    assert.ok(text.endsWith('…'));
  });
});
