// shared/api/types.ts and manifests/crds/ describe the same objects; this fails the
// moment a field is added, removed, retyped or made optional on one side only.
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { crdDrift, readTypeShapes } from './crd-drift-check.js';

const TYPES = fileURLToPath(new URL('../../../../shared/api/types.ts', import.meta.url));
const CRD_DIR = fileURLToPath(new URL('../../../../manifests/crds/', import.meta.url));
const typesSource = readFileSync(TYPES, 'utf8');
const loadCRDObjects = (): Record<string, unknown>[] =>
  readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => yaml.loadAll(readFileSync(`${CRD_DIR}${f}`, 'utf8')) as Record<string, unknown>[])
    .filter((d) => d?.kind === 'CustomResourceDefinition');

type Schema = Record<string, unknown> & { properties: Record<string, Schema>; required?: string[] };
function schemaOf(crds: Record<string, unknown>[], kind: string): Schema {
  for (const c of crds) {
    const spec = c.spec as { names: { kind: string }; versions: { schema: { openAPIV3Schema: Schema } }[] };
    if (spec.names.kind === kind) return spec.versions[0]?.schema.openAPIV3Schema as Schema;
  }
  throw new Error(kind);
}

describe('shared/api/types.ts and the CRDs', () => {
  it('agree on every kind, field, optionality and type', () => {
    assert.deepEqual(crdDrift(typesSource, loadCRDObjects()), []);
  });

  it('read the kinds and their nested interfaces from types.ts', () => {
    const { kinds, union } = readTypeShapes(typesSource);
    assert.equal(union.length, 9);
    const peer = kinds.get('BGPPeer');
    assert.ok(peer?.t === 'object');
    const spec = peer.props.spec?.shape;
    assert.ok(spec?.t === 'object');
    assert.deepEqual(spec.props.dynamicASN, { shape: { t: 'string', values: ['external', 'internal'] }, always: false });
    assert.deepEqual(spec.props.myASN, { shape: { t: 'number' }, always: true });
    const sel = spec.props.nodeSelectors?.shape;
    assert.ok(sel?.t === 'array' && sel.items.t === 'object' && sel.items.props.matchLabels?.shape.t === 'map');
  });

  describe('fail on drift', () => {
    const edit = (from: string, to: string): string => {
      assert.ok(typesSource.includes(from), `types.ts no longer contains ${from}`);
      return typesSource.replace(from, to);
    };

    it('a field only in types.ts', () => {
      const src = edit('  avoidBuggyIPs?: boolean;', '  avoidBuggyIPs?: boolean;\n  shuffle?: boolean;');
      assert.deepEqual(crdDrift(src, loadCRDObjects()), ['IPAddressPool.spec.shuffle: in shared/api/types.ts but not in the CRD']);
    });

    it('a field only in the CRD, deep in a referenced interface', () => {
      const crds = loadCRDObjects();
      const expr = schemaOf(crds, 'BGPPeer').properties.spec?.properties.nodeSelectors?.items as Schema;
      (expr.properties.matchExpressions?.items as Schema).properties.weight = { type: 'integer' } as unknown as Schema;
      assert.deepEqual(crdDrift(typesSource, crds), ['BGPPeer.spec.nodeSelectors[].matchExpressions[].weight: in the CRD but not in shared/api/types.ts']);
    });

    it('optionality', () => {
      const src = edit('  peerAddress: string;', '  peerAddress?: string;');
      assert.deepEqual(crdDrift(src, loadCRDObjects()), ['BGPPeer.spec.peerAddress: optional in shared/api/types.ts, required in the CRD']);
      const crds = loadCRDObjects();
      const spec = schemaOf(crds, 'BFDProfile').properties.spec as Schema;
      spec.required = ['echoMode'];
      assert.deepEqual(crdDrift(typesSource, crds), ['BFDProfile.spec.echoMode: optional in shared/api/types.ts, required in the CRD']);
    });

    it('a required field the CRD leaves optional, unless the CRD defaults it', () => {
      const crds = loadCRDObjects();
      const pool = schemaOf(crds, 'IPAddressPool').properties.spec as Schema;
      pool.required = [];
      assert.deepEqual(crdDrift(typesSource, crds), ['IPAddressPool.spec.addresses: required in shared/api/types.ts, optional in the CRD']);
      (pool.properties.addresses as Schema).default = ['192.0.2.0/24'];
      assert.deepEqual(crdDrift(typesSource, crds), []);
    });

    it('a type', () => {
      const src = edit('  peerPort?: number;', '  peerPort?: string;');
      assert.deepEqual(crdDrift(src, loadCRDObjects()), ['BGPPeer.spec.peerPort: string in shared/api/types.ts, number in the CRD']);
    });

    it('an enum', () => {
      const src = edit("export type BGPSessionFSMState = 'Idle'", "export type BGPSessionFSMState = 'Down' | 'Idle'");
      assert.deepEqual(crdDrift(src, loadCRDObjects()), [
        'BGPSessionState.status.bgpStatus: one of Active|Connect|Down|Established|Idle|OpenConfirm|OpenSent in shared/api/types.ts, one of Active|Connect|Established|Idle|OpenConfirm|OpenSent in the CRD',
      ]);
    });

    it('a kind without a CRD, or a CRD without a kind', () => {
      const crds = loadCRDObjects().filter((c) => (c.spec as { names: { kind: string } }).names.kind !== 'Community');
      assert.deepEqual(crdDrift(typesSource, crds), ['Community: in HeraldObject but has no CRD']);
      const src = edit('  | BFDProfile\n', '');
      assert.deepEqual(crdDrift(src, loadCRDObjects()), ['BFDProfile: has a CRD but is not in HeraldObject']);
    });
  });
});
