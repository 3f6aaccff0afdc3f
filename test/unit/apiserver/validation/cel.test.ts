// x-kubernetes-validations through @marcbachmann/cel-js, with kube-apiserver's error shapes.
import { strict as assert } from 'node:assert';
import { CRDError } from '../../../apiserver/crd-validation.js';
import { crdWith, lines, widget } from './crd-fixture.js';

const v = (rules: Record<string, unknown>[]) => rules;

describe('apiserver CRD CEL rules', () => {
  const crd = crdWith(
    {
      type: 'object',
      'x-kubernetes-validations': v([
        { rule: 'self.min <= self.max', message: 'min must not exceed max' },
        { rule: '!has(self.a) || !has(self.b)', message: 'a and b are exclusive', fieldPath: '.b', reason: 'FieldValueForbidden' },
        { rule: 'has(self.min)', reason: 'FieldValueRequired', message: 'set min', fieldPath: '.min' },
        { rule: "!has(self.m) || !('x.y' in self.m) || self.m['x.y'] != 'bad'", message: 'bad key', fieldPath: ".m['x.y']" },
        { rule: 'self.max < 1000', messageExpression: "'max is ' + string(self.max) + ', limit 999'" },
        { rule: 'self.max != 500' },
      ]),
      properties: {
        min: { type: 'integer' },
        max: { type: 'integer' },
        a: { type: 'string' },
        b: { type: 'string' },
        ratio: { type: 'number', 'x-kubernetes-validations': v([{ rule: 'self > 0.5', message: 'ratio above 0.5' }]) },
        when: {
          type: 'string',
          format: 'date-time',
          'x-kubernetes-validations': v([{ rule: "self < timestamp('2100-01-01T00:00:00Z')", message: 'too late' }]),
        },
        list: {
          type: 'array',
          items: { type: 'string', 'x-kubernetes-validations': v([{ rule: "self.startsWith('x')", messageExpression: "'\"' + self + '\" does not start with x'" }]) },
        },
        m: {
          type: 'object',
          additionalProperties: { type: 'string', 'x-kubernetes-validations': v([{ rule: 'self.size() < 4', message: 'short values only' }]) },
        },
      },
    },
  );
  const ok = { min: 1, max: 5 };

  const cases: [string, Record<string, unknown>, string[]][] = [
    ['all rules hold', ok, []],
    ['message', { min: 9, max: 5 }, ['spec: Invalid value: "object": min must not exceed max']],
    ['fieldPath and reason Forbidden', { ...ok, a: 'x', b: 'y' }, ['spec.b: Forbidden: a and b are exclusive']],
    ['reason Required', { max: 5 }, ['spec.min: Required value: set min', 'spec: Invalid value: "object": no such key: min evaluating rule: self.min <= self.max']],
    ['fieldPath with a quoted key', { ...ok, m: { 'x.y': 'bad' } }, ['spec.m[x.y]: Invalid value: "object": bad key']],
    ['messageExpression', { min: 1, max: 1000 }, ['spec: Invalid value: "object": max is 1000, limit 999']],
    ['no message: failed rule', { min: 1, max: 500 }, ['spec: Invalid value: "object": failed rule: self.max != 500']],
    ['numbers are doubles', { ...ok, ratio: 0.25 }, ['spec.ratio: Invalid value: "number": ratio above 0.5']],
    ['date-time is a timestamp', { ...ok, when: '2200-01-01T00:00:00Z' }, ['spec.when: Invalid value: "string": too late']],
    ['list items, with the value in the message', { ...ok, list: ['xa', 'b'] }, ['spec.list[1]: Invalid value: "string": "b" does not start with x']],
    ['map values use field.Path keys', { ...ok, m: { k: 'long' } }, ['spec.m[k]: Invalid value: "string": short values only']],
  ];
  for (const [name, spec, want] of cases) {
    it(name, () => assert.deepEqual(lines(crd.validate(widget(spec))).sort(), [...want].sort()));
  }

  it('reports a runtime error at the rule node, valued by its type', () => {
    const c = crdWith({ type: 'object', properties: { n: { type: 'integer' } }, 'x-kubernetes-validations': v([{ rule: 'self.n > 0', message: 'n' }]) });
    assert.deepEqual(lines(c.validate(widget({}))), ['spec: Invalid value: "object": no such key: n evaluating rule: self.n > 0']);
  });

  it('falls back to message when messageExpression fails or is unusable', () => {
    const c = crdWith({
      type: 'object',
      properties: { s: { type: 'string' } },
      'x-kubernetes-validations': v([
        { rule: 'false', message: 'static one', messageExpression: 'self.nope' },
        { rule: 'false', message: 'static two', messageExpression: "'  '" },
        { rule: 'false', message: 'static three', messageExpression: "'a\\nb'" },
        { rule: 'false', messageExpression: "''" },
      ]),
    });
    assert.deepEqual(lines(c.validate(widget({ s: 'x' }))), [
      'spec: Invalid value: "object": static one',
      'spec: Invalid value: "object": static two',
      'spec: Invalid value: "object": static three',
      'spec: Invalid value: "object": failed rule: false',
    ]);
  });

  it('puts root rules at <nil> and shows rules only metadata.name', () => {
    const root = crdWith({ type: 'object' }, {}, [
      { rule: "self.metadata.name.startsWith('w')", message: 'name must start with w' },
      { rule: '!has(self.metadata.namespace)', message: 'namespace is hidden from rules' },
    ]);
    assert.deepEqual(lines(root.validate(widget({}, { metadata: { name: 'x', namespace: 'ns' } }))), [
      '<nil>: Invalid value: "object": name must start with w',
    ]);
  });

  it('skips CEL after a blocking schema error and says so', () => {
    const c = crdWith({
      type: 'object',
      required: ['n'],
      properties: { n: { type: 'integer' } },
      'x-kubernetes-validations': v([{ rule: 'self.n > 0', message: 'n must be positive' }]),
    });
    assert.deepEqual(lines(c.validate(widget({ n: 'x' }))), [
      'spec.n: Invalid value: "string": spec.n in body must be of type integer: "string"',
      '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
    assert.equal(lines(c.validate(widget({}))).at(-1)?.startsWith('<nil>: Invalid value: "null": some validation rules'), true);
    // A non-blocking schema error (a bound) lets CEL run.
    const d = crdWith({
      type: 'object',
      properties: { n: { type: 'integer', maximum: 10 } },
      'x-kubernetes-validations': v([{ rule: 'self.n % 2 == 0', message: 'n must be even' }]),
    });
    assert.deepEqual(lines(d.validate(widget({ n: 11 }))), [
      'spec.n: Invalid value: 11: spec.n in body should be less than or equal to 10',
      'spec: Invalid value: "object": n must be even',
    ]);
  });

  it('reports a bad call as a missing overload', () => {
    const c = crdWith({ type: 'object', properties: { x: { 'x-kubernetes-int-or-string': true, 'x-kubernetes-validations': v([{ rule: "self.startsWith('a')" }]) } } });
    assert.deepEqual(lines(c.validate(widget({ x: 5 }))), [
      "spec.x: Invalid value: \"\": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: self.startsWith('a')",
    ]);
  });
});

describe('apiserver CRD CEL transition rules', () => {
  const crd = crdWith({
    type: 'object',
    properties: {
      fixed: { type: 'string', 'x-kubernetes-validations': v([{ rule: 'self == oldSelf', message: 'fixed is immutable' }]) },
      count: {
        type: 'integer',
        'x-kubernetes-validations': v([
          { rule: '!oldSelf.hasValue() || self >= oldSelf.value()', optionalOldSelf: true, message: 'count may not decrease' },
          { rule: 'self < 100', message: 'count below 100' },
        ]),
      },
      byKey: {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: {
          type: 'object',
          properties: { name: { type: 'string' }, v: { type: 'string' } },
          'x-kubernetes-validations': v([{ rule: 'self.v == oldSelf.v', message: 'v is immutable' }]),
        },
      },
      atomic: {
        type: 'array',
        items: { type: 'string', 'x-kubernetes-validations': v([{ rule: 'self == oldSelf', message: 'never correlated' }]) },
      },
    },
  });

  it('does not run transition rules on create', () => {
    assert.deepEqual(crd.validate(widget({ fixed: 'a', byKey: [{ name: 'k', v: '1' }], atomic: ['x'] })), []);
  });
  it('runs them on update', () => {
    assert.deepEqual(lines(crd.validate(widget({ fixed: 'b' }), widget({ fixed: 'a' }))), [
      'spec.fixed: Invalid value: "string": fixed is immutable',
    ]);
  });
  it('skips them where the field is new', () => {
    assert.deepEqual(crd.validate(widget({ fixed: 'b' }), widget({})), []);
  });
  it('runs optionalOldSelf rules on create too', () => {
    assert.deepEqual(crd.validate(widget({ count: 5 })), []);
    assert.deepEqual(lines(crd.validate(widget({ count: 4 }), widget({ count: 5 }))), [
      'spec.count: Invalid value: "integer": count may not decrease',
    ]);
  });
  it('correlates list-type=map items by key', () => {
    const old = widget({ byKey: [{ name: 'a', v: '1' }, { name: 'b', v: '2' }] });
    assert.deepEqual(crd.validate(widget({ byKey: [{ name: 'b', v: '2' }, { name: 'a', v: '1' }, { name: 'c', v: '3' }] }), old), []);
    assert.deepEqual(lines(crd.validate(widget({ byKey: [{ name: 'b', v: '9' }] }), old)), [
      'spec.byKey[0]: Invalid value: "object": v is immutable',
    ]);
  });
  it('never correlates atomic list items', () => {
    assert.deepEqual(crd.validate(widget({ atomic: ['y'] }), widget({ atomic: ['x'] })), []);
  });
  it('ratchets rules without oldSelf on unchanged values', () => {
    assert.deepEqual(crd.validate(widget({ count: 200, fixed: 'a' }), widget({ count: 200, fixed: 'a' })), []);
    assert.deepEqual(lines(crd.validate(widget({ count: 200 }))), ['spec.count: Invalid value: "integer": count below 100']);
  });
});

describe('apiserver CRD rule compilation', () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['syntax error', { rule: 'self.a +' }, /compilation failed/],
    ['not a bool', { rule: "'x'" }, /must evaluate to bool/],
    ['unknown function', { rule: 'nosuch(self)' }, /compilation failed/],
    ['optionalOldSelf without oldSelf', { rule: 'true', optionalOldSelf: true }, /optionalOldSelf/],
    ['bad fieldPath', { rule: 'true', fieldPath: 'a[0]' }, /fieldPath/],
    ['messageExpression not a string', { rule: 'true', messageExpression: '1' }, /must evaluate to string/],
  ];
  for (const [name, rule, want] of bad) {
    it(`refuses a CRD whose rule has a ${name}`, () => {
      assert.throws(() => crdWith({ type: 'object', 'x-kubernetes-validations': [rule] }), (e: unknown) => e instanceof CRDError && want.test(e.message));
    });
  }
  it('refuses a schema that is not structural, or a default that fails its own schema', () => {
    assert.throws(() => crdWith({ type: 'object', properties: { x: {} } }), /not structural.*type: Required value/);
    assert.throws(() => crdWith({ type: 'object', properties: { x: { type: 'integer', maximum: 3, default: 5 } } }), /default/);
    assert.throws(() => crdWith({ type: 'object', properties: { x: { type: 'object', default: { y: 1 } } } }), /unknown fields/);
  });
});
