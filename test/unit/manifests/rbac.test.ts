// The RBAC in manifests/rbac/ grants each component what it needs and nothing more,
// checked with the authorizer the embedded API server enforces.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { Authorizer, loadRBACObjects, type RequestAttributes } from '../../apiserver/rbac.js';

const RBAC_DIR = fileURLToPath(new URL('../../../manifests/rbac/', import.meta.url));
const objects = loadRBACObjects(RBAC_DIR);
const authz = new Authorizer(() => objects);
const NS = 'herald-system';
const CONTROLLER = `system:serviceaccount:${NS}:controller`;
const SPEAKER = `system:serviceaccount:${NS}:speaker`;

type Row = [verb: string, group: string, resource: string, namespace: string | undefined, allowed: boolean, name?: string];

function attrs(user: string, [verb, group, resource, namespace, , name]: Row): RequestAttributes {
  const [res, sub] = resource.split('/');
  return {
    user,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'],
    verb,
    apiGroup: group,
    resource: res ?? '',
    ...(sub ? { subresource: sub } : {}),
    ...(namespace ? { namespace } : {}),
    ...(name ? { name } : {}),
  };
}

function table(title: string, user: string, rows: Row[]): void {
  describe(title, () => {
    for (const row of rows) {
      const [verb, group, resource, namespace, allowed, name] = row;
      const where = namespace ? `in ${namespace}` : 'cluster-wide';
      it(`${allowed ? 'may' : 'may not'} ${verb} ${group ? `${group}/` : ''}${resource}${name ? ` ${name}` : ''} ${where}`, () => {
        assert.equal(authz.authorize(attrs(user, row)).allowed, allowed);
      });
    }
  });
}

const CONFIG = ['ipaddresspools', 'l2advertisements', 'bgpadvertisements', 'bgppeers', 'communities', 'bfdprofiles'];
const STATUS_KINDS = ['servicel2statuses', 'servicebgpstatuses', 'bgpsessionstates'];

table('controller RBAC', CONTROLLER, [
  ['list', '', 'services', undefined, true],
  ['watch', '', 'services', undefined, true],
  ['get', '', 'services', 'default', true],
  ['patch', '', 'services/status', 'default', true],
  ['update', '', 'services/status', 'default', true],
  ['patch', '', 'services', 'default', false],
  ['update', '', 'services', 'default', false],
  ['create', '', 'services', 'default', false],
  ['delete', '', 'services', 'default', false],
  ['list', '', 'namespaces', undefined, true],
  ['watch', '', 'namespaces', undefined, true],
  ['create', '', 'events', 'default', true],
  ['patch', '', 'events', 'default', true],
  ['create', 'events.k8s.io', 'events', 'default', true],
  ['list', '', 'events', 'default', false],
  ['list', 'herald.dev', 'ipaddresspools', NS, true],
  ['watch', 'herald.dev', 'ipaddresspools', NS, true],
  ['patch', 'herald.dev', 'ipaddresspools/status', NS, true],
  ['update', 'herald.dev', 'ipaddresspools/status', NS, true],
  ['update', 'herald.dev', 'ipaddresspools', NS, false],
  ['delete', 'herald.dev', 'ipaddresspools', NS, false],
  ['list', 'herald.dev', 'ipaddresspools', 'default', false],
  ['list', 'herald.dev', 'ipaddresspools', undefined, false],
  ['create', 'herald.dev', 'servicel2statuses', NS, false],
  ...CONFIG.slice(1).flatMap((r): Row[] => [
    ['list', 'herald.dev', r, NS, true],
    ['watch', 'herald.dev', r, NS, true],
    ['patch', 'herald.dev', `${r}/status`, NS, true],
    ['update', 'herald.dev', r, NS, false],
    ['delete', 'herald.dev', r, NS, false],
    ['list', 'herald.dev', r, 'default', false],
    ['patch', 'herald.dev', `${r}/status`, 'default', false],
  ]),
  ['create', '', 'secrets', NS, true],
  ['get', '', 'secrets', NS, true, 'herald-memberlist'],
  ['get', '', 'secrets', NS, false, 'bgp-password'],
  ['list', '', 'secrets', NS, true],
  ['watch', '', 'secrets', NS, true],
  ['update', '', 'secrets', NS, false, 'bgp-password'],
  ['delete', '', 'secrets', NS, false, 'bgp-password'],
  ['list', '', 'secrets', 'default', false],
  ['get', '', 'secrets', 'default', false, 'herald-memberlist'],
  ['create', '', 'secrets', 'default', false],
  ['get', 'coordination.k8s.io', 'leases', NS, true, 'herald-controller'],
  ['create', 'coordination.k8s.io', 'leases', NS, true],
  ['update', 'coordination.k8s.io', 'leases', NS, true, 'herald-controller'],
  ['update', 'coordination.k8s.io', 'leases', 'kube-system', false, 'herald-controller'],
  ['list', '', 'nodes', undefined, false],
  ['list', 'discovery.k8s.io', 'endpointslices', undefined, false],
  ['list', '', 'pods', undefined, false],
  ['list', '', 'configmaps', NS, false],
]);

table('speaker RBAC', SPEAKER, [
  ['list', '', 'services', undefined, true],
  ['watch', '', 'services', undefined, true],
  ['get', '', 'services', 'default', true],
  ['patch', '', 'services', 'default', false],
  ['patch', '', 'services/status', 'default', false],
  ['update', '', 'services/status', 'default', false],
  ['list', 'discovery.k8s.io', 'endpointslices', undefined, true],
  ['watch', 'discovery.k8s.io', 'endpointslices', undefined, true],
  ['list', '', 'nodes', undefined, true],
  ['get', '', 'nodes', undefined, true, 'node1'],
  ['patch', '', 'nodes', undefined, false, 'node1'],
  ['list', '', 'namespaces', undefined, false],
  ['create', '', 'events', 'default', true],
  ['patch', '', 'events', 'default', true],
  ['create', 'events.k8s.io', 'events', 'default', true],
  ...CONFIG.flatMap((r): Row[] => [
    ['list', 'herald.dev', r, NS, true],
    ['watch', 'herald.dev', r, NS, true],
    ['update', 'herald.dev', r, NS, false],
    ['list', 'herald.dev', r, 'default', false],
  ]),
  ['patch', 'herald.dev', 'ipaddresspools/status', NS, false],
  ...STATUS_KINDS.flatMap((r): Row[] => [
    ['create', 'herald.dev', r, NS, true],
    ['update', 'herald.dev', r, NS, true, 'x'],
    ['patch', 'herald.dev', r, NS, true, 'x'],
    ['delete', 'herald.dev', r, NS, true, 'x'],
    ['update', 'herald.dev', `${r}/status`, NS, true, 'x'],
    ['patch', 'herald.dev', `${r}/status`, NS, true, 'x'],
    ['create', 'herald.dev', r, 'default', false],
  ]),
  ['get', '', 'secrets', NS, true, 'herald-memberlist'],
  ['get', '', 'secrets', NS, true, 'bgp-password'],
  ['list', '', 'secrets', NS, true],
  ['watch', '', 'secrets', NS, true],
  ['create', '', 'secrets', NS, false],
  ['get', '', 'secrets', 'default', false, 'anything'],
  ['list', '', 'secrets', undefined, false],
  ['get', 'coordination.k8s.io', 'leases', NS, false, 'herald-controller'],
  ['create', 'coordination.k8s.io', 'leases', NS, false],
  ['list', '', 'pods', undefined, false],
]);

describe('RBAC manifests', () => {
  it('bind the roles to the controller and speaker ServiceAccounts the manifests create', () => {
    const docs = yaml.loadAll(readFileSync(`${RBAC_DIR}service-accounts.yaml`, 'utf8')) as { kind: string; metadata: { name: string; namespace: string } }[];
    assert.deepEqual(docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`), [
      `ServiceAccount ${NS}/controller`,
      `ServiceAccount ${NS}/speaker`,
    ]);
    const subjects = objects
      .filter((o) => String(o.kind).endsWith('Binding'))
      .flatMap((o) => (o.subjects as { kind: string; name: string; namespace: string }[]).map((s) => `${s.kind} ${s.namespace}/${s.name}`));
    assert.deepEqual([...new Set(subjects)].sort(), [`ServiceAccount ${NS}/controller`, `ServiceAccount ${NS}/speaker`]);
  });

  it('give neither component a wildcard', () => {
    for (const o of objects) {
      for (const r of (o.rules as Record<string, string[]>[] | undefined) ?? []) {
        for (const k of ['verbs', 'apiGroups', 'resources']) assert.ok(!(r[k] ?? []).includes('*'), `${String(o.kind)} ${k}`);
      }
    }
  });

  it('let a user with no binding do nothing, and cluster admins everything', () => {
    assert.equal(authz.authorize({ user: 'someone', groups: [], verb: 'list', apiGroup: 'herald.dev', resource: 'ipaddresspools', namespace: NS }).allowed, false);
    assert.equal(authz.authorize({ user: 'admin', groups: ['system:masters'], verb: 'delete', apiGroup: '', resource: 'secrets', namespace: NS, name: 'x' }).allowed, true);
  });
});
