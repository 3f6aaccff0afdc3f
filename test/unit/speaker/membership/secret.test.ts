import { strict as assert } from 'node:assert';
import { ensureMemberlistSecret, memberlistKey, MEMBERLIST_SECRET_KEY, MEMBERLIST_SECRET_NAME } from '../../../../speaker/membership/secret.js';
import { memberPeers } from '../../../../speaker/membership/peers.js';

const RANDOM = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

describe('membership Secret', () => {
  it('creates herald-memberlist with the random bytes as a base64 key when missing', () => {
    const r = ensureMemberlistSecret(undefined, 'herald-system', RANDOM);
    assert.equal(r.action, 'create');
    if (r.action !== 'create') return;
    assert.equal(r.secret.metadata.name, MEMBERLIST_SECRET_NAME);
    assert.equal(r.secret.metadata.namespace, 'herald-system');
    assert.equal(r.secret.kind, 'Secret');
    assert.equal(r.secret.data[MEMBERLIST_SECRET_KEY], RANDOM.toString('base64'));
    const k = memberlistKey(r.secret);
    assert.ok(k.ok && k.key.equals(RANDOM));
  });

  it('leaves an existing Secret alone, and says what is wrong with an unusable one', () => {
    const ok = { metadata: { name: MEMBERLIST_SECRET_NAME }, data: { secretkey: RANDOM.toString('base64') } };
    assert.deepEqual(ensureMemberlistSecret(ok, 'ns', RANDOM), { action: 'none' });
    const bad = ensureMemberlistSecret({ metadata: { name: MEMBERLIST_SECRET_NAME }, data: { other: 'eA==' } }, 'ns', RANDOM);
    assert.equal(bad.action, 'report');
  });

  it('wants enough random bytes', () => {
    assert.throws(() => ensureMemberlistSecret(undefined, 'ns', Buffer.alloc(8)), RangeError);
  });

  it('reads the key from data (base64) or stringData, and refuses bad or short ones', () => {
    const s = (data?: Record<string, string>, stringData?: Record<string, string>) => ({ metadata: { name: MEMBERLIST_SECRET_NAME }, data, stringData });
    assert.equal(memberlistKey(undefined).ok, false);
    assert.equal(memberlistKey(s({})).ok, false);
    assert.equal(memberlistKey(s({ secretkey: 'not base64!' })).ok, false);
    assert.equal(memberlistKey(s({ secretkey: Buffer.alloc(15).toString('base64') })).ok, false);
    const wrapped = RANDOM.toString('base64').replace(/(.{20})/g, '$1\n');
    const k = memberlistKey(s({ secretkey: wrapped }));
    assert.ok(k.ok && k.key.equals(RANDOM));
    const t = memberlistKey(s(undefined, { secretkey: 'a-passphrase-of-some-length' }));
    assert.ok(t.ok && t.key.toString() === 'a-passphrase-of-some-length');
  });
});

describe('membership peers', () => {
  const nodes = [
    { metadata: { name: 'n2' }, status: { addresses: [{ type: 'Hostname', address: 'n2' }, { type: 'InternalIP', address: '2001:db8:0:2:0:0:0:12' }, { type: 'InternalIP', address: '192.0.2.12' }] } },
    { metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] } },
    { metadata: { name: 'me' }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.10' }] } },
    { metadata: { name: 'n3' }, status: { addresses: [{ type: 'ExternalIP', address: '198.51.100.3' }] } },
    { metadata: {}, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.99' }] } },
    { metadata: { name: 'n4' }, status: { addresses: [{ type: 'InternalIP', address: 'not-an-ip' }] } },
  ];

  it('takes the first InternalIP of every other node, sorted by name', () => {
    assert.deepEqual(memberPeers(nodes, { self: 'me' }), [
      { name: 'n1', address: '192.0.2.11' },
      { name: 'n2', address: '2001:db8:0:2::12' },
    ]);
  });

  it('can insist on a family and fall back to other address types', () => {
    assert.deepEqual(memberPeers(nodes, { self: 'me', family: 4, addressTypes: ['InternalIP', 'ExternalIP'] }), [
      { name: 'n1', address: '192.0.2.11' },
      { name: 'n2', address: '192.0.2.12' },
      { name: 'n3', address: '198.51.100.3' },
    ]);
    assert.deepEqual(memberPeers(nodes, { self: 'me', family: 6 }), [{ name: 'n2', address: '2001:db8:0:2::12' }]);
  });
});
