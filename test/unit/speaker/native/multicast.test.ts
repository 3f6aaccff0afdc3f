import assert from 'node:assert/strict';
import { MulticastMemberships } from '../../../../speaker/native/multicast.js';

/** Records what the addon was asked; `capacity` joins per socket before ENOBUFS. */
function fakeNative(capacity = Infinity) {
  const calls: string[] = [];
  const perFd = new Map<number, number>();
  let next = 10;
  return {
    calls,
    mcastOpen: () => {
      calls.push(`open ${next}`);
      perFd.set(next, 0);
      return next++;
    },
    mcastJoin: (fd: number, ifindex: number, group: string) => {
      if ((perFd.get(fd) ?? 0) >= capacity) throw Object.assign(new Error('ENOBUFS'), { code: 'ENOBUFS' });
      perFd.set(fd, (perFd.get(fd) ?? 0) + 1);
      calls.push(`join ${fd} ${ifindex} ${group}`);
    },
    mcastLeave: (fd: number, ifindex: number, group: string) => {
      calls.push(`leave ${fd} ${ifindex} ${group}`);
    },
    closeFd: (fd: number) => {
      calls.push(`close ${fd}`);
    },
  };
}

describe('native/multicast memberships', () => {
  it('joins a group once per interface and leaves it with its last user', () => {
    const native = fakeNative();
    const m = new MulticastMemberships(native);
    assert.equal(m.join(2, 'ff02::1:ff00:10'), true);
    // 2001:db8::10 and 2001:db8:1::10 share a solicited-node group.
    assert.equal(m.join(2, 'FF02:0:0:0:0:1:FF00:0010'), false);
    assert.equal(m.join(3, 'ff02::1:ff00:10'), true);
    assert.deepEqual(m.groups(), ['2/ff02::1:ff00:10', '3/ff02::1:ff00:10']);
    assert.equal(m.leave(2, 'ff02::1:ff00:10'), false);
    assert.equal(m.leave(2, 'ff02::1:ff00:10'), true);
    assert.equal(m.leave(2, 'ff02::1:ff00:10'), false);
    assert.deepEqual(native.calls, ['open 10', 'join 10 2 ff02::1:ff00:10', 'join 10 3 ff02::1:ff00:10', 'leave 10 2 ff02::1:ff00:10']);
  });

  it('opens another socket when one runs out of membership memory', () => {
    const native = fakeNative(2);
    const m = new MulticastMemberships(native);
    for (const g of ['ff02::1:ff00:1', 'ff02::1:ff00:2', 'ff02::1:ff00:3']) m.join(2, g);
    assert.deepEqual(native.calls, ['open 10', 'join 10 2 ff02::1:ff00:1', 'join 10 2 ff02::1:ff00:2', 'open 11', 'join 11 2 ff02::1:ff00:3']);
    m.leave(2, 'ff02::1:ff00:1');
    assert.equal(native.calls.at(-1), 'leave 10 2 ff02::1:ff00:1');
    m.close();
    assert.deepEqual(native.calls.slice(-2), ['close 10', 'close 11']);
    assert.deepEqual(m.groups(), []);
  });

  it('rejects what is not an IPv6 multicast group or an interface index', () => {
    const m = new MulticastMemberships(fakeNative());
    assert.throws(() => m.join(2, '2001:db8::1'), TypeError);
    assert.throws(() => m.join(2, '192.0.2.1'), TypeError);
    assert.throws(() => m.join(0, 'ff02::1'), TypeError);
  });

  it('passes other errors on without recording the group', () => {
    const native = { ...fakeNative(), mcastJoin: () => { throw Object.assign(new Error('ENODEV'), { code: 'ENODEV' }); } };
    const m = new MulticastMemberships(native);
    assert.throws(() => m.join(99, 'ff02::1:ff00:1'), /ENODEV/);
    assert.deepEqual(m.groups(), []);
  });
});
