// The controller Deployment and the speaker DaemonSet: least privilege, resources, probes,
// and the command-line contract (the args parse with the components' own flag specs, and
// the ports they open are the ports the pod declares and probes).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CONTROLLER_FLAGS } from '../../../controller/main.js';
import { SPEAKER_FLAGS } from '../../../speaker/main.js';
import { parseClientFlags, type FlagSpec } from '../../../shared/flags.js';
import { loadFile, MANIFESTS, yamlFiles, type K8sDoc } from './validate.js';

interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name?: string; containerPort: number; protocol?: string; hostPort?: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    runAsUser?: number;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type: string };
  };
}
interface PodSpec {
  serviceAccountName?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Container[];
  initContainers?: Container[];
  volumes?: Record<string, unknown>[];
  topologySpreadConstraints?: { topologyKey: string }[];
  affinity?: { podAntiAffinity?: unknown };
}
type Workload = K8sDoc & { spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } };

const base = yamlFiles(join(MANIFESTS, 'base')).filter((f) => !f.endsWith('kustomization.yaml')).flatMap(loadFile).map((d) => d.doc);
const rbac = yamlFiles(join(MANIFESTS, 'rbac')).filter((f) => !f.endsWith('kustomization.yaml')).flatMap(loadFile).map((d) => d.doc);
const find = <T extends K8sDoc>(kind: string, name: string): T => {
  const d = base.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(d, `${kind} ${name} is not in manifests/base`);
  return d as T;
};
const controller = find<Workload>('Deployment', 'herald-controller');
const speaker = find<Workload>('DaemonSet', 'herald-speaker');

/** Kubernetes resource.Quantity, enough of it for memory and CPU. */
function quantity(q: string): number {
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|k|M|G)?$/.exec(q);
  assert.ok(m, `quantity ${q}`);
  const unit = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

/** The environment the kubelet gives the container: values, and fieldRefs resolved to stand-ins. */
function containerEnv(c: Container): Record<string, string> {
  const stand: Record<string, string> = { 'spec.nodeName': 'node-a', 'metadata.name': 'herald-controller-abc', 'metadata.namespace': 'herald-system' };
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.fieldRef?.fieldPath;
    env[e.name] = e.value ?? (ref ? (stand[ref] ?? `<${ref}>`) : '');
  }
  return env;
}

/** $(VAR) expansion as the kubelet does it for args. */
const expand = (s: string, env: Record<string, string>): string => s.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, v: string) => env[v] ?? all);

function parsedFlags(c: Container, spec: FlagSpec) {
  const env = containerEnv(c);
  const args = (c.args ?? []).map((a) => expand(a, env));
  assert.equal(c.command, undefined, 'the image ENTRYPOINT is the CLI; the pod passes only args');
  assert.equal(args[0], spec.command, `first arg selects the component (${spec.command})`);
  const r = parseClientFlags(args.slice(1), env, spec);
  assert.equal(r.kind, 'ok', r.kind === 'error' ? r.message : r.kind);
  return r.kind === 'ok' ? r : assert.fail();
}

function portNumber(c: Container, name: string | number): number {
  if (typeof name === 'number') return name;
  const p = (c.ports ?? []).find((x) => x.name === name);
  assert.ok(p, `${c.name} has no port named ${name}`);
  return p.containerPort;
}

function tolerates(spec: PodSpec, taint: { key: string; effect: string; value?: string }): boolean {
  return (spec.tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

/**
 * The Pod Security Standards checks (kubernetes.io/docs/concepts/security/pod-security-standards)
 * that apply to these specs; each failure names the check as Pod Security Admission does.
 */
function podSecurityViolations(spec: PodSpec, level: 'baseline' | 'restricted'): string[] {
  const out: string[] = [];
  const containers = [...spec.containers, ...(spec.initContainers ?? [])];
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) out.push('host namespaces');
  if (containers.some((c) => c.securityContext?.privileged)) out.push('privileged');
  if (containers.some((c) => (c.securityContext?.capabilities?.add ?? []).some((cap) => !BASELINE_CAPS.has(cap)))) out.push('capabilities');
  if ((spec.volumes ?? []).some((v) => 'hostPath' in v)) out.push('hostPath volumes');
  // With host network the API server defaults hostPort to containerPort.
  const hostPort = (p: { containerPort: number; hostPort?: number }): number => p.hostPort ?? (spec.hostNetwork ? p.containerPort : 0);
  if (containers.some((c) => (c.ports ?? []).some((p) => hostPort(p) !== 0))) out.push('hostPort');
  if (level === 'baseline') return out;
  if ((spec.volumes ?? []).some((v) => !Object.keys(v).some((k) => RESTRICTED_VOLUMES.has(k)))) out.push('restricted volume types');
  if (containers.some((c) => c.securityContext?.allowPrivilegeEscalation !== false)) out.push('allowPrivilegeEscalation != false');
  const nonRoot = (c: Container): boolean => (c.securityContext?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot) === true;
  if (!containers.every(nonRoot)) out.push('runAsNonRoot != true');
  if (containers.some((c) => (c.securityContext?.runAsUser ?? spec.securityContext?.runAsUser) === 0)) out.push('runAsUser=0');
  const seccomp = (c: Container): string | undefined => c.securityContext?.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type;
  if (!containers.every((c) => seccomp(c) === 'RuntimeDefault' || seccomp(c) === 'Localhost')) out.push('seccompProfile');
  if (!containers.every((c) => c.securityContext?.capabilities?.drop?.includes('ALL'))) out.push('unrestricted capabilities (drop ALL)');
  if (containers.some((c) => (c.securityContext?.capabilities?.add ?? []).some((cap) => cap !== 'NET_BIND_SERVICE'))) out.push('unrestricted capabilities (add)');
  return [...new Set(out)];
}

function checkCommon(w: Workload, component: string, spec: FlagSpec, memoryLimit: number): void {
  const pod = w.spec.template.spec;
  const [c, ...others] = pod.containers;
  assert.ok(c);
  assert.deepEqual(others, [], 'one container');
  const labels = { 'app.kubernetes.io/name': 'herald', 'app.kubernetes.io/component': component };
  assert.deepEqual(w.spec.selector.matchLabels, labels);
  assert.deepEqual(w.spec.template.metadata.labels, labels);
  assert.equal(pod.serviceAccountName, component);

  const sc = c.securityContext ?? {};
  assert.equal(sc.privileged ?? false, false, 'not privileged');
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.deepEqual(sc.capabilities?.drop, ['ALL']);
  assert.equal(pod.securityContext?.seccompProfile?.type ?? sc.seccompProfile?.type, 'RuntimeDefault');
  assert.ok(!(pod.volumes ?? []).some((v) => 'hostPath' in v), 'no hostPath volumes');

  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  assert.ok(limits.memory && quantity(limits.memory) <= memoryLimit, `memory limit ${limits.memory}`);
  assert.ok(limits.cpu && quantity(limits.cpu) > 0, 'cpu limit');
  assert.ok(requests.memory && requests.cpu, 'requests');
  assert.ok(quantity(requests.memory) <= quantity(limits.memory));

  // V8's heap cap below the limit, or the process is OOM-killed rather than collecting.
  const heap = /--max-old-space-size=(\d+)/.exec(containerEnv(c).NODE_OPTIONS ?? '');
  assert.ok(heap, 'NODE_OPTIONS caps the V8 heap');
  assert.ok(Number(heap[1]) * 1024 ** 2 < quantity(limits.memory));
  // A young generation smaller than V8's 16 MB semi-spaces, or the flag changes nothing.
  const semi = Number(/--max-semi-space-size=(\d+)/.exec(containerEnv(c).NODE_OPTIONS ?? '')?.[1]);
  assert.ok(semi >= 1 && semi < 16, 'NODE_OPTIONS sets a small young generation');

  // The flags parse with the component's own spec, and the addresses they open are the
  // declared ports the probes and the metrics Service use.
  const { flags } = parsedFlags(c, spec);
  assert.equal(flags.namespace, 'herald-system');
  assert.ok(flags.metricsAddr && flags.healthAddr, 'metrics and health addresses');
  assert.equal(flags.metricsAddr.port, portNumber(c, 'metrics'));
  assert.equal(flags.healthAddr.port, portNumber(c, 'health'));
  for (const [probe, path] of [
    [c.startupProbe, '/healthz'],
    [c.livenessProbe, '/healthz'],
    [c.readinessProbe, '/readyz'],
  ] as const) {
    assert.equal(probe?.httpGet?.path, path);
    assert.equal(portNumber(c, probe.httpGet.port), flags.healthAddr.port);
  }

  const svc = base.find((d) => d.kind === 'Service' && d.metadata.name === `herald-${component}-metrics`) as
    | (K8sDoc & { spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[] } })
    | undefined;
  assert.ok(svc, `metrics Service for the ${component}`);
  assert.deepEqual(svc.spec.selector, labels);
  assert.deepEqual(svc.metadata.labels, labels);
  const [port] = svc.spec.ports;
  assert.equal(port?.name, 'metrics');
  assert.equal(portNumber(c, port.targetPort), flags.metricsAddr.port);

  const accounts = rbac.filter((d) => d.kind === 'ServiceAccount').map((d) => d.metadata.name);
  if (accounts.length > 0) assert.ok(accounts.includes(component), `manifests/rbac creates no ServiceAccount ${component}`);
}

describe('manifests: workloads', () => {
  describe('controller Deployment', () => {
    const pod = controller.spec.template.spec;
    const c = pod.containers[0] as Container;

    it('least privilege, resources, probes and flags', () => checkCommon(controller, 'controller', CONTROLLER_FLAGS, 150 * 1024 ** 2));

    it('meets the restricted Pod Security Standard: no capabilities, non-root', () => {
      assert.deepEqual(podSecurityViolations(pod, 'restricted'), []);
      assert.equal(c.securityContext?.capabilities?.add, undefined);
      assert.equal(c.securityContext?.runAsNonRoot, true);
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      assert.notEqual(pod.securityContext?.runAsUser, 0);
      assert.equal(pod.hostNetwork ?? false, false);
    });

    it('two replicas spread over nodes, leader election in the install namespace, a disruption budget', () => {
      assert.equal(controller.spec.replicas, 2);
      assert.ok(
        (pod.topologySpreadConstraints ?? []).some((t) => t.topologyKey === 'kubernetes.io/hostname') || pod.affinity?.podAntiAffinity,
        'spread across nodes',
      );
      const { flags, extra } = parsedFlags(c, CONTROLLER_FLAGS);
      assert.equal(flags.namespace, 'herald-system');
      assert.equal(extra['lease-name'], 'herald-controller');
      assert.equal(extra['pod-name'], 'herald-controller-abc', 'POD_NAME from the downward API names the Lease holder');
      const pdb = find<K8sDoc & { spec: { maxUnavailable?: number; selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget', 'herald-controller');
      assert.deepEqual(pdb.spec.selector.matchLabels, controller.spec.selector.matchLabels);
      assert.equal(pdb.spec.maxUnavailable, 1);
    });
  });

  describe('speaker DaemonSet', () => {
    const pod = speaker.spec.template.spec;
    const c = pod.containers[0] as Container;

    it('least privilege, resources, probes and flags', () => checkCommon(speaker, 'speaker', SPEAKER_FLAGS, 128 * 1024 ** 2));

    it('host network, exactly NET_RAW and NET_ADMIN added, not privileged', () => {
      assert.equal(pod.hostNetwork, true);
      assert.equal(pod.hostPID ?? false, false);
      assert.equal(pod.hostIPC ?? false, false);
      assert.deepEqual([...(c.securityContext?.capabilities?.add ?? [])].sort(), ['NET_ADMIN', 'NET_RAW']);
      assert.equal(c.securityContext?.privileged, false);
      // Capabilities reach the effective set only for uid 0 (no ambient capabilities).
      assert.equal(c.securityContext?.runAsUser, 0);
    });

    it('needs the privileged Pod Security level for host network (and so host ports) and its two capabilities, nothing else', () => {
      assert.deepEqual(podSecurityViolations(pod, 'baseline'), ['host namespaces', 'capabilities', 'hostPort']);
      const ns = find('Namespace', 'herald-system');
      assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'privileged');
    });

    it('runs on every node, control-plane nodes included', () => {
      assert.ok(tolerates(pod, { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }));
      assert.ok(tolerates(pod, { key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' }));
      assert.equal((pod as { nodeSelector?: Record<string, string> }).nodeSelector?.['kubernetes.io/os'], 'linux');
    });

    it('knows its node from the downward API, and declares the membership port', () => {
      const nodeName = (c.env ?? []).find((e) => e.name === 'NODE_NAME');
      assert.equal(nodeName?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
      const { extra } = parsedFlags(c, SPEAKER_FLAGS);
      assert.equal(extra['node-name'], 'node-a');
      const ml = (c.ports ?? []).find((p) => p.name === 'memberlist');
      assert.deepEqual([ml?.containerPort, ml?.protocol], [7946, 'UDP']);
    });

    it('rolls one node at a time', () => {
      const s = (speaker.spec as { updateStrategy?: { type: string; rollingUpdate?: { maxUnavailable?: number } } }).updateStrategy;
      assert.equal(s?.type, 'RollingUpdate');
      assert.equal(s.rollingUpdate?.maxUnavailable, 1);
    });
  });

  it('the Pod Security check itself flags what it should (negative control)', () => {
    const bad = structuredClone(controller.spec.template.spec);
    const c = bad.containers[0] as Container;
    c.securityContext = { ...c.securityContext, allowPrivilegeEscalation: true, capabilities: { drop: ['ALL'], add: ['SYS_ADMIN'] } };
    bad.volumes = [{ name: 'h', hostPath: { path: '/' } }];
    assert.deepEqual(podSecurityViolations(bad, 'restricted'), [
      'capabilities',
      'hostPath volumes',
      'restricted volume types',
      'allowPrivilegeEscalation != false',
      'unrestricted capabilities (add)',
    ]);
  });
});
