// The server's pure pieces, directly: patches, selectors, JSONPath, durations, protobuf
// decoding and the serving certificate.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { serverSideApply } from '../../apiserver/apply.js';
import { ApiError } from '../../apiserver/errors.js';
import { jsonPatch, mergePatch } from '../../apiserver/json-patch.js';
import { evaluate } from '../../apiserver/jsonpath.js';
import { decodeKubernetesProtobuf } from '../../apiserver/protobuf.js';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from '../../apiserver/selectors.js';
import { strategicMergePatch } from '../../apiserver/strategic-merge.js';
import { humanDuration } from '../../apiserver/table.js';
import { selfSignedCert } from '../../apiserver/tls.js';

describe('apiserver: pure pieces', () => {
  it('merge patch follows RFC 7386 (Appendix A examples)', () => {
    assert.deepEqual(mergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
    assert.deepEqual(mergePatch({ a: 'b' }, { b: 'c' }), { a: 'b', b: 'c' });
    assert.deepEqual(mergePatch({ a: 'b' }, { a: null }), {});
    assert.deepEqual(mergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } }), { a: { b: 'd' } });
    assert.deepEqual(mergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
    assert.deepEqual(mergePatch(['a', 'b'], ['c', 'd']), ['c', 'd']);
    assert.deepEqual(mergePatch({ e: null }, { a: 1 }), { e: null, a: 1 });
    assert.deepEqual(mergePatch({}, { a: { bb: { ccc: null } } }), { a: { bb: {} } });
  });

  it('JSON patch applies RFC 6902 operations, with pointer escaping, and fails whole', () => {
    const doc = { metadata: { labels: { 'a/b': '1', 'c~d': '2' } }, list: [1, 2, 3] };
    const out = jsonPatch(doc, [
      { op: 'replace', path: '/metadata/labels/a~1b', value: 'x' },
      { op: 'remove', path: '/metadata/labels/c~0d' },
      { op: 'add', path: '/list/-', value: 4 },
      { op: 'add', path: '/list/0', value: 0 },
      { op: 'move', from: '/list/1', path: '/moved' },
      { op: 'copy', from: '/moved', path: '/copied' },
      { op: 'test', path: '/copied', value: 1 },
    ]);
    assert.deepEqual(out, { metadata: { labels: { 'a/b': 'x' } }, list: [0, 2, 3, 4], moved: 1, copied: 1 });
    assert.deepEqual(doc.list, [1, 2, 3], 'the input is not modified');
    assert.throws(() => jsonPatch(doc, [{ op: 'add', path: '/x', value: 1 }, { op: 'test', path: '/x', value: 2 }]), (e: unknown) => e instanceof ApiError && e.code === 422);
    assert.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/nope' }]), ApiError);
    assert.throws(() => jsonPatch(doc, [{ op: 'frobnicate', path: '/x' }]), (e: unknown) => e instanceof ApiError && e.code === 400);
  });

  it('strategic merge patch merges keyed lists and honours the directives', () => {
    const svc = {
      metadata: { finalizers: ['a'], labels: { x: '1' } },
      spec: { ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }], selector: { app: 'web', tier: 'fe' } },
      status: { conditions: [{ type: 'Ready', status: 'False' }] },
    };
    const out = strategicMergePatch(svc, {
      metadata: { finalizers: ['b'], labels: { x: null } },
      spec: { ports: [{ port: 443, targetPort: 8443 }, { port: 80, $patch: 'delete' }, { port: 9000, name: 'm' }], selector: { $patch: 'replace', app: 'api' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    assert.deepEqual(out, {
      metadata: { finalizers: ['a', 'b'], labels: {} },
      spec: { ports: [{ name: 'https', port: 443, targetPort: 8443 }, { port: 9000, name: 'm' }], selector: { app: 'api' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const deleted = strategicMergePatch(svc, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } });
    assert.deepEqual(deleted.metadata, { finalizers: [], labels: { x: '1' } });
    const ordered = strategicMergePatch(svc, { spec: { '$setElementOrder/ports': [{ port: 443 }, { port: 80 }] } }) as { spec: { ports: { port: number }[] } };
    assert.deepEqual(ordered.spec.ports.map((p) => p.port), [443, 80]);
    const retained = strategicMergePatch({ spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } }, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } });
    assert.deepEqual(retained, { spec: { strategy: { type: 'Recreate' } } });
    const replaced = strategicMergePatch(svc, { spec: { ports: [{ $patch: 'replace' }, { port: 1 }] } }) as { spec: { ports: unknown[] } };
    assert.deepEqual(replaced.spec.ports, [{ port: 1 }]);
    assert.throws(() => strategicMergePatch(svc, { spec: { ports: [{ name: 'no-port' }] } }), /does not contain declared merge key: port/);
  });

  it('server-side apply merges the applied configuration and drops what its manager stopped applying', () => {
    const live = { metadata: { name: 'x', labels: { mine: '1', theirs: '2' } }, spec: { ports: [{ port: 80, protocol: 'TCP', name: 'a' }, { port: 81, name: 'b' }] } };
    const prev = { metadata: { name: 'x', labels: { mine: '1' } }, spec: { ports: [{ port: 80, name: 'a' }] } };
    const next = { metadata: { name: 'x', labels: { other: '3' } }, spec: { ports: [{ port: 82, name: 'c' }] } };
    assert.deepEqual(serverSideApply(live, next, prev), {
      metadata: { name: 'x', labels: { theirs: '2', other: '3' } },
      spec: { ports: [{ port: 81, name: 'b' }, { port: 82, name: 'c' }] },
    });
  });

  it('parses and matches label selectors like apimachinery', () => {
    const labels = { app: 'web', tier: 'fe', n: '5' };
    const m = (s: string, l: Record<string, string> = labels) => matchLabels(parseLabelSelector(s), l);
    assert.ok(m('app=web,tier==fe'));
    assert.ok(!m('app!=web'));
    assert.ok(m('app in (web, api), tier notin (be)'));
    assert.ok(m('tier,!missing'));
    assert.ok(!m('!tier'));
    assert.ok(m('n>4,n<6'));
    assert.ok(m('missing!=x'), '!= matches when the label is absent');
    assert.ok(m(''));
    for (const bad of ['app=', '=web', 'app in web', 'a b', 'app==x,', 'n>x']) {
      if (bad === 'app=') {
        assert.ok(m('app=', { app: '' }), 'an empty value is a value');
        continue;
      }
      assert.throws(() => parseLabelSelector(bad), (e: unknown) => e instanceof ApiError && e.code === 400, bad);
    }
  });

  it('parses field selectors with escapes', () => {
    const sel = parseFieldSelector('metadata.name=a\\,b,spec.type!=ClusterIP');
    assert.deepEqual(sel, [
      { field: 'metadata.name', value: 'a,b', equal: true },
      { field: 'spec.type', value: 'ClusterIP', equal: false },
    ]);
    assert.ok(matchFields(sel, { metadata: { name: 'a,b' }, spec: { type: 'LoadBalancer' } }));
    assert.ok(!matchFields(sel, { metadata: { name: 'a,b' }, spec: { type: 'ClusterIP' } }));
    assert.ok(matchFields(parseFieldSelector('spec.nodeName='), { spec: {} }), 'an absent field is the empty string');
  });

  it('evaluates printer-column JSONPath', () => {
    const o = { status: { conditions: [{ type: 'A', status: 'False' }, { type: 'Ready', status: 'True' }] }, spec: { addresses: ['x', 'y'] } };
    assert.deepEqual(evaluate('.status.conditions[?(@.type=="Ready")].status', o), ['True']);
    assert.deepEqual(evaluate('.spec.addresses[1]', o), ['y']);
    assert.deepEqual(evaluate('.spec.addresses[*]', o), ['x', 'y']);
    assert.deepEqual(evaluate('.spec.missing', o), []);
  });

  it('prints ages as kubectl does', () => {
    const s = 1000;
    assert.equal(humanDuration(59 * s), '59s');
    assert.equal(humanDuration(119 * s), '119s');
    assert.equal(humanDuration(150 * s), '2m30s');
    assert.equal(humanDuration(600 * s), '10m');
    assert.equal(humanDuration(4 * 3600 * s + 60 * s), '4h1m');
    assert.equal(humanDuration(30 * 3600 * s), '30h');
    assert.equal(humanDuration(50 * 3600 * s), '2d2h');
    assert.equal(humanDuration(400 * 86400 * s), '400d');
    assert.equal(humanDuration(-5 * s), '<invalid>');
  });

  it('decodes a Kubernetes protobuf envelope', () => {
    const varint = (n: number): number[] => {
      const out: number[] = [];
      do {
        out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
        n >>>= 7;
      } while (n > 0);
      return out;
    };
    const field = (num: number, bytes: Buffer | number[]): Buffer => Buffer.from([...varint((num << 3) | 2), ...varint(bytes.length), ...bytes]);
    const str = (num: number, s: string): Buffer => field(num, Buffer.from(s));
    const int = (num: number, n: number): Buffer => Buffer.from([...varint(num << 3), ...varint(n)]);
    const meta = Buffer.concat([str(1, 'web'), str(3, 'default'), field(11, Buffer.concat([str(1, 'app'), str(2, 'web')]))]);
    const port = Buffer.concat([str(1, 'http'), str(2, 'TCP'), int(3, 80), field(4, Buffer.concat([int(1, 0), int(2, 8080)])), int(5, 0)]);
    const spec = Buffer.concat([field(1, port), str(4, 'LoadBalancer'), str(3, '')]);
    const svc = Buffer.concat([field(1, meta), field(2, spec)]);
    const typeMeta = Buffer.concat([str(1, 'v1'), str(2, 'Service')]);
    const body = Buffer.concat([Buffer.from('k8s\0', 'binary'), field(1, typeMeta), field(2, svc)]);
    assert.deepEqual(decodeKubernetesProtobuf(body), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
      spec: { ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }], type: 'LoadBalancer' },
    });
    assert.throws(() => decodeKubernetesProtobuf(Buffer.from('{}')), ApiError);
  });

  it('makes a serving certificate for the names asked, which X.509 parsers accept', () => {
    const { cert } = selfSignedCert(['localhost', '127.0.0.1', '::1', '2001:db8::10']);
    const x = new X509Certificate(cert);
    assert.equal(x.subject, 'CN=herald-apiserver');
    assert.ok(x.ca);
    assert.ok(x.checkIP('127.0.0.1'));
    assert.ok(x.checkIP('2001:db8::10'));
    assert.ok(x.checkHost('localhost'));
    assert.ok(!x.checkIP('192.0.2.1'));
    assert.ok(x.verify(x.publicKey), 'self-signed');
  });
});
