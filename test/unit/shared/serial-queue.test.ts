import { strict as assert } from 'node:assert';
import { SerialQueue } from '../../../shared/serial-queue.js';

describe('SerialQueue', () => {
  it('runs work queued from inside running work after it, in order, never nested', () => {
    const q = new SerialQueue();
    const log: string[] = [];
    q.run(() => {
      log.push('a start');
      q.run(() => log.push('b'));
      q.run(() => log.push('c'));
      log.push('a end');
    });
    assert.deepEqual(log, ['a start', 'a end', 'b', 'c']);
  });

  it('keeps working after a step throws', () => {
    const q = new SerialQueue();
    assert.throws(() => q.run(() => { throw new Error('boom'); }), /boom/);
    const log: string[] = [];
    q.run(() => log.push('after'));
    assert.deepEqual(log, ['after']);
  });
});
