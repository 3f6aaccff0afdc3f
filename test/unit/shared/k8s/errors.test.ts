import { strict as assert } from 'node:assert';
import { ApiError, isConflict, isRetryable, toApiError } from '../../../../shared/k8s/errors.js';

describe('toApiError', () => {
  it('classifies by HTTP status and Status reason', () => {
    const rows: [unknown, string, boolean][] = [
      [{ statusCode: 410, message: 'Gone' }, 'Gone', false],
      [{ code: 409, body: { reason: 'Conflict', message: 'the object has been modified' } }, 'Conflict', false],
      [{ code: 409, body: { reason: 'AlreadyExists' } }, 'AlreadyExists', false],
      [{ code: 429 }, 'TooManyRequests', true],
      [{ code: 500 }, 'ServerError', true],
      [{ code: 503 }, 'ServerError', true],
      [{ code: 504 }, 'Timeout', true],
      [{ code: 403 }, 'Forbidden', false],
      [{ code: 422 }, 'Invalid', false],
      [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'Network', true],
      [Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' }), 'Timeout', true],
    ];
    for (const [input, code, retryable] of rows) {
      assert.equal(toApiError(input).code, code, JSON.stringify(input));
      assert.equal(isRetryable(input), retryable, code);
    }
  });

  it('keeps the server message and passes ApiError through unchanged', () => {
    const e = toApiError({ code: 409, body: { reason: 'Conflict', message: 'the object has been modified' } });
    assert.equal(e.message, 'the object has been modified');
    assert.equal(e.status, 409);
    assert.ok(isConflict(e));
    const mine = new ApiError('NotFound', 404, 'x');
    assert.equal(toApiError(mine), mine);
  });
});
