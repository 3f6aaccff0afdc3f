// The quick variant of test/fuzz/l2-decode.ts (which runs 1,000,000 inputs by default).
import assert from 'node:assert/strict';
import { fuzzL2Decode } from '../../../fuzz/l2-decode.js';

describe('l2 decoders under fuzzing', () => {
  it('return a value or a drop reason, or throw L2DecodeError, for 20,000 mutated frames', () => {
    const report = fuzzL2Decode({ iterations: 20_000, seed: 20_240_601 });
    const seen = new Set(Object.keys(report.outcomes));
    // The mutations must reach past the first checks, or the run proves little.
    for (const outcome of [
      'arp ok',
      'arp malformed:arp',
      'arp not-ethernet-ipv4',
      'ndp ok',
      'ndp malformed:ipv6',
      'ndp malformed:icmpv6',
      'ndp bad-checksum',
      'ndp hop-limit',
      'ndp too-short',
      'ndp option-length-zero',
    ]) {
      assert.ok(seen.has(outcome), `no input reached "${outcome}": ${[...seen].join(', ')}`);
    }
  });
});
