// A quick run of the decode fuzzer (test/fuzz/bgp-decode.ts runs 1,000,000): mutants of
// golden and captured messages decode or throw BGPProtocolError, nothing else.
import { strict as assert } from 'node:assert';
import { fuzz } from '../../../fuzz/bgp-decode.js';

describe('speaker/bgp decode fuzz (quick)', () => {
  it('throws only BGPProtocolError over 20,000 mutated messages, and re-encodes what decodes', () => {
    const report = fuzz(20_000, 0xbeef);
    assert.deepEqual(report.foreign, []);
    assert.deepEqual(report.reencodeMismatches, []);
    assert.equal(report.messages, 20_000);
    // The mutants reach every layer: clean decodes, RFC 7606 outcomes, and errors of each message type.
    assert.ok(report.decoded > 1000, `decoded ${report.decoded}`);
    assert.ok(report.treatAsWithdraw > 0 && report.discarded > 0);
    const codes = new Set([...report.protocolErrors.keys()].map((k) => k.split('/')[0]));
    for (const code of ['1', '2', '3']) assert.ok(codes.has(code), `no error of code ${code}: ${[...report.protocolErrors.keys()].join(' ')}`);
  });
});
