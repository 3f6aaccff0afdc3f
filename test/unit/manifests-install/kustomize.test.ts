// `kubectl kustomize` (kubectl's built-in kustomize) builds the base and every overlay,
// what it builds validates, and each overlay is the base plus exactly its own objects.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { kustomize, loadFile, MANIFESTS, problems, yamlFiles, type K8sDoc } from './validate.js';

const id = (d: K8sDoc): string => `${d.kind}/${d.metadata.namespace ? `${d.metadata.namespace}/` : ''}${d.metadata.name}`;
const ids = (docs: K8sDoc[]): string[] => docs.map(id).sort();

const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);

/** The objects a directory contributes outside kustomize, with the base's namespace. */
function filesIn(dir: string): K8sDoc[] {
  return yamlFiles(join(MANIFESTS, dir))
    .filter((f) => !f.endsWith('kustomization.yaml'))
    .flatMap(loadFile)
    .map((d) => d.doc)
    .map((d) => (CLUSTER_SCOPED.has(d.kind) ? d : { ...d, metadata: { ...d.metadata, namespace: 'herald-system' } }));
}

// The base includes manifests/crds and manifests/rbac as kustomize directories; without
// their kustomization.yaml nothing builds, and the first test below says so once
// instead of every build failing with the same kustomize error.
const missing = ['crds', 'rbac'].filter((d) => !existsSync(join(MANIFESTS, d, 'kustomization.yaml')));

describe('manifests: kustomize builds', function () {
  this.timeout(120_000);
  const built = new Map<string, K8sDoc[]>();
  beforeEach(function () {
    if (missing.length > 0 && !this.currentTest?.title.startsWith('manifests/crds and manifests/rbac')) this.skip();
  });
  const build = (dir: string): K8sDoc[] => {
    let docs = built.get(dir);
    if (!docs) {
      docs = kustomize(join(MANIFESTS, dir));
      built.set(dir, docs);
    }
    return docs;
  };

  it('manifests/crds and manifests/rbac are kustomize directories (the base includes them whole)', () => {
    assert.deepEqual(
      missing.map((d) => `manifests/${d}/kustomization.yaml`),
      [],
      'missing: each must list the YAML files of its directory under `resources:` (the base refers to ../crds and ../rbac)',
    );
  });

  for (const dir of ['base', 'overlays/l2', 'overlays/bgp', 'overlays/prometheus', 'alerts']) {
    it(`${dir}: builds, and every object it builds is valid`, async () => {
      const docs = build(dir);
      assert.ok(docs.length > 0);
      assert.deepEqual(await problems(docs.map((doc) => ({ where: `kustomize ${dir}`, doc }))), []);
    });
  }

  it('base: the namespace, every CRD, every RBAC object, the controller and the speaker, all namespaced ones in herald-system', () => {
    const docs = build('base');
    const expected = [
      ...filesIn('crds'),
      ...filesIn('rbac'),
      ...filesIn('base'),
    ];
    assert.deepEqual(ids(docs), ids(expected));
    for (const d of docs) {
      if (CLUSTER_SCOPED.has(d.kind)) assert.equal(d.metadata.namespace, undefined, id(d));
      else assert.equal(d.metadata.namespace, 'herald-system', id(d));
      assert.equal(d.metadata.labels?.['app.kubernetes.io/part-of'], 'herald', `${id(d)} lacks the part-of label`);
      // kind/up.sh and kind/README.md wait for the CRDs by this label.
      if (d.kind === 'CustomResourceDefinition') assert.equal(d.metadata.labels?.['app.kubernetes.io/name'], 'herald', id(d));
    }
  });

  for (const [overlay, extra] of [
    ['overlays/l2', ['IPAddressPool/herald-system/lan', 'L2Advertisement/herald-system/lan']],
    ['overlays/bgp', ['BGPAdvertisement/herald-system/routed', 'BGPPeer/herald-system/router', 'IPAddressPool/herald-system/routed']],
    ['overlays/prometheus', ['PrometheusRule/herald-system/herald', 'ServiceMonitor/herald-system/herald']],
  ] as const) {
    it(`${overlay} is the base plus ${extra.join(', ')}`, () => {
      const base = ids(build('base'));
      assert.deepEqual(ids(build(overlay)), [...base, ...extra].sort());
    });
  }

  it('the image is herald:dev unless an overlay says otherwise', () => {
    const images = build('base')
      .filter((d) => d.kind === 'Deployment' || d.kind === 'DaemonSet')
      .flatMap((d) => (d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers.map((c) => c.image));
    assert.deepEqual(images, ['herald:dev', 'herald:dev']);
  });

  it('the workloads run as ServiceAccounts the base creates, and the RBAC bindings name them in the same namespace', () => {
    const docs = build('base');
    const accounts = new Set(docs.filter((d) => d.kind === 'ServiceAccount').map((d) => `${d.metadata.namespace}/${d.metadata.name}`));
    for (const w of docs.filter((d) => d.kind === 'Deployment' || d.kind === 'DaemonSet')) {
      const sa = (w.spec as { template: { spec: { serviceAccountName?: string } } }).template.spec.serviceAccountName;
      assert.ok(sa && accounts.has(`${w.metadata.namespace}/${sa}`), `${id(w)} runs as ${sa ?? 'default'}, which the base does not create`);
    }
    for (const b of docs.filter((d) => d.kind === 'RoleBinding' || d.kind === 'ClusterRoleBinding')) {
      for (const s of (b as { subjects?: { kind: string; name: string; namespace?: string }[] }).subjects ?? []) {
        if (s.kind === 'ServiceAccount') assert.ok(accounts.has(`${s.namespace}/${s.name}`), `${id(b)} binds ${s.namespace}/${s.name}, which does not exist`);
      }
    }
  });

  it('the ServiceMonitor selects both metrics Services and scrapes a port they have', () => {
    const docs = build('overlays/prometheus');
    const sm = docs.find((d) => d.kind === 'ServiceMonitor') as K8sDoc & {
      spec: { selector: { matchLabels: Record<string, string>; matchExpressions: { key: string; operator: string; values: string[] }[] }; endpoints: { port: string }[] };
    };
    const selected = docs.filter((d) => {
      if (d.kind !== 'Service' || d.metadata.namespace !== sm.metadata.namespace) return false;
      const labels = d.metadata.labels ?? {};
      const byLabel = Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => labels[k] === v);
      const byExpr = sm.spec.selector.matchExpressions.every((e) => e.operator === 'In' && e.values.includes(labels[e.key] ?? ''));
      return byLabel && byExpr;
    });
    assert.deepEqual(selected.map((s) => s.metadata.name).sort(), ['herald-controller-metrics', 'herald-speaker-metrics']);
    for (const s of selected) {
      const ports = (s.spec as { ports: { name: string }[] }).ports.map((p) => p.name);
      for (const e of sm.spec.endpoints) assert.ok(ports.includes(e.port), `${s.metadata.name} has no port ${e.port}`);
    }
  });
});
