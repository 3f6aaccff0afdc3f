// The example configurations (manifests/examples) are complete and do what they say:
// herald's own config model accepts each file alone and all of them together with the
// overlays and the kind testbed's objects (no overlapping pools, no duplicate BGP
// sessions), every pool is announced, every Service has a backend, and herald's own
// allocator gives each Service the addresses its comments promise.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement } from '../../../shared/api/types.js';
import { matchesSelector } from '../../../shared/api/selector.js';
import { bgpAdvertisementsForPool, buildConfig, l2AdvertisementsForPool, type ConfigResult } from '../../../shared/config/model.js';
import { formatIP } from '../../../shared/ip/ip.js';
import { Allocator } from '../../../controller/allocator.js';
import { describeService, type ServiceLike } from '../../../controller/service-request.js';
import { loadFile, MANIFESTS, ROOT, yamlFiles, type K8sDoc } from './validate.js';

const EXAMPLES = ['l2', 'bgp-frr', 'dual-stack', 'shared-ip', 'per-namespace-pools'];
const examples = new Map(EXAMPLES.map((e) => [e, loadFile(join(MANIFESTS, 'examples', `${e}.yaml`)).map((d) => d.doc)]));
const docsOf = (e: string): K8sDoc[] => examples.get(e) ?? assert.fail(`no example ${e}`);

function config(docs: K8sDoc[]): ConfigResult {
  const of = <T>(kind: string): T[] => docs.filter((d) => d.kind === kind && d.apiVersion.startsWith('herald.dev/')) as unknown as T[];
  return buildConfig({
    pools: of<IPAddressPool>('IPAddressPool'),
    l2Advertisements: of<L2Advertisement>('L2Advertisement'),
    bgpAdvertisements: of<BGPAdvertisement>('BGPAdvertisement'),
    peers: of<BGPPeer>('BGPPeer'),
    communities: of<Community>('Community'),
    bfdProfiles: of<BFDProfile>('BFDProfile'),
    secrets: [],
    namespace: 'herald-system',
  });
}

/** Objects by kind/namespace/name, the later of two with the same identity winning (as `kubectl apply`). */
function applied(...sets: K8sDoc[][]): K8sDoc[] {
  const m = new Map<string, K8sDoc>();
  for (const d of sets.flat()) m.set(`${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`, d);
  return [...m.values()];
}

type Svc = K8sDoc & ServiceLike & { spec: { type?: string; selector?: Record<string, string> } };
const services = (docs: K8sDoc[]): Svc[] => docs.filter((d): d is Svc => d.kind === 'Service');

/** The addresses herald's allocator assigns to the example's Services, in file order. */
function allocate(docs: K8sDoc[]): Map<string, string[]> {
  const { model, errors } = config(docs);
  assert.deepEqual(errors, []);
  const allocator = new Allocator(model.pools, model.invalidPools);
  const nsLabels = new Map(docs.filter((d) => d.kind === 'Namespace').map((d) => [d.metadata.name ?? '', d.metadata.labels ?? {}]));
  const out = new Map<string, string[]>();
  for (const svc of services(docs)) {
    // The API server defaults spec.ipFamilies to the cluster's primary family.
    const withFamilies: ServiceLike = { ...svc, spec: { ...svc.spec, ipFamilies: svc.spec.ipFamilies ?? ['IPv4'] } };
    const d = describeService(withFamilies, nsLabels.get(svc.metadata.namespace ?? 'default') ?? {});
    assert.ok(d.ok, d.ok ? '' : d.message);
    const r = allocator.assign(d.desc);
    assert.ok(r.ok, r.ok ? '' : `${d.desc.key}: ${r.reason}: ${r.message}`);
    out.set(d.desc.key, r.ips.map(formatIP));
  }
  return out;
}

describe('manifests: examples', () => {
  for (const name of EXAMPLES) {
    describe(`${name}.yaml`, () => {
      const docs = docsOf(name);

      it('is accepted by the config model on its own, and announces every pool it defines', () => {
        const { model, errors } = config(docs);
        assert.deepEqual(errors, []);
        assert.ok(model.pools.length > 0);
        for (const p of model.pools) {
          const announced = l2AdvertisementsForPool(model, p.name).length + bgpAdvertisementsForPool(model, p.name).length;
          assert.ok(announced > 0, `pool ${p.name} is announced by no advertisement`);
        }
      });

      it('has LoadBalancer Services with backends, in namespaces the file creates', () => {
        const svcs = services(docs);
        assert.ok(svcs.length > 0);
        const namespaces = new Set(docs.filter((d) => d.kind === 'Namespace').map((d) => d.metadata.name));
        for (const s of svcs) {
          assert.equal(s.spec.type, 'LoadBalancer');
          assert.ok(namespaces.has(s.metadata.namespace), `${s.metadata.name}: namespace ${s.metadata.namespace} is not created by the example`);
          const backend = docs.find(
            (d) =>
              d.kind === 'Deployment' &&
              d.metadata.namespace === s.metadata.namespace &&
              matchesSelector({ matchLabels: s.spec.selector ?? {} }, (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels),
          );
          assert.ok(backend, `${s.metadata.namespace}/${s.metadata.name} selects no Deployment of the example`);
        }
      });
    });
  }

  it('all examples, both overlays and the testbed L2Advertisement apply together without a conflict', () => {
    const overlays = ['overlays/l2', 'overlays/bgp'].flatMap((d) =>
      yamlFiles(join(MANIFESTS, d))
        .filter((f) => !f.endsWith('kustomization.yaml'))
        .flatMap(loadFile)
        .map((x) => x.doc),
    );
    const kind = loadFile(join(ROOT, 'kind/l2-advertisement.yaml')).map((d) => d.doc);
    const { model, errors } = config(applied(overlays, kind, ...examples.values()));
    assert.deepEqual(errors, []);
    assert.equal(model.peers.length, 1, 'the BGP example and the bgp overlay describe one and the same session');
  });

  it('l2: the Service gets the first address of its pool', () => {
    assert.deepEqual([...allocate(docsOf('l2'))], [['herald-examples/web-l2', ['192.0.2.150']]]);
  });

  it('bgp-frr: the Service gets an address of the routed pool, advertised to the router', () => {
    const docs = docsOf('bgp-frr');
    assert.deepEqual([...allocate(docs)], [['herald-examples/web-bgp', ['203.0.113.128']]]);
    const { model } = config(docs);
    assert.deepEqual(bgpAdvertisementsForPool(model, 'example-bgp').map((a) => a.peers), [['router']]);
  });

  it('dual-stack: the Service gets one IPv4 and one IPv6 address', () => {
    assert.deepEqual([...allocate(docsOf('dual-stack'))], [['herald-examples/web-dual', ['192.0.2.160', '2001:db8:0:2::160']]]);
  });

  it('shared-ip: both Services get the same address (TCP/53 and UDP/53 with one key)', () => {
    assert.deepEqual(
      [...allocate(docsOf('shared-ip'))],
      [
        ['herald-examples/dns-udp', ['192.0.2.170']],
        ['herald-examples/dns-tcp', ['192.0.2.170']],
      ],
    );
  });

  it('per-namespace-pools: each team gets its own pool', () => {
    assert.deepEqual(
      [...allocate(docsOf('per-namespace-pools'))],
      [
        ['team-a/web', ['192.0.2.180']],
        ['team-b/web', ['192.0.2.185']],
      ],
    );
  });

  it('the allocation check fails when a pool is missing (negative control)', () => {
    const docs = docsOf('l2').filter((d) => d.kind !== 'IPAddressPool');
    assert.throws(() => allocate(docs));
  });
});
