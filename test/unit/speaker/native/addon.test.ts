// The addon's argument checks and the errors it throws, without root or sockets that need it.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { nativeAddon, nativeAvailable } from '../../../../speaker/native/addon.js';
import { closeFd, md5KeyBytes, openTcpSocket, setMD5 } from '../../../../speaker/native/tcp.js';

describe('native addon', function () {
  before(function () {
    if (!nativeAvailable()) this.skip();
  });

  it('exports the functions index.ts wraps', () => {
    assert.deepEqual(Object.keys(nativeAddon()).sort(), [
      'closeFd', 'driverName', 'mcastJoin', 'mcastLeave', 'mcastOpen', 'packetClose', 'packetOpen', 'packetRef', 'packetSend', 'tcpSetMD5', 'tcpSocket', 'udpClose', 'udpOpen', 'udpRef',
    ]);
  });

  it('rejects bad arguments with a TypeError coded ERR_INVALID_ARG_VALUE', () => {
    const n = nativeAddon();
    const bad = (f: () => unknown) => assert.throws(f, (e: NodeJS.ErrnoException) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_VALUE');
    bad(() => n.tcpSocket(5 as 4, null, 0, false, 0, 0, -1));
    bad(() => n.tcpSocket(4, '2001:db8::1', 0, false, 0, 0, -1));
    bad(() => n.tcpSocket(4, null, 70000, false, 0, 0, -1));
    bad(() => n.tcpSocket(4, null, 0, false, 256, 0, -1));
    bad(() => (n.tcpSocket as (...a: unknown[]) => number)(4));
    bad(() => n.packetOpen(1, 3, new Uint8Array(7), () => {}));
    bad(() => n.packetSend({} as never, new Uint8Array(1)));
    bad(() => n.mcastJoin(0, 1, '2001:db8::1'));
    bad(() => n.udpOpen(5 as 4, 3784, () => {}));
    bad(() => n.udpOpen(4, 0, () => {}));
    bad(() => n.udpClose({} as never));
  });

  it('reports system errors like Node does: code, negative errno, syscall', () => {
    const fd = openTcpSocket({ family: 4 });
    closeFd(fd);
    assert.throws(() => setMD5(fd, '127.0.0.1', 'k'), (e: NodeJS.ErrnoException) => e.code === 'EBADF' && e.errno === -9 && e.syscall === 'getsockname');
    assert.throws(() => nativeAddon().closeFd(fd), (e: NodeJS.ErrnoException) => e.code === 'EBADF' && e.syscall === 'close');
  });

  it('creates bound TCP sockets with options, and MD5 keys up to 80 bytes', () => {
    const fd = openTcpSocket({ family: 6, localAddress: '::1', reuseAddress: true, ttl: 2, minTtl: 254, v6Only: true, md5: [{ peerAddress: '::1', key: 'k'.repeat(80) }] });
    try {
      setMD5(fd, '192.0.2.1', 'mapped onto the IPv6 socket');
      setMD5(fd, '::1', undefined);
      assert.throws(() => setMD5(fd, '::1', 'k'.repeat(81)), RangeError);
      assert.throws(() => setMD5(fd, 'not-an-ip', 'k'), TypeError);
    } finally {
      closeFd(fd);
    }
    assert.throws(() => md5KeyBytes(''), RangeError);
    assert.equal(md5KeyBytes('pässword').length, 9);
  });

  it('does not leak the descriptor when an MD5 key is refused', function () {
    if (!existsSync('/proc/self/fd')) this.skip();
    const before = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 20; i++) {
      assert.throws(() => openTcpSocket({ family: 4, md5: [{ peerAddress: '2001:db8::1', key: 'k' }] }), TypeError);
    }
    assert.equal(readdirSync('/proc/self/fd').length, before);
  });

  it('names drivers, and says null where there is none', () => {
    assert.equal(nativeAddon().driverName('lo'), null);
    assert.throws(() => nativeAddon().driverName('hlt-nope0'), (e: NodeJS.ErrnoException) => e.code === 'ENODEV');
  });
});
