// The client's TLS and watch plumbing against a local HTTPS server with certificates made
// by openssl: a private CA, client certificates, insecure-skip-tls-verify,
// tls-server-name, connection reuse, watch streams cut mid-line, refused watches, 401s.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { KubeConfig as ClientNodeKubeConfig } from '@kubernetes/client-node';
import { createKubeClient, loadKubeConfig, type KubeClient } from '../../../shared/k8s/client.js';
import { ApiError, toApiError } from '../../../shared/k8s/errors.js';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for kubernetes.default and 127.0.0.1, a client certificate. */
function makeCerts(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, 'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=hlt-k8s-ca');
  const sign = (name: string, subject: string, ext: string): void => {
    openssl(dir, 'req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  };
  sign('server', '/CN=kube-apiserver', 'subjectAltName=DNS:kubernetes.default,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  sign('client', '/CN=herald-test/O=herald', 'extendedKeyUsage=clientAuth\n');
}

describe('client transport (HTTPS, certificates, watch framing)', function () {
  let dir: string;
  let server: https.Server;
  let port: number;
  let tlsConnections = 0;
  let tokensSeen: (string | undefined)[] = [];
  const clients: KubeClient[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hlt-k8s-transport-'));
    makeCerts(dir);
    server = https.createServer(
      { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')), ca: readFileSync(join(dir, 'ca.crt')), requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const url = new URL(req.url ?? '/', 'https://x');
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        tokensSeen.push(req.headers.authorization);
        const json = (status: number, body: unknown): void => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (url.pathname === '/api/v1/echo') {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            const raw = Buffer.concat(chunks);
            json(200, { length: Number(req.headers['content-length']), bytes: raw.length, type: req.headers['content-type'], body: JSON.parse(raw.toString('utf8')) as unknown });
          });
          return;
        }
        if (url.pathname === '/api/v1/whoami') return json(200, { cn: (req.socket as TLSSocket).authorized ? peer.subject?.CN : null, ua: req.headers['user-agent'] });
        if (url.pathname === '/api/v1/tokens') return req.headers.authorization === 'Bearer good' ? json(200, {}) : json(401, { kind: 'Status', code: 401, reason: 'Unauthorized', message: 'Unauthorized' });
        if (url.pathname === '/api/v1/services' && url.searchParams.get('watch') === 'true') {
          if (url.searchParams.get('resourceVersion') === 'old') return json(410, { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: old' });
          res.writeHead(200, { 'content-type': 'application/json' });
          const ev = (name: string): string => `${JSON.stringify({ type: 'ADDED', object: { metadata: { name, resourceVersion: '7' } } })}\n`;
          const stream = ev('a') + ev('café-☕') + ev('c');
          const bytes = Buffer.from(stream);
          // Cut inside the first line, inside the ☕, and right after a newline.
          const cuts = [5, bytes.indexOf(Buffer.from('☕')) + 1, Buffer.from(ev('a') + ev('café-☕')).length, bytes.length];
          let at = 0;
          const next = (): void => {
            const to = cuts.shift();
            if (to === undefined) {
              if (url.searchParams.get('hold') === 'true') return;
              return void res.end();
            }
            res.write(bytes.subarray(at, to));
            at = to;
            setTimeout(next, 10);
          };
          return next();
        }
        json(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'no such path' });
      },
    );
    server.on('secureConnection', () => tlsConnections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    for (const c of clients) c.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    tlsConnections = 0;
    tokensSeen = [];
  });

  /** A kubeconfig file in the temp dir, its file names relative to it, as kubectl allows. */
  function client(cluster: string, user = 'client-certificate: client.crt\n    client-key: client.key', o: Parameters<typeof createKubeClient>[1] = {}): KubeClient {
    const file = join(dir, `kubeconfig-${clients.length}`);
    writeFileSync(file, `current-context: t\nclusters:\n- name: c\n  cluster:\n    ${cluster}\nusers:\n- name: u\n  user:\n    ${user}\ncontexts:\n- name: t\n  context: {cluster: c, user: u}\n`);
    const c = createKubeClient(loadKubeConfig({ kubeconfig: file }).kc, { timeoutMs: 5_000, userAgent: 'herald-test', ...o });
    clients.push(c);
    return c;
  }

  it('trusts the CA from a file and presents the client certificate; reuses one TLS connection', async () => {
    const c = client(`server: https://127.0.0.1:${port}\n    certificate-authority: ca.crt`);
    for (let i = 0; i < 20; i++) assert.deepEqual(await c.rest.request('GET', '/api/v1/whoami'), { cn: 'herald-test', ua: 'herald-test' });
    assert.equal(tlsConnections, 1, 'sequential requests share one kept-alive connection');
    await Promise.all(Array.from({ length: 8 }, () => c.rest.request('GET', '/api/v1/whoami')));
    assert.ok(tlsConnections <= 8, `${tlsConnections} connections for 8 parallel requests`);
    const before = tlsConnections;
    for (let i = 0; i < 5; i++) await c.rest.request('GET', '/api/v1/whoami');
    assert.equal(tlsConnections, before, 'idle connections are reused afterwards');
  });

  it('sends a JSON body with its byte length (non-ASCII included) and its content type', async () => {
    const c = client(`server: https://127.0.0.1:${port}\n    certificate-authority: ca.crt`);
    const body = { metadata: { annotations: { note: 'café-☕' } } };
    const got = await c.rest.request<{ length: number; bytes: number; type: string; body: unknown }>('PATCH', '/api/v1/echo', { body, contentType: 'application/merge-patch+json' });
    assert.equal(got.length, Buffer.byteLength(JSON.stringify(body)));
    assert.equal(got.bytes, got.length);
    assert.equal(got.type, 'application/merge-patch+json');
    assert.deepEqual(got.body, body);
  });

  it('refuses a server its CA did not sign, unless told to skip verification', async () => {
    const strict = client(`server: https://127.0.0.1:${port}`);
    await assert.rejects(
      () => strict.rest.request('GET', '/api/v1/whoami'),
      (err: unknown) => err instanceof ApiError && err.code === 'Network' && /certificate/.test(err.message),
    );
    const loose = client(`server: https://127.0.0.1:${port}\n    insecure-skip-tls-verify: true`);
    assert.deepEqual(await loose.rest.request('GET', '/api/v1/whoami'), { cn: 'herald-test', ua: 'herald-test' });
  });

  it('checks the certificate against tls-server-name when given', async () => {
    const data = readFileSync(join(dir, 'ca.crt')).toString('base64');
    const wrongName = client(`server: https://localhost:${port}\n    certificate-authority-data: ${data}`);
    await assert.rejects(() => wrongName.rest.request('GET', '/api/v1/whoami'), /localhost|altnames|certificate/i);
    const named = client(`server: https://localhost:${port}\n    certificate-authority-data: ${data}\n    tls-server-name: kubernetes.default`);
    assert.equal(((await named.rest.request('GET', '/api/v1/whoami')) as { cn: string }).cn, 'herald-test');
  });

  it('after a 401, asks the exec plugin again and succeeds with its new token', async () => {
    let n = 0;
    const tokens = ['stale', 'good'];
    const exec = async () => JSON.stringify({ kind: 'ExecCredential', status: { token: tokens[n++] ?? 'none' } });
    const c = client(`server: https://127.0.0.1:${port}\n    certificate-authority: ca.crt`, 'exec: {command: get-token}', { credentials: { exec } });
    await assert.rejects(
      () => c.rest.request('GET', '/api/v1/tokens'),
      (err: unknown) => toApiError(err).code === 'Unauthorized' && toApiError(err).status === 401,
    );
    await c.rest.request('GET', '/api/v1/tokens');
    assert.deepEqual(tokensSeen, ['Bearer stale', 'Bearer good']);
    assert.equal(n, 2);
  });

  describe('watch', () => {
    const ca = (): string => `server: https://127.0.0.1:${port}\n    certificate-authority: ca.crt`;

    it('delivers whole events from a stream cut mid-line and mid-character, then done(null) at its end', async () => {
      const c = client(ca());
      const names: string[] = [];
      const done = await new Promise<unknown>((resolve) => {
        void c.watch.watch<{ metadata: { name: string } }>('/api/v1/services', { resourceVersion: '5' }, (type, obj) => names.push(`${type} ${obj.metadata.name}`), resolve);
      });
      assert.equal(done, null);
      assert.deepEqual(names, ['ADDED a', 'ADDED café-☕', 'ADDED c']);
    });

    it('a refused watch ends with an ApiError carrying the status (410 Gone asks for a relist)', async () => {
      const c = client(ca());
      let events = 0;
      const err = await new Promise<unknown>((resolve) => void c.watch.watch('/api/v1/services', { resourceVersion: 'old' }, () => events++, resolve));
      assert.equal(toApiError(err).code, 'Gone');
      assert.equal(toApiError(err).status, 410);
      assert.equal(events, 0);
    });

    it('abort ends an open watch: done once, with an error, and no events after it', async () => {
      const c = client(ca());
      const names: string[] = [];
      const dones: unknown[] = [];
      const ctl = await c.watch.watch<{ metadata: { name: string } }>('/api/v1/services', { hold: true }, (_t, o) => names.push(o.metadata.name), (e) => dones.push(e));
      const until = Date.now() + 3_000;
      while (names.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      assert.equal(names.length, 3, 'all events arrived while the stream stays open');
      ctl.abort();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(dones.length, 1);
      assert.ok(dones[0] instanceof Error);
    });
  });

  it('a client-node KubeConfig fits createKubeClient too (the same field names)', async () => {
    const kc = new ClientNodeKubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caFile: join(dir, 'ca.crt'), skipTLSVerify: false }],
      users: [{ name: 'u', certFile: join(dir, 'client.crt'), keyFile: join(dir, 'client.key') }],
      contexts: [{ name: 't', cluster: 'c', user: 'u' }],
      currentContext: 't',
    });
    const c = createKubeClient(kc);
    clients.push(c);
    assert.equal(((await c.rest.request('GET', '/api/v1/whoami')) as { cn: string }).cn, 'herald-test');
  });
});
