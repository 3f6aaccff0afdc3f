import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { LabelSelector } from '../../../../shared/api/types.js';
import { matchesSelector } from '../../../../shared/api/selector.js';
import { labelKeyProblem, labelValueProblem, selectorProblems, selectorsMayOverlap } from '../../../../shared/config/selector-rules.js';

describe('shared/config/selector-rules', () => {
  describe('label keys and values', () => {
    for (const key of ['zone', 'kubernetes.io/hostname', 'topology.kubernetes.io/zone', 'a', 'A_b.c-1', 'x'.repeat(63)]) {
      it(`key ${key.slice(0, 20)} is valid`, () => assert.equal(labelKeyProblem(key), undefined));
    }
    for (const key of ['', '-zone', 'zone-', 'a b', 'Example.com/zone', '/zone', 'example.com/', 'x'.repeat(64), 'a/b/c']) {
      it(`key ${JSON.stringify(key.slice(0, 20))} is invalid`, () => assert.ok(labelKeyProblem(key)));
    }
    for (const v of ['', 'a', 'node1', 'A.b_c-d', 'x'.repeat(63)]) {
      it(`value ${JSON.stringify(v.slice(0, 20))} is valid`, () => assert.equal(labelValueProblem(v), undefined));
    }
    for (const v of ['-a', 'a-', 'a b', 'x'.repeat(64), 5]) {
      it(`value ${JSON.stringify(v).slice(0, 20)} is invalid`, () => assert.ok(labelValueProblem(v)));
    }
  });

  describe('selectorProblems', () => {
    const valid: LabelSelector[] = [
      {},
      { matchLabels: { zone: 'a' } },
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
      { matchExpressions: [{ key: 'zone', operator: 'Exists' }, { key: 'rack', operator: 'DoesNotExist', values: [] }] },
    ];
    for (const s of valid) it(`accepts ${JSON.stringify(s)}`, () => assert.deepEqual(selectorProblems(s), []));
    const invalid: [unknown, string, RegExp][] = [
      ['zone=a', '', /must be an object/],
      [{ matchLabels: ['zone'] }, 'matchLabels', /map/],
      [{ matchLabels: { 'bad key': 'a' } }, 'matchLabels[bad key]', /label key/],
      [{ matchLabels: { zone: 'a b' } }, 'matchLabels[zone]', /label value/],
      [{ matchExpressions: {} }, 'matchExpressions', /list/],
      [{ matchExpressions: [{ key: 'zone', operator: 'in', values: ['a'] }] }, 'matchExpressions[0].operator', /not one of In, NotIn/],
      [{ matchExpressions: [{ key: 'zone', operator: 'In', values: [] }] }, 'matchExpressions[0].values', /at least one value/],
      [{ matchExpressions: [{ key: 'zone', operator: 'NotIn' }] }, 'matchExpressions[0].values', /at least one value/],
      [{ matchExpressions: [{ key: 'zone', operator: 'Exists', values: ['a'] }] }, 'matchExpressions[0].values', /takes no values/],
      [{ matchExpressions: [{ key: '', operator: 'Exists' }] }, 'matchExpressions[0].key', /non-empty/],
      [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['ok', 'no way'] }] }, 'matchExpressions[0].values[1]', /label value/],
      [{ matchExpressions: [null] }, 'matchExpressions[0]', /must be an object/],
      [{ matchExpressions: [{ key: 'zone', operator: 'In', values: 'a' }] }, 'matchExpressions[0].values', /list of strings/],
    ];
    for (const [s, field, why] of invalid) {
      it(`rejects ${JSON.stringify(s)}`, () => {
        const got = selectorProblems(s);
        assert.equal(got.length, 1, JSON.stringify(got));
        assert.equal(got[0]!.field, field);
        assert.match(got[0]!.message, why);
      });
    }
  });

  describe('selectorsMayOverlap', () => {
    const zone = (v: string): LabelSelector => ({ matchLabels: { zone: v } });
    const cases: [string, LabelSelector[], LabelSelector[], boolean][] = [
      ['two empty lists', [], [], true],
      ['empty list and any satisfiable selector', [], [zone('a')], true],
      ['same label', [zone('a')], [zone('a')], true],
      ['different values of one key', [zone('a')], [zone('b')], false],
      ['different keys can both hold', [zone('a')], [{ matchLabels: { rack: '1' } }], true],
      ['any pair of the lists', [zone('a'), zone('b')], [zone('c'), zone('b')], true],
      ['no pair of the lists', [zone('a'), zone('b')], [zone('c'), zone('d')], false],
      ['In sets intersect', [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }], [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b', 'c'] }] }], true],
      ['In sets disjoint', [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }], [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['c'] }] }], false],
      ['In and NotIn cover it', [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }], [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }], false],
      ['In and NotIn leave one', [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }], [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }], true],
      ['Exists vs DoesNotExist', [{ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }], [{ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }], false],
      ['label vs DoesNotExist', [zone('a')], [{ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }], false],
      ['NotIn vs DoesNotExist', [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }], [{ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }], true],
      ['empty list and an unsatisfiable selector', [], [{ matchExpressions: [{ key: 'zone', operator: 'Exists' }, { key: 'zone', operator: 'DoesNotExist' }] }], false],
    ];
    for (const [name, a, b, want] of cases) {
      it(name, () => {
        assert.equal(selectorsMayOverlap(a, b), want);
        assert.equal(selectorsMayOverlap(b, a), want, 'symmetric');
      });
    }

    // Soundness: if some label set matches a selector of each list, the lists may overlap.
    const keys = ['zone', 'rack'];
    const values = ['a', 'b', 'c'];
    const arbReq = fc.record({
      key: fc.constantFrom(...keys),
      operator: fc.constantFrom('In' as const, 'NotIn' as const, 'Exists' as const, 'DoesNotExist' as const),
      values: fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 2 }),
    }).map((r) => (r.operator === 'Exists' || r.operator === 'DoesNotExist' ? { key: r.key, operator: r.operator } : r));
    const arbSel: fc.Arbitrary<LabelSelector> = fc.record({
      matchLabels: fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values), { maxKeys: 1 }),
      matchExpressions: fc.array(arbReq, { maxLength: 2 }),
    });
    const arbLabels = fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values, 'z'));
    it('never says "disjoint" when some label set matches both', () => {
      fc.assert(
        fc.property(fc.array(arbSel, { maxLength: 2 }), fc.array(arbSel, { maxLength: 2 }), fc.array(arbLabels, { minLength: 1, maxLength: 30 }), (a, b, samples) => {
          const any = (list: LabelSelector[], l: Record<string, string>): boolean => list.length === 0 || list.some((s) => matchesSelector(s, l));
          if (samples.some((l) => any(a, l) && any(b, l))) assert.equal(selectorsMayOverlap(a, b), true);
        }),
      );
    });
    it('says "may overlap" only when some label set matches both (exhaustive over a small universe)', () => {
      const universe: Record<string, string>[] = [];
      for (const z of [undefined, ...values, 'z']) for (const r of [undefined, ...values, 'z']) {
        universe.push({ ...(z ? { zone: z } : {}), ...(r ? { rack: r } : {}) });
      }
      fc.assert(
        fc.property(fc.array(arbSel, { maxLength: 2 }), fc.array(arbSel, { maxLength: 2 }), (a, b) => {
          const any = (list: LabelSelector[], l: Record<string, string>): boolean => list.length === 0 || list.some((s) => matchesSelector(s, l));
          assert.equal(selectorsMayOverlap(a, b), universe.some((l) => any(a, l) && any(b, l)));
        }),
      );
    });
  });
});
