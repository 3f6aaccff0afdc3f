// RBAC semantics of the embedded API server's authorizer, against Kubernetes' own
// (plugin/pkg/auth/authorizer/rbac and rbac/v1 helpers).
import { strict as assert } from 'node:assert';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Authorizer, forbiddenMessage, loadRBACObjects, type RBACObject, type RequestAttributes } from '../../../apiserver/rbac.js';

const API = 'rbac.authorization.k8s.io/v1';
const ref = (kind: string, name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name });

const objects: RBACObject[] = [
  { apiVersion: API, kind: 'ClusterRole', metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['pods', 'services'], verbs: ['get', 'list'] }] },
  { apiVersion: API, kind: 'ClusterRole', metadata: { name: 'status-writer' }, rules: [{ apiGroups: ['*'], resources: ['*/status'], verbs: ['patch'] }] },
  { apiVersion: API, kind: 'ClusterRole', metadata: { name: 'one-map' }, rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'], verbs: ['get', 'update'] }] },
  { apiVersion: API, kind: 'ClusterRole', metadata: { name: 'everything-in-group' }, rules: [{ apiGroups: ['herald.dev'], resources: ['*'], verbs: ['*'] }] },
  { apiVersion: API, kind: 'ClusterRole', metadata: { name: 'metrics' }, rules: [{ nonResourceURLs: ['/metrics', '/debug/*'], verbs: ['get'] }] },
  { apiVersion: API, kind: 'ClusterRole', metadata: { name: 'agg-part', labels: { 'example.test/aggregate-to-agg': 'true' } }, rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }] },
  { apiVersion: API, kind: 'ClusterRole', metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'example.test/aggregate-to-agg': 'true' } }] } },
  { apiVersion: API, kind: 'Role', metadata: { name: 'secrets', namespace: 'ns1' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] },
  { apiVersion: API, kind: 'ClusterRoleBinding', metadata: { name: 'alice-reads' }, roleRef: ref('ClusterRole', 'reader'), subjects: [{ kind: 'User', name: 'alice' }] },
  { apiVersion: API, kind: 'ClusterRoleBinding', metadata: { name: 'ops-status' }, roleRef: ref('ClusterRole', 'status-writer'), subjects: [{ kind: 'Group', name: 'ops' }] },
  { apiVersion: API, kind: 'ClusterRoleBinding', metadata: { name: 'mon' }, roleRef: ref('ClusterRole', 'metrics'), subjects: [{ kind: 'User', name: 'prom' }] },
  { apiVersion: API, kind: 'ClusterRoleBinding', metadata: { name: 'agg' }, roleRef: ref('ClusterRole', 'agg'), subjects: [{ kind: 'User', name: 'dave' }] },
  { apiVersion: API, kind: 'RoleBinding', metadata: { name: 'bob-secrets', namespace: 'ns1' }, roleRef: ref('Role', 'secrets'), subjects: [{ kind: 'User', name: 'bob' }] },
  { apiVersion: API, kind: 'RoleBinding', metadata: { name: 'sa-map', namespace: 'ns1' }, roleRef: ref('ClusterRole', 'one-map'), subjects: [{ kind: 'ServiceAccount', name: 'app' }] },
  { apiVersion: API, kind: 'RoleBinding', metadata: { name: 'sa-herald', namespace: 'ns2' }, roleRef: ref('ClusterRole', 'everything-in-group'), subjects: [{ kind: 'ServiceAccount', name: 'app', namespace: 'ns1' }] },
  { apiVersion: API, kind: 'RoleBinding', metadata: { name: 'dangling', namespace: 'ns1' }, roleRef: ref('Role', 'gone'), subjects: [{ kind: 'User', name: 'carol' }] },
];
const authz = new Authorizer(() => objects);
const SA = 'system:serviceaccount:ns1:app';

function req(user: string, verb: string, resource: string, more: Partial<RequestAttributes> = {}): RequestAttributes {
  return { user, groups: [], verb, apiGroup: '', resource, ...more };
}

describe('apiserver RBAC authorizer', () => {
  const table: [string, RequestAttributes, boolean][] = [
    ['a ClusterRoleBinding grants in every namespace', req('alice', 'get', 'pods', { namespace: 'any' }), true],
    ['and at the cluster scope', req('alice', 'list', 'services'), true],
    ['but only the verbs listed', req('alice', 'delete', 'pods', { namespace: 'any' }), false],
    ['and only the resources listed', req('alice', 'get', 'secrets', { namespace: 'any' }), false],
    ['and not a subresource of a listed resource', req('alice', 'get', 'pods', { subresource: 'log', namespace: 'x' }), false],
    ['a group subject', req('eve', 'patch', 'services', { subresource: 'status', groups: ['ops'], namespace: 'x' }), true],
    ['*/status matches any status subresource', req('eve', 'patch', 'ipaddresspools', { apiGroup: 'herald.dev', subresource: 'status', groups: ['ops'], namespace: 'x' }), true],
    ['*/status does not match the resource itself', req('eve', 'patch', 'services', { groups: ['ops'], namespace: 'x' }), false],
    ['a Role through a RoleBinding in its namespace', req('bob', 'get', 'secrets', { namespace: 'ns1', name: 's' }), true],
    ['not in another namespace', req('bob', 'get', 'secrets', { namespace: 'ns2', name: 's' }), false],
    ['not at the cluster scope', req('bob', 'list', 'secrets'), false],
    ['a ServiceAccount subject defaults to the binding namespace', req(SA, 'get', 'configmaps', { namespace: 'ns1', name: 'settings' }), true],
    ['resourceNames limit by name', req(SA, 'get', 'configmaps', { namespace: 'ns1', name: 'other' }), false],
    ['resourceNames never match a request without a name (list)', req(SA, 'list', 'configmaps', { namespace: 'ns1' }), false],
    ['a ClusterRole bound by a RoleBinding grants only in that namespace', req(SA, 'get', 'configmaps', { namespace: 'ns2', name: 'settings' }), false],
    ['a ServiceAccount from another namespace', req(SA, 'delete', 'bgppeers', { apiGroup: 'herald.dev', namespace: 'ns2', name: 'p' }), true],
    ['apiGroups must match', req(SA, 'delete', 'bgppeers', { apiGroup: 'metallb.io', namespace: 'ns2', name: 'p' }), false],
    ['another ServiceAccount of the same name', req('system:serviceaccount:ns2:app', 'get', 'configmaps', { namespace: 'ns1', name: 'settings' }), false],
    ['an aggregated ClusterRole', req('dave', 'get', 'deployments', { apiGroup: 'apps', namespace: 'x' }), true],
    ['nonResourceURLs, exact', { ...req('prom', 'get', ''), path: '/metrics' }, true],
    ['nonResourceURLs, prefix', { ...req('prom', 'get', ''), path: '/debug/pprof/heap' }, true],
    ['nonResourceURLs, other paths', { ...req('prom', 'get', ''), path: '/logs' }, false],
    ['discovery for any authenticated user', { ...req('nobody', 'get', ''), path: '/apis/herald.dev/v1beta1' }, true],
    ['/version for any authenticated user', { ...req('nobody', 'get', ''), path: '/version' }, true],
    ['/openapi/v3 for any authenticated user', { ...req('nobody', 'get', ''), path: '/openapi/v3' }, true],
    ['no discovery for the anonymous user', { ...req('system:anonymous', 'get', ''), path: '/apis' }, false],
    ['but /healthz for the anonymous user', { ...req('system:anonymous', 'get', '', { groups: ['system:unauthenticated'] }), path: '/healthz' }, true],
    ['no write to a discovery path', { ...req('nobody', 'post', ''), path: '/apis' }, false],
    ['SelfSubjectAccessReview (kubectl auth can-i) for anyone', req('nobody', 'create', 'selfsubjectaccessreviews', { apiGroup: 'authorization.k8s.io' }), true],
    ['system:masters may do anything', req('root', 'deletecollection', 'nodes', { groups: ['system:masters'] }), true],
    ['an unknown user may do nothing', req('mallory', 'get', 'pods', { namespace: 'default' }), false],
  ];
  for (const [name, attrs, allowed] of table) {
    it(`${allowed ? 'allows' : 'denies'}: ${name}`, () => assert.equal(authz.authorize(attrs).allowed, allowed));
  }

  it('says which binding allowed a request, as Kubernetes does', () => {
    assert.equal(authz.authorize(req('alice', 'get', 'pods', { namespace: 'x' })).reason,
      'RBAC: allowed by ClusterRoleBinding "alice-reads" of ClusterRole "reader" to User "alice"');
    assert.equal(authz.authorize(req(SA, 'get', 'configmaps', { namespace: 'ns1', name: 'settings' })).reason,
      'RBAC: allowed by RoleBinding "sa-map/ns1" of ClusterRole "one-map" to ServiceAccount "app/ns1"');
  });

  it('reports a binding to a missing role in the denial', () => {
    assert.deepEqual(authz.authorize(req('carol', 'get', 'pods', { namespace: 'ns1' })), {
      allowed: false,
      reason: 'RBAC: role.rbac.authorization.k8s.io "gone" not found',
    });
    assert.deepEqual(authz.authorize(req('mallory', 'get', 'pods', { namespace: 'ns1' })), { allowed: false, reason: '' });
  });

  it('asks for the objects on every request, and sees a new set at once', () => {
    let live: RBACObject[] = [];
    const a = new Authorizer(() => live);
    assert.equal(a.authorize(req('alice', 'get', 'pods', { namespace: 'x' })).allowed, false);
    live = [...objects];
    assert.equal(a.authorize(req('alice', 'get', 'pods', { namespace: 'x' })).allowed, true);
    live = objects.filter((o) => (o.metadata as { name: string }).name !== 'alice-reads');
    assert.equal(a.authorize(req('alice', 'get', 'pods', { namespace: 'x' })).allowed, false);
  });

  it('words 403 messages as kube-apiserver', () => {
    assert.equal(
      forbiddenMessage(req(SA, 'patch', 'services', { namespace: 'default', name: 'web' })),
      'services "web" is forbidden: User "system:serviceaccount:ns1:app" cannot patch resource "services" in API group "" in the namespace "default"',
    );
    assert.equal(
      forbiddenMessage(req('bob', 'list', 'ipaddresspools', { apiGroup: 'herald.dev' })),
      'ipaddresspools.herald.dev is forbidden: User "bob" cannot list resource "ipaddresspools" in API group "herald.dev" at the cluster scope',
    );
    assert.equal(
      forbiddenMessage(req('bob', 'update', 'ipaddresspools', { apiGroup: 'herald.dev', subresource: 'status', namespace: 'n', name: 'p' }), 'RBAC: x'),
      'ipaddresspools.herald.dev "p" is forbidden: User "bob" cannot update resource "ipaddresspools/status" in API group "herald.dev" in the namespace "n": RBAC: x',
    );
    assert.equal(forbiddenMessage({ ...req('bob', 'get', ''), path: '/logs' }), 'forbidden: User "bob" cannot get path "/logs"');
  });
});

describe('apiserver RBAC manifest loading', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hlt-rbac-'));
    mkdirSync(join(dir, 'nested'));
    writeFileSync(join(dir, 'a.yaml'), [
      `apiVersion: ${API}\nkind: ClusterRole\nmetadata: {name: r}\nrules: []`,
      'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s, namespace: n}',
      `apiVersion: ${API}\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}\nsubjects: []`,
    ].join('\n---\n'));
    writeFileSync(join(dir, 'nested', 'b.yml'), `apiVersion: ${API}\nkind: Role\nmetadata: {name: r, namespace: n}\nrules: []\n---\n`);
    writeFileSync(join(dir, 'notes.txt'), `apiVersion: ${API}\nkind: Role\nmetadata: {name: ignored}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every RBAC document of every YAML file, recursively, and nothing else', () => {
    assert.deepEqual(loadRBACObjects(dir).map((o) => o.kind), ['ClusterRole', 'ClusterRoleBinding', 'Role']);
  });
});
