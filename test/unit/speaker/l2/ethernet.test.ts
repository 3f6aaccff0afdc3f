import assert from 'node:assert/strict';
import {
  decodeEthernet,
  encodeEthernet,
  formatMAC,
  isMAC,
  L2DecodeError,
  macBytes,
  readAddress,
  writeAddress,
} from '../../../../speaker/l2/ethernet.js';
import { hex, toHex } from './hex.js';

describe('l2/ethernet', () => {
  it('decodes an untagged Ethernet II header and leaves the rest as payload', () => {
    const f = decodeEthernet(hex(`
      33 33 00 00 00 01   # destination
      02 00 5e 00 53 01   # source
      86 dd               # EtherType IPv6
      aa bb               # payload
    `));
    assert.equal(f.destination, '33:33:00:00:00:01');
    assert.equal(f.source, '02:00:5e:00:53:01');
    assert.equal(f.etherType, 0x86dd);
    assert.equal(f.vlan, undefined);
    assert.equal(toHex(f.payload), 'aabb');
  });

  it('tolerates one 802.1Q tag: the EtherType and payload come after it', () => {
    const f = decodeEthernet(hex(`
      ff ff ff ff ff ff 02 00 5e 00 53 01
      81 00               # TPID 802.1Q
      b0 64               # PCP 5, DEI 1, VID 100
      08 06               # EtherType ARP
      01 02 03
    `));
    assert.deepEqual(f.vlan, { priority: 5, dropEligible: true, id: 100 });
    assert.equal(f.etherType, 0x0806);
    assert.equal(toHex(f.payload), '010203');
  });

  it('encodes with the tag and pads to the 60-byte minimum', () => {
    const out = encodeEthernet(
      { destination: 'ff:ff:ff:ff:ff:ff', source: '02:00:5e:00:53:01', vlan: { priority: 5, dropEligible: true, id: 100 }, etherType: 0x0806 },
      Uint8Array.of(1, 2, 3),
    );
    assert.equal(out.length, 60);
    assert.equal(toHex(out.subarray(0, 21)), 'ffffffffffff02005e005301' + '8100b064' + '0806' + '010203');
    assert.ok(out.subarray(21).every((b) => b === 0));
    assert.equal(encodeEthernet({ destination: '00:00:00:00:00:01', source: '00:00:00:00:00:02', etherType: 1 }, new Uint8Array(100)).length, 114);
  });

  it('throws L2DecodeError, and only that, for truncated headers', () => {
    assert.throws(() => decodeEthernet(new Uint8Array(13)), L2DecodeError);
    assert.throws(() => decodeEthernet(hex('ffffffffffff 02005e005301 8100 b0')), L2DecodeError);
    assert.equal(decodeEthernet(new Uint8Array(14)).payload.length, 0);
  });

  it('rejects out-of-range VLAN fields on encode', () => {
    assert.throws(
      () => encodeEthernet({ destination: '00:00:00:00:00:01', source: '00:00:00:00:00:02', vlan: { priority: 8, dropEligible: false, id: 1 }, etherType: 1 }, new Uint8Array()),
      RangeError,
    );
  });

  it('reads and writes MAC text in one canonical form', () => {
    assert.equal(formatMAC(Uint8Array.of(0, 1, 0xab, 0x10, 0xff, 9)), '00:01:ab:10:ff:09');
    assert.deepEqual([...macBytes('00:01:ab:10:ff:09')], [0, 1, 0xab, 0x10, 0xff, 9]);
    for (const bad of ['00:01:AB:10:ff:09', '0:1:2:3:4:5', '00-01-ab-10-ff-09', '00:01:ab:10:ff']) {
      assert.equal(isMAC(bad), false, bad);
      assert.throws(() => macBytes(bad), TypeError);
    }
  });

  it('reads and writes big-endian addresses as bigint', () => {
    const b = new Uint8Array(16);
    writeAddress(b, 0, 16, 0x20010db8000000000000000000000001n);
    assert.equal(toHex(b), '20010db8000000000000000000000001');
    assert.equal(readAddress(b, 0, 16), 0x20010db8000000000000000000000001n);
    writeAddress(b, 0, 4, 0xc0000201n);
    assert.equal(readAddress(b, 0, 4), 0xc0000201n);
    assert.throws(() => writeAddress(b, 0, 4, 1n << 32n), RangeError);
    assert.throws(() => writeAddress(b, 0, 4, -1n), RangeError);
  });
});
