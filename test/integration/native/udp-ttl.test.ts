// The addon's UDP socket reports the TTL / hop limit each datagram arrived with, over
// loopback, as set by the sender (node:dgram setTTL).
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { nativeAvailable } from '../../../speaker/native/addon.js';
import { TtlUdpSocket, type ReceivedDatagram } from '../../../speaker/native/udp.js';

/** A port free on both families right now. */
async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp6');
  await new Promise<void>((r) => s.bind(0, '::', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function sendWithTTL(family: 4 | 6, port: number, ttl: number, text: string): Promise<void> {
  const s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
  await new Promise<void>((r) => s.bind(0, () => r()));
  s.setTTL(ttl);
  await new Promise<void>((r, j) => s.send(text, port, family === 4 ? '127.0.0.1' : '::1', (e) => (e ? j(e) : r())));
  await new Promise<void>((r) => s.close(() => r()));
}

describe('herald-native UDP socket with received TTL (loopback)', function () {
  before(function () {
    if (!nativeAvailable()) this.skip();
  });

  for (const family of [4, 6] as const) {
    it(`IPv${family}: reports the TTL each datagram came with, and the sender's address`, async () => {
      const port = await freePort();
      const got: ReceivedDatagram[] = [];
      const errors: Error[] = [];
      const sock = new TtlUdpSocket({ family, port, onMessage: (d) => got.push(d), onError: (e) => errors.push(e) });
      try {
        await sendWithTTL(family, port, 255, 'gtsm');
        await sendWithTTL(family, port, 7, 'far');
        const end = Date.now() + 2000;
        while (got.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
        assert.deepEqual(
          got.map((d) => [d.data.toString(), d.ttl, d.address]),
          [
            ['gtsm', 255, family === 4 ? '127.0.0.1' : '::1'],
            ['far', 7, family === 4 ? '127.0.0.1' : '::1'],
          ],
        );
        assert.deepEqual(errors, []);
        assert.throws(() => new TtlUdpSocket({ family, port, onMessage: () => {}, onError: () => {} }), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE' && e.syscall === 'bind');
      } finally {
        sock.close();
        sock.close();
      }
      assert.ok(sock.closed);
    });
  }
});
