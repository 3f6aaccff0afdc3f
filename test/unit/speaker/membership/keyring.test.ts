import { strict as assert } from 'node:assert';
import { acceptedKeys, keyring, pruneKeyring, rotateKey, signingKey } from '../../../../speaker/membership/keyring.js';
import { MembershipError } from '../../../../speaker/membership/codec.js';

const K1 = Buffer.alloc(32, 1);
const K2 = Buffer.alloc(32, 2);
const K3 = Buffer.alloc(32, 3);
const hex = (keys: Uint8Array[]) => keys.map((k) => Buffer.from(k).toString('hex').slice(0, 2));

describe('membership keyring', () => {
  it('signs and accepts with its only key', () => {
    const r = keyring(K1);
    assert.deepEqual(hex([signingKey(r, 0)]), ['01']);
    assert.deepEqual(hex(acceptedKeys(r, 1e12)), ['01']);
  });

  it('refuses keys shorter than 16 bytes', () => {
    assert.throws(() => keyring(Buffer.alloc(15)), MembershipError);
    assert.throws(() => rotateKey(keyring(K1), Buffer.alloc(8), 0), MembershipError);
  });

  it('rotates in three phases: accept both and sign old, sign new and accept both, new only', () => {
    const r = rotateKey(keyring(K1), K2, 1000, { signDelayMs: 10_000, retireAfterMs: 30_000 });
    assert.deepEqual(hex([signingKey(r, 1000)]), ['01']);
    assert.deepEqual(hex(acceptedKeys(r, 1000)), ['01', '02']);
    assert.deepEqual(hex([signingKey(r, 10_999)]), ['01']);
    assert.deepEqual(hex([signingKey(r, 11_000)]), ['02']);
    assert.deepEqual(hex(acceptedKeys(r, 11_000)), ['02', '01']);
    assert.deepEqual(hex(acceptedKeys(r, 40_999)), ['02', '01']);
    assert.deepEqual(hex(acceptedKeys(r, 41_000)), ['02']);
    assert.equal(pruneKeyring(r, 41_000).entries.length, 1);
    assert.equal(pruneKeyring(r, 40_000), r, 'nothing to prune: same object');
  });

  it('the same key again changes nothing; a third key mid-rotation keeps the old ones only until it is in force', () => {
    const r = rotateKey(keyring(K1), K2, 0);
    assert.equal(rotateKey(r, Buffer.from(K2), 5), r);
    const r3 = rotateKey(r, K3, 5_000);
    // Still signing with K1 (K2 never reached its signing time, K3 neither).
    assert.deepEqual(hex([signingKey(r3, 5_000)]), ['01']);
    assert.deepEqual(hex(acceptedKeys(r3, 5_000)).sort(), ['01', '02', '03']);
    assert.deepEqual(hex([signingKey(r3, 15_000)]), ['03']);
    assert.deepEqual(hex(acceptedKeys(r3, 45_000)), ['03']);
  });

  it('going back to an earlier key is a rotation like any other', () => {
    const r = rotateKey(rotateKey(keyring(K1), K2, 0), K1, 100_000);
    assert.deepEqual(hex([signingKey(r, 100_000)]), ['02']);
    assert.deepEqual(hex([signingKey(r, 110_000)]), ['01']);
    assert.deepEqual(hex(acceptedKeys(r, 200_000)), ['01']);
  });
});
