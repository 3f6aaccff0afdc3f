import { strict as assert } from 'node:assert';
import { parseAddressSpec } from '../../../../shared/ip/ip.js';

describe('ip smoke', () => {
  it('parses a range', () => {
    assert.equal(parseAddressSpec('192.0.2.1-192.0.2.0').ok, false);
  });
});
