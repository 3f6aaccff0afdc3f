import { strict as assert } from 'node:assert';
import { ApiError } from '../../../../shared/k8s/errors.js';
import { heraldResource } from '../../../../shared/k8s/resources.js';
import { createServiceWriter, createStatusWriter, type StatusObject } from '../../../../shared/k8s/writers.js';
import { FakeRest } from './fake-rest.js';

describe('ServiceWriter', () => {
  it('writes status.loadBalancer through /status with a merge patch and a resourceVersion precondition', async () => {
    const rest = new FakeRest();
    const w = createServiceWriter(rest);
    await w.updateServiceStatus('apps', 'web', { loadBalancer: { ingress: [{ ip: '192.0.2.200', ipMode: 'VIP' }] } }, '42');
    assert.deepEqual(rest.calls[0], {
      method: 'PATCH',
      path: '/api/v1/namespaces/apps/services/web/status',
      contentType: 'application/merge-patch+json',
      body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.200', ipMode: 'VIP' }] } }, metadata: { resourceVersion: '42' } },
    });
  });

  it('clears the ingress with null (an absent key would leave it), and leaves conditions alone unless given', async () => {
    const rest = new FakeRest();
    const w = createServiceWriter(rest);
    await w.updateServiceStatus('apps', 'web', {});
    assert.deepEqual(rest.calls[0]?.body, { status: { loadBalancer: { ingress: null } } });
    await w.updateServiceStatus('apps', 'web', { loadBalancer: { ingress: [] }, conditions: [] });
    assert.deepEqual(rest.calls[1]?.body, { status: { loadBalancer: { ingress: null }, conditions: null } });
  });

  it('sets and removes annotations through /status (kube-apiserver keeps Service metadata there)', async () => {
    const rest = new FakeRest();
    await createServiceWriter(rest).setServiceAnnotations('apps', 'web', { 'herald.dev/ip-allocated-from-pool': 'lan', old: null });
    assert.deepEqual(rest.calls[0], {
      method: 'PATCH',
      path: '/api/v1/namespaces/apps/services/web/status',
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { 'herald.dev/ip-allocated-from-pool': 'lan', old: null } } },
    });
  });

  it('writes the IP and its pool annotation in one request', async () => {
    const rest = new FakeRest();
    await createServiceWriter(rest).updateServiceStatus('apps', 'web', { loadBalancer: { ingress: [{ ip: '192.0.2.9' }] } }, '3', { 'herald.dev/ip-allocated-from-pool': 'lan' });
    assert.equal(rest.calls.length, 1);
    assert.deepEqual(rest.calls[0]?.body, {
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.9' }] } },
      metadata: { resourceVersion: '3', annotations: { 'herald.dev/ip-allocated-from-pool': 'lan' } },
    });
  });
});

describe('StatusWriter.apply', () => {
  const R = heraldResource('ServiceL2Status');
  const want: StatusObject = {
    metadata: { name: 'l2-web', namespace: 'herald-system', labels: { 'herald.dev/node': 'n1' } },
    status: { node: 'n1', interfaces: [{ name: 'eth0' }] },
  };

  it('creates a missing object, then writes its status through /status', async () => {
    const rest = new FakeRest((c) => {
      if (c.method === 'GET') throw new ApiError('NotFound', 404, 'nf');
      // A kind with a status subresource drops status on create.
      if (c.method === 'POST') return { ...(c.body as object), status: undefined, metadata: { ...want.metadata, resourceVersion: '1' } };
      return c.body;
    });
    await createStatusWriter(rest).apply(R, want);
    assert.deepEqual(
      rest.calls.map((c) => `${c.method} ${c.path}`),
      [
        'GET /apis/herald.dev/v1beta1/namespaces/herald-system/servicel2statuses/l2-web',
        'POST /apis/herald.dev/v1beta1/namespaces/herald-system/servicel2statuses',
        'PUT /apis/herald.dev/v1beta1/namespaces/herald-system/servicel2statuses/l2-web/status',
      ],
    );
    assert.equal((rest.calls[1]?.body as { kind: string }).kind, 'ServiceL2Status');
    assert.deepEqual((rest.calls[2]?.body as { status: unknown }).status, want.status);
    assert.equal((rest.calls[2]?.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion, '1');
  });

  it('writes nothing when the object already matches, even if others added labels', async () => {
    const current = { ...want, metadata: { ...want.metadata, labels: { ...want.metadata.labels }, resourceVersion: '5', uid: 'u' } };
    const rest = new FakeRest(() => structuredClone(current));
    await createStatusWriter(rest).apply(R, want);
    assert.deepEqual(rest.calls.map((c) => c.method), ['GET']);
    await createStatusWriter(rest).apply(R, { ...want, metadata: { name: 'l2-web', namespace: 'herald-system' } });
    assert.deepEqual(rest.calls.map((c) => c.method), ['GET', 'GET'], 'labels not stated are not removed');
  });

  it('replaces only what changed', async () => {
    const current = { ...want, metadata: { ...want.metadata, resourceVersion: '5' }, status: { node: 'n2' } };
    const rest = new FakeRest((c) => (c.method === 'GET' ? structuredClone(current) : c.body));
    await createStatusWriter(rest).apply(R, want);
    assert.deepEqual(rest.calls.map((c) => `${c.method} ${c.path.split('/').slice(-1)[0]}`), ['GET l2-web', 'PUT status']);
  });

  it('turns a create race into a Conflict the caller retries', async () => {
    const rest = new FakeRest((c) => {
      if (c.method === 'GET') throw new ApiError('NotFound', 404, 'nf');
      throw new ApiError('AlreadyExists', 409, 'exists', { reason: 'AlreadyExists' });
    });
    await assert.rejects(createStatusWriter(rest).apply(R, want), (e: ApiError) => e.code === 'Conflict');
  });
});
