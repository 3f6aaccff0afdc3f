import { strict as assert } from 'node:assert';
import { FakeClock } from '../../../../shared/k8s/clock.js';
import { ApiError } from '../../../../shared/k8s/errors.js';
import type { ResourceType } from '../../../../shared/k8s/resources.js';
import type { StatusObject, StatusWriter } from '../../../../shared/k8s/writers.js';
import { silentLogger } from '../../../../shared/log.js';
import { labelValue, objectName, SERVICE_STATUSES, StatusSync, timeText } from '../../../../speaker/bgp/status.js';

/** A writer whose requests finish only when the test says so. */
class GatedWriter implements StatusWriter {
  readonly started: string[] = [];
  private gates: { resolve: () => void; reject: (e: Error) => void }[] = [];
  inflight = 0;
  maxInflight = 0;

  private gate(what: string): Promise<void> {
    this.started.push(what);
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    return new Promise<void>((resolve, reject) => this.gates.push({ resolve, reject })).finally(() => this.inflight--);
  }
  apply<T extends StatusObject>(_r: ResourceType, obj: T): Promise<T> {
    return this.gate(`apply ${obj.metadata.name} ${JSON.stringify(obj.status)}`).then(() => obj);
  }
  patchStatus<T extends StatusObject>(): Promise<T> {
    return Promise.reject(new Error('unused'));
  }
  delete(_r: ResourceType, _ns: string | undefined, name: string): Promise<void> {
    return this.gate(`delete ${name}`);
  }
  /** Finishes every request in flight (with an error, if given). */
  finishAll(err?: Error): void {
    const g = this.gates;
    this.gates = [];
    for (const x of g) {
      if (err) x.reject(err);
      else x.resolve();
    }
  }
}

const obj = (name: string, v: number): StatusObject => ({ metadata: { name, namespace: 'herald-system' }, status: { v } });
const flush = () => new Promise<void>((r) => setImmediate(r));

describe('BGP status objects', () => {
  it('latest wish wins: writes queued behind one in flight collapse into one', async () => {
    const w = new GatedWriter();
    const sync = new StatusSync({ writer: w, log: silentLogger(), clock: new FakeClock() });
    sync.put(SERVICE_STATUSES, obj('a', 1));
    sync.put(SERVICE_STATUSES, obj('a', 2));
    sync.put(SERVICE_STATUSES, obj('a', 3));
    await flush();
    w.finishAll();
    await flush();
    w.finishAll();
    await sync.idle();
    assert.deepEqual(w.started, ['apply a {"v":1}', 'apply a {"v":3}']);
  });

  it('skips a write identical to the last one made, and the delete of an object it removed', async () => {
    const w = new GatedWriter();
    const sync = new StatusSync({ writer: w, log: silentLogger(), clock: new FakeClock() });
    sync.put(SERVICE_STATUSES, obj('a', 1));
    await flush();
    w.finishAll();
    await sync.idle();
    sync.put(SERVICE_STATUSES, obj('a', 1));
    sync.remove(SERVICE_STATUSES, 'herald-system', 'a');
    await flush();
    w.finishAll();
    await sync.idle();
    sync.remove(SERVICE_STATUSES, 'herald-system', 'a');
    assert.equal(sync.pending, 0);
    assert.deepEqual(w.started, ['apply a {"v":1}', 'delete a']);
  });

  it('an object given as a function is made again when its write is due, and skipped when unchanged', async () => {
    const w = new GatedWriter();
    const sync = new StatusSync({ writer: w, log: silentLogger(), clock: new FakeClock(), concurrency: 1 });
    let made = 0;
    const lazy = (name: string, v: number) => () => {
      made++;
      return obj(name, v);
    };
    sync.put(SERVICE_STATUSES, lazy('a', 1));
    sync.put(SERVICE_STATUSES, lazy('b', 1));
    // Each made once to fingerprint it, and a again for its write, which starts at once; b waits, as a fingerprint.
    assert.equal(made, 3);
    await flush();
    w.finishAll();
    await flush();
    assert.equal(made, 4, 'b made again when its turn came');
    w.finishAll();
    await sync.idle();
    sync.put(SERVICE_STATUSES, lazy('a', 1));
    sync.put(SERVICE_STATUSES, lazy('b', 2));
    assert.equal(made, 7, 'a unchanged: fingerprinted, not written');
    await flush();
    w.finishAll();
    await sync.idle();
    assert.deepEqual(w.started, ['apply a {"v":1}', 'apply b {"v":1}', 'apply b {"v":2}']);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const w = new GatedWriter();
    const sync = new StatusSync({ writer: w, log: silentLogger(), clock: new FakeClock(), concurrency: 3 });
    for (let i = 0; i < 20; i++) sync.put(SERVICE_STATUSES, obj(`s${i}`, i));
    for (let i = 0; i < 10; i++) {
      await flush();
      w.finishAll();
    }
    await sync.idle();
    assert.equal(w.started.length, 20);
    assert.equal(w.maxInflight, 3);
  });

  it('retries with backoff, at once after a conflict', async () => {
    const w = new GatedWriter();
    const clock = new FakeClock();
    const sync = new StatusSync({ writer: w, log: silentLogger(), clock, retryMs: 100 });
    sync.put(SERVICE_STATUSES, obj('a', 1));
    await flush();
    w.finishAll(new Error('boom'));
    await flush();
    assert.equal(w.started.length, 1);
    await clock.advance(99);
    assert.equal(w.started.length, 1, 'not before the backoff');
    await clock.advance(1);
    assert.equal(w.started.length, 2);
    w.finishAll(new ApiError('Conflict', 409, 'changed'));
    await clock.advance(0);
    assert.equal(w.started.length, 3, 'a conflict is retried at once');
    w.finishAll();
    await sync.idle();
  });

  it('close gives up after its deadline', async () => {
    const w = new GatedWriter();
    const clock = new FakeClock();
    const sync = new StatusSync({ writer: w, log: silentLogger(), clock });
    sync.put(SERVICE_STATUSES, obj('a', 1));
    let closed = false;
    void sync.close(2000).then(() => (closed = true));
    await clock.advance(1999);
    assert.equal(closed, false);
    await clock.advance(1);
    assert.equal(closed, true);
    sync.put(SERVICE_STATUSES, obj('b', 1));
    assert.equal(w.started.length, 1, 'nothing new after close');
  });

  it('names and label values are valid and bounded', () => {
    assert.equal(objectName(['n1', 'router']), 'n1-router');
    const long = objectName(['x'.repeat(100), 'y']);
    assert.equal(long.length, 63);
    assert.match(long, /-[0-9a-f]{8}$/);
    assert.notEqual(objectName(['A', 'b']), objectName(['a', 'b']));
    assert.equal(labelValue('node-1.example'), 'node-1.example');
    assert.ok(labelValue('n'.repeat(200)).length <= 63);
    assert.equal(timeText(new Date(Date.UTC(2025, 4, 6, 7, 8, 9, 999))), '2025-05-06T07:08:09Z');
  });
});
