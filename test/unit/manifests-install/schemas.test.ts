// Every manifest under manifests/ (CRDs and RBAC included) and the herald objects of the
// kind testbed validate as the API server would accept them: Kubernetes' OpenAPI schema
// with strict fields, Prometheus Operator's CRDs, herald's own CRDs (validate.ts).
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { loadFile, MANIFESTS, problems, ROOT, validateDoc, yamlFiles, type K8sDoc, type LoadedDoc } from './validate.js';

const isKustomization = (f: string): boolean => basename(f) === 'kustomization.yaml';

describe('manifests: schema validation of every file', function () {
  this.timeout(120_000);

  const files = yamlFiles(MANIFESTS).filter((f) => !isKustomization(f));
  const docs: LoadedDoc[] = [...files, join(ROOT, 'kind/l2-advertisement.yaml')].flatMap(loadFile);

  it('finds the install manifests, the CRDs and the examples', () => {
    const rel = files.map((f) => f.slice(MANIFESTS.length + 1));
    for (const expected of ['base/namespace.yaml', 'base/controller.yaml', 'base/speaker.yaml', 'crds/ip-address-pool.yaml', 'alerts/prometheus-rule.yaml', 'examples/l2.yaml']) {
      assert.ok(rel.includes(expected), `${expected} is missing from manifests/`);
    }
    assert.ok(docs.length >= 40, `only ${docs.length} documents`);
  });

  it('every document is valid for its kind (Kubernetes 1.33 OpenAPI, strict fields; herald CRDs; Prometheus Operator CRDs)', async () => {
    const found = await problems(docs.map((d) => ({ where: `${d.file}#${d.index}`, doc: d.doc })));
    assert.deepEqual(found, []);
  });

  it('names every namespaced object of herald in herald-system, so each file applies on its own', () => {
    const outside = docs
      .filter((d) => d.doc.apiVersion.startsWith('herald.dev/') && d.doc.metadata.namespace !== 'herald-system')
      .map((d) => `${d.file}: ${d.doc.kind} ${d.doc.metadata.name}`);
    assert.deepEqual(outside, []);
  });

  it('labels every CRD app.kubernetes.io/name=herald (kind/up.sh and kind/README.md wait on it)', () => {
    const crds = docs.filter((d) => d.doc.kind === 'CustomResourceDefinition');
    assert.equal(crds.length, 9);
    for (const d of crds) assert.equal(d.doc.metadata.labels?.['app.kubernetes.io/name'], 'herald', d.file);
  });

  it('ships no Secret: the memberlist key is made by the controller, BGP passwords by the user', () => {
    assert.deepEqual(
      docs.filter((d) => d.doc.kind === 'Secret').map((d) => d.file),
      [],
    );
  });

  describe('the validator rejects what the API server rejects (negative controls)', () => {
    const deployment = (): K8sDoc =>
      structuredClone(docs.find((d) => d.doc.kind === 'Deployment' && d.doc.metadata.name === 'herald-controller')?.doc) as K8sDoc;
    const pool = (): K8sDoc => structuredClone(docs.find((d) => d.doc.kind === 'IPAddressPool')?.doc) as K8sDoc;

    it('an unknown (misspelt) field in a Deployment', async () => {
      const d = deployment();
      const c = ((d.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0]) as Record<string, unknown>;
      c.securityContext = { ...(c.securityContext as object), readOnlyRootFileSystem: true };
      const errors = await validateDoc(d);
      assert.ok(errors.some((e) => e.includes('readOnlyRootFileSystem')), errors.join('\n'));
    });

    it('a wrong type in a Deployment', async () => {
      const d = deployment();
      (d.spec as Record<string, unknown>).replicas = 'two';
      assert.notDeepEqual(await validateDoc(d), []);
    });

    it('an IPAddressPool address that is not an IP, range or CIDR', async () => {
      const p = pool();
      (p.spec as { addresses: string[] }).addresses = ['192.0.2.300'];
      assert.notDeepEqual(await validateDoc(p), []);
    });

    it('an unknown field in a herald object', async () => {
      const p = pool();
      (p.spec as Record<string, unknown>).autoassign = false;
      const errors = await validateDoc(p);
      assert.ok(errors.some((e) => e.includes('spec.autoassign')), errors.join('\n'));
    });

    it('a kind nobody serves', async () => {
      const errors = await validateDoc({ apiVersion: 'herald.dev/v1beta1', kind: 'Pool', metadata: { name: 'x', namespace: 'herald-system' } });
      assert.equal(errors.length, 1);
    });
  });
});
