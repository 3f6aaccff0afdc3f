import { strict as assert } from 'node:assert';
import { Membership } from '../../../../speaker/membership/member.js';
import { MembershipError } from '../../../../speaker/membership/codec.js';

const key = Buffer.alloc(32, 3);

describe('membership adapter options', () => {
  it('refuses options that would break detection or make-before-break', () => {
    const bad: [string, ConstructorParameters<typeof Membership>[0]][] = [
      ['node name', { node: 'Bad_Name', key }],
      ['short key', { node: 'n1', key: Buffer.alloc(8) }],
      ['interval too short', { node: 'n1', key, intervalMs: 5 }],
      ['fractional interval', { node: 'n1', key, intervalMs: 100.5 }],
      ['multiplier', { node: 'n1', key, detectMultiplier: 1 }],
      ['join delay within the listening time', { node: 'n1', key, joinDelayMs: 350 }],
      ['port', { node: 'n1', key, port: 70000 }],
      ['bind address', { node: 'n1', key, bindAddress: 'localhost' }],
    ];
    for (const [name, cfg] of bad) assert.throws(() => new Membership(cfg), MembershipError, name);
    assert.doesNotThrow(() => new Membership({ node: 'n1', key, intervalMs: 200, joinDelayMs: 800 }));
  });

  it('reports nothing before it is ready, and fails to start on an address it cannot bind', async () => {
    const m = new Membership({ node: 'n1', key, port: 0, bindAddress: '127.0.0.1' });
    assert.equal(m.live(), undefined);
    assert.equal(m.ready, false);
    await m.start();
    try {
      assert.ok((m.port() ?? 0) > 0);
      await assert.rejects(m.start(), MembershipError);
    } finally {
      await m.stop();
    }
    // 192.0.2.1 is not an address of this host.
    const n = new Membership({ node: 'n1', key, port: 0, bindAddress: '192.0.2.1' });
    await assert.rejects(n.start(), (e: unknown) => e instanceof MembershipError && e.code === 'socket');
    await n.stop();
  });
});
