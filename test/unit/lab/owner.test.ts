import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { otherLiveOwners, processChain } from '../../../test/lab/owner.js';

describe('lab ownership', () => {
  it('the process chain starts at this process and walks up to its parent', () => {
    const chain = processChain();
    assert.equal(chain[0], process.pid);
    assert.equal(chain[1], process.ppid);
    assert.ok(!chain.includes(1));
  });

  it('counts only live owners outside the caller own chain', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = child.pid!;
      assert.deepEqual(otherLiveOwners([pid]), [pid], 'an unrelated live process owns the lab');
      assert.deepEqual(otherLiveOwners([process.pid, process.ppid]), [], 'our own chain never counts');
      assert.deepEqual(otherLiveOwners(undefined), []);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      assert.deepEqual(otherLiveOwners([pid]), [], 'a dead owner frees the lab');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
