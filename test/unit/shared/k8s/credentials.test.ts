import { strict as assert } from 'node:assert';
import { FakeClock } from '../../../../shared/k8s/clock.js';
import { createCredentials, TOKEN_FILE_REFRESH_MS, type Credential } from '../../../../shared/k8s/credentials.js';
import type { Cluster, User } from '../../../../shared/k8s/kubeconfig.js';

const cluster: Cluster = { name: 'c', server: 'https://203.0.113.1:6443', skipTLSVerify: false, caData: Buffer.from('CA PEM').toString('base64') };
const files = (m: Record<string, string>) => (p: string) => {
  const v = m[p];
  if (v === undefined) throw new Error(`ENOENT ${p}`);
  return Buffer.from(v);
};

describe('credentials', () => {
  it('TLS material from data or files; skip-verify and the server name carried over', () => {
    const user: User = { name: 'u', certFile: '/c.crt', keyData: Buffer.from('KEY').toString('base64') };
    const c = createCredentials({ ...cluster, skipTLSVerify: true, tlsServerName: 'kubernetes' }, user, { clock: new FakeClock(), readFile: files({ '/c.crt': 'CERT' }) });
    assert.equal(c.tls.ca?.toString(), 'CA PEM');
    assert.equal(c.tls.cert?.toString(), 'CERT');
    assert.equal(c.tls.key?.toString(), 'KEY');
    assert.equal(c.tls.rejectUnauthorized, false);
    assert.equal(c.tls.servername, 'kubernetes');
    assert.deepEqual(c.current(), {}, 'no Authorization header for a client certificate');
  });

  it('a token, or basic auth, as the Authorization header', () => {
    const clock = new FakeClock();
    assert.deepEqual(createCredentials(cluster, { name: 'u', token: 'abc' }, { clock }).current(), { authorization: 'Bearer abc' });
    assert.deepEqual(createCredentials(cluster, { name: 'u', username: 'me', password: 'pw' }, { clock }).current(), { authorization: `Basic ${Buffer.from('me:pw').toString('base64')}` });
  });

  it('re-reads a token file once a minute, and at once after a 401', async () => {
    const clock = new FakeClock();
    const m: Record<string, string> = { '/sa/token': 'one\n' };
    let reads = 0;
    const read = (p: string) => (reads++, files(m)(p));
    const c = createCredentials(cluster, { name: 'u', tokenFile: '/sa/token' }, { clock, readFile: read });
    assert.deepEqual(c.current(), { authorization: 'Bearer one' });
    m['/sa/token'] = 'two';
    await clock.advance(TOKEN_FILE_REFRESH_MS - 1);
    assert.deepEqual(c.current(), { authorization: 'Bearer one' });
    assert.equal(reads, 1, 'not read per request');
    await clock.advance(1);
    assert.deepEqual(c.current(), { authorization: 'Bearer two' });
    m['/sa/token'] = 'three';
    c.invalidate();
    assert.deepEqual(c.current(), { authorization: 'Bearer three' });
  });

  it('runs an exec plugin once for concurrent requests, keeps its token until it expires, and again after a 401', async () => {
    const clock = new FakeClock(Date.UTC(2025, 0, 1));
    const runs: { command: string; args: string[]; env: Record<string, string | undefined> }[] = [];
    let n = 0;
    const exec = async (command: string, args: string[], env: Record<string, string | undefined>) => {
      runs.push({ command, args, env });
      n++;
      return JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: `t${n}`, expirationTimestamp: new Date(clock.now() + 60_000).toISOString() } });
    };
    const c = createCredentials(
      cluster,
      { name: 'u', exec: { command: 'get-token', args: ['--x'], env: [{ name: 'REGION', value: 'eu' }], provideClusterInfo: true } },
      { clock, exec, env: { PATH: '/bin' } },
    );
    const [a, b] = await Promise.all([c.current(), c.current()]);
    assert.deepEqual([a, b], [{ authorization: 'Bearer t1' }, { authorization: 'Bearer t1' }]);
    assert.equal(runs.length, 1);
    assert.equal(runs[0]?.env.REGION, 'eu');
    assert.equal(runs[0]?.env.PATH, '/bin');
    const info = JSON.parse(runs[0]?.env.KUBERNETES_EXEC_INFO ?? '{}') as { kind: string; spec: { interactive: boolean; cluster?: { server: string } } };
    assert.equal(info.kind, 'ExecCredential');
    assert.equal(info.spec.interactive, false);
    assert.equal(info.spec.cluster?.server, cluster.server);
    assert.deepEqual(c.current(), { authorization: 'Bearer t1' }, 'cached, without a promise');
    await clock.advance(60_000);
    assert.deepEqual(await c.current(), { authorization: 'Bearer t2' });
    c.invalidate();
    assert.deepEqual(await c.current(), { authorization: 'Bearer t3' });
  });

  it('takes a client certificate from an exec plugin; refuses one without its key', async () => {
    const clock = new FakeClock();
    const out = (status: object) => async () => JSON.stringify({ kind: 'ExecCredential', status });
    const c = createCredentials(cluster, { name: 'u', exec: { command: 'p' } }, { clock, exec: out({ clientCertificateData: 'CERT', clientKeyData: 'KEY' }) });
    const got = (await c.current()) as Credential;
    assert.equal(got.cert?.toString(), 'CERT');
    assert.equal(got.key?.toString(), 'KEY');
    assert.equal(got.authorization, undefined);
    const bad = createCredentials(cluster, { name: 'u', exec: { command: 'p' } }, { clock, exec: out({ clientCertificateData: 'CERT' }) });
    await assert.rejects(async () => bad.current(), /without its key/);
    const junk = createCredentials(cluster, { name: 'u', exec: { command: 'p' } }, { clock, exec: async () => 'oops' });
    await assert.rejects(async () => junk.current(), /not an ExecCredential/);
  });

  it('refuses auth-provider and proxy-url by name', () => {
    const clock = new FakeClock();
    assert.throws(() => createCredentials(cluster, { name: 'u', authProvider: { name: 'oidc' } }, { clock }), /auth-provider is not supported/);
    assert.throws(() => createCredentials({ ...cluster, proxyUrl: 'http://proxy:3128' }, null, { clock }), /proxy-url is not supported/);
  });
});
