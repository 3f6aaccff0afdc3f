import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import yaml from 'js-yaml';
import { importMetalLB } from '../../../../shared/migrate/metallb.js';

const fixture = (name: string) => yaml.loadAll(readFileSync(`test/fixtures/metallb/${name}`, 'utf8'));

describe('import-metallb', () => {
  it('carries every MetalLB field over (golden output)', () => {
    const { objects } = importMetalLB(fixture('all-fields.yaml'));
    assert.deepEqual(JSON.parse(JSON.stringify(objects)), fixture('all-fields.herald.yaml'));
  });

  it('reports what it cannot carry over, naming the object and field', () => {
    const { notes } = importMetalLB(fixture('all-fields.yaml'));
    const lines = notes.map((n) => `${n.severity} ${n.source} ${n.field ?? '-'}`);
    assert.deepEqual(lines.sort(), [
      'error BGPPeer/unnumbered spec.interface',
      'warning BGPPeer/router-v6 spec.dualStackAddressFamily',
      'warning BGPPeer/router-v6 spec.vrf',
      'warning Secret/unrelated -',
      'warning ServiceL2Status/l2-abc -',
    ]);
  });

  it('moves objects into the target namespace and drops server-written fields', () => {
    const { objects } = importMetalLB(fixture('all-fields.yaml'), { namespace: 'lb' });
    for (const o of objects) {
      assert.equal(o.metadata.namespace, 'lb');
      assert.equal('status' in o, false);
      assert.equal(o.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined);
    }
    const peer = objects.find((o) => o.kind === 'BGPPeer' && o.metadata.name === 'router');
    assert.deepEqual(peer && 'spec' in peer ? (peer.spec as { passwordSecret?: unknown }).passwordSecret : undefined, { name: 'bgp-password' });
  });

  it('warns when a referenced password Secret is not in the input', () => {
    const docs = fixture('all-fields.yaml').filter((d) => (d as { kind?: string }).kind !== 'Secret');
    const { notes, objects } = importMetalLB(docs);
    assert.ok(notes.some((n) => n.field === 'spec.passwordSecret' && /copy Secret "bgp-password"/.test(n.message)));
    assert.equal(objects.some((o) => o.kind === 'Secret'), false);
  });

  it('converts the legacy ConfigMap and AddressPool kinds', () => {
    const { objects, notes } = importMetalLB(fixture('legacy.yaml'));
    assert.deepEqual(JSON.parse(JSON.stringify(objects)), fixture('legacy.herald.yaml'));
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    assert.deepEqual(kinds, [
      'Community/communities',
      'BGPPeer/peer-1',
      'IPAddressPool/lan',
      'L2Advertisement/lan',
      'IPAddressPool/routed',
      'BGPAdvertisement/routed',
      'IPAddressPool/old',
      'L2Advertisement/old',
    ]);
    const peer = objects[1] as { spec: Record<string, unknown> };
    assert.deepEqual(peer.spec, {
      myASN: 64512,
      peerASN: 64500,
      peerAddress: '192.0.2.1',
      holdTime: '120s',
      nodeSelectors: [{ matchLabels: { rack: 'a' } }],
    });
    assert.equal(notes.filter((n) => n.severity === 'error').length, 0);
  });

  it('flags an AddressPool with an unknown protocol', () => {
    const { notes } = importMetalLB([
      { apiVersion: 'metallb.io/v1beta1', kind: 'AddressPool', metadata: { name: 'x' }, spec: { protocol: 'ospf', addresses: ['192.0.2.0/28'] } },
    ]);
    assert.deepEqual(notes.map((n) => [n.severity, n.field]), [['error', 'spec.protocol']]);
  });

  it('runs as a command: YAML out, notes on stderr, exit 1 when something could not be converted', function () {
    this.timeout(30_000);
    const run = (file: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'shared/cli.ts', 'import-metallb', '-f', file], { encoding: 'utf8' });
    const bad = run('test/fixtures/metallb/all-fields.yaml');
    assert.equal(bad.status, 1);
    assert.deepEqual(yaml.loadAll(bad.stdout), fixture('all-fields.herald.yaml'));
    assert.match(bad.stderr, /error: BGPPeer\/unnumbered spec\.interface: BGP unnumbered/);
    const good = run('test/fixtures/metallb/legacy.yaml');
    assert.equal(good.status, 0, good.stderr);
  });
});

describe('import-metallb output against the config model', () => {
  it('gives a configuration herald accepts without errors', async () => {
    const { buildConfig } = await import('../../../../shared/config/model.js');
    for (const file of ['all-fields.yaml', 'legacy.yaml']) {
      const { objects } = importMetalLB(fixture(file));
      const of = <K extends string>(kind: K) => objects.filter((o) => o.kind === kind) as never[];
      const secrets = (of('Secret') as { stringData?: Record<string, string>; data?: Record<string, string> }[]).map((s) => ({
        ...s,
        data: Object.fromEntries(Object.entries(s.stringData ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      }));
      const { errors, model } = buildConfig({
        pools: of('IPAddressPool'),
        l2Advertisements: of('L2Advertisement'),
        bgpAdvertisements: of('BGPAdvertisement'),
        peers: of('BGPPeer'),
        communities: of('Community'),
        bfdProfiles: of('BFDProfile'),
        secrets: secrets as never[],
        namespace: 'herald-system',
      });
      assert.deepEqual(errors, [], file);
      assert.ok(model.pools.length >= 2, file);
    }
  });
});
