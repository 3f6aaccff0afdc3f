// Schema validation, pruning and defaulting of custom resources, compared with what
// kube-apiserver answers for the same schema and object (messages as kubectl prints them).
import { strict as assert } from 'node:assert';
import { crdWith, lines, widget } from './crd-fixture.js';

const spec = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 5, pattern: '^[a-z]+$' },
    port: { type: 'integer', format: 'int32', minimum: 1, maximum: 65535 },
    ratio: { type: 'number', exclusiveMinimum: true, minimum: 0 },
    step: { type: 'integer', multipleOf: 5 },
    mode: { type: 'string', enum: ['a', 'b'] },
    when: { type: 'string', format: 'date-time' },
    flag: { type: 'boolean' },
    maybe: { type: 'string', nullable: true },
    list: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'integer' } },
    labels: { type: 'object', maxProperties: 2, additionalProperties: { type: 'string' } },
    port2: { 'x-kubernetes-int-or-string': true },
    tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
    entries: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, v: { type: 'integer' } } },
    },
  },
};
const crd = crdWith(spec);

describe('apiserver CRD schema validation', () => {
  const cases: [string, Record<string, unknown>, string[], string?][] = [
    ['valid object', { name: 'ok', port: 80, ratio: 0.5, mode: 'a', when: '2024-05-01T10:00:00Z', list: [1] }, []],
    ['type mismatch (string for integer)', { name: 'ok', port: '80' },
      ['spec.port: Invalid value: "string": spec.port in body must be of type integer: "string"'], 'FieldValueTypeInvalid'],
    ['type mismatch (fraction for integer)', { name: 'ok', port: 1.5 },
      ['spec.port: Invalid value: "number": spec.port in body must be of type integer: "number"']],
    ['type mismatch (object for boolean)', { name: 'ok', flag: {} },
      ['spec.flag: Invalid value: "object": spec.flag in body must be of type boolean: "object"']],
    ['required', { port: 80 }, ['spec.name: Required value'], 'FieldValueRequired'],
    ['enum', { name: 'ok', mode: 'c' }, ['spec.mode: Unsupported value: "c": supported values: "a", "b"'], 'FieldValueNotSupported'],
    ['maximum', { name: 'ok', port: 70000 },
      ['spec.port: Invalid value: 70000: spec.port in body should be less than or equal to 65535'], 'FieldValueInvalid'],
    ['minimum', { name: 'ok', port: 0 }, ['spec.port: Invalid value: 0: spec.port in body should be greater than or equal to 1']],
    ['exclusive minimum', { name: 'ok', ratio: 0 }, ['spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0']],
    ['multipleOf', { name: 'ok', step: 7 }, ['spec.step: Invalid value: 7: spec.step in body should be a multiple of 5']],
    ['int32 range', { name: 'ok', port: 2 ** 31 },
      ['<nil>: Invalid value: "": Checked value must be of type integer with format int32 in spec.port',
        'spec.port: Invalid value: 2147483648: spec.port in body should be less than or equal to 65535']],
    ['int64 range', { name: 'ok', step: 1e19 },
      ['<nil>: Invalid value: "": Checked value must be of type integer (default format) in spec.step']],
    ['maxLength', { name: 'abcdef' }, ['spec.name: Too long: may not be more than 5 bytes'], 'FieldValueTooLong'],
    ['minLength', { name: '' }, ['spec.name: Invalid value: "": spec.name in body should be at least 1 chars long']],
    ['pattern', { name: 'AB' }, [`spec.name: Invalid value: "AB": spec.name in body should match '^[a-z]+$'`]],
    ['date-time', { name: 'ok', when: 'yesterday' },
      ['spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"'], 'FieldValueTypeInvalid'],
    ['null where not nullable', { name: 'ok', flag: null },
      ['spec.flag: Invalid value: "null": spec.flag in body must be of type boolean: "null"']],
    ['null where nullable', { name: 'ok', maybe: null }, []],
    ['maxItems', { name: 'ok', list: [1, 2, 3] }, ['spec.list: Too many: 3: must have at most 2 items'], 'FieldValueTooMany'],
    ['minItems', { name: 'ok', list: [] }, ['spec.list: Invalid value: 0: spec.list in body should have at least 1 items']],
    ['array item', { name: 'ok', list: [1, 'x'] },
      ['spec.list[1]: Invalid value: "string": spec.list[1] in body must be of type integer: "string"']],
    ['map value', { name: 'ok', labels: { a: 1 } },
      ['spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"']],
    ['maxProperties', { name: 'ok', labels: { a: 'x', b: 'y', c: 'z' } }, ['spec.labels: Too many: 3: must have at most 2 items']],
    ['int-or-string: integer', { name: 'ok', port2: 8080 }, []],
    ['int-or-string: string', { name: 'ok', port2: 'http' }, []],
    ['int-or-string: boolean', { name: 'ok', port2: true },
      ['spec.port2: Invalid value: "boolean": spec.port2 in body must be of type integer or string: "boolean"']],
    ['list-type set', { name: 'ok', tags: ['a', 'b', 'a'] }, ['spec.tags[2]: Duplicate value: "a"'], 'FieldValueDuplicate'],
    ['list-type map', { name: 'ok', entries: [{ name: 'x', v: 1 }, { name: 'x', v: 2 }] },
      ['spec.entries[1]: Duplicate value: map[string]interface {}{"name":"x"}']],
    ['several errors, in kube-openapi order', { port: 'x', mode: 'c' },
      ['spec.port: Invalid value: "string": spec.port in body must be of type integer: "string"',
        'spec.mode: Unsupported value: "c": supported values: "a", "b"', 'spec.name: Required value']],
  ];
  for (const [name, s, want, type] of cases) {
    it(name, () => {
      const errs = crd.validate(widget(s));
      assert.deepEqual(lines(errs).sort(), [...want].sort());
      if (type) assert.equal(errs[0]?.type, type);
    });
  }

  it('accepts anything under x-kubernetes-preserve-unknown-fields', () => {
    assert.deepEqual(crd.validate(widget({ name: 'ok' }, { status: { any: [1, { x: true }] } })), []);
  });

  it('leaves metadata to the generic ObjectMeta validation', () => {
    const o = widget({ name: 'ok' });
    (o.metadata as Record<string, unknown>).labels = 'not-a-map';
    assert.deepEqual(crd.validate(o), []);
  });
});

describe('apiserver CRD validation ratcheting (update)', () => {
  it('does not re-judge a value that did not change', () => {
    const old = widget({ name: 'TOOLONGNAME', port: 80 });
    const updated = widget({ name: 'TOOLONGNAME', port: 81 });
    assert.deepEqual(crd.validate(updated, old), []);
    assert.equal(crd.validate(updated).length, 1);
  });
  it('judges a value that changed', () => {
    const old = widget({ name: 'ok', port: 80 });
    assert.deepEqual(lines(crd.validate(widget({ name: 'ok', port: 0 }), old)), [
      'spec.port: Invalid value: 0: spec.port in body should be greater than or equal to 1',
    ]);
  });
  it('never ratchets required', () => {
    assert.deepEqual(lines(crd.validate(widget({ port: 80 }), widget({ port: 80 }))), ['spec.name: Required value']);
  });
  it('correlates list-type=map items by key, not by position', () => {
    const old = widget({ name: 'ok', entries: [{ name: 'a', v: 'bad' }] });
    const reordered = widget({ name: 'ok', entries: [{ name: 'b', v: 1 }, { name: 'a', v: 'bad' }] });
    assert.deepEqual(crd.validate(reordered, old), []);
  });
  it('skips list-type uniqueness when the old object already broke it', () => {
    const old = widget({ name: 'ok', tags: ['a', 'a'] });
    assert.deepEqual(crd.validate(widget({ name: 'ok', tags: ['a', 'a'], port: 1 }), old), []);
  });
});

describe('apiserver CRD pruning', () => {
  it('drops unknown fields, nested in objects, arrays and maps, and reports their paths', () => {
    const c = crdWith({
      type: 'object',
      properties: {
        a: { type: 'string' },
        items: { type: 'array', items: { type: 'object', properties: { x: { type: 'integer' } } } },
        m: { type: 'object', additionalProperties: { type: 'object', properties: { y: { type: 'string' } } } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        embedded: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object' } } },
      },
    });
    const o = widget(
      {
        a: 'x',
        bogus: 1,
        items: [{ x: 1, junk: 2 }],
        m: { k: { y: 'v', z: 3 } },
        free: { anything: { deep: true } },
        embedded: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, spec: {}, extra: 1 },
      },
      { extraRoot: true },
    );
    (o.metadata as Record<string, unknown>).notMeta = 1;
    const dropped = c.prune(o);
    assert.deepEqual(dropped.sort(), [
      'extraRoot',
      'metadata.notMeta',
      'spec.bogus',
      'spec.embedded.extra',
      'spec.items[0].junk',
      'spec.m.k.z',
    ]);
    assert.deepEqual(o, widget({
      a: 'x',
      items: [{ x: 1 }],
      m: { k: { y: 'v' } },
      free: { anything: { deep: true } },
      embedded: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, spec: {} },
    }));
  });
  it('applyDefaults prunes too', () => {
    const o = widget({ name: 'ok', unknown: 1 });
    crd.applyDefaults(o);
    assert.deepEqual(o.spec, { name: 'ok' });
  });
});

describe('apiserver CRD defaulting', () => {
  const c = crdWith({
    type: 'object',
    default: {},
    properties: {
      port: { type: 'integer', default: 179 },
      nested: { type: 'object', default: {}, properties: { hold: { type: 'string', default: '90s' } } },
      items: { type: 'array', items: { type: 'object', properties: { on: { type: 'boolean', default: true } } } },
      byName: { type: 'object', additionalProperties: { type: 'object', properties: { w: { type: 'integer', default: 1 } } } },
      keepNull: { type: 'string', nullable: true, default: 'd' },
      dropNull: { type: 'string' },
      list: { type: 'array', items: { type: 'string' }, default: ['a'] },
    },
  });

  it('fills absent fields, inside defaulted objects, array items and map values', () => {
    const o = widget({ items: [{}, { on: false }], byName: { a: {}, b: { w: 5 } } });
    c.applyDefaults(o);
    assert.deepEqual(o.spec, {
      port: 179,
      nested: { hold: '90s' },
      items: [{ on: true }, { on: false }],
      byName: { a: { w: 1 }, b: { w: 5 } },
      keepNull: 'd',
      list: ['a'],
    });
  });
  it('defaults an absent parent, then its children', () => {
    const o: Record<string, unknown> = { apiVersion: 'example.test/v1', kind: 'Widget', metadata: { name: 'w' } };
    c.applyDefaults(o);
    assert.deepEqual(o.spec, { port: 179, nested: { hold: '90s' }, keepNull: 'd', list: ['a'] });
  });
  it('replaces a null that is not allowed by the default, drops one without a default, keeps an allowed null', () => {
    const o = widget({ port: null, dropNull: null, keepNull: null });
    c.applyDefaults(o);
    assert.deepEqual(o.spec, { port: 179, keepNull: null, nested: { hold: '90s' }, list: ['a'] });
  });
  it('does not override values that are set', () => {
    const o = widget({ port: 1179, nested: { hold: '3s' } });
    c.applyDefaults(o);
    assert.equal((o.spec as Record<string, unknown>).port, 1179);
    assert.deepEqual((o.spec as Record<string, unknown>).nested, { hold: '3s' });
  });
  it('copies defaults, so objects never share them', () => {
    const a = widget(undefined);
    const b = widget(undefined);
    delete a.spec;
    delete b.spec;
    c.applyDefaults(a);
    c.applyDefaults(b);
    ((a.spec as Record<string, unknown>).list as string[]).push('mutated');
    assert.deepEqual((b.spec as Record<string, unknown>).list, ['a']);
  });
});
