// herald's layer 2 mode in the lab (3 nodes, the controller allocating, a speaker per
// node, strict ARP so only speakers answer), seen from hl-client: exactly one answer per
// IP from the elected node, IPv4 and IPv6; nothing for IPs no Service holds; failover when
// the leader's speaker is SIGKILLed or its link is cut, with a client probing every 10 ms;
// a rolling restart of every speaker without a failed request or a moved IP, and a
// speaker stopped for good (its IP held, then handed over); externalTrafficPolicy
// Local following the endpoints; forged membership datagrams changing nothing; no
// membership flap while 1,000 Services are created at once.
// Root only: the lab's hl-* namespaces; one lab run at a time (harness.ts waits).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { encode } from '../../../speaker/membership/codec.js';
import { keyring, signingKey } from '../../../speaker/membership/keyring.js';
import { run, tryRun } from '../../lab/exec.js';
import { logFile } from '../../lab/processes.js';
import { httpGet } from '../../lab/probes.js';
import { CLIENT_NS, hostByMac, ROUTER_NS, type LabPlan } from '../../lab/plan.js';
import {
  acquireLab,
  answeringNodes,
  applyL2Config,
  createService,
  createServicesAtOnce,
  forgetNeighbour,
  listL2Statuses,
  metricSum,
  nowMs,
  paths,
  Prober,
  releaseLab,
  restartSpeaker,
  servicesWithIPs,
  serviceEvents,
  setLink,
  signalSpeaker,
  sleep,
  speakerLogSize,
  speakerMetrics,
  startEchoes,
  stopChildren,
  waitFor,
} from './harness.js';

const isRoot = process.getuid?.() === 0;

(isRoot ? describe : describe.skip)('layer 2 in the lab (3 nodes)', function () {
  this.timeout(120_000);
  let plan: LabPlan;
  let echoes: ChildProcess[] = [];
  const probers: Prober[] = [];
  let web: string[] = []; // IPv4, IPv6
  let web2 = '';

  const nodes = () => plan.nodes.map((n) => n.name);
  /** Waits until exactly one node answers for `ip`; returns it. */
  const soleAnswer = (ip: string, timeoutMs = 10_000, not?: string): Promise<string> =>
    waitFor(
      `exactly one node answering for ${ip}${not ? ` other than ${not}` : ''}`,
      async () => {
        const a = await answeringNodes(plan, ip, 600);
        return a.length === 1 && a[0] !== not ? a[0] : undefined;
      },
      timeoutMs,
      100,
    );
  const probe = async (ip: string, mode: 'udp' | 'http' = 'udp'): Promise<Prober> => {
    const p = await Prober.start(ip, { mode });
    probers.push(p);
    return p;
  };
  /** The node answering for ip, and a UDP prober whose probes it answers. */
  const probeLeader = async (ip: string): Promise<{ leader: string; p: Prober }> => {
    const leader = await soleAnswer(ip);
    const p = await probe(ip);
    await p.waitFor((n) => n === leader, 'probes answered by the leader');
    return { leader, p };
  };
  /** Cuts the leader's link until another node answers p; asserts the outage since `from`; restores the link. */
  const cutUntilTakeover = async (p: Prober, leader: string, from: number, maxOutageMs: number): Promise<void> => {
    await setLink(plan, leader, false);
    try {
      const next = await p.waitFor((n) => n !== leader, 'probes answered by another node', 5000, 200);
      const outage = p.outage(from - 100, nowMs());
      assert.ok(outage < maxOutageMs, `outage ${outage.toFixed(0)} ms, resumed through ${next}`);
    } finally {
      await setLink(plan, leader, true);
    }
  };

  before(async function () {
    this.timeout(600_000);
    plan = await acquireLab({ nodes: 3, components: true });
    await applyL2Config();
    echoes = await startEchoes(plan);
    web = await createService('web', { families: ['IPv4', 'IPv6'] });
    [web2 = ''] = await createService('web2');
  });

  afterEach(async () => {
    for (const p of probers.splice(0)) await p.stop();
  });

  after(async function () {
    this.timeout(120_000);
    await stopChildren(echoes);
    await releaseLab();
  });

  it('answers ARP and NDP for each IP from exactly one node, the one its ServiceL2Status names', async () => {
    // Right after start-up the IPs may still be settling (speakers joining one by one):
    // wait for the answers and the status objects to agree.
    for (const ip of [...web, web2]) {
      await waitFor(
        `${ip}: one node answering and one ServiceL2Status naming it, on eth0`,
        async () => {
          const node = await soleAnswer(ip);
          const st = (await listL2Statuses()).filter((s) => s.status?.ip === ip);
          const ifs = st[0]?.status?.interfaces ?? [];
          // The interface, with the MAC a peer answers with while this node's speaker restarts.
          const ok = st.length === 1 && st[0]?.status?.node === node && ifs.length === 1 && ifs[0]?.name === 'eth0' && hostByMac(plan, ifs[0]?.mac ?? '') === node;
          return ok ? true : undefined;
        },
        20_000,
        250,
      );
    }
    const events = await serviceEvents('web');
    assert.ok(events.some((e) => e.reason === 'nodeAssigned' && /announcing from node "hl-node\d" with protocol "layer2"/.test(e.message ?? '')), JSON.stringify(events));
  });

  it('HTTP reaches the service through the node that answers', async () => {
    for (const ip of web) {
      const node = await soleAnswer(ip);
      assert.equal(await httpGet('hl-client', ip), `${node}\n`);
    }
  });

  it('no node answers for an IP no Service holds, nor for an address outside every pool', async () => {
    for (const ip of ['192.0.2.249', '2001:db8:0:2::2fe', '192.0.2.99']) assert.deepEqual(await answeringNodes(plan, ip, 1000), [], ip);
  });

  it('SIGKILL of the leader\'s speaker: traffic goes on and moves to the next node', async () => {
    const ip = web[0] as string;
    const { leader, p } = await probeLeader(ip);
    const t0 = nowMs();
    await signalSpeaker(leader, 'SIGKILL');
    const next = await p.waitFor((n) => n !== leader, 'probes answered by another node', 5000, 200);
    const switched = (p.answers.find((a) => a.t >= t0 && a.n === next)?.t ?? nowMs()) - t0;
    assert.ok(switched < 2000, `moved to ${next} after ${switched.toFixed(0)} ms`);
    assert.ok(p.outage(t0 - 100, nowMs()) < 1000, `outage ${p.outage(t0 - 100, nowMs()).toFixed(0)} ms`);
    assert.equal(await soleAnswer(ip), next, 'only the new node answers once the old speaker is gone');
    await restartSpeaker(plan, leader);
    assert.equal(await soleAnswer(ip, 10_000, next), leader, 'the restarted speaker takes its IP back');
  });

  it('the leader\'s link cut: traffic resumes through the next node', async () => {
    const ip = web2;
    const { leader, p } = await probeLeader(ip);
    const t0 = nowMs();
    await cutUntilTakeover(p, leader, t0, 1500);
    await p.waitFor((n) => n === leader, 'traffic back on the leader once its link is up', 10_000, 500);
    assert.equal(await soleAnswer(ip), leader);
  });

  it('IPv6 fails over too (NDP)', async () => {
    const ip = web[1] as string;
    const { leader, p } = await probeLeader(ip);
    const t0 = nowMs();
    await cutUntilTakeover(p, leader, t0, 1500);
    await p.waitFor((n) => n === leader, 'traffic back on the leader', 10_000, 500);
  });

  it('a rolling restart of every speaker fails no request and moves no IP', async function () {
    this.timeout(180_000);
    // Each speaker leaves with a restart hold: its peers keep its IPs on its node while the
    // node is up, and the next boot takes them back where they were (membership/core.ts,
    // "Restarts"). No IP moves, so no TCP connection is reset. Strict: every request sent
    // from the first restart until the probers stop must succeed, those in flight too.
    const ip = web[0] as string;
    const leader = await soleAnswer(ip);
    const http = await probe(ip, 'http');
    const udp = await probe(ip);
    await udp.waitFor((n) => n === leader, 'UDP probes answered by the leader');
    await http.waitFor((n) => n === leader, 'HTTP probes answered by the leader');
    const from = { http: http.lastSent() + 1, udp: udp.lastSent() + 1 };
    // The leader last, so that the others' restarts happen around a held-and-back leader too.
    for (const node of [...nodes().filter((n) => n !== leader), leader]) {
      await signalSpeaker(node, 'SIGTERM');
      await restartSpeaker(plan, node);
      await sleep(1000);
    }
    await sleep(500);
    await http.stop();
    await udp.stop();
    const h = http.unanswered(from.http);
    const u = udp.unanswered(from.udp);
    const requests = http.lastSent() - from.http + 1;
    assert.ok(requests > 300, `${requests} HTTP requests`);
    assert.deepEqual(h.failed, [], 'no failed HTTP request');
    assert.deepEqual(h.missing, [], 'every HTTP request answered');
    assert.deepEqual(u.missing, [], 'every UDP probe answered');
    const answeredBy = new Set([...http.answers, ...udp.answers].filter((a) => a.s >= Math.min(from.http, from.udp)).map((a) => a.n));
    assert.deepEqual([...answeredBy], [leader], 'the IP never moved');
    assert.equal(await soleAnswer(ip), leader);
  });

  it('SIGTERM with no restart: the node keeps its IP while it is up; its link cut ends the hold within a second', async function () {
    this.timeout(60_000);
    const ip = web2;
    const { leader, p } = await probeLeader(ip);
    const t0 = nowMs();
    await signalSpeaker(leader, 'SIGTERM');
    await sleep(2500);
    // Its kernel still serves (the client has its MAC cached); nobody took over.
    assert.equal(p.lost(t0, nowMs() - 300), 0, 'no probe lost while held');
    assert.ok(p.between(t0, nowMs()).every((a) => a.n === leader), 'still answered by the held node');
    const t1 = nowMs();
    await cutUntilTakeover(p, leader, t1, 1000);
    await restartSpeaker(plan, leader);
    assert.equal(await soleAnswer(ip, 10_000), leader, 'the restarted speaker takes its IP back');
  });

  it('while a SIGTERMed speaker is away, another node answers ARP and NDP for its IPs with its MAC: a client that forgot the address still reaches it', async function () {
    this.timeout(60_000);
    const leaders = new Map<string, string>();
    for (const ip of [...web, web2]) leaders.set(ip, await soleAnswer(ip));
    const leader = leaders.get(web[0] as string) as string;
    const held = [...leaders].filter(([, n]) => n === leader).map(([ip]) => ip);
    const others = nodes().filter((n) => n !== leader);
    const responses = async (ip: string): Promise<number> => {
      let sum = 0;
      for (const n of others) sum += metricSum(await speakerMetrics(n), 'herald_layer2_responses_sent', { ip });
      return sum;
    };
    const before = new Map<string, number>();
    for (const ip of held) before.set(ip, await responses(ip));
    await signalSpeaker(leader, 'SIGTERM');
    try {
      for (const ip of held) {
        // The client's kernel asks again (its entry is gone) and gets an answer naming the held node.
        await forgetNeighbour(ip);
        assert.equal(await httpGet(CLIENT_NS, ip), `${leader}\n`, `${ip}: resolved, and served by ${leader}, though its speaker is gone`);
        const neigh = (await tryRun('ip', ['-n', CLIENT_NS, 'neigh', 'show', ip])).stdout.trim();
        assert.equal(hostByMac(plan, /lladdr (\S+)/.exec(neigh)?.[1] ?? ''), leader, `${ip}: the client caches ${leader}'s MAC (${neigh})`);
        assert.ok((await responses(ip)) > (before.get(ip) ?? 0), `${ip}: the answer came from another node`);
      }
    } finally {
      await restartSpeaker(plan, leader);
    }
    for (const ip of held) assert.equal(await soleAnswer(ip, 10_000), leader, `${ip}: its own speaker answers again, nobody else`);
  });

  it('SIGTERM with no restart: the next node takes over when the hold runs out (10 s), without a lost probe', async function () {
    this.timeout(60_000);
    const ip = web2;
    const { leader, p } = await probeLeader(ip);
    const t0 = nowMs();
    await signalSpeaker(leader, 'SIGTERM');
    try {
      const next = await p.waitFor((n) => n !== leader, 'probes answered by another node', 20_000, 200);
      const moved = (p.answers.find((a) => a.t >= t0 && a.n === next)?.t ?? nowMs()) - t0;
      assert.ok(moved > 9000 && moved < 12_500, `moved to ${next} ${moved.toFixed(0)} ms after SIGTERM`);
      assert.equal(p.lost(t0, nowMs() - 300), 0, 'no probe lost: the old node served until the new one announced');
    } finally {
      await restartSpeaker(plan, leader);
    }
    assert.equal(await soleAnswer(ip, 10_000), leader, 'the restarted speaker takes its IP back');
  });

  it('externalTrafficPolicy Local: the IP follows the endpoints', async () => {
    const [ip = ''] = await createService('local', { local: true });
    for (const where of ['hl-node2', 'hl-node3', 'hl-node1']) {
      await run(process.execPath, ['--import', 'tsx', 'shared/cli.ts', 'lab', 'endpoints', 'default/local', '--nodes', where]);
      assert.equal(await soleAnswer(ip, 10_000), where);
    }
  });

  it('forged, wrongly signed and replayed membership datagrams change nothing', async () => {
    const ip = web[0] as string;
    const leader = await soleAnswer(ip);
    const before = await Promise.all(nodes().map((n) => speakerMetrics(n)));
    const p = await probe(ip);
    await p.waitFor((n) => n === leader, 'probes answered by the leader');
    const t0 = nowMs();
    // A real datagram from the leader, captured on the wire, to replay.
    const pcap = `/tmp/hlt-l2-replay-${process.pid}.pcap`;
    const leaderPort = `lan-node${leader.replace('hl-node', '')}`;
    await tryRun('tcpdump', ['-i', leaderPort, '-Q', 'in', '-c', '1', '-w', pcap, 'udp dst port 7946'], { netns: ROUTER_NS, timeoutMs: 5000 });
    const captured = lastUdpPayload(readFileSync(pcap));
    rmSync(pcap, { force: true });
    assert.ok(captured && captured.length > 60, 'captured a heartbeat');
    // The leader saying it leaves, signed with a key that is not the cluster's.
    const wrongKey = signingKey(keyring(randomBytes(32)), 0);
    const forgedLeave = encode({ type: 'leave', node: leader, boot: { time: Date.now(), nonce: 1 }, seq: 1, sentAt: Date.now(), interval: 100 }, wrongKey);
    const garbage = randomBytes(90);
    const targets = plan.nodes.filter((n) => n.name !== leader).map((n) => n.ipv4);
    await sendUdp(targets, 7946, [garbage, forgedLeave, captured as Buffer, captured as Buffer]);
    await sleep(1500);
    assert.equal(p.lost(t0, nowMs() - 500), 0, 'no probe lost');
    // A leave believed would move the IP (the next assertion); a wait under 250 ms is the
    // loaded machine's scheduling, not a failover (those take 350 ms and more).
    assert.ok(p.outage(t0, nowMs()) < 250, `longest wait ${p.outage(t0, nowMs()).toFixed(0)} ms`);
    assert.ok(p.between(t0, nowMs()).every((a) => a.n === leader), 'every probe still answered by the leader');
    assert.equal(await soleAnswer(ip), leader);
    const after = await Promise.all(nodes().map((n) => speakerMetrics(n)));
    const dropped = (texts: string[], reason?: string) => texts.reduce((s, t) => s + metricSum(t, 'herald_membership_dropped_total', reason ? { reason } : {}), 0);
    assert.ok(dropped(after) - dropped(before) >= 4 * targets.length, 'every forged datagram is dropped and counted');
    assert.ok(dropped(after, 'badMac') - dropped(before, 'badMac') >= targets.length, 'the wrongly signed leave, as a bad MAC');
    assert.ok(dropped(after, 'replay') - dropped(before, 'replay') >= targets.length, 'the replayed heartbeat, as a replay');
  });

  it('1,000 Services created at once: no speaker sees a peer go down, and every IP is announced', async function () {
    this.timeout(300_000);
    // The burst keeps every speaker's main thread busy; heartbeats leave from the
    // membership thread, so nobody is declared down (before it, 34 flaps in one burst).
    const n = 1000;
    await applyL2Config([`2001:db8:0:2::1000-2001:db8:0:2::${(0x1000 + n - 1).toString(16)}`]);
    const downs = async (): Promise<number> =>
      (await Promise.all(nodes().map((x) => speakerMetrics(x)))).reduce((sum, t) => sum + metricSum(t, 'herald_membership_transitions_total', { direction: 'down' }), 0);
    const before = await downs();
    const logFrom = nodes().map((x) => speakerLogSize(x));
    await createServicesAtOnce(Array.from({ length: n }, (_, i) => `burst-${i}`), { families: ['IPv6'] });
    await waitFor(`IPs for the ${n} Services`, async () => ((await servicesWithIPs('burst-')) >= n ? true : undefined), 180_000, 1000);
    await waitFor(
      `a ServiceL2Status for each of the ${n} Services`,
      async () => ((await listL2Statuses()).filter((st) => st.status?.serviceName?.startsWith('burst-')).length >= n ? true : undefined),
      180_000,
      1000,
    );
    const peerDowns = nodes().flatMap((x, i) => readFileSync(logFile(paths, `speaker-${x}`), 'utf8').slice(logFrom[i]).split('\n').filter((l) => l.includes('membership: peer down')));
    assert.deepEqual(peerDowns, [], 'no peer declared down during the burst');
    assert.equal((await downs()) - before, 0, 'herald_membership_transitions_total{direction="down"} unchanged');
    const ip = (await listL2Statuses()).find((st) => st.status?.serviceName === `burst-${n - 1}`)?.status?.ip ?? '';
    assert.equal((await answeringNodes(plan, ip, 1000)).length, 1, `${ip} answered by one node`);
  });
});

/** The UDP payload of the last Ethernet/IPv4 packet in a pcap file (tcpdump -w). */
function lastUdpPayload(file: Buffer): Buffer | undefined {
  let at = 24; // global header
  let out: Buffer | undefined;
  while (at + 16 <= file.length) {
    const incl = file.readUInt32LE(at + 8);
    const pkt = file.subarray(at + 16, at + 16 + incl);
    at += 16 + incl;
    if (pkt.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (pkt[14]! & 0x0f) * 4;
    if (pkt[14 + 9] !== 17) continue;
    const udp = 14 + ihl;
    out = pkt.subarray(udp + 8, udp + pkt.readUInt16BE(udp + 4));
  }
  return out;
}

/** Sends datagrams from hl-client (the process runs in the host namespace, so via a helper). */
async function sendUdp(targets: string[], port: number, datagrams: Buffer[]): Promise<void> {
  const script = `
    const { createSocket } = require('node:dgram');
    const [targets, port, hex] = JSON.parse(process.argv[1]);
    const s = createSocket('udp4');
    let n = 0; const total = targets.length * hex.length;
    for (const t of targets) for (const h of hex) s.send(Buffer.from(h, 'hex'), port, t, () => { if (++n === total) s.close(); });
  `;
  await run(process.execPath, ['-e', script, JSON.stringify([targets, port, datagrams.map((d) => d.toString('hex'))])], { netns: 'hl-client' });
}
