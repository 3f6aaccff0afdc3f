import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig } from '../../../../shared/k8s/client.js';
import { KubeConfig } from '../../../../shared/k8s/kubeconfig.js';

const FULL = `
apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod
  cluster:
    server: https://203.0.113.10:6443
    certificate-authority: certs/ca.crt
    tls-server-name: kubernetes.default
- name: lab
  cluster:
    server: http://127.0.0.1:8080
    insecure-skip-tls-verify: true
    certificate-authority-data: Q0E=
users:
- name: admin
  user:
    client-certificate: /etc/k/admin.crt
    client-key: admin.key
    token: abc
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [--cluster, prod]
      env: [{ name: REGION, value: eu }]
      provideClusterInfo: true
contexts:
- name: prod
  context: { cluster: prod, user: admin, namespace: herald-system }
- name: lab
  context: { cluster: lab, user: plugin }
`;

describe('KubeConfig', () => {
  it('reads clusters, users and contexts as kubectl does, file names relative to the file', () => {
    const kc = new KubeConfig();
    kc.loadFromString(FULL, '/home/me/.kube');
    assert.deepEqual(kc.getCurrentCluster(), {
      name: 'prod',
      server: 'https://203.0.113.10:6443',
      skipTLSVerify: false,
      caFile: '/home/me/.kube/certs/ca.crt',
      tlsServerName: 'kubernetes.default',
    });
    assert.deepEqual(kc.getCurrentUser(), { name: 'admin', token: 'abc', certFile: '/etc/k/admin.crt', keyFile: '/home/me/.kube/admin.key' });
    assert.equal(kc.getCurrentContext()?.namespace, 'herald-system');
    kc.currentContext = 'lab';
    assert.deepEqual(kc.getCurrentCluster(), { name: 'lab', server: 'http://127.0.0.1:8080', skipTLSVerify: true, caData: 'Q0E=' });
    assert.deepEqual(kc.getCurrentUser()?.exec, {
      command: '/home/me/.kube/bin/get-token',
      args: ['--cluster', 'prod'],
      env: [{ name: 'REGION', value: 'eu' }],
      apiVersion: 'client.authentication.k8s.io/v1',
      provideClusterInfo: true,
    });
  });

  it('has no current cluster when current-context names nothing', () => {
    const kc = new KubeConfig();
    kc.loadFromString(FULL.replace('current-context: prod', 'current-context: gone'));
    assert.equal(kc.getCurrentCluster(), null);
    assert.equal(kc.getCurrentUser(), null);
  });

  it('refuses malformed files with the place named', () => {
    const kc = new KubeConfig();
    assert.throws(() => kc.loadFromString('clusters:\n- name: x\n  cluster: {}\n'), /cluster x has no server/);
    assert.throws(() => kc.loadFromString('clusters: {}\n'), /clusters must be a list/);
    assert.throws(() => kc.loadFromString('users:\n- user: {token: a}\n'), /users\[0\] has no name/);
    assert.throws(() => kc.loadFromString('- a\n'), /not a mapping/);
  });

  it('in cluster: the service host (IPv6 bracketed), the CA and token files of the service account', () => {
    const kc = new KubeConfig();
    kc.loadFromCluster({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, '/sa');
    assert.deepEqual(kc.getCurrentCluster(), { name: 'in-cluster', server: 'https://[fd00::1]:443', caFile: '/sa/ca.crt', skipTLSVerify: false });
    assert.deepEqual(kc.getCurrentUser(), { name: 'in-cluster', tokenFile: '/sa/token' });
    assert.throws(() => kc.loadFromCluster({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }), /KUBERNETES_SERVICE_PORT/);
  });

  describe('loadKubeConfig', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'hlt-kubeconfig-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('merges a KUBECONFIG list as kubectl does: the first file to name an entry or a current-context wins', () => {
      const a = join(dir, 'a');
      const b = join(dir, 'b');
      writeFileSync(a, 'clusters:\n- name: c1\n  cluster: {server: "https://a:1"}\ncontexts:\n- name: x\n  context: {cluster: c1, user: u}\n');
      writeFileSync(b, 'current-context: x\nclusters:\n- name: c1\n  cluster: {server: "https://b:1"}\n- name: c2\n  cluster: {server: "https://b:2"}\nusers:\n- name: u\n  user: {token: t}\n');
      const { kc, origin } = loadKubeConfig({ env: { KUBECONFIG: `${a}:${b}` } });
      assert.deepEqual(origin, { kind: 'env', path: `${a}:${b}` });
      assert.equal(kc.getCurrentCluster()?.server, 'https://a:1');
      assert.equal(kc.getCurrentUser()?.token, 't');
      assert.deepEqual(kc.clusters.map((c) => c.name), ['c1', 'c2']);
    });

    it('prefers --kubeconfig, then KUBECONFIG, then the pod; fails without any', () => {
      const f = join(dir, 'f');
      writeFileSync(f, 'current-context: x\nclusters:\n- name: c\n  cluster: {server: "https://f:1"}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n');
      assert.equal(loadKubeConfig({ kubeconfig: f, env: { KUBECONFIG: '/nonexistent' } }).kc.getCurrentCluster()?.server, 'https://f:1');
      assert.deepEqual(loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' } }).origin, { kind: 'in-cluster' });
      assert.throws(() => loadKubeConfig({ env: {} }), /no cluster to talk to/);
    });
  });
});
