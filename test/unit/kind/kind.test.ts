// The kind + containerlab testbed (kind/): the YAML parses and uses only fields kind and
// containerlab document, the pieces agree with each other (node names, the router's
// addresses and ASNs in kind/routers/frr against the BGPPeer, the LAN against the L2
// pools), and the scripts pass shellcheck and fail with a clear message when a tool is
// missing (run with a PATH of stand-ins: nothing real is started).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { parseAddressSpec, parseCIDR, parseIP, rangeContains, rangesOverlap, type IPRange } from '../../../shared/ip/ip.js';

const ROOT = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');
const KIND = join(ROOT, 'kind');
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');
const load = (p: string): Record<string, unknown> => yaml.load(read(p)) as Record<string, unknown>;
const keys = (o: unknown): string[] => Object.keys((o ?? {}) as object);
const subset = (what: string, o: unknown, allowed: readonly string[]): void => {
  const unknown = keys(o).filter((k) => !allowed.includes(k));
  assert.deepEqual(unknown, [], `${what}: fields kind/containerlab do not document`);
};

// kind's v1alpha4 config (sigs.k8s.io/kind pkg/apis/config/v1alpha4/types.go, v0.27+).
const KIND_CLUSTER = ['kind', 'apiVersion', 'name', 'nodes', 'networking', 'featureGates', 'runtimeConfig', 'kubeadmConfigPatches', 'kubeadmConfigPatchesJSON6902', 'containerdConfigPatches', 'containerdConfigPatchesJSON6902'];
const KIND_NODE = ['role', 'image', 'labels', 'extraMounts', 'extraPortMappings', 'kubeadmConfigPatches', 'kubeadmConfigPatchesJSON6902'];
const KIND_NETWORKING = ['ipFamily', 'apiServerPort', 'apiServerAddress', 'podSubnet', 'serviceSubnet', 'disableDefaultCNI', 'kubeProxyMode', 'dnsSearch'];

// containerlab's topology schema (schemas/clab.schema.json, v0.79): the top level, the
// topology section, a node and a link in the brief form.
const CLAB_TOP = ['name', 'prefix', 'mgmt', 'topology', 'settings', 'debug'];
const CLAB_TOPOLOGY = ['nodes', 'groups', 'kinds', 'defaults', 'links'];
const CLAB_NODE = [
  'aliases', 'auto-remove', 'binds', 'cap-add', 'certificate', 'cgroup-parent', 'cgroupns-mode', 'cmd', 'components', 'config', 'cpu', 'cpu-set',
  'credentials', 'devices', 'dns', 'enforce-startup-config', 'entrypoint', 'env', 'env-files', 'exec', 'extras', 'group', 'healthcheck', 'hostname',
  'image', 'image-pull-policy', 'kind', 'labels', 'license', 'link-apply-mode', 'memory', 'mgmt-ipv4', 'mgmt-ipv6', 'network-mode', 'pid-mode', 'ports',
  'privileged', 'restart-policy', 'runtime', 'security-opts', 'shm-size', 'stages', 'startup-config', 'startup-delay', 'suppress-startup-config',
  'sysctls', 'tmpfs', 'type', 'user', 'volumes',
];
const CLAB_LINK_BRIEF = ['endpoints', 'mtu', 'ipv4', 'ipv6', 'vars'];

interface KindCluster {
  kind: string;
  apiVersion: string;
  name: string;
  networking: Record<string, unknown>;
  nodes: { role: string; image: string }[];
  kubeadmConfigPatches?: string[];
}
interface ClabNode {
  kind: string;
  image?: string;
  binds?: string[];
  exec?: string[];
  sysctls?: Record<string, string | number>;
}
interface Clab {
  name: string;
  topology: { nodes: Record<string, ClabNode>; links: { endpoints: [string, string]; mtu?: number }[] };
}

const cluster = load('kind/cluster.yaml') as unknown as KindCluster;
const clab = load('kind/topology.clab.yml') as unknown as Clab;
const nodes = clab.topology.nodes;
const upSh = read('kind/up.sh');
const downSh = read('kind/down.sh');
const constant = (script: string, name: string): string => {
  const m = new RegExp(`^readonly ${name}=(.+)$`, 'm').exec(script);
  assert.ok(m, `${name} in script`);
  return (m[1] as string).replace(/^"|"$/g, '');
};

/** kind's container names: <cluster>-control-plane, <cluster>-worker, <cluster>-worker2 … */
function kindNodeNames(c: KindCluster): string[] {
  const cps = c.nodes.filter((n) => n.role === 'control-plane').map((_, i) => `${c.name}-control-plane${i ? i + 1 : ''}`);
  const workers = c.nodes.filter((n) => n.role === 'worker').map((_, i) => `${c.name}-worker${i ? i + 1 : ''}`);
  return [...cps, ...workers];
}

/** `ip addr add A/L dev eth1` commands of a node, by family. */
function lanAddresses(n: ClabNode | undefined): { v4?: string; v6?: string } {
  const out: { v4?: string; v6?: string } = {};
  for (const e of n?.exec ?? []) {
    const m = /^ip (-6 )?addr add (\S+) dev eth1$/.exec(e);
    if (m) out[m[1] ? 'v6' : 'v4'] = m[2];
  }
  return out;
}

const frr = read('kind/routers/frr/frr.conf');
const bgpPeer = load('manifests/overlays/bgp/bgp-peer.yaml') as { spec: { myASN: number; peerASN: number; peerAddress: string } };

describe('kind testbed: cluster.yaml', () => {
  it('is a kind v1alpha4 Cluster with only documented fields', () => {
    assert.equal(cluster.apiVersion, 'kind.x-k8s.io/v1alpha4');
    assert.equal(cluster.kind, 'Cluster');
    subset('Cluster', cluster, KIND_CLUSTER);
    subset('networking', cluster.networking, KIND_NETWORKING);
    for (const n of cluster.nodes) subset('node', n, KIND_NODE);
    assert.ok(['ipv4', 'ipv6', 'dual'].includes(cluster.networking.ipFamily as string));
  });

  it('one control plane and two workers on a pinned Kubernetes 1.32 node image', () => {
    assert.deepEqual(cluster.nodes.map((n) => n.role), ['control-plane', 'worker', 'worker']);
    for (const n of cluster.nodes) assert.match(n.image, /^kindest\/node:v1\.32\.\d+@sha256:[0-9a-f]{64}$/);
    assert.equal(new Set(cluster.nodes.map((n) => n.image)).size, 1);
  });

  it('keeps kindnet, runs kube-proxy in IPVS mode with strict ARP (L2 mode needs it)', () => {
    assert.equal(cluster.networking.disableDefaultCNI, undefined);
    assert.equal(cluster.networking.kubeProxyMode, 'ipvs');
    const patches = (cluster.kubeadmConfigPatches ?? []).map((p) => yaml.load(p) as { kind: string; ipvs?: { strictARP?: boolean } });
    const proxy = patches.find((p) => p.kind === 'KubeProxyConfiguration');
    assert.equal(proxy?.ipvs?.strictARP, true);
  });
});

describe('kind testbed: topology.clab.yml', () => {
  it('uses only documented containerlab fields and kinds', () => {
    subset('topology file', clab, CLAB_TOP);
    subset('topology', clab.topology, CLAB_TOPOLOGY);
    for (const [name, n] of Object.entries(nodes)) {
      subset(`node ${name}`, n, CLAB_NODE);
      assert.ok(['linux', 'bridge', 'ext-container'].includes(n.kind), `node ${name}: kind ${n.kind}`);
      for (const e of n.exec ?? []) assert.equal(typeof e, 'string');
    }
    for (const l of clab.topology.links) {
      subset('link', l, CLAB_LINK_BRIEF);
      assert.equal(l.endpoints.length, 2);
      for (const ep of l.endpoints) assert.match(ep, /^\S+:\S+$/);
    }
  });

  it('runs the FRR router from a pinned image with the lab\'s own configuration files', () => {
    const router = nodes.router;
    assert.equal(router?.kind, 'linux');
    assert.match(router.image ?? '', /^quay\.io\/frrouting\/frr:\d+\.\d+\.\d+$/);
    const binds = (router.binds ?? []).map((b) => b.split(':'));
    assert.deepEqual(binds.map(([, target]) => target).sort(), ['/etc/frr/daemons', '/etc/frr/frr.conf', '/etc/frr/vtysh.conf']);
    for (const [source] of binds) {
      assert.match(source ?? '', /^routers\/frr\//);
      assert.ok(existsSync(join(KIND, source ?? '')), `bind source kind/${source} does not exist`);
    }
    assert.equal(router.sysctls?.['net.ipv4.ip_forward'], 1);
  });

  it('links the router and exactly the kind cluster\'s nodes to one bridge, the one up.sh creates', () => {
    const external = Object.entries(nodes).filter(([, n]) => n.kind === 'ext-container').map(([name]) => name);
    assert.deepEqual(external.sort(), kindNodeNames(cluster).sort());
    const bridges = Object.entries(nodes).filter(([, n]) => n.kind === 'bridge').map(([name]) => name);
    assert.deepEqual(bridges, [constant(upSh, 'BRIDGE')]);
    const linked = new Map<string, string>();
    const hostIfs: string[] = [];
    for (const l of clab.topology.links) {
      const [a, b] = l.endpoints.map((e) => e.split(':') as [string, string]);
      assert.ok(a && b && nodes[a[0]] && nodes[b[0]], `link ${l.endpoints.join(' ')} names an unknown node`);
      assert.equal(b[0], bridges[0], 'every link ends on the bridge');
      assert.ok(b[1].length <= 15, `host interface ${b[1]} is longer than IFNAMSIZ-1`);
      hostIfs.push(b[1]);
      linked.set(a[0], a[1]);
      assert.equal(l.mtu, 1500);
    }
    assert.equal(new Set(hostIfs).size, hostIfs.length);
    assert.deepEqual([...linked.keys()].sort(), ['router', ...external].sort());
    for (const iface of linked.values()) assert.equal(iface, 'eth1');
  });

  it('addresses agree: the router is the BGPPeer, the nodes are in its listen ranges, ASNs match frr.conf', () => {
    const r = lanAddresses(nodes.router);
    assert.equal(r.v4?.split('/')[0], bgpPeer.spec.peerAddress);
    assert.match(frr, new RegExp(`^router bgp ${bgpPeer.spec.peerASN}$`, 'm'));
    assert.match(frr, new RegExp(`^ neighbor NODES remote-as ${bgpPeer.spec.myASN}$`, 'm'));
    assert.match(frr, new RegExp(`^ bgp router-id ${bgpPeer.spec.peerAddress}$`, 'm'));
    const ranges = [...frr.matchAll(/^ bgp listen range (\S+) peer-group/gm)].map((m) => parseCIDR(m[1] as string)).map((p) => (p.ok ? p.value : assert.fail()));
    const all = [nodes.router, ...kindNodeNames(cluster).map((n) => nodes[n])];
    for (const n of all) {
      const a = lanAddresses(n);
      for (const addr of [a.v4, a.v6]) {
        assert.ok(addr, 'an IPv4 and an IPv6 LAN address on every node');
        const ip = parseIP(addr.split('/')[0] as string);
        assert.ok(ip && ranges.some((rg) => rangeContains(rg, ip)), `${addr} is outside frr.conf's listen ranges`);
      }
    }
  });

  it('the L2 pools (overlay and examples) sit on the LAN and clear of its hosts', () => {
    const lan = [parseCIDR('192.0.2.0/24'), parseCIDR('2001:db8:0:2::/64')].map((p) => (p.ok ? p.value : assert.fail()));
    const hosts: IPRange[] = [];
    const push = (a: string | undefined): void => {
      const ip = a ? parseIP(a.split('/')[0] as string) : undefined;
      if (ip) hosts.push({ family: ip.family, first: ip.value, last: ip.value });
    };
    for (const n of Object.values(nodes)) {
      const a = lanAddresses(n);
      push(a.v4);
      push(a.v6);
    }
    for (const m of upSh.matchAll(/addr replace (\S+) dev/g)) push(m[1]);
    assert.ok(hosts.length >= 10, 'router, three nodes and the host, both families');
    const l2Pools = [
      'manifests/overlays/l2/ip-address-pool.yaml',
      ...['l2', 'dual-stack', 'shared-ip', 'per-namespace-pools'].map((e) => `manifests/examples/${e}.yaml`),
    ].flatMap((f) =>
      (yaml.loadAll(read(f)) as { kind?: string; spec?: { addresses?: string[] } }[]).filter((d) => d?.kind === 'IPAddressPool').flatMap((d) => d.spec?.addresses ?? []),
    );
    assert.ok(l2Pools.length >= 6);
    for (const spec of l2Pools) {
      const r = parseAddressSpec(spec);
      assert.ok(r.ok, spec);
      const range = r.value;
      assert.ok(lan.some((l) => l.family === range.family && rangeContains(l, { family: range.family, value: range.first }) && rangeContains(l, { family: range.family, value: range.last })), `${spec} is not on the LAN`);
      for (const h of hosts) assert.ok(!rangesOverlap(h, range), `${spec} holds a LAN host`);
    }
  });
});

describe('kind testbed: scripts', function () {
  this.timeout(60_000);

  it('are bash with strict mode, executable, and pass shellcheck', function () {
    for (const [name, text] of [
      ['up.sh', upSh],
      ['down.sh', downSh],
    ] as const) {
      assert.match(text, /^#!\/usr\/bin\/env bash\n/, name);
      assert.match(text, /^set -euo pipefail$/m, name);
      accessSync(join(KIND, name), constants.X_OK);
    }
    const sc = spawnSync('shellcheck', ['--version']);
    if (sc.status !== 0) this.skip(); // shellcheck comes with Debian's `shellcheck` package.
    const r = spawnSync('shellcheck', ['--shell=bash', '--severity=style', 'kind/up.sh', 'kind/down.sh'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('agree with the cluster, the topology, the manifests and the examples', () => {
    assert.equal(constant(upSh, 'CLUSTER'), cluster.name);
    assert.equal(constant(downSh, 'CLUSTER'), cluster.name);
    assert.equal(constant(downSh, 'BRIDGE'), constant(upSh, 'BRIDGE'));
    assert.equal(constant(upSh, 'ROUTER'), `clab-${clab.name}-router`);
    assert.equal(constant(upSh, 'CONTEXT'), 'kind-$CLUSTER');
    const kustomization = load('manifests/base/kustomization.yaml') as { images: { name: string; newTag: string }[] };
    const image = kustomization.images.map((i) => `${i.name}:${i.newTag}`);
    assert.deepEqual(image, [constant(upSh, 'IMAGE')]);
    for (const p of [...upSh.matchAll(/\b((?:kind|manifests)\/[\w./-]+\.(?:ya?ml))\b/g)].map((m) => m[1] as string)) {
      assert.ok(existsSync(join(ROOT, p)), `up.sh names ${p}, which does not exist`);
    }
    for (const mode of ['l2', 'bgp']) assert.ok(existsSync(join(ROOT, 'manifests/overlays', mode, 'kustomization.yaml')));
    const ns = constant(upSh, 'EXAMPLES_NS');
    for (const [, file, svc] of upSh.matchAll(/example=(\S+) service=(\S+) ;;/g)) {
      const docs = yaml.loadAll(read(file as string)) as { kind?: string; metadata?: { name?: string; namespace?: string } }[];
      assert.ok(
        docs.some((d) => d?.kind === 'Service' && d.metadata?.name === svc && d.metadata?.namespace === ns),
        `${file} has no Service ${ns}/${svc}`,
      );
    }
  });

  describe('with tools missing (stand-ins on PATH; nothing real runs)', () => {
    let bin = '';
    beforeEach(() => {
      bin = mkdtempSync(join(tmpdir(), 'herald-kind-bin-'));
      for (const tool of ['dirname', 'id', 'grep']) {
        const real = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
        assert.ok(real, `${tool} is needed to run the scripts`);
        symlinkSync(real, join(bin, tool));
      }
    });
    afterEach(() => {
      if (bin) rmSync(bin, { recursive: true, force: true });
    });
    const stub = (name: string, code = 0): void => writeFileSync(join(bin, name), `#!/bin/sh\nexit ${code}\n`, { mode: 0o755 });
    const run = (script: string, args: string[] = []) =>
      spawnSync('/bin/bash', [join(KIND, script), ...args], { env: { PATH: bin, HOME: bin }, encoding: 'utf8', timeout: 20_000 });

    it('up.sh names each missing tool, in order, and stops', () => {
      for (const [present, missing] of [
        [[], 'docker'],
        [['docker'], 'kind'],
        [['docker', 'kind'], 'kubectl'],
        [['docker', 'kind', 'kubectl'], 'containerlab'],
        [['docker', 'kind', 'kubectl', 'containerlab'], 'ip'],
      ] as const) {
        for (const t of present) stub(t);
        const r = run('up.sh');
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`^kind/up\\.sh: ${missing} is missing: `, 'm'));
      }
    });

    it('up.sh stops when the Docker engine does not answer', () => {
      for (const t of ['kind', 'kubectl', 'containerlab', 'ip']) stub(t);
      stub('docker', 1);
      const r = run('up.sh');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /the Docker engine does not answer/);
    });

    it('up.sh refuses an unknown mode', () => {
      const r = run('up.sh', ['vrrp']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /usage: kind\/up\.sh \[l2\|bgp\]/);
    });

    it('down.sh with nothing installed says so and succeeds (safe to run twice)', () => {
      for (let i = 0; i < 2; i++) {
        const r = run('down.sh');
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /containerlab is not installed/);
        assert.match(r.stdout, /kind is not installed/);
      }
    });
  });
});
