// The generic API semantics, over raw HTTPS: metadata, concurrency, status subresource,
// generation, selectors, pagination, finalizers, namespaces, dry run, discovery.
import assert from 'node:assert/strict';
import https from 'node:https';
import { request, startHarness, svc, type Harness } from './harness.js';

const SVC = '/api/v1/namespaces/default/services';
const POOLS = '/apis/herald.dev/v1beta1/namespaces/herald-system/ipaddresspools';

function pool(name: string, addresses = ['192.0.2.0/28']): Record<string, unknown> {
  return { apiVersion: 'herald.dev/v1beta1', kind: 'IPAddressPool', metadata: { name }, spec: { addresses } };
}

describe('apiserver: API semantics', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('serves /version, health and discovery, and refuses requests without a valid token', async () => {
    assert.equal((await request(h.api, 'GET', '/version', { identity: 'none' })).body.minor, '32');
    assert.equal((await request(h.api, 'GET', '/healthz', { identity: 'none' })).text, 'ok');
    const denied = await request(h.api, 'GET', SVC, { identity: 'none' });
    assert.equal(denied.status, 401);
    assert.equal(denied.body.reason, 'Unauthorized');
    const core = await request(h.api, 'GET', '/api/v1');
    const services = core.body.resources.find((r: { name: string }) => r.name === 'services');
    assert.deepEqual(services.shortNames, ['svc']);
    assert.equal(services.namespaced, true);
    assert.ok(core.body.resources.some((r: { name: string }) => r.name === 'services/status'));
    const groups = await request(h.api, 'GET', '/apis');
    assert.ok(groups.body.groups.some((g: { name: string }) => g.name === 'herald.dev'));
    const herald = await request(h.api, 'GET', '/apis/herald.dev/v1beta1');
    const pools = herald.body.resources.find((r: { name: string }) => r.name === 'ipaddresspools');
    assert.equal(pools.kind, 'IPAddressPool');
    assert.ok(pools.categories.includes('herald'));
    const agg = await request(h.api, 'GET', '/apis', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
    assert.match(String(agg.headers['content-type']), /as=APIGroupDiscoveryList/);
    assert.equal(agg.body.kind, 'APIGroupDiscoveryList');
    const lease = agg.body.items.find((g: { metadata: { name: string } }) => g.metadata.name === 'coordination.k8s.io');
    assert.equal(lease.versions[0].resources[0].resource, 'leases');
    assert.equal((await request(h.api, 'GET', '/apis/nope.example/v1/things')).status, 404);
  });

  it('creates with server-set metadata and refuses a duplicate with 409 AlreadyExists', async () => {
    const r = await request(h.api, 'POST', SVC, { body: svc('meta') });
    assert.equal(r.status, 201);
    const m = r.body.metadata;
    assert.match(m.uid, /^[0-9a-f-]{36}$/);
    assert.match(m.resourceVersion, /^\d+$/);
    assert.match(m.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(m.namespace, 'default');
    const dup = await request(h.api, 'POST', SVC, { body: svc('meta') });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.reason, 'AlreadyExists');
    assert.equal(dup.body.message, 'services "meta" already exists');
  });

  it('answers a stale resourceVersion with 409 Conflict and the real message; no-op updates write nothing', async () => {
    const created = (await request(h.api, 'POST', SVC, { body: svc('occ') })).body;
    const first = structuredClone(created);
    first.metadata.labels = { a: '1' };
    const ok = await request(h.api, 'PUT', `${SVC}/occ`, { body: first });
    assert.equal(ok.status, 200);
    assert.ok(Number(ok.body.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
    const stale = structuredClone(created);
    stale.metadata.labels = { a: '2' };
    const c = await request(h.api, 'PUT', `${SVC}/occ`, { body: stale });
    assert.equal(c.status, 409);
    assert.equal(c.body.reason, 'Conflict');
    assert.equal(c.body.message, 'Operation cannot be fulfilled on services "occ": the object has been modified; please apply your changes to the latest version and try again');
    const same = await request(h.api, 'PUT', `${SVC}/occ`, { body: ok.body });
    assert.equal(same.body.metadata.resourceVersion, ok.body.metadata.resourceVersion, 'an update that changes nothing keeps the resourceVersion');
    const p = await request(h.api, 'PATCH', `${SVC}/occ`, { body: { metadata: { resourceVersion: created.metadata.resourceVersion, labels: { b: '1' } } }, contentType: 'application/merge-patch+json' });
    assert.equal(p.status, 409, 'a patch carrying a stale resourceVersion conflicts too');
  });

  it('writes status only through /status, and spec only through the main resource', async () => {
    await request(h.api, 'POST', SVC, { body: svc('st', { type: 'LoadBalancer' }) });
    const withStatus = await request(h.api, 'PATCH', `${SVC}/st`, {
      body: { spec: { sessionAffinity: 'ClientIP' }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } },
      contentType: 'application/merge-patch+json',
    });
    assert.equal(withStatus.body.spec.sessionAffinity, 'ClientIP');
    assert.deepEqual(withStatus.body.status, { loadBalancer: {} }, 'status changes through the main resource are ignored');
    const viaStatus = await request(h.api, 'PATCH', `${SVC}/st/status`, {
      body: { metadata: { annotations: { 'herald.dev/ip-allocated-from-pool': 'lan' } }, spec: { sessionAffinity: 'None' }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP' }] } } },
      contentType: 'application/merge-patch+json',
    });
    assert.equal(viaStatus.status, 200);
    assert.deepEqual(viaStatus.body.status.loadBalancer.ingress, [{ ip: '192.0.2.1', ipMode: 'VIP' }]);
    assert.equal(viaStatus.body.spec.sessionAffinity, 'ClientIP', 'spec changes through /status are ignored');
    assert.equal(viaStatus.body.metadata.annotations['herald.dev/ip-allocated-from-pool'], 'lan', 'a Service /status write carries metadata, as in Kubernetes');
    const bad = await request(h.api, 'PATCH', `${SVC}/st/status`, { body: { status: { loadBalancer: { ingress: [{ ip: 'not-an-ip' }] } } }, contentType: 'application/merge-patch+json' });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.details.causes[0].field, 'status.loadBalancer.ingress[0].ip');
  });

  it('bumps generation of custom resources on spec changes only, drops status on create, and serves /status', async () => {
    const created = await request(h.api, 'POST', POOLS, { body: { ...pool('gen'), status: { assignedIPv4: 5 } } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.metadata.generation, 1);
    assert.equal(created.body.status, undefined, 'create cannot set status when the status subresource is on');
    assert.equal(created.body.spec.autoAssign, true, 'schema defaults applied');
    const s = await request(h.api, 'PATCH', `${POOLS}/gen/status`, { body: { metadata: { labels: { via: 'status' } }, status: { assignedIPv4: 3 } }, contentType: 'application/merge-patch+json' });
    assert.equal(s.body.status.assignedIPv4, 3);
    assert.equal(s.body.metadata.labels, undefined, 'a custom resource /status write takes only status');
    assert.equal(s.body.metadata.generation, 1, 'status writes leave generation alone');
    const l = await request(h.api, 'PATCH', `${POOLS}/gen`, { body: { metadata: { labels: { x: 'y' } } }, contentType: 'application/merge-patch+json' });
    assert.equal(l.body.metadata.generation, 1, 'metadata writes leave generation alone');
    const sp = await request(h.api, 'PATCH', `${POOLS}/gen`, { body: { spec: { autoAssign: false } }, contentType: 'application/merge-patch+json' });
    assert.equal(sp.body.metadata.generation, 2);
    assert.equal(sp.body.status.assignedIPv4, 3);
    const noRV = structuredClone(sp.body);
    delete noRV.metadata.resourceVersion;
    const put = await request(h.api, 'PUT', `${POOLS}/gen`, { body: noRV });
    assert.equal(put.status, 422, 'custom resources need a resourceVersion on update');
    assert.match(put.body.message, /metadata.resourceVersion: Invalid value: 0x0: must be specified for an update/);
    const smp = await request(h.api, 'PATCH', `${POOLS}/gen`, { body: { spec: {} }, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(smp.status, 415, 'no strategic merge patch for custom resources');
  });

  it('refuses an invalid custom resource with 422 naming the field, as Kubernetes words it', async () => {
    const r = await request(h.api, 'POST', POOLS, { body: pool('bad', ['192.0.2.300/24']) });
    assert.equal(r.status, 422);
    assert.equal(r.body.reason, 'Invalid');
    assert.equal(r.body.details.kind, 'IPAddressPool');
    assert.equal(r.body.details.group, 'herald.dev');
    assert.equal(r.body.details.causes[0].field, 'spec.addresses[0]');
    assert.match(r.body.message, /^IPAddressPool\.herald\.dev "bad" is invalid: spec\.addresses\[0\]: Invalid value: /);
    const strict = await request(h.api, 'POST', `${POOLS}?fieldValidation=Strict`, { body: { ...pool('strict'), spec: { addresses: ['192.0.2.0/28'], bogus: 1 } } });
    assert.equal(strict.status, 400);
    assert.match(strict.body.message, /strict decoding error: unknown field "spec.bogus"/);
    const pruned = await request(h.api, 'POST', POOLS, { body: { ...pool('pruned'), spec: { addresses: ['192.0.2.16/28'], bogus: 1 } } });
    assert.equal(pruned.status, 201);
    assert.equal(pruned.body.spec.bogus, undefined, 'unknown fields are pruned without Strict');
  });

  it('filters lists by label and field selectors and returns a list resourceVersion', async () => {
    for (const [name, labels] of [['sel-a', { app: 'a', tier: 'fe' }], ['sel-b', { app: 'b', tier: 'be' }], ['sel-c', { app: 'c' }]] as const) {
      await request(h.api, 'POST', SVC, { body: svc(name, {}, { labels }) });
    }
    const names = async (q: string): Promise<string[]> =>
      (await request(h.api, 'GET', `${SVC}?${q}`)).body.items.map((i: { metadata: { name: string } }) => i.metadata.name).filter((n: string) => n.startsWith('sel-'));
    assert.deepEqual(await names('labelSelector=app%3Da'), ['sel-a']);
    assert.deepEqual(await names('labelSelector=app%3D%3Da'), ['sel-a']);
    assert.deepEqual(await names('labelSelector=tier!%3Dfe'), ['sel-b', 'sel-c']);
    assert.deepEqual(await names('labelSelector=app%20in%20(a,c)'), ['sel-a', 'sel-c']);
    assert.deepEqual(await names('labelSelector=app%20notin%20(a,c),app'), ['sel-b']);
    assert.deepEqual(await names('labelSelector=tier'), ['sel-a', 'sel-b']);
    assert.deepEqual(await names('labelSelector=!tier'), ['sel-c']);
    assert.deepEqual(await names('fieldSelector=metadata.name%3Dsel-b'), ['sel-b']);
    assert.deepEqual(await names('fieldSelector=metadata.name!%3Dsel-b,metadata.namespace%3Ddefault&labelSelector=app'), ['sel-a', 'sel-c']);
    const all = await request(h.api, 'GET', '/api/v1/services?fieldSelector=metadata.namespace%3Ddefault');
    assert.equal(all.body.kind, 'ServiceList');
    assert.match(all.body.metadata.resourceVersion, /^\d+$/);
    assert.equal((await request(h.api, 'GET', `${SVC}?labelSelector=%3D%3D`)).status, 400);
  });

  it('pages with limit and continue, and answers 410 to a continue token older than the history', async () => {
    for (let i = 0; i < 7; i++) await request(h.api, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: `page-${i}` }, data: { i: String(i) } } });
    const seen: string[] = [];
    let cont = '';
    let pages = 0;
    do {
      const r = await request(h.api, 'GET', `/api/v1/namespaces/default/configmaps?limit=3${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      seen.push(...r.body.items.map((i: { metadata: { name: string } }) => i.metadata.name));
      cont = r.body.metadata.continue ?? '';
      pages++;
    } while (cont);
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6].map((i) => `page-${i}`));
    assert.equal(pages, 3);
    const first = await request(h.api, 'GET', '/api/v1/namespaces/default/configmaps?limit=2');
    h.api.faults.compact();
    const expired = await request(h.api, 'GET', `/api/v1/namespaces/default/configmaps?limit=2&continue=${encodeURIComponent(first.body.metadata.continue)}`);
    assert.equal(expired.status, 410);
    assert.equal(expired.body.reason, 'Expired');
  });

  it('keeps an object with finalizers until they are removed, with deletionTimestamp set', async () => {
    await request(h.api, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'fin', finalizers: ['herald.dev/test'] } } });
    const del = await request(h.api, 'DELETE', '/api/v1/namespaces/default/configmaps/fin', { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } });
    assert.equal(del.status, 202);
    assert.ok(del.body.metadata.deletionTimestamp);
    const still = await request(h.api, 'GET', '/api/v1/namespaces/default/configmaps/fin');
    assert.equal(still.status, 200);
    const add = await request(h.api, 'PATCH', '/api/v1/namespaces/default/configmaps/fin', { body: { metadata: { finalizers: ['herald.dev/test', 'other/x'] } }, contentType: 'application/merge-patch+json' });
    assert.equal(add.status, 422, 'no new finalizers on an object being deleted');
    const rm = await request(h.api, 'PATCH', '/api/v1/namespaces/default/configmaps/fin', { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' });
    assert.equal(rm.status, 200);
    assert.equal((await request(h.api, 'GET', '/api/v1/namespaces/default/configmaps/fin')).status, 404);
  });

  it('checks delete preconditions', async () => {
    const c = await request(h.api, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'pre' } } });
    const wrong = await request(h.api, 'DELETE', '/api/v1/namespaces/default/configmaps/pre', { body: { preconditions: { uid: 'nope' } } });
    assert.equal(wrong.status, 409);
    assert.match(wrong.body.message, /Precondition failed: UID in precondition: nope/);
    const right = await request(h.api, 'DELETE', '/api/v1/namespaces/default/configmaps/pre', { body: { preconditions: { uid: c.body.metadata.uid, resourceVersion: c.body.metadata.resourceVersion } } });
    assert.equal(right.status, 200);
  });

  it('refuses namespaced objects in a missing namespace, and deleting a namespace removes its contents', async () => {
    const missing = await request(h.api, 'POST', '/api/v1/namespaces/nowhere/configmaps', { body: { metadata: { name: 'x' } } });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'namespaces "nowhere" not found');
    const ns = await request(h.api, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'doomed' } } });
    assert.equal(ns.body.status.phase, 'Active');
    assert.equal(ns.body.metadata.labels['kubernetes.io/metadata.name'], 'doomed');
    await request(h.api, 'POST', '/api/v1/namespaces/doomed/configmaps', { body: { metadata: { name: 'a' } } });
    await request(h.api, 'POST', '/api/v1/namespaces/doomed/services', { body: svc('b') });
    await request(h.api, 'POST', '/api/v1/namespaces/doomed/configmaps', { body: { metadata: { name: 'held', finalizers: ['herald.dev/x'] } } });
    const del = await request(h.api, 'DELETE', '/api/v1/namespaces/doomed');
    assert.equal(del.body.status.phase, 'Terminating');
    assert.equal((await request(h.api, 'GET', '/api/v1/namespaces/doomed/services/b')).status, 404);
    const late = await request(h.api, 'POST', '/api/v1/namespaces/doomed/configmaps', { body: { metadata: { name: 'late' } } });
    assert.equal(late.status, 403);
    assert.match(late.body.message, /because it is being terminated/);
    assert.equal((await request(h.api, 'GET', '/api/v1/namespaces/doomed')).status, 200, 'waits for the finalizer');
    await request(h.api, 'PATCH', '/api/v1/namespaces/doomed/configmaps/held', { body: { metadata: { finalizers: [] } }, contentType: 'application/merge-patch+json' });
    assert.equal((await request(h.api, 'GET', '/api/v1/namespaces/doomed')).status, 404);
    assert.equal((await request(h.api, 'DELETE', '/api/v1/namespaces/default')).status, 403);
  });

  it('honours dryRun=All without storing or allocating anything', async () => {
    const dry = await request(h.api, 'POST', `${SVC}?dryRun=All`, { body: svc('dry', { type: 'LoadBalancer' }) });
    assert.equal(dry.status, 201);
    assert.ok(dry.body.spec.clusterIP);
    assert.equal((await request(h.api, 'GET', `${SVC}/dry`)).status, 404);
    const real = await request(h.api, 'POST', SVC, { body: svc('dry', { type: 'LoadBalancer', clusterIP: dry.body.spec.clusterIP, ports: [{ port: 80, nodePort: dry.body.spec.ports[0].nodePort }] }) });
    assert.equal(real.status, 201, `the dry-run cluster IP and node port were given back: ${real.text}`);
    const dryDel = await request(h.api, 'DELETE', `${SVC}/dry?dryRun=All`);
    assert.equal(dryDel.status, 200);
    assert.equal((await request(h.api, 'GET', `${SVC}/dry`)).status, 200);
  });

  it('names objects from generateName', async () => {
    const r = await request(h.api, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { generateName: 'gen-' } } });
    assert.equal(r.status, 201);
    assert.match(r.body.metadata.name, /^gen-[a-z0-9]{5}$/);
    const none = await request(h.api, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: {} } });
    assert.equal(none.status, 422);
    assert.match(none.body.message, /name or generateName is required/);
  });

  it('validates names and labels as Kubernetes does', async () => {
    const r = await request(h.api, 'POST', SVC, { body: svc('1bad') });
    assert.equal(r.status, 422);
    assert.match(r.body.message, /a DNS-1035 label must consist of lower case alphanumeric characters/);
    const l = await request(h.api, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'lbl', labels: { ok: 'not ok!' } } } });
    assert.equal(l.status, 422);
    assert.equal(l.body.details.causes[0].field, 'metadata.labels');
  });

  it('shares Events between core/v1 and events.k8s.io/v1', async () => {
    const e = await request(h.api, 'POST', '/apis/events.k8s.io/v1/namespaces/default/events', {
      body: {
        metadata: { name: 'ev1' },
        eventTime: '2024-01-01T00:00:00.000000Z',
        reportingController: 'herald.dev/controller',
        reportingInstance: 'c1',
        action: 'Allocate',
        reason: 'IPAllocated',
        type: 'Normal',
        note: 'Assigned IP 192.0.2.1',
        regarding: { kind: 'Service', namespace: 'default', name: 'web' },
      },
    });
    assert.equal(e.status, 201, e.text);
    assert.equal(e.body.note, 'Assigned IP 192.0.2.1');
    const core = await request(h.api, 'GET', '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb');
    assert.equal(core.body.items.length, 1);
    assert.equal(core.body.items[0].message, 'Assigned IP 192.0.2.1');
    assert.equal(core.body.items[0].involvedObject.kind, 'Service');
    assert.equal(core.body.items[0].reportingComponent, 'herald.dev/controller');
  });

  it('validates Events as Kubernetes does', async () => {
    const wrongNs = await request(h.api, 'POST', '/api/v1/namespaces/default/events', {
      body: { metadata: { name: 'e1' }, involvedObject: { kind: 'Service', namespace: 'herald-system', name: 'x' }, reason: 'R', message: 'm', type: 'Normal' },
    });
    assert.equal(wrongNs.status, 422);
    assert.match(wrongNs.body.message, /involvedObject.namespace: Invalid value: "herald-system": does not match event.namespace/);
    const node = await request(h.api, 'POST', '/api/v1/namespaces/default/events', { body: { metadata: { name: 'e2' }, involvedObject: { kind: 'Node', name: 'n1' }, reason: 'R', message: 'm', type: 'Normal' } });
    assert.equal(node.status, 201, 'cluster-scoped objects\' events live in default');
    const incomplete = await request(h.api, 'POST', '/apis/events.k8s.io/v1/namespaces/default/events', { body: { metadata: { name: 'e3' }, regarding: { kind: 'Service', namespace: 'default', name: 'x' }, type: 'Normal' } });
    assert.equal(incomplete.status, 422);
    assert.deepEqual(incomplete.body.details.causes.map((c: { field: string }) => c.field), ['eventTime', 'reportingController', 'reportingInstance', 'action', 'reason']);
  });

  it('deletes collections by selector', async () => {
    for (const n of ['dc-1', 'dc-2', 'dc-3']) await request(h.api, 'POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: n, labels: { batch: n === 'dc-3' ? 'keep' : 'drop' } } } });
    const r = await request(h.api, 'DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=batch%3Ddrop');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['dc-1', 'dc-2']);
    const left = await request(h.api, 'GET', '/api/v1/namespaces/default/configmaps?labelSelector=batch');
    assert.deepEqual(left.body.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['dc-3']);
  });

  it('answers access reviews and honours impersonation by the admin only', async () => {
    const review = (identity: 'admin' | 'speaker', spec: Record<string, unknown>, kind = 'selfsubjectaccessreviews') =>
      request(h.api, 'POST', `/apis/authorization.k8s.io/v1/${kind}`, { identity, body: { apiVersion: 'authorization.k8s.io/v1', kind: 'X', spec } });
    const own = await review('speaker', { resourceAttributes: { verb: 'list', resource: 'services', namespace: 'default' } });
    assert.equal(own.status, 201);
    assert.equal(own.body.status.allowed, true);
    const notOwn = await review('speaker', { resourceAttributes: { verb: 'patch', resource: 'services', subresource: 'status', namespace: 'default' } });
    assert.equal(notOwn.body.status.allowed, false);
    const sar = await review('admin', { user: 'system:serviceaccount:herald-system:controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:herald-system'], resourceAttributes: { verb: 'patch', resource: 'services', subresource: 'status', namespace: 'default' } }, 'subjectaccessreviews');
    assert.equal(sar.body.status.allowed, true);
    const asSpeaker = await request(h.api, 'GET', '/api/v1/namespaces/default/secrets', { identity: 'admin', accept: 'application/json' });
    assert.equal(asSpeaker.status, 200);
    const url = '/api/v1/namespaces/default/secrets';
    const imp = await new Promise<number>((resolve, reject) => {
      const req = https.request(new URL(url, h.api.url), { ca: h.api.caPEM, headers: { Authorization: `Bearer ${h.api.tokens.admin}`, 'Impersonate-User': 'system:serviceaccount:herald-system:speaker' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(imp, 403, 'the admin acting as the speaker is refused what the speaker is refused');
    const bySpeaker = await new Promise<number>((resolve, reject) => {
      const req = https.request(new URL(url, h.api.url), { ca: h.api.caPEM, headers: { Authorization: `Bearer ${h.api.tokens.speaker}`, 'Impersonate-User': 'kubernetes-admin', 'Impersonate-Group': 'system:masters' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(bySpeaker, 403, 'the speaker may not impersonate');
  });

  it('folds Secret stringData into base64 data', async () => {
    const s = await request(h.api, 'POST', '/api/v1/namespaces/default/secrets', { body: { metadata: { name: 'pw' }, stringData: { password: 'hunter2' } } });
    assert.equal(s.body.type, 'Opaque');
    assert.equal(s.body.data.password, Buffer.from('hunter2').toString('base64'));
    assert.equal(s.body.stringData, undefined);
  });

  it('serves tables, with CRD printer columns', async () => {
    await request(h.api, 'POST', POOLS, { body: pool('tbl', ['198.51.100.0/28']) });
    const t = await request(h.api, 'GET', POOLS, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    assert.equal(t.body.kind, 'Table');
    const cols = t.body.columnDefinitions.map((c: { name: string }) => c.name);
    assert.deepEqual(cols.slice(0, 3), ['Name', 'Addresses', 'Auto Assign']);
    const row = t.body.rows.find((r: { cells: unknown[] }) => r.cells[0] === 'tbl');
    assert.equal(row.cells[1], '["198.51.100.0/28"]');
    assert.equal(row.object.kind, 'PartialObjectMetadata');
    const s = await request(h.api, 'GET', '/api/v1/namespaces/default/services/kubernetes', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    assert.deepEqual(s.body.columnDefinitions.map((c: { name: string }) => c.name).slice(0, 5), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)']);
    assert.deepEqual(s.body.rows[0].cells.slice(0, 5), ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP']);
  });

  it('serves Nodes (cluster-scoped, status kept on create) and Leases', async () => {
    const n = await request(h.api, 'POST', '/api/v1/nodes', {
      body: { metadata: { name: 'node1', labels: { 'kubernetes.io/hostname': 'node1' } }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }], conditions: [{ type: 'Ready', status: 'True' }] } },
    });
    assert.equal(n.status, 201);
    assert.equal(n.body.status.addresses[0].address, '192.0.2.11');
    assert.equal(n.body.metadata.namespace, undefined);
    const smp = await request(h.api, 'PATCH', '/api/v1/nodes/node1/status', {
      body: { status: { conditions: [{ type: 'NetworkUnavailable', status: 'False' }] } },
      contentType: 'application/strategic-merge-patch+json',
    });
    assert.deepEqual(smp.body.status.conditions.map((c: { type: string }) => c.type), ['Ready', 'NetworkUnavailable'], 'conditions merge by type');
    assert.equal((await request(h.api, 'GET', '/api/v1/namespaces/default/nodes/node1')).status, 404);
    const l = await request(h.api, 'POST', '/apis/coordination.k8s.io/v1/namespaces/herald-system/leases', { body: { metadata: { name: 'herald-controller' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } } });
    assert.equal(l.status, 201);
    const upd = structuredClone(l.body);
    upd.spec.holderIdentity = 'b';
    assert.equal((await request(h.api, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/herald-system/leases/herald-controller', { body: upd })).body.spec.holderIdentity, 'b');
    assert.equal((await request(h.api, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/herald-system/leases/herald-controller', { body: upd })).status, 409, 'the stale copy conflicts');
  });

  it('accepts Deployments, DaemonSets and EndpointSlices, and CRDs through the API', async () => {
    const d = await request(h.api, 'POST', '/apis/apps/v1/namespaces/herald-system/deployments', {
      body: { metadata: { name: 'controller' }, spec: { selector: { matchLabels: { app: 'c' } }, template: { metadata: { labels: { app: 'c' } }, spec: { containers: [{ name: 'c', image: 'herald' }] } } } },
    });
    assert.equal(d.status, 201);
    assert.equal(d.body.spec.replicas, 1);
    assert.equal(d.body.metadata.generation, 1);
    const es = await request(h.api, 'POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { body: { metadata: { name: 'web-1' }, endpoints: [] } });
    assert.equal(es.status, 422);
    assert.equal(es.body.details.causes[0].field, 'addressType');
    const crds = await request(h.api, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
    const names = crds.body.items.map((c: { metadata: { name: string } }) => c.metadata.name);
    assert.ok(names.includes('ipaddresspools.herald.dev'));
    const widget = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Cluster',
        names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } } } } }],
      },
    };
    const c = await request(h.api, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: widget });
    assert.equal(c.status, 201, c.text);
    assert.ok(c.body.status.conditions.some((x: { type: string; status: string }) => x.type === 'Established' && x.status === 'True'));
    const w = await request(h.api, 'POST', '/apis/example.com/v1/widgets', { body: { metadata: { name: 'w' }, spec: { size: 0 } } });
    assert.equal(w.status, 422);
    assert.equal((await request(h.api, 'POST', '/apis/example.com/v1/widgets', { body: { metadata: { name: 'w' }, spec: { size: 2 } } })).status, 201);
    await request(h.api, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com');
    assert.equal((await request(h.api, 'GET', '/apis/example.com/v1/widgets')).status, 404);
  });
});
