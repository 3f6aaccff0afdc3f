import { strict as assert } from 'node:assert';
import { matchesAnySelector, matchesSelector } from '../../../../shared/api/selector.js';
import type { LabelSelector } from '../../../../shared/api/types.js';

describe('shared/api/selector', () => {
  const node = { 'kubernetes.io/hostname': 'node1', zone: 'a', rack: '1' };
  const cases: [string, LabelSelector, Record<string, string>, boolean][] = [
    ['empty selector matches everything', {}, node, true],
    ['empty selector matches no labels', {}, {}, true],
    ['matchLabels equal', { matchLabels: { zone: 'a' } }, node, true],
    ['matchLabels differ', { matchLabels: { zone: 'b' } }, node, false],
    ['matchLabels missing key', { matchLabels: { pool: 'x' } }, node, false],
    ['matchLabels empty value needs the key', { matchLabels: { pool: '' } }, node, false],
    ['matchLabels empty value present', { matchLabels: { pool: '' } }, { pool: '' }, true],
    ['matchLabels and expressions are ANDed', { matchLabels: { zone: 'a' }, matchExpressions: [{ key: 'rack', operator: 'In', values: ['2'] }] }, node, false],
    ['In matches', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }, node, true],
    ['In needs the key', { matchExpressions: [{ key: 'pool', operator: 'In', values: ['a'] }] }, node, false],
    ['NotIn excludes', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, node, false],
    ['NotIn matches a missing key', { matchExpressions: [{ key: 'pool', operator: 'NotIn', values: ['a'] }] }, node, true],
    ['Exists', { matchExpressions: [{ key: 'rack', operator: 'Exists' }] }, node, true],
    ['Exists missing', { matchExpressions: [{ key: 'pool', operator: 'Exists' }] }, node, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'pool', operator: 'DoesNotExist' }] }, node, true],
    ['DoesNotExist present', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, node, false],
    ['unknown operator never matches', { matchExpressions: [{ key: 'zone', operator: 'Gt' as 'In', values: ['1'] }] }, node, false],
    ['inherited property names are not labels', { matchLabels: { constructor: 'x' } }, {}, false],
    ['Exists ignores the prototype', { matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, {}, false],
    ['In ignores the prototype', { matchExpressions: [{ key: 'toString', operator: 'In', values: ['x'] }] }, {}, false],
  ];
  for (const [name, selector, labels, want] of cases) {
    it(name, () => assert.equal(matchesSelector(selector, labels), want));
  }
  it('labels default to none', () => {
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }), true);
    assert.equal(matchesSelector({ matchLabels: { zone: 'a' } }), false);
  });
  it('a list matches when any selector does; an empty or missing list matches all', () => {
    const list: LabelSelector[] = [{ matchLabels: { zone: 'b' } }, { matchLabels: { rack: '1' } }];
    assert.equal(matchesAnySelector(list, node), true);
    assert.equal(matchesAnySelector([{ matchLabels: { zone: 'b' } }], node), false);
    assert.equal(matchesAnySelector([], node), true);
    assert.equal(matchesAnySelector(undefined, {}), true);
  });
});
