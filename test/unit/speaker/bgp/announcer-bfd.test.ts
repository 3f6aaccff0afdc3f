import { strict as assert } from 'node:assert';
import type { BGPSessionStateStatus } from '../../../../shared/api/types.js';
import type { BFDHandle, BFDPeer, BFDSessions, BFDStateCallback } from '../../../../speaker/bfd/index.js';
import { Diag } from '../../../../speaker/bfd/index.js';
import { sessionStateName } from '../../../../speaker/bgp/status.js';
import { harness } from './announcer-fakes.js';
import { bgpAdv, peer, pool, snapshotOf } from './planner-helpers.js';

/** BFD sessions the test drives by hand. */
class FakeBFD {
  readonly added: BFDPeer[] = [];
  readonly removed: string[] = [];
  private subs = new Map<string, Set<BFDStateCallback>>();
  private states = new Map<string, 'Up' | 'Down' | 'Init' | 'AdminDown'>();
  add(p: BFDPeer): BFDHandle {
    this.added.push(p);
    const subs = new Set<BFDStateCallback>();
    this.subs.set(p.address, subs);
    this.states.set(p.address, 'Down');
    return {
      localDiscriminator: this.added.length,
      onState: (cb) => {
        subs.add(cb);
        return () => void subs.delete(cb);
      },
      state: () => this.states.get(p.address)!,
      diag: () => Diag.None,
      status: () => this.states.get(p.address)!,
      reconfigure: () => {},
      remove: () => void this.removed.push(p.address),
    };
  }
  set(address: string, state: 'Up' | 'Down', diag: Diag = Diag.None): void {
    this.states.set(address, state);
    for (const cb of this.subs.get(address) ?? []) cb(state, diag, { remoteState: state, remoteDiag: Diag.None } as never);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const config = {
  pools: [pool('bgp', { addresses: ['203.0.113.0/24'] })],
  peers: [peer('r1', { bfdProfile: 'fast' }), peer('r2', { peerAddress: '192.0.2.2' })],
  bgpAdvertisements: [bgpAdv('all')],
  bfdProfiles: [
    { apiVersion: 'herald.dev/v1beta1' as const, kind: 'BFDProfile' as const, metadata: { name: 'fast', namespace: 'herald-system' }, spec: { receiveInterval: 100, transmitInterval: 100 } },
  ],
};

describe('BGP announcer with BFD', () => {
  it('opens BFD only for peers with a profile, tears the BGP session down when BFD goes from Up to Down, and reports bfdStatus', async () => {
    const bfd = new FakeBFD();
    const h = harness({ bfd: bfd as unknown as BFDSessions });
    h.announcer.update(snapshotOf({ config, services: [{ name: 'web', ips: ['203.0.113.5'] }] }));
    assert.deepEqual(bfd.added.map((p) => [p.address, p.profile.receiveInterval]), [['192.0.2.1', 100]]);
    const r1 = h.live('r1');

    bfd.set('192.0.2.1', 'Up');
    assert.ok(!r1.calls.some((c) => c.startsWith('linkDown')), 'Up changes nothing');
    bfd.set('192.0.2.1', 'Down', Diag.ControlDetectionTimeExpired);
    assert.ok(r1.calls.some((c) => c.startsWith('linkDown')), `BGP torn down: ${r1.calls.join(',')}`);
    assert.ok(!h.live('r2').calls.some((c) => c.startsWith('linkDown')), 'the other session is left alone');

    await h.settle();
    const st = (name: string) =>
      h.writer.objects.get(`BGPSessionState/herald-system/${sessionStateName('n1', name)}`)?.status as BGPSessionStateStatus | undefined;
    assert.equal(st('r1')?.bfdStatus, 'Down');
    assert.equal(st('r2')?.bfdStatus, 'N/A');

    await h.announcer.stop();
    assert.deepEqual(bfd.removed, ['192.0.2.1']);
  });
});
