import { strict as assert } from 'node:assert';
import { ObjectCache, type CachedObject } from '../../../../shared/k8s/object-cache.js';

const obj = (namespace: string, name: string, rv: string): CachedObject => ({ metadata: { namespace, name, resourceVersion: rv } });
const summary = (cs: { type: string; key: string }[]) => cs.map((c) => `${c.type} ${c.key}`);

describe('ObjectCache', () => {
  it('adds, updates on a new resourceVersion only, and removes', () => {
    const c = new ObjectCache<CachedObject>();
    assert.equal(c.upsert(obj('a', 'web', '1'))?.type, 'add');
    assert.equal(c.upsert(obj('a', 'web', '1')), undefined, 'same resourceVersion: no event');
    const u = c.upsert(obj('a', 'web', '2'));
    assert.equal(u?.type, 'update');
    assert.equal(u?.type === 'update' ? u.old.metadata?.resourceVersion : '', '1');
    assert.equal(c.get('web', 'a')?.metadata?.resourceVersion, '2');
    const gone = obj('a', 'web', '3');
    const d = c.remove(gone);
    assert.equal(d?.obj, gone, 'a delete carries the last state, as the event gave it');
    assert.equal(c.remove(gone), undefined);
    assert.equal(c.size, 0);
  });

  it('keys cluster-scoped objects by name alone and lists per namespace', () => {
    const c = new ObjectCache<CachedObject>();
    assert.equal(c.upsert({ metadata: { name: 'node1', resourceVersion: '1' } })?.key, 'node1');
    c.upsert(obj('a', 'x', '1'));
    c.upsert(obj('b', 'y', '1'));
    assert.ok(c.get('node1'));
    assert.deepEqual(c.list('a').map((o) => o.metadata?.name), ['x']);
    assert.deepEqual(c.list().map((o) => o.metadata?.name).sort(), ['node1', 'x', 'y']);
    assert.deepEqual(c.list('none'), []);
  });

  it('replace: deletes what the list no longer holds first, then adds and updates in list order', () => {
    const c = new ObjectCache<CachedObject>();
    c.replace([obj('a', 'keep', '1'), obj('a', 'same', '1'), obj('a', 'doomed', '1'), obj('b', 'alone', '1')]);
    const changes = c.replace([obj('a', 'born', '5'), obj('a', 'keep', '4'), obj('a', 'same', '1')]);
    assert.deepEqual(summary(changes), ['delete a/doomed', 'delete b/alone', 'add a/born', 'update a/keep']);
    assert.equal(c.size, 3);
    assert.deepEqual(c.list('b'), []);
  });
});
