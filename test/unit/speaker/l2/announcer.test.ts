// The L2 announcer with everything around it faked: membership (the test says who is
// live), packet sockets, interfaces, informers, the status writer, events and a clock.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { FakeClock } from '../../../../shared/k8s/clock.js';
import { formatIP } from '../../../../shared/ip/ip.js';
import type { K8sObject } from '../../../../shared/k8s/informer.js';
import { createMetrics, type Metrics } from '../../../../shared/metrics.js';
import type { Announcer } from '../../../../speaker/announcer.js';
import { electL2 } from '../../../../speaker/election.js';
import { L2Announcer, l2AnnouncerFactory, type MembershipLike } from '../../../../speaker/l2/announcer.js';
import { decodeArpFrame } from '../../../../speaker/l2/arp.js';
import { decodeNdpFrame } from '../../../../speaker/l2/ndp.js';
import { DEFAULT_L2_SETTINGS } from '../../../../speaker/l2/options.js';
import { l2StatusName, l2StatusObject } from '../../../../speaker/l2/status.js';
import type { MembershipEvent } from '../../../../speaker/membership/core.js';
import type { ChangeListener } from '../../../../speaker/membership/member.js';
import type { ThreadedMembershipConfig } from '../../../../speaker/membership/threaded.js';
import type { MemberPeer } from '../../../../speaker/membership/peers.js';
import type { SpeakerSnapshot } from '../../../../speaker/snapshot.js';
import type { SpeakerDeps } from '../../../../speaker/start.js';
import { ad, config, node, service, snapshot } from '../election-helpers.js';
import { arpRequest, describeFrame, FakeIO, foreignGarp, iface, neighborSolicitation, RecordingWriter } from './responder-fakes.js';

const NS = 'herald-system';
const ETH0 = iface(2, 'eth0', { veth: true });
const NODES = ['n1', 'n2', 'n3'];

class FakeInformer<T extends K8sObject> {
  constructor(public items: T[]) {}
  get(name: string, namespace?: string): T | undefined {
    return this.items.find((o) => o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace));
  }
  list(): readonly T[] {
    return this.items;
  }
  subscribe(): () => void {
    return () => {};
  }
}

class FakeMembership implements MembershipLike {
  calls: string[] = [];
  peers: readonly MemberPeer[] = [];
  keys: Uint8Array[] = [];
  liveSet: ReadonlySet<string> | undefined;
  listener: ChangeListener | undefined;
  leaving: { resolve: () => void } | undefined;
  /** Hold leave() open until the test resolves it (the grace period). */
  holdLeave = false;
  constructor(readonly config: ThreadedMembershipConfig) {}
  async start(): Promise<void> {
    this.calls.push('start');
  }
  setPeers(p: readonly MemberPeer[]): void {
    this.peers = p;
  }
  setKey(k: Uint8Array): void {
    this.keys.push(k);
  }
  live(): ReadonlySet<string> | undefined {
    return this.liveSet;
  }
  onChange(l: ChangeListener): () => void {
    this.listener = l;
    return () => (this.listener = undefined);
  }
  leave(): Promise<void> {
    this.calls.push('leave');
    if (!this.holdLeave) return Promise.resolve();
    return new Promise((resolve) => (this.leaving = { resolve }));
  }
  async stop(): Promise<void> {
    this.calls.push('stop');
  }
  /** What the real membership does on a change: the whole live set and the events. */
  emit(live: string[], events: MembershipEvent[]): void {
    this.liveSet = new Set(live);
    this.listener?.(this.liveSet, events);
  }
}

const KEY_SECRET = { metadata: { name: 'herald-memberlist', namespace: NS }, data: { secretkey: Buffer.alloc(32, 7).toString('base64') } };
const nodeObject = (name: string, i: number) => ({
  metadata: { name, uid: `uid-${name}` },
  status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${10 + i}` }, { type: 'InternalIP', address: `2001:db8:0:2::${10 + i}` }] },
});

const SNAP: SpeakerSnapshot = {
  ...snapshot(config([ad('l2', ['l2'])]), NODES.map((n) => node(n)), [
    service('web', ['192.0.2.200', '2001:db8:0:2::200']),
    ...Array.from({ length: 12 }, (_, i) => service(`s${i}`, [`192.0.2.${210 + i}`])),
  ]),
  nodeName: 'n1',
};

/** The Service holding an IP in the fixture. */
function serviceOf(ip: string): { namespace: string; name: string } {
  const svc = SNAP.services.find((s) => s.ips.some((x) => formatIP(x) === ip));
  assert.ok(svc, ip);
  return svc;
}

/** IPs by their winner with the given live nodes (the election is the oracle here). */
function winners(live: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of electL2(SNAP, new Set(live)).values()) {
    if (!e.winner) continue;
    out.set(e.winner, [...(out.get(e.winner) ?? []), e.ipText]);
  }
  return out;
}

interface Harness {
  a: L2Announcer;
  io: FakeIO;
  clock: FakeClock;
  membership: () => FakeMembership;
  writer: RecordingWriter;
  events: string[];
  metrics: Metrics;
  logs: string[];
  secrets: FakeInformer<K8sObject>;
  /** The frames sent (described) since the last call. */
  sent(): string[];
  /** Does the responder answer ARP (or NS) for `ip` on eth0 right now? */
  answers(ip: string): boolean;
  /** The hardware address eth0's answer for `ip` carries, and the frame's source MAC. */
  answer(ip: string): { mac: string; from: string } | undefined;
}

async function harness(o: { secret?: boolean; writer?: RecordingWriter } = {}): Promise<Harness> {
  const clock = new FakeClock(0);
  const io = new FakeIO();
  const writer = o.writer ?? new RecordingWriter();
  const events: string[] = [];
  const logs: string[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  const secrets = new FakeInformer<K8sObject>(o.secret === false ? [] : [KEY_SECRET]);
  const services = new FakeInformer<K8sObject>(SNAP.services.map((s) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: s.name, namespace: s.namespace, uid: `uid-${s.name}` } })));
  const stream = new Writable({
    write(chunk, _e, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const deps = {
    log: pino({ level: 'debug' }, stream),
    clock,
    nodeName: 'n1',
    namespace: NS,
    lbClass: undefined,
    informers: { secrets, nodes: new FakeInformer(NODES.map((n, i) => nodeObject(n, i + 1))), services } as unknown as SpeakerDeps['informers'],
    status: writer,
    events: { event: (obj: K8sObject, type: string, reason: string, message: string) => events.push(`${obj.metadata?.namespace}/${obj.metadata?.name} ${type} ${reason}: ${message}`) },
    metrics,
    client: {} as SpeakerDeps['client'],
  } as SpeakerDeps;
  let m: FakeMembership | undefined;
  const announcer: Announcer = await l2AnnouncerFactory({
    settings: { ...DEFAULT_L2_SETTINGS, interfacePollMs: 1000 },
    io: async () => io,
    readInterfaces: async () => ({ infos: [iface(1, 'lo', { loopback: true, mac: undefined, linkType: 772 }), ETH0], addressed: new Set(['eth0']) }),
    createMembership: (c) => (m = new FakeMembership(c)),
    statusInformer: writer.informer(),
    // Gaps that follow the cost of an election are read off the fake clock too.
    monotonicMs: () => clock.now(),
  })(deps);
  const a = announcer as L2Announcer;
  let seen = 0;
  const reply = (ip: string): Uint8Array | undefined => {
    const s = io.socket(ETH0.index);
    assert.ok(s);
    const before = s.sent.length;
    s.deliver(ip.includes(':') ? neighborSolicitation(ip) : arpRequest(ip));
    const got = s.sent[before];
    s.sent.splice(before);
    return got;
  };
  return {
    a,
    io,
    clock,
    membership: () => {
      assert.ok(m, 'a membership was created');
      return m;
    },
    writer,
    events,
    metrics,
    logs,
    secrets,
    sent: () => {
      const all = io.allSent();
      const out = all.slice(seen).map(describeFrame);
      seen = all.length;
      return out;
    },
    answers: (ip: string) => reply(ip) !== undefined,
    answer: (ip: string) => {
      const frame = reply(ip);
      if (!frame) return undefined;
      const arp = decodeArpFrame(frame);
      if (arp.ok) return { mac: arp.value.arp.senderMAC, from: arp.value.ethernet.source };
      const ndp = decodeNdpFrame(frame);
      assert.ok(ndp.ok && ndp.value.message.type === 'neighbor-advertisement');
      return { mac: ndp.value.message.targetLinkLayerAddress ?? '', from: ndp.value.ethernet.source };
    },
  };
}

const garps = (lines: string[]) => lines.filter((l) => / to (ff:ff:ff:ff:ff:ff|33:33:00:00:00:01)/.test(l));

describe('speaker/l2/announcer', () => {
  it('waits for the membership key: no membership, no answers, and it says why', async () => {
    const h = await harness({ secret: false });
    h.a.update(SNAP);
    assert.throws(() => h.membership());
    assert.ok(h.logs.some((l) => /no usable membership key; announcing nothing/.test(l)));
    h.secrets.items.push(KEY_SECRET);
    h.a.update(SNAP);
    const m = h.membership();
    assert.deepEqual(m.calls, ['start']);
    assert.equal(m.config.node, 'n1');
    assert.equal(m.config.port, 7946);
    assert.equal(m.config.bindAddress, '192.0.2.11', 'the node\'s InternalIP');
    assert.deepEqual(Buffer.from(m.config.key), Buffer.alloc(32, 7));
    assert.deepEqual(m.peers, [
      { name: 'n2', address: '192.0.2.12' },
      { name: 'n3', address: '192.0.2.13' },
    ]);
    await h.a.stop();
  });

  it('runs no membership while no L2Advertisement selects this node, and peers only with the nodes one selects', async () => {
    const h = await harness();
    h.a.update({ ...SNAP, config: config([]) });
    assert.throws(() => h.membership(), /a membership was created/);
    assert.ok(h.logs.some((l) => /no L2Advertisement selects this node/.test(l)));
    assert.ok(!h.logs.some((l) => /membership key/.test(l)), 'no key is asked for');
    // n3 is left out by the selector: not a peer.
    const labelled: SpeakerSnapshot = { ...SNAP, nodes: new Map(NODES.map((n) => [n, node(n, { l2: n === 'n3' ? 'no' : 'yes' })])) };
    h.a.update({ ...labelled, config: config([ad('l2', ['l2'], [{ matchLabels: { l2: 'yes' } }])]) });
    const m = h.membership();
    assert.deepEqual(m.calls, ['start']);
    assert.deepEqual(m.peers, [{ name: 'n2', address: '192.0.2.12' }]);
    // Once started it stays, also when the advertisement goes.
    h.a.update({ ...SNAP, config: config([]) });
    assert.equal(h.membership(), m);
    assert.deepEqual(m.calls, ['start']);
    await h.a.stop();
  });

  it('answers nothing until the membership is ready, then exactly the IPs it wins, announcing each at once', async () => {
    const h = await harness();
    h.a.update(SNAP);
    assert.ok(!h.answers('192.0.2.200') && !h.answers('192.0.2.210'), 'not before the live set is known');
    h.membership().emit(NODES, [{ type: 'ready' }]);
    const mine = winners(NODES).get('n1') ?? [];
    assert.ok(mine.length > 0, 'the fixture gives n1 some IPs');
    const sent = h.sent();
    for (const ip of mine) {
      assert.ok(h.answers(ip), `answers ${ip}`);
      if (ip.includes(':')) assert.ok(sent.some((l) => l.startsWith(`na O ${ip} `)), `unsolicited NA for ${ip}`);
      else {
        assert.ok(sent.some((l) => l.startsWith(`arp request ${ip} is-at ${ETH0.mac} to ff:ff:ff:ff:ff:ff tpa ${ip}`)), `GARP request for ${ip}`);
        assert.ok(sent.some((l) => l.startsWith(`arp reply ${ip} is-at ${ETH0.mac} to ff:ff:ff:ff:ff:ff tpa ${ip}`)), `GARP reply for ${ip}`);
      }
    }
    for (const ip of [...(winners(NODES).get('n2') ?? []), ...(winners(NODES).get('n3') ?? [])]) assert.ok(!h.answers(ip), `not ${ip}`);
    assert.ok(!h.answers('192.0.2.250'), 'nor an IP no Service holds');
    assert.equal(garps(sent).length, mine.reduce((n, ip) => n + (ip.includes(':') ? 1 : 2), 0), 'one announcement of each IP, nothing else');
    // The burst goes on: 100 ms, then 1.1 s steps.
    await h.clock.advance(100);
    assert.equal(garps(h.sent()).length, garps(sent).length);
    await h.clock.advance(5000);
    assert.equal(garps(h.sent()).length, 4 * garps(sent).length);
    await h.a.stop();
  });

  it('fails over: a peer down → its IPs answered and announced in the same callback, timed in the histogram', async () => {
    const h = await harness();
    // n2's status objects for what it announces, as n2 wrote them.
    h.writer.external((store) => {
      for (const ip of winners(NODES).get('n2') ?? []) {
        const svc = serviceOf(ip);
        const obj = l2StatusObject({ namespace: NS, node: 'n2', serviceNamespace: svc.namespace, serviceName: svc.name, ipText: ip, interfaces: ['eth0'] });
        store.set(obj.metadata.name, obj);
      }
    });
    h.a.update(SNAP);
    h.membership().emit(NODES, [{ type: 'ready' }]);
    await h.clock.advance(10_000);
    h.sent();
    const before = winners(NODES);
    const after = winners(['n1', 'n3']);
    const inherited = (after.get('n1') ?? []).filter((ip) => (before.get('n2') ?? []).includes(ip));
    assert.ok(inherited.length > 0, 'the fixture has IPs moving from n2 to n1');
    h.membership().emit(['n1', 'n3'], [{ type: 'down', node: 'n2', reason: 'timeout' }]);
    const sent = h.sent();
    for (const ip of inherited) {
      assert.ok(h.answers(ip), `answers ${ip} now`);
      assert.ok(sent.some((l) => l.includes(` ${ip} is-at `) || l.startsWith(`na O ${ip} `)), `announced ${ip} synchronously`);
    }
    const text = await h.metrics.registry.metrics();
    assert.match(text, /herald_layer2_failover_seconds_count 1/);
    assert.match(text, /herald_layer2_conflicts_total 0|^(?![\s\S]*herald_layer2_conflicts_total\{)/);
    // The dead peer's status objects for those IPs are removed; ours are written.
    await h.clock.advance(100);
    for (const ip of inherited) {
      const svc = serviceOf(ip);
      assert.ok(h.writer.calls.includes(`delete ${l2StatusName(svc.namespace, svc.name, ip, 'n2')}`), `n2's object for ${ip} deleted`);
      assert.ok(h.writer.calls.some((c) => c.startsWith(`apply ${l2StatusName(svc.namespace, svc.name, ip, 'n1')} `)), `n1's object for ${ip} written`);
    }
    await h.a.stop();
  });

  it('answers for a restarting (held) peer with its MAC, announcing nothing, until it is back; a hold that runs out is a takeover', async () => {
    const N2_MAC = '02:00:00:00:00:22';
    const held = async () => {
      const h = await harness();
      h.writer.external((store) => {
        for (const ip of winners(NODES).get('n2') ?? []) {
          const svc = serviceOf(ip);
          const obj = l2StatusObject({ namespace: NS, node: 'n2', serviceNamespace: svc.namespace, serviceName: svc.name, ipText: ip, interfaces: ['eth0'], macs: new Map([['eth0', N2_MAC]]) });
          store.set(obj.metadata.name, obj);
        }
      });
      h.a.update(SNAP);
      h.membership().emit(NODES, [{ type: 'ready' }]);
      await h.clock.advance(10_000);
      h.sent();
      const n2 = winners(NODES).get('n2') ?? [];
      const mineWithout = new Set(winners(['n1', 'n3']).get('n1') ?? []);
      const inherited = n2.filter((ip) => mineWithout.has(ip));
      const others = n2.filter((ip) => !mineWithout.has(ip));
      assert.ok(inherited.length > 0 && others.length > 0, 'the fixture has n2 IPs going to n1 and to n3');
      for (const ip of n2) assert.ok(!h.answers(ip), `${ip} is n2's`);
      h.membership().emit(NODES, [{ type: 'hold', node: 'n2', ms: 10_000 }]);
      return { h, inherited, others };
    };

    const { h, inherited, others } = await held();
    for (const ip of inherited) assert.deepEqual(h.answer(ip), { mac: N2_MAC, from: ETH0.mac }, `${ip}: n2's MAC, from n1's interface`);
    assert.match(await h.metrics.registry.metrics(), new RegExp(`herald_layer2_answering_for_restarting_peers ${inherited.length}\\n`));
    for (const ip of others) assert.ok(!h.answers(ip), `${ip} is n3's to answer for`);
    for (const ip of winners(NODES).get('n1') ?? []) assert.equal(h.answer(ip)?.mac, ETH0.mac, 'its own IPs as before');
    await h.clock.advance(10_000);
    assert.deepEqual(garps(h.sent()), [], 'nothing announced for n2');
    assert.ok(!h.writer.calls.some((c) => inherited.some((ip) => c.includes(`"node":"n1"`) && c.includes(`"ip":"${ip}"`))), 'no status object of its own');
    // A gratuitous ARP from n2's MAC (its speaker back) is not a conflict.
    h.io.socket(ETH0.index)?.deliver(foreignGarp(inherited.find((ip) => !ip.includes(':')) as string, N2_MAC));
    assert.match(await h.metrics.registry.metrics(), /herald_layer2_conflicts_total 0|^(?![\s\S]*herald_layer2_conflicts_total\{)/);
    h.membership().emit(NODES, [{ type: 'up', node: 'n2', reason: 'resumed' }]);
    for (const ip of inherited) assert.ok(!h.answers(ip), `${ip}: n2 answers for itself again`);
    assert.match(await h.metrics.registry.metrics(), /herald_layer2_answering_for_restarting_peers 0\n/);
    await h.a.stop();

    const expired = await held();
    expired.h.membership().emit(['n1', 'n3'], [{ type: 'down', node: 'n2', reason: 'holdExpired' }]);
    const sent = expired.h.sent();
    for (const ip of expired.inherited) {
      assert.deepEqual(expired.h.answer(ip), { mac: ETH0.mac, from: ETH0.mac }, `${ip} taken over`);
      assert.ok(sent.some((l) => l.includes(` ${ip} is-at `) || l.startsWith(`na O ${ip} `)), `${ip} announced`);
    }
    await expired.h.a.stop();
  });

  it('losing an IP stops its answers at once and cancels its pending announcements', async () => {
    const h = await harness();
    h.a.update(SNAP);
    h.membership().emit(['n1', 'n3'], [{ type: 'ready' }]);
    const alone = winners(['n1', 'n3']).get('n1') ?? [];
    const back = winners(NODES).get('n1') ?? [];
    const moving = alone.filter((ip) => !back.includes(ip));
    assert.ok(moving.length > 0);
    h.sent();
    h.membership().emit(NODES, [{ type: 'up', node: 'n2', reason: 'joined' }]);
    for (const ip of moving) assert.ok(!h.answers(ip), `no longer answers ${ip}`);
    await h.clock.advance(10_000);
    const later = h.sent();
    for (const ip of moving) assert.ok(!later.some((l) => l.includes(` ${ip} `)), `no announcement of ${ip} after losing it`);
    assert.ok(later.length > 0, 'the IPs kept are still announced on schedule');
    // The speaker_announced series of the lost IPs are gone.
    const text = await h.metrics.registry.metrics();
    for (const ip of moving) assert.doesNotMatch(text, new RegExp(`herald_speaker_announced\\{[^}]*ip="${ip.replace(/\./g, '\\.')}"`));
    for (const ip of back) assert.match(text, new RegExp(`herald_speaker_announced\\{[^}]*protocol="layer2"[^}]*ip="${ip.replace(/\./g, '\\.')}"[^}]*\\} 1`));
    await h.a.stop();
  });

  it('applies a burst of snapshot changes after a short gap, the last one winning', async () => {
    const h = await harness();
    h.a.update(SNAP);
    h.membership().emit(NODES, [{ type: 'ready' }]);
    const ip = (winners(NODES).get('n1') ?? []).find((x) => x.includes('.')) as string;
    assert.ok(h.answers(ip));
    const without = { ...SNAP, services: SNAP.services.filter((s) => s.name !== serviceOf(ip).name) };
    h.a.update(without);
    h.a.update(SNAP);
    h.a.update(without);
    await h.clock.advance(49);
    assert.ok(h.answers(ip), 'nothing applied within 50 ms of the last election');
    await h.clock.advance(1);
    assert.ok(!h.answers(ip), 'the last snapshot (without the Service) is in force');
    // A membership change is applied at once, whatever the gap.
    h.a.update(SNAP);
    h.membership().emit(NODES, [{ type: 'up', node: 'n2', reason: 'joined' }]);
    assert.ok(h.answers(ip));
    await h.a.stop();
  });

  it('records nodeAssigned once per Service when this node starts announcing it', async () => {
    const h = await harness();
    h.a.update(SNAP);
    h.membership().emit(NODES, [{ type: 'ready' }]);
    h.a.update(SNAP);
    h.membership().emit(NODES, [{ type: 'up', node: 'n3', reason: 'joined' }]);
    const mine = new Set((winners(NODES).get('n1') ?? []).map((ip) => serviceOf(ip).name));
    assert.equal(h.events.length, mine.size);
    for (const e of h.events) assert.match(e, /^default\/\S+ Normal nodeAssigned: announcing from node "n1" with protocol "layer2"$/);
    await h.a.stop();
  });

  it('make-before-break: leave first, answer through the grace period, then close; no gratuitous frame after stop()', async () => {
    const h = await harness();
    h.a.update(SNAP);
    const m = h.membership();
    m.holdLeave = true;
    m.emit(NODES, [{ type: 'ready' }]);
    assert.equal(m.config.restartHoldMs, DEFAULT_L2_SETTINGS.restartHoldMs, 'the leave asks for the configured restart hold');
    const ip = (winners(NODES).get('n1') ?? [])[0] as string;
    // Mid-burst (the takeover repeats run for seconds): a node taking over must not be
    // undone by this one's remaining repeats.
    await h.clock.advance(500);
    assert.ok(h.sent().length > 0);
    const stopping = h.a.stop();
    await h.clock.advance(0);
    assert.deepEqual(m.calls, ['start', 'leave']);
    await h.clock.advance(5000);
    assert.deepEqual(h.sent(), [], 'no announcement once leaving');
    assert.ok(h.answers(ip), 'still answering while the peers take over');
    assert.ok(h.io.opened.every((s) => !s.closed));
    m.leaving?.resolve();
    await stopping;
    assert.deepEqual(m.calls, ['start', 'leave', 'stop']);
    assert.ok(h.io.opened.every((s) => s.closed), 'sockets closed after the grace period');
  });

  it('split brain: another MAC claims our IP → logged, counted, re-announced if still ours after the recheck', async () => {
    const h = await harness();
    h.a.update(SNAP);
    h.membership().emit(NODES, [{ type: 'ready' }]);
    await h.clock.advance(10_000);
    h.sent();
    const ip = (winners(NODES).get('n1') ?? []).find((x) => x.includes('.')) as string;
    h.io.socket(ETH0.index)?.deliver(foreignGarp(ip, '02:00:5e:00:53:99'));
    assert.match(await h.metrics.registry.metrics(), new RegExp(`herald_layer2_conflicts_total\\{ip="${ip.replace(/\./g, '\\.')}"\\} 1`));
    assert.ok(h.logs.some((l) => /another host claims an IP/.test(l) && l.includes('02:00:5e:00:53:99')));
    assert.deepEqual(h.sent(), [], 'not at once');
    await h.clock.advance(DEFAULT_L2_SETTINGS.conflictRecheckMs);
    const first = garps(h.sent());
    assert.deepEqual(first, [
      `arp request ${ip} is-at ${ETH0.mac} to ff:ff:ff:ff:ff:ff tpa ${ip} tha 00:00:00:00:00:00`,
      `arp reply ${ip} is-at ${ETH0.mac} to ff:ff:ff:ff:ff:ff tpa ${ip} tha ${ETH0.mac}`,
    ], 'announced again');
    // Within the hold time a second conflict does not start another burst: one burst in all.
    h.io.socket(ETH0.index)?.deliver(foreignGarp(ip, '02:00:5e:00:53:99'));
    await h.clock.advance(20_000);
    assert.equal(garps(h.sent()).length, 2 * (DEFAULT_L2_SETTINGS.announce.takeoverMs.length - 1), 'the rest of the one burst');
    await h.a.stop();
  });

  it('split brain: a claim for an IP this node then loses (a legitimate takeover) is not answered with an announcement', async () => {
    const h = await harness();
    h.a.update(SNAP);
    h.membership().emit(['n1', 'n3'], [{ type: 'ready' }]);
    await h.clock.advance(10_000);
    h.sent();
    const moving = (winners(['n1', 'n3']).get('n1') ?? []).filter((ip) => ip.includes('.') && !(winners(NODES).get('n1') ?? []).includes(ip));
    const ip = moving[0] as string;
    h.io.socket(ETH0.index)?.deliver(foreignGarp(ip, '02:68:6c:00:02:0c'));
    h.membership().emit(NODES, [{ type: 'up', node: 'n2', reason: 'joined' }]);
    await h.clock.advance(10_000);
    assert.ok(!h.sent().some((l) => l.includes(` ${ip} `)));
    await h.a.stop();
  });

  it('a peer back from a timeout (a healed partition): the winners announce again', async () => {
    const h = await harness();
    h.a.update(SNAP);
    h.membership().emit(NODES, [{ type: 'ready' }]);
    await h.clock.advance(10_000);
    h.sent();
    h.membership().emit(NODES, [{ type: 'up', node: 'n2', reason: 'recovered' }]);
    const mine = winners(NODES).get('n1') ?? [];
    assert.equal(new Set(garps(h.sent()).map((l) => l.split(' ')[2])).size, mine.length, 'every IP once more');
    await h.a.stop();
  });

  it('deletes its own leftovers from before a restart, and nothing it still announces', async () => {
    const writer = new RecordingWriter();
    const mine = winners(NODES).get('n1') ?? [];
    const keep = l2StatusObject({ namespace: NS, node: 'n1', serviceNamespace: 'default', serviceName: serviceOf(mine[0] as string).name, ipText: mine[0] as string, interfaces: ['eth0'], macs: new Map([['eth0', ETH0.mac as string]]), owner: { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'uid-n1' } });
    const stale = l2StatusObject({ namespace: NS, node: 'n1', serviceNamespace: 'default', serviceName: 'gone', ipText: '192.0.2.249', interfaces: ['eth0'] });
    writer.external((store) => {
      store.set(keep.metadata.name, keep);
      store.set(stale.metadata.name, stale);
    });
    const h = await harness({ writer });
    h.a.update(SNAP);
    await h.clock.advance(1000);
    assert.ok(!h.writer.calls.includes(`delete ${stale.metadata.name}`), 'nothing before the first election');
    h.membership().emit(NODES, [{ type: 'ready' }]);
    await h.clock.advance(100);
    assert.ok(h.writer.calls.includes(`delete ${stale.metadata.name}`));
    assert.ok(!h.writer.calls.includes(`delete ${keep.metadata.name}`));
    assert.ok(!h.writer.calls.some((c) => c.startsWith(`apply ${keep.metadata.name} `)), 'an object that already agrees is not rewritten');
    await h.a.stop();
  });

  it('writes its object again when someone else deletes it (it was wrongly thought dead)', async () => {
    const h = await harness();
    h.a.update(SNAP);
    h.membership().emit(NODES, [{ type: 'ready' }]);
    await h.clock.advance(100);
    const [name] = [...h.writer.store.keys()];
    assert.ok(name);
    const applies = () => h.writer.calls.filter((c) => c.startsWith(`apply ${name} `)).length;
    assert.equal(applies(), 1);
    h.writer.external((store) => store.delete(name));
    await h.clock.advance(100);
    assert.equal(applies(), 2);
    assert.ok(h.writer.store.has(name));
    await h.a.stop();
  });

  it('ServiceL2Status names the interfaces that answer, with their MACs', async () => {
    const h = await harness();
    h.a.update(SNAP);
    h.membership().emit(NODES, [{ type: 'ready' }]);
    await h.clock.advance(100);
    const applies = h.writer.calls.filter((c) => c.startsWith('apply '));
    assert.equal(applies.length, [...electL2(SNAP, new Set(NODES)).values()].filter((e) => e.winner === 'n1').reduce((n, e) => n + e.services.length, 0));
    for (const c of applies) assert.ok(c.includes(`"node":"n1"`) && c.includes(`"interfaces":[{"name":"eth0","mac":"${ETH0.mac}"}]`), c);
    await h.a.stop();
  });
});
