// The configuration objects other than pools, as an operator sees them with kubectl: the
// leading controller (with its own RBAC) marks each Ready or not, Degraded or not, naming
// the field at fault, with one event per problem; fixing the problem clears it; a new
// leader repeats nothing. Pools say whether an advertisement covers them.
import { strict as assert } from 'node:assert';
import { apply, eventsFor, kubectl, lbServiceYAML, NS, poolYAML, startEnv, startReplica, waitFor, waitForIPs, type Env, type Replica } from './harness.js';

const condition = (env: Env, resource: string, name: string, type: string): Promise<string> =>
  kubectl(env, ['get', resource, name, '-n', NS, '-o', `jsonpath={.status.conditions[?(@.type=="${type}")].status}/{.status.conditions[?(@.type=="${type}")].reason}/{.status.conditions[?(@.type=="${type}")].message}`]);

/** Waits until the condition reads `status/reason/…`; returns its message. */
async function waitCondition(env: Env, resource: string, name: string, type: string, status: string, reason: string): Promise<string> {
  const text = await waitFor(`${resource}/${name} ${type}=${status} (${reason})`, async () => {
    const t = await condition(env, resource, name, type);
    return t.startsWith(`${status}/${reason}/`) ? t : undefined;
  });
  return text.slice(`${status}/${reason}/`.length);
}

describe('controller: configuration object status (kubectl)', function () {
  this.timeout(30_000);
  let env: Env;
  let ctl: Replica | undefined;

  before(async () => {
    env = await startEnv();
    await apply(env, poolYAML('lan', ['192.0.2.200-192.0.2.250']));
    ctl = await startReplica(env);
  });
  after(async () => {
    await ctl?.stop();
    await env?.close();
  });

  it('a pool nothing advertises says so, once; a valid L2Advertisement is Ready in `kubectl get`, not Degraded, and covers the pool', async () => {
    assert.match(await waitCondition(env, 'ipaddresspools', 'lan', 'Advertised', 'False', 'NotAdvertised'), /no node announces them/);
    assert.deepEqual((await eventsFor(env, NS, 'lan', 'IPAddressPool')).map((e) => `${e.type} ${e.reason}`), ['Warning NotAdvertised']);
    await apply(env, `apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: l2, namespace: ${NS} }
spec: { ipAddressPools: [lan] }
`);
    assert.equal(await waitCondition(env, 'l2advertisements', 'l2', 'Ready', 'True', 'Valid'), 'the speakers use it');
    assert.equal(await waitCondition(env, 'l2advertisements', 'l2', 'Degraded', 'False', 'NoProblems'), 'every field is in use');
    const table = await kubectl(env, ['get', 'l2advertisements', '-n', NS]);
    assert.match(table, /^NAME\s+READY\s+/);
    assert.match(table, /\nl2\s+True\s+/);
    assert.deepEqual(await eventsFor(env, NS, 'l2', 'L2Advertisement'), [], 'nothing to say about a valid object');
    assert.equal(await waitCondition(env, 'ipaddresspools', 'lan', 'Advertised', 'True', 'Advertised'), 'covered by L2Advertisement "l2"');
  });

  it('a Service given an address from a pool nothing advertises gets a Warning saying so; one from a covered pool does not', async () => {
    await apply(env, poolYAML('spare', ['198.51.100.10-198.51.100.20'], '  autoAssign: false\n'));
    await waitCondition(env, 'ipaddresspools', 'spare', 'Advertised', 'False', 'NotAdvertised');
    await apply(env, lbServiceYAML('default', 'dark', { annotations: { 'herald.dev/address-pool': 'spare' } }));
    await apply(env, lbServiceYAML('default', 'lit', { annotations: { 'herald.dev/address-pool': 'lan' } }));
    const [ip] = await waitForIPs(env, 'default', 'dark');
    await waitForIPs(env, 'default', 'lit');
    const warned = await waitFor('the NotAdvertised event', async () => {
      const ev = (await eventsFor(env, 'default', 'dark')).filter((e) => e.reason === 'NotAdvertised');
      return ev.length > 0 ? ev : undefined;
    });
    assert.deepEqual(
      warned.map((e) => [e.type, e.message]),
      [['Warning', `no L2Advertisement or BGPAdvertisement covers pool "spare": ${ip} is assigned, but no node announces it`]],
    );
    assert.deepEqual((await eventsFor(env, 'default', 'lit')).filter((e) => e.reason === 'NotAdvertised'), []);
  });

  it('a BGPPeer whose password Secret is missing is not Ready, with one Warning naming the field; the Secret fixes it', async () => {
    await apply(env, `apiVersion: herald.dev/v1beta1
kind: BGPPeer
metadata: { name: router, namespace: ${NS} }
spec: { myASN: 64512, peerASN: 64500, peerAddress: 192.0.2.1, passwordSecret: { name: bgp-password } }
`);
    const msg = await waitCondition(env, 'bgppeers', 'router', 'Ready', 'False', 'UnresolvedReference');
    assert.match(msg, /^spec\.passwordSecret: Secret "bgp-password" in namespace herald-system does not exist/);
    const warned = await waitFor('the Warning event', async () => {
      const ev = await eventsFor(env, NS, 'router', 'BGPPeer');
      return ev.length > 0 ? ev : undefined;
    });
    assert.deepEqual(
      warned.map((e) => [e.type, e.reason, e.message]),
      [['Warning', 'UnresolvedReference', msg]],
    );
    assert.match(await kubectl(env, ['get', 'bgppeers', '-n', NS]), /\nrouter\s+False\s+/);

    await kubectl(env, ['create', 'secret', 'generic', 'bgp-password', '-n', NS, '--type=kubernetes.io/basic-auth', '--from-literal=password=s3cret-key']);
    await waitCondition(env, 'bgppeers', 'router', 'Ready', 'True', 'Valid');
    const after = await waitFor('the Normal event', async () => {
      const ev = await eventsFor(env, NS, 'router', 'BGPPeer');
      return ev.some((e) => e.type === 'Normal') ? ev : undefined;
    });
    assert.deepEqual(after.map((e) => `${e.type} ${e.reason}`).sort(), ['Normal Valid', 'Warning UnresolvedReference']);
  });

  it('used in part: a BGPAdvertisement naming an unknown peer is Ready and Degraded; a later Community redefining an alias is Degraded (Conflict)', async () => {
    await apply(env, `apiVersion: herald.dev/v1beta1
kind: BGPAdvertisement
metadata: { name: to-nobody, namespace: ${NS} }
spec: { ipAddressPools: [lan], peers: [nobody] }
`);
    await waitCondition(env, 'bgpadvertisements', 'to-nobody', 'Ready', 'True', 'Valid');
    assert.match(await waitCondition(env, 'bgpadvertisements', 'to-nobody', 'Degraded', 'True', 'UnresolvedReference'), /^spec\.peers\[0\]: BGPPeer "nobody" does not exist/);

    await apply(env, `apiVersion: herald.dev/v1beta1
kind: Community
metadata: { name: first, namespace: ${NS} }
spec: { communities: [{ name: upstream, value: "65000:100" }] }
`);
    await waitCondition(env, 'communities', 'first', 'Ready', 'True', 'Valid');
    await apply(env, `apiVersion: herald.dev/v1beta1
kind: Community
metadata: { name: second, namespace: ${NS} }
spec: { communities: [{ name: upstream, value: "65000:200" }] }
`);
    assert.match(await waitCondition(env, 'communities', 'second', 'Degraded', 'True', 'Conflict'), /alias "upstream" is already defined by Community "first"/);
    assert.equal(await condition(env, 'communities', 'first', 'Degraded'), 'False/NoProblems/every field is in use');
  });

  it('a peer naming a BFDProfile that does not exist; the profile, once created, makes it Ready', async () => {
    await apply(env, `apiVersion: herald.dev/v1beta1
kind: BGPPeer
metadata: { name: fast, namespace: ${NS} }
spec: { myASN: 64512, peerASN: 64500, peerAddress: 192.0.2.2, bfdProfile: quick }
`);
    assert.match(await waitCondition(env, 'bgppeers', 'fast', 'Ready', 'False', 'UnresolvedReference'), /^spec\.bfdProfile: /);
    await apply(env, `apiVersion: herald.dev/v1beta1
kind: BFDProfile
metadata: { name: quick, namespace: ${NS} }
spec: { receiveInterval: 100, transmitInterval: 100 }
`);
    await waitCondition(env, 'bfdprofiles', 'quick', 'Ready', 'True', 'Valid');
    await waitCondition(env, 'bgppeers', 'fast', 'Ready', 'True', 'Valid');
  });

  it('counts the errors per kind in herald_config_errors; a new leader rewrites nothing and repeats no event', async () => {
    const metrics = await ctl!.metrics.registry.metrics();
    assert.match(metrics, /herald_config_errors\{kind="BGPAdvertisement"\} 1/);
    assert.match(metrics, /herald_config_errors\{kind="Community"\} 1/);
    assert.match(metrics, /herald_config_errors\{kind="BGPPeer"\} 0/);
    assert.match(metrics, /herald_config_errors\{kind="IPAddressPool"\} 0/);
    const versions = async () => kubectl(env, ['get', 'ipaddresspools,l2advertisements,bgpadvertisements,bgppeers,communities,bfdprofiles', '-n', NS, '-o', 'jsonpath={.items[*].metadata.resourceVersion}']);
    const before = await versions();
    const events = async () => (await Promise.all(['router', 'fast', 'to-nobody', 'second'].map((n) => eventsFor(env, NS, n, n === 'to-nobody' ? 'BGPAdvertisement' : n === 'second' ? 'Community' : 'BGPPeer')))).flat();
    const eventsBefore = (await events()).map((e) => `${e.reason} ${e.count ?? 1}`).sort();
    await ctl!.stop();
    ctl = await startReplica(env);
    // Its first pass runs at once after the start; give it, and any write it wrongly made, time to land.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await versions(), before);
    assert.deepEqual((await events()).map((e) => `${e.reason} ${e.count ?? 1}`).sort(), eventsBefore);
  });
});
