// herald's BGP speaker against FRR in the lab, eBGP with TCP-MD5: the real controller
// assigns IPs, three speakers advertise them, and FRR's table and kernel show the result.
// One lab for the whole file; each step builds on the last.
import assert from 'node:assert/strict';
import type { LabPlan } from '../../lab/plan.js';
import { vtysh } from '../../lab/router-frr.js';
import {
  apply,
  bgpAdvertisement,
  bgpPeer,
  deleteObject,
  downLab,
  events,
  frrPaths,
  httpFromExt,
  httpLoop,
  isRoot,
  moveEndpoints,
  passwordSecret,
  paths,
  pool,
  restartSpeaker,
  service,
  serviceIPs,
  serviceStatuses,
  sessionStates,
  sleep,
  upLab,
  waitFor,
  waitNextHops,
  waitSessions,
} from './helpers.js';

const KEY = 'herald-e2e-key';

/**
 * Whether FRR's established session with `peer` exchanged the graceful restart
 * capability both ways (RFC 4724 §3), which is what makes FRR keep our routes; undefined
 * while it is not established.
 */
async function frrGracefulRestart(peer: string): Promise<boolean | undefined> {
  const out = await vtysh({ paths }, [`show bgp neighbors ${peer} json`]);
  const n = (JSON.parse(out || '{}') as Record<string, { bgpState?: string; neighborCapabilities?: { gracefulRestart?: string } }>)[peer];
  if (n?.bgpState !== 'Established') return undefined;
  return n.neighborCapabilities?.gracefulRestart === 'advertisedAndReceived';
}
const ALL = ['hl-node1', 'hl-node2', 'hl-node3'];

(isRoot ? describe : describe.skip)('BGP with FRR (eBGP, TCP-MD5)', function () {
  this.timeout(120_000);
  let plan: LabPlan;
  let web4 = '';
  let web6 = '';

  before(async function () {
    this.timeout(300_000);
    plan = await upLab({ kind: 'frr', ibgp: false, password: KEY });
    await apply(
      pool('routed', { addresses: ['203.0.113.0/24', '2001:db8:ff::/120'], autoAssign: false }),
      passwordSecret('router-key', KEY),
      bgpPeer('hl-router', { myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.1', passwordSecret: { name: 'router-key' }, connectTime: '5s' }),
      bgpAdvertisement('routed', { ipAddressPools: ['routed'], communities: ['65000:100', 'large:64512:1:2'] }),
    );
  });

  after(async function () {
    this.timeout(60_000);
    await downLab();
  });

  it('establishes a session from every node with the right key', async () => {
    const states = await waitSessions(plan, 'hl-router', 'Established');
    assert.deepEqual(states.map((s) => s.metadata.name).sort(), ['hl-node1-hl-router', 'hl-node2-hl-router', 'hl-node3-hl-router']);
    for (const s of states) {
      assert.equal(s.status?.peerAddress, '192.0.2.1');
      assert.ok(s.status?.establishedSince, 'establishedSince set');
    }
  });

  it('Cluster policy: ECMP over every node, IPv4 and IPv6, with communities, reachable from hl-ext', async () => {
    await apply(service('web', { pool: 'routed', dual: true }));
    [web4 = '', web6 = ''] = (await serviceIPs('web', 2)).sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')));
    assert.match(web4, /^203\.0\.113\./);
    assert.match(web6, /^2001:db8:ff::/);
    await waitNextHops(plan, web4, ALL);
    await waitNextHops(plan, web6, ALL);
    const paths4 = await frrPaths(plan, `${web4}/32`);
    assert.equal(paths4.length, 3);
    for (const p of paths4) {
      assert.equal(p.aspath?.string, '64512');
      assert.equal(p.community?.string, '65000:100');
      assert.equal(p.largeCommunity?.string, '64512:1:2');
      assert.equal(p.locPrf, undefined, 'no LOCAL_PREF over eBGP');
    }
    assert.equal((await frrPaths(plan, `${web6}/128`)).length, 3);
    assert.ok(ALL.includes((await httpFromExt(plan, web4)) ?? ''), 'HTTP over IPv4 answered by a node');
    assert.ok(ALL.includes((await httpFromExt(plan, web6)) ?? ''), 'HTTP over IPv6 answered by a node');
  });

  it('reports ServiceBGPStatus per node, one nodeAssigned event per node, and session prefixes', async () => {
    await waitFor('ServiceBGPStatus of web on every node', async () => {
      const mine = (await serviceStatuses()).filter((s) => s.status?.serviceName === 'web');
      return mine.length === 3 ? mine : undefined;
    }, 10_000, 200);
    for (const s of (await serviceStatuses()).filter((x) => x.status?.serviceName === 'web')) assert.deepEqual(s.status?.peers, ['hl-router']);
    // Three speakers record their event in the same millisecond, and the event recorder
    // names events "<object>.<ms and a per-process sequence>": one may collide with
    // another's name and be lost (shared/k8s/event-correlator.ts). So: every event is a
    // node's, at most one per node, at least one.
    await sleep(1000);
    const found = await events('default', 'nodeAssigned', 'web');
    assert.ok(found.every((e) => (e.count ?? 1) === 1), `each event recorded once: ${JSON.stringify(found)}`);
    const assigned = found.map((e) => e.message);
    assert.ok(assigned.length >= 1, 'a nodeAssigned event');
    assert.equal(new Set(assigned).size, assigned.length, `one event per node: ${JSON.stringify(assigned)}`);
    for (const m of assigned) assert.ok(ALL.some((n) => m === `announcing from node "${n}" with protocol "bgp"`), m);
    await waitFor('prefixesSent 2 on every session', async () => {
      const s = await sessionStates();
      return s.length === 3 && s.every((x) => x.status?.prefixesSent === 2) ? true : undefined;
    }, 10_000, 200);
  });

  it('Local policy: only the nodes with a ready endpoint, following the endpoints, withdrawn when none is left', async () => {
    await apply(service('local', { pool: 'routed', policy: 'Local' }));
    const [ip = ''] = await serviceIPs('local');
    await moveEndpoints(plan, 'default/local', ['hl-node1', 'hl-node3']);
    await waitNextHops(plan, ip, ['hl-node1', 'hl-node3']);
    await moveEndpoints(plan, 'default/local', ['hl-node2'], ['hl-node1', 'hl-node3']);
    await waitNextHops(plan, ip, ['hl-node2']);
    assert.equal(await httpFromExt(plan, ip), 'hl-node2');
    await moveEndpoints(plan, 'default/local', [], ALL);
    await waitNextHops(plan, ip, []);
  });

  it('Cluster policy: withdrawn when the last ready endpoint goes, back when one returns', async () => {
    await moveEndpoints(plan, 'default/web', [], ALL);
    await waitNextHops(plan, web4, []);
    await waitNextHops(plan, web6, []);
    await moveEndpoints(plan, 'default/web', ['hl-node3']);
    await waitNextHops(plan, web4, ALL);
  });

  it('graceful restart: traffic keeps flowing while the only announcing speaker restarts', async function () {
    this.timeout(180_000);
    await apply(bgpPeer('hl-router', { myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.1', passwordSecret: { name: 'router-key' }, connectTime: '5s', enableGracefulRestart: true }));
    await apply(service('gr', { pool: 'routed', policy: 'Local' }));
    const [ip = ''] = await serviceIPs('gr');
    await moveEndpoints(plan, 'default/gr', ['hl-node1'], ['hl-node2', 'hl-node3']);
    // Enabling graceful restart resets the session (Cease / Administrative Reset). What
    // bounds the reconnect: the BGPPeer reaching the speaker (well under 1 s), the speaker
    // waiting for FRR to close the old connection (at most 2 s, CLOSE_GRACE_MS in
    // speaker/bgp/session.ts), at most one refused attempt and its 1 s backoff; about
    // 100 ms when measured. 10 s leaves room for a loaded machine, not for a retry loop.
    await waitFor('sessions re-established with graceful restart', async () => ((await frrGracefulRestart('192.0.2.11')) === true ? true : undefined), 10_000, 200);
    await waitNextHops(plan, ip, ['hl-node1']);
    const before = (await sessionStates()).find((s) => s.metadata.name === 'hl-node1-hl-router')?.status?.establishedSince;

    const loop = httpLoop(plan, ip, 12);
    await sleep(1000);
    await restartSpeaker('hl-node1');
    const withGR = await loop;
    assert.equal(withGR.failed, 0, `requests failed during the restart: ${JSON.stringify(withGR)}`);
    assert.ok(withGR.ok > 100, `enough requests made: ${withGR.ok}`);
    await waitSessions(plan, 'hl-router', 'Established', ['hl-node1']);
    const after = (await sessionStates()).find((s) => s.metadata.name === 'hl-node1-hl-router')?.status?.establishedSince;
    assert.notEqual(after, before, 'a new session');
    await waitNextHops(plan, ip, ['hl-node1']);

    // The control: without graceful restart the router withdraws at once and requests fail.
    await apply(bgpPeer('hl-router', { myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.1', passwordSecret: { name: 'router-key' }, connectTime: '5s' }));
    await waitFor('sessions re-established without graceful restart', async () => ((await frrGracefulRestart('192.0.2.11')) === false ? true : undefined), 10_000, 200);
    await waitNextHops(plan, ip, ['hl-node1']);
    const control = httpLoop(plan, ip, 10);
    await sleep(1000);
    await restartSpeaker('hl-node1');
    const withoutGR = await control;
    assert.ok(withoutGR.failed > 0, `the control must lose requests: ${JSON.stringify(withoutGR)}`);
    await waitNextHops(plan, ip, ['hl-node1'], 30_000);
  });

  it('withdraws on Service delete and removes its ServiceBGPStatus', async () => {
    await deleteObject('service', 'web');
    await waitNextHops(plan, web4, []);
    await waitNextHops(plan, web6, []);
    await waitFor('ServiceBGPStatus of web gone', async () => ((await serviceStatuses()).some((s) => s.status?.serviceName === 'web') ? undefined : true), 10_000, 200);
  });

  it('a wrong key keeps the session down; the right one brings it back', async () => {
    await apply(passwordSecret('router-key', 'not-the-key'));
    await waitFor('the router to lose every session', async () => {
      const out = JSON.parse(await vtysh({ paths }, ['show bgp summary json'])) as { ipv4Unicast?: { peers?: Record<string, { state?: string }> } };
      return Object.values(out.ipv4Unicast?.peers ?? {}).some((p) => p.state === 'Established') ? undefined : true;
    }, 20_000, 200);
    await sleep(3000);
    const states = await sessionStates();
    assert.ok(states.length === 3 && states.every((s) => s.status?.bgpStatus !== 'Established'), JSON.stringify(states.map((s) => s.status)));
    await apply(passwordSecret('router-key', KEY));
    await waitSessions(plan, 'hl-router', 'Established');
  });

  it('4-octet ASN: a node peering as AS 4200000003 is seen so by the router', async () => {
    const notNode3 = [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['hl-node3'] }] }];
    const node3 = [{ matchLabels: { 'kubernetes.io/hostname': 'hl-node3' } }];
    const peerSpec = { myASN: 64512, peerASN: 64500, peerAddress: '192.0.2.1', passwordSecret: { name: 'router-key' }, connectTime: '5s' };
    // FRR refuses to configure an address that is a dynamic neighbour now: node 3 leaves first.
    await apply(bgpPeer('hl-router', { ...peerSpec, nodeSelectors: notNode3 }));
    await waitFor('node 3 to leave the router', async () => {
      const out = JSON.parse(await vtysh({ paths }, ['show bgp summary json'])) as { ipv4Unicast?: { peers?: Record<string, unknown> } };
      return '192.0.2.13' in (out.ipv4Unicast?.peers ?? {}) ? undefined : true;
    }, 20_000, 200);
    await vtysh({ paths }, [
      'configure terminal',
      'router bgp 64500',
      'neighbor 192.0.2.13 remote-as 4200000003',
      `neighbor 192.0.2.13 password ${KEY}`,
      'address-family ipv4 unicast',
      'neighbor 192.0.2.13 activate',
      'neighbor 192.0.2.13 route-map NOTHING out',
      'exit-address-family',
    ]);
    await apply(bgpPeer('hl-router-as4', { ...peerSpec, myASN: 4200000003, nodeSelectors: node3 }));
    await waitSessions(plan, 'hl-router-as4', 'Established', ['hl-node3'], 30_000);
    await apply(service('as4', { pool: 'routed' }));
    const [ip = ''] = await serviceIPs('as4');
    // Paths with different AS_PATHs are not multipath in FRR's default: wait for all three in its table.
    await waitFor('three paths in FRR', async () => ((await frrPaths(plan, `${ip}/32`)).length === 3 ? true : undefined), 20_000, 200);
    const byPeer = Object.fromEntries((await frrPaths(plan, `${ip}/32`)).map((p) => [p.peer?.peerId ?? p.nexthops?.[0]?.ip ?? '', p.aspath?.string]));
    assert.equal(byPeer['192.0.2.13'], '4200000003');
    assert.equal(byPeer['192.0.2.11'], '64512');
  });
});
