// The server through the real kubectl 1.32 binary: apply (client-side with the
// last-applied annotation, and server-side), get in every output, get -w, patch of each
// type, delete, generateName, conflicts, dry runs, validation errors and RBAC denials.
import assert from 'node:assert/strict';
import yaml from 'js-yaml';
import { kubectl, kubectlStream, manifest, request, startHarness, type Harness } from './harness.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web, tier: frontend}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 8080
`;

const POOL = `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata:
  name: lan
  namespace: herald-system
spec:
  addresses: ["192.0.2.200-192.0.2.250", "2001:db8:0:2::200-2001:db8:0:2::2ff"]
`;

describe('apiserver: kubectl', function () {
  this.timeout(30_000);
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  async function ok(args: string[], o: Parameters<typeof kubectl>[2] = {}): Promise<string> {
    const r = await kubectl(h, args, o);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function getJSON(...args: string[]): Promise<any> {
    return JSON.parse(await ok(['get', ...args, '-o', 'json']));
  }

  it('applies a Service, then re-applies it with a change (client-side apply)', async () => {
    const f = manifest(h, 'svc.yaml', SERVICE);
    assert.match(await ok(['apply', '-f', f]), /service\/web created/);
    const first = await getJSON('svc', 'web');
    assert.ok(first.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    assert.ok(first.spec.ports[0].nodePort >= 30000);
    assert.match(await ok(['apply', '-f', f]), /service\/web unchanged/);
    const changed = SERVICE.replace('tier: frontend', 'release: two').replace('port: 80', 'port: 8000');
    assert.match(await ok(['apply', '-f', manifest(h, 'svc2.yaml', changed)]), /service\/web configured/);
    const second = await getJSON('svc', 'web');
    assert.deepEqual(second.metadata.labels, { app: 'web', release: 'two' }, 'a label dropped from the manifest is removed');
    assert.equal(second.spec.ports.length, 1);
    assert.equal(second.spec.ports[0].port, 8000);
    assert.equal(second.spec.ports[0].nodePort, first.spec.ports[0].nodePort, 'the port named http keeps its node port');
    assert.equal(second.spec.clusterIP, first.spec.clusterIP);
  });

  it('applies herald objects and refuses an invalid IPAddressPool naming the field', async () => {
    assert.match(await ok(['apply', '-f', manifest(h, 'pool.yaml', POOL)]), /ipaddresspool.herald.dev\/lan created/);
    assert.match(await ok(['apply', '-f', manifest(h, 'pool2.yaml', POOL.replace('250"', '240"'))]), /configured/);
    assert.equal((await getJSON('ipaddresspools', '-n', 'herald-system', 'lan')).spec.addresses[0], '192.0.2.200-192.0.2.240');
    const bad = await kubectl(h, ['apply', '-f', manifest(h, 'bad.yaml', POOL.replace('name: lan', 'name: bad').replace('"192.0.2.200-192.0.2.250"', '"192.0.2.300/24"'))]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /The IPAddressPool "bad" is invalid: spec\.addresses\[0\]: Invalid value: /);
    const r = await kubectl(h, ['get', 'ipaddresspool', '-n', 'herald-system', 'bad']);
    assert.match(r.stderr, /NotFound/);
  });

  it('prints tables with the kinds\' columns, and json and yaml', async () => {
    const table = await ok(['get', 'svc', 'web']);
    assert.match(table.split('\n')[0] ?? '', /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/);
    assert.match(table.split('\n')[1] ?? '', /^web\s+LoadBalancer\s+10\.96\.\d+\.\d+\s+<pending>\s+8000:3\d{4}\/TCP\s+\d+s$/);
    const pools = await ok(['get', 'ipp', '-A']);
    assert.match(pools, /^NAMESPACE\s+NAME\s+ADDRESSES\s+AUTO ASSIGN/);
    assert.match(pools, /herald-system\s+lan\s+\["192\.0\.2\.200-192\.0\.2\.240"/);
    const y = yaml.load(await ok(['get', 'ns', 'herald-system', '-o', 'yaml'])) as { kind: string; status: { phase: string } };
    assert.equal(y.kind, 'Namespace');
    assert.equal(y.status.phase, 'Active');
    const names = await ok(['get', 'ns', '-o', 'name']);
    assert.match(names, /namespace\/kube-system/);
    const all = await ok(['get', 'all', '-n', 'default']);
    assert.match(all, /service\/kubernetes/);
    assert.match(await ok(['api-resources', '--api-group=herald.dev']), /ipaddresspools\s+ipp\s+herald.dev\/v1beta1\s+true\s+IPAddressPool/);
  });

  it('streams changes with get -w', async () => {
    await request(h.api, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'before-watch' } } });
    const w = kubectlStream(h, ['get', 'configmaps', '-w']);
    try {
      await w.waitFor((l) => l.some((x) => /^before-watch\s+0\s+/.test(x)));
      assert.match(w.lines[0] ?? '', /^NAME\s+DATA\s+AGE/);
      await ok(['create', '-f', manifest(h, 'cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched}\ndata: {a: "1"}\n')]);
      await w.waitFor((l) => l.some((x) => /^watched\s+1\s+/.test(x)));
      await ok(['patch', 'configmap', 'watched', '--type', 'merge', '-p', '{"data":{"b":"2"}}']);
      await w.waitFor((l) => l.some((x) => /^watched\s+2\s+/.test(x)));
    } finally {
      w.stop();
    }
  });

  it('patches with merge, JSON and strategic patches', async () => {
    await ok(['patch', 'svc', 'web', '--type', 'merge', '-p', '{"metadata":{"annotations":{"a":"1"}}}']);
    await ok(['patch', 'svc', 'web', '--type', 'json', '-p', '[{"op":"add","path":"/metadata/labels/j","value":"k"},{"op":"test","path":"/spec/type","value":"LoadBalancer"}]']);
    await ok(['patch', 'svc', 'web', '-p', '{"spec":{"ports":[{"name":"metrics","port":9100}]}}']);
    const s = await getJSON('svc', 'web');
    assert.equal(s.metadata.annotations.a, '1');
    assert.equal(s.metadata.labels.j, 'k');
    assert.deepEqual(s.spec.ports.map((p: { port: number }) => p.port), [8000, 9100], 'strategic merge adds to spec.ports by port');
    const failed = await kubectl(h, ['patch', 'svc', 'web', '--type', 'json', '-p', '[{"op":"test","path":"/spec/type","value":"ClusterIP"}]']);
    assert.notEqual(failed.code, 0);
    const status = await kubectl(h, ['patch', 'svc', 'web', '--subresource=status', '--type', 'merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.200"}]}}}']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(await ok(['get', 'svc', 'web']), /192\.0\.2\.200/);
    await ok(['label', 'svc', 'web', 'extra=yes']);
    await ok(['annotate', 'svc', 'web', 'note=hi']);
    const after = await getJSON('svc', 'web');
    assert.equal(after.metadata.labels.extra, 'yes');
    assert.equal(after.metadata.annotations.note, 'hi');
  });

  it('creates with generateName, and deletes (waiting for the object to go)', async () => {
    const out = await ok(['create', '-f', manifest(h, 'gen.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: job-}\n')]);
    const m = /configmap\/(job-[a-z0-9]{5}) created/.exec(out);
    assert.ok(m, out);
    assert.match(await ok(['delete', 'configmap', m[1] as string]), /deleted/);
    assert.match((await kubectl(h, ['get', 'configmap', m[1] as string])).stderr, /NotFound/);
    await ok(['apply', '-f', manifest(h, 'todelete.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: byfile}\n')]);
    assert.match(await ok(['delete', '-f', manifest(h, 'todelete.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: byfile}\n')]), /configmap "byfile" deleted/);
  });

  it('reports a conflict on replace with a stale resourceVersion', async () => {
    const cm = await request(h.api, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'occ' }, data: { v: '1' } } });
    await request(h.api, 'PATCH', '/api/v1/namespaces/default/configmaps/occ', { body: { data: { v: '2' } }, contentType: 'application/merge-patch+json' });
    const stale = { ...cm.body, data: { v: '3' } };
    const r = await kubectl(h, ['replace', '-f', manifest(h, 'stale.json', JSON.stringify(stale))]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again/);
  });

  it('does server-side dry runs and server-side apply', async () => {
    const dry = await ok(['apply', '--dry-run=server', '-f', manifest(h, 'dry.yaml', SERVICE.replace('name: web', 'name: dry')), '-o', 'json']);
    assert.ok(JSON.parse(dry).spec.clusterIP, 'the dry run shows the defaulted object');
    assert.match((await kubectl(h, ['get', 'svc', 'dry'])).stderr, /NotFound/);
    const ssa = manifest(h, 'ssa.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: "1", b: "2"}\n');
    assert.match(await ok(['apply', '--server-side', '-f', ssa]), /configmap\/ssa serverside-applied/);
    await ok(['apply', '--server-side', '-f', manifest(h, 'ssa.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: "9"}\n')]);
    assert.deepEqual((await getJSON('cm', 'ssa')).data, { a: '9' });
  });

  it('denies what RBAC in manifests/ does not grant, with the Kubernetes message', async () => {
    const r = await kubectl(h, ['patch', 'svc', 'web', '--type', 'merge', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}'], { identity: 'speaker' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error from server \(Forbidden\): services "web" is forbidden: User "system:serviceaccount:herald-system:speaker" cannot patch resource "services" in API group "" in the namespace "default"/);
    const st = await kubectl(h, ['patch', 'svc', 'web', '--subresource=status', '--type', 'merge', '-p', '{"status":{}}'], { identity: 'speaker' });
    assert.match(st.stderr, /cannot get resource "services\/status"/, 'kubectl reads the status subresource first');
    const raw = await request(h.api, 'PATCH', '/api/v1/namespaces/default/services/web/status', { identity: 'speaker', body: { status: {} }, contentType: 'application/merge-patch+json' });
    assert.equal(raw.status, 403);
    assert.equal(raw.body.reason, 'Forbidden');
    assert.equal(raw.body.message, 'services "web" is forbidden: User "system:serviceaccount:herald-system:speaker" cannot patch resource "services/status" in API group "" in the namespace "default"');
    assert.deepEqual(raw.body.details, { name: 'web', kind: 'services' });
    assert.match(await ok(['get', 'svc', 'web', '-o', 'name'], { identity: 'speaker' }), /service\/web/);
    const canI = (who: string) => kubectl(h, ['auth', 'can-i', 'patch', 'services', '--subresource=status', `--as=system:serviceaccount:herald-system:${who}`]);
    assert.equal((await canI('controller')).stdout.trim(), 'yes');
    assert.equal((await canI('speaker')).stdout.trim(), 'no');
    const secrets = await kubectl(h, ['get', 'secrets', '-n', 'default'], { identity: 'speaker' });
    assert.match(secrets.stderr, /secrets is forbidden: User "system:serviceaccount:herald-system:speaker" cannot list resource "secrets" in API group "" in the namespace "default"/);
  });

  it('runs the create commands, which send protobuf', async () => {
    assert.match(await ok(['create', 'namespace', 'made']), /namespace\/made created/);
    await ok(['create', 'secret', 'generic', 'bgp-pass', '-n', 'made', '--from-literal=password=s3cret']);
    await ok(['create', 'configmap', 'cfg', '-n', 'made', '--from-literal=a=1', '--from-literal=empty=']);
    await ok(['create', 'service', 'loadbalancer', 'lb', '-n', 'made', '--tcp=80:8080']);
    await ok(['create', 'clusterrolebinding', 'crb', '--clusterrole=view', '--user=someone']);
    await ok(['create', 'deployment', 'dep', '-n', 'made', '--image=registry.example/herald:1', '--replicas=2']);
    assert.equal((await getJSON('secret', '-n', 'made', 'bgp-pass')).data.password, Buffer.from('s3cret').toString('base64'));
    assert.deepEqual((await getJSON('configmap', '-n', 'made', 'cfg')).data, { a: '1', empty: '' });
    const lb = await getJSON('svc', '-n', 'made', 'lb');
    assert.equal(lb.spec.type, 'LoadBalancer');
    assert.deepEqual(lb.spec.ports.map((p: { port: number; targetPort: number; protocol: string }) => [p.port, p.targetPort, p.protocol]), [[80, 8080, 'TCP']]);
    assert.equal((await getJSON('clusterrolebinding', 'crb')).subjects[0].name, 'someone');
    const dep = await getJSON('deployment', '-n', 'made', 'dep');
    assert.equal(dep.spec.replicas, 2);
    assert.equal(dep.spec.template.spec.containers[0].image, 'registry.example/herald:1');
  });

  it('explains herald kinds and refuses unknown fields on apply', async () => {
    assert.match(await ok(['explain', 'ipaddresspool.spec']), /addresses\s+<\[\]string> -required-/);
    const r = await kubectl(h, ['apply', '-f', manifest(h, 'unknown.yaml', POOL.replace('spec:\n', 'spec:\n  bogus: 1\n'))]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /IPAddressPool in version "v1beta1" cannot be handled as a IPAddressPool: strict decoding error: unknown field "spec.bogus"/);
  });

  it('lists events, including ones written through events.k8s.io', async () => {
    await request(h.api, 'POST', '/apis/events.k8s.io/v1/namespaces/default/events', {
      body: { metadata: { name: 'web.1' }, eventTime: '2024-01-01T00:00:00.000000Z', reportingController: 'herald.dev/controller', reportingInstance: 'c', action: 'Allocate', reason: 'IPAllocated', type: 'Normal', note: 'Assigned IP ["192.0.2.200"]', regarding: { kind: 'Service', namespace: 'default', name: 'web' } },
    });
    const out = await ok(['get', 'events']);
    assert.match(out, /Normal\s+IPAllocated\s+service\/web\s+Assigned IP \["192\.0\.2\.200"\]/);
  });
});
