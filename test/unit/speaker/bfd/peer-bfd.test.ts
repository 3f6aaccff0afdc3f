// PeerBFD, the announcer's view of BFD for one BGP peer: no profile means no session and
// `N/A`; a profile opens one session tied to the BGP session; interval changes go to the
// running session, a new address or hop mode replaces it; removal says AdminDown.
import { strict as assert } from 'node:assert';
import type { BFDProfileModel } from '../../../../shared/config/types.js';
import { PeerBFD } from '../../../../speaker/bfd/peer-bfd.js';
import type { BFDState } from '../../../../speaker/bfd/protocol.js';
import type { BFDHandle, BFDPeer, BFDStateCallback } from '../../../../speaker/bfd/session.js';
import { bfdStatus } from '../../../../speaker/bfd/status.js';

const fast: BFDProfileModel = { name: 'fast', receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3, echoInterval: 50, echoMode: false, passiveMode: false, minimumTtl: 254 };

class FakeSessions {
  readonly added: BFDPeer[] = [];
  readonly handles: (BFDHandle & { removed: boolean; reconfigured: BFDProfileModel[]; emit(s: BFDState, d: number): void })[] = [];
  add(peer: BFDPeer): BFDHandle {
    this.added.push(peer);
    let state: BFDState = 'Down';
    let diag = 0;
    const subs = new Set<BFDStateCallback>();
    const h = {
      localDiscriminator: this.added.length,
      removed: false,
      reconfigured: [] as BFDProfileModel[],
      onState: (cb: BFDStateCallback) => {
        subs.add(cb);
        return () => subs.delete(cb);
      },
      state: () => state,
      diag: () => diag,
      status: () => bfdStatus(state, diag),
      reconfigure: (p: BFDProfileModel) => h.reconfigured.push(p),
      remove: () => {
        h.removed = true;
      },
      emit: (s: BFDState, d: number) => {
        state = s;
        diag = d;
        for (const cb of [...subs]) cb(s, d, { remoteState: 'Up', remoteDiag: 0 });
      },
    };
    this.handles.push(h);
    return h;
  }
}

describe('speaker/bfd PeerBFD', () => {
  it('no profile: no BFD session, bfdStatus N/A', () => {
    const s = new FakeSessions();
    const p = new PeerBFD(s, { linkDown: () => assert.fail() }, { peerAddress: '192.0.2.1', ebgpMultiHop: false });
    assert.equal(p.status(), 'N/A');
    assert.equal(s.added.length, 0);
    p.update({ peerAddress: '192.0.2.9', ebgpMultiHop: false });
    assert.equal(s.added.length, 0);
    p.remove();
  });

  it('ties a BFD session to the BGP session and follows the configuration', () => {
    const s = new FakeSessions();
    const downs: string[] = [];
    let changes = 0;
    const p = new PeerBFD(s, { linkDown: (r) => downs.push(r) }, { peerAddress: '192.0.2.1', sourceAddress: '192.0.2.11', ebgpMultiHop: false, profile: fast }, () => changes++);
    assert.deepEqual(s.added, [{ address: '192.0.2.1', localAddress: '192.0.2.11', multihop: false, profile: fast }]);
    assert.equal(p.status(), 'Down');
    const h = s.handles[0]!;
    h.emit('Up', 0);
    assert.equal(p.status(), 'Up');
    h.emit('Down', 1);
    assert.deepEqual(downs, ['BFD down: Control Detection Time Expired']);
    assert.equal(p.status(), 'Down (Control Detection Time Expired)');
    assert.equal(changes, 2, 'each state change reported');

    // New intervals: the same session, reconfigured.
    const slower = { ...fast, transmitInterval: 300 };
    p.update({ peerAddress: '192.0.2.1', sourceAddress: '192.0.2.11', ebgpMultiHop: false, profile: slower });
    assert.equal(s.added.length, 1);
    assert.deepEqual(h.reconfigured, [slower]);
    p.update({ peerAddress: '192.0.2.1', sourceAddress: '192.0.2.11', ebgpMultiHop: false, profile: { ...slower, name: 'renamed' } });
    assert.equal(h.reconfigured.length, 1, 'a new name alone changes nothing on the wire');

    // Multihop now: a new session, the old one told AdminDown and untied.
    p.update({ peerAddress: '192.0.2.1', sourceAddress: '192.0.2.11', ebgpMultiHop: true, profile: slower });
    assert.equal(h.removed, true);
    assert.equal(s.added.length, 2);
    assert.equal(s.added[1]!.multihop, true);
    h.emit('Up', 0);
    h.emit('Down', 1);
    assert.equal(downs.length, 1, 'the old session no longer reaches BGP');

    // Profile removed: no session, N/A.
    p.update({ peerAddress: '192.0.2.1', sourceAddress: '192.0.2.11', ebgpMultiHop: true });
    assert.equal(s.handles[1]!.removed, true);
    assert.equal(p.status(), 'N/A');
    p.update({ peerAddress: '192.0.2.1', ebgpMultiHop: false, profile: fast });
    assert.equal(s.added.length, 3);
    p.remove();
    assert.equal(s.handles[2]!.removed, true);
    assert.equal(p.status(), 'N/A');
  });
});
