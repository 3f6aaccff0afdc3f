import assert from 'node:assert/strict';
import { Responder, type Conflict, type WantedIP } from '../../../../speaker/l2/responder.js';
import {
  arpRequest,
  CLIENT_MAC,
  describeFrame,
  FakeIO,
  foreignGarp,
  foreignNA,
  iface,
  ipOf,
  log,
  neighborSolicitation,
  responderMetrics,
} from './responder-fakes.js';

const V4 = '192.0.2.200';
const V4B = '192.0.2.201';
const V6 = '2001:db8:0:2::200';
const OTHER_MAC = '02:68:6c:00:02:99';

const ETH0 = iface(2, 'eth0', { veth: true }) as ReturnType<typeof iface> & { mac: string };
const ETH1 = iface(3, 'eth1');
const IPVS = iface(4, 'kube-ipvs0', { noArp: true });
const CALI = iface(5, 'cali0123', { veth: true });
const INTERFACES = [iface(1, 'lo', { loopback: true, mac: undefined, linkType: 772 }), ETH0, ETH1, IPVS, CALI];
const ADDRESSED = new Set(['eth0', 'eth1']);

function wanted(entries: [string, string[]?][]): Map<string, WantedIP> {
  return new Map(entries.map(([ip, interfaces]) => [ip, { ip: ipOf(ip), interfaces: interfaces ?? [] }]));
}

function setup() {
  const io = new FakeIO();
  const metrics = responderMetrics();
  const conflicts: Conflict[] = [];
  const r = new Responder({ io, log, metrics, onConflict: (c) => conflicts.push(c) });
  r.setInterfaces(INTERFACES, ADDRESSED);
  /** Delivers a frame on an interface and returns what was sent back on it. */
  const ask = (ifindex: number, frame: Uint8Array): string[] => {
    const s = io.socket(ifindex);
    assert.ok(s, `a socket on ${ifindex}`);
    const before = s.sent.length;
    s.deliver(frame);
    return s.sent.slice(before).map(describeFrame);
  };
  return { io, r, metrics, conflicts, ask };
}

describe('speaker/l2/responder', () => {
  it('opens sockets on the eligible interfaces only, even before any IP is announced', () => {
    const { io } = setup();
    assert.deepEqual(io.opened.map((s) => s.ifindex), [ETH0.index, ETH1.index]);
  });

  it('answers ARP for an announced IP, with the receiving interface\'s MAC, on every eligible interface', () => {
    const { r, ask } = setup();
    r.setAnnounced(wanted([[V4]]));
    assert.deepEqual(ask(ETH0.index, arpRequest(V4)), [`arp reply ${V4} is-at ${ETH0.mac} to ${CLIENT_MAC} tpa 192.0.2.100 tha ${CLIENT_MAC}`]);
    assert.deepEqual(ask(ETH1.index, arpRequest(V4)), [`arp reply ${V4} is-at ${ETH1.mac} to ${CLIENT_MAC} tpa 192.0.2.100 tha ${CLIENT_MAC}`]);
  });

  it('never answers for anything else: other IPs, the node\'s own address, nothing announced', () => {
    const { r, ask } = setup();
    assert.deepEqual(ask(ETH0.index, arpRequest(V4)), [], 'nothing announced yet');
    r.setAnnounced(wanted([[V4]]));
    assert.deepEqual(ask(ETH0.index, arpRequest(V4B)), []);
    assert.deepEqual(ask(ETH0.index, arpRequest('192.0.2.11')), [], 'the kernel answers for the node\'s own address');
    assert.deepEqual(ask(ETH0.index, neighborSolicitation(V6)), [], 'an IPv6 IP not announced');
  });

  it('answers neighbor solicitations (and DAD probes) for announced IPv6 IPs and joins their solicited-node group', () => {
    const { io, r, ask } = setup();
    r.setAnnounced(wanted([[V6]]));
    assert.deepEqual([...io.groups.keys()].sort(), ['2/ff02::1:ff00:200', '3/ff02::1:ff00:200']);
    assert.deepEqual(ask(ETH0.index, neighborSolicitation(V6)), [`na SO ${V6} target-mac ${ETH0.mac} to ${CLIENT_MAC}`]);
    assert.deepEqual(ask(ETH0.index, neighborSolicitation(V6, { source: '::' })), [`na O ${V6} target-mac ${ETH0.mac} to 33:33:00:00:00:01`]);
  });

  it('answers for another node with its MAC (per interface, or one for all), announces nothing, and takes its claims for no conflict', () => {
    const { io, r, ask, conflicts } = setup();
    const HELD = '02:00:00:00:00:22';
    const HELD1 = '02:00:00:00:01:22';
    const behalf = (ip: string, macs: [string, string][]): [string, WantedIP] => [ip, { ip: ipOf(ip), interfaces: [], onBehalfOf: new Map(macs) }];
    assert.deepEqual(r.setAnnounced(new Map([behalf(V4, [['eth0', HELD]]), behalf(V6, [['eth0', HELD]])])), [], 'nothing to announce');
    assert.deepEqual(ask(ETH0.index, arpRequest(V4)), [`arp reply ${V4} is-at ${HELD} to ${CLIENT_MAC} tpa 192.0.2.100 tha ${CLIENT_MAC}`]);
    assert.deepEqual(ask(ETH1.index, arpRequest(V4)), [`arp reply ${V4} is-at ${HELD} to ${CLIENT_MAC} tpa 192.0.2.100 tha ${CLIENT_MAC}`], 'one MAC serves every interface');
    assert.deepEqual(ask(ETH0.index, neighborSolicitation(V6)), [`na SO ${V6} target-mac ${HELD} to ${CLIENT_MAC}`]);
    assert.ok([...io.groups.keys()].includes('2/ff02::1:ff00:200'), 'joined the solicited-node group');
    const sent = io.socket(ETH0.index)?.sent ?? [];
    const last = sent[sent.length - 1];
    assert.ok(last && describeFrame(last).startsWith('na '));
    assert.equal(last.subarray(6, 12).join(':'), ETH0.mac.split(':').map((h) => Number.parseInt(h, 16)).join(':'), 'the frame leaves from this node\'s MAC');
    assert.equal(r.announce({ ifindex: ETH0.index, ipText: V4 }), 0, 'no gratuitous ARP for another node');
    assert.deepEqual(r.answering(), []);

    // Two interfaces, two MACs: each answers with its own; an interface with no MAC of its own stays silent.
    r.setAnnounced(new Map([behalf(V4, [['eth0', HELD], ['eth1', HELD1]])]));
    assert.equal(ask(ETH1.index, arpRequest(V4))[0], `arp reply ${V4} is-at ${HELD1} to ${CLIENT_MAC} tpa 192.0.2.100 tha ${CLIENT_MAC}`);
    r.setAnnounced(new Map([behalf(V4, [['eth0', HELD], ['bond0', HELD1]])]));
    assert.deepEqual(ask(ETH1.index, arpRequest(V4)), []);

    ask(ETH0.index, foreignGarp(V4, HELD));
    assert.equal(conflicts.length, 0, 'the node answered for, announcing itself again');
    ask(ETH0.index, foreignGarp(V4, OTHER_MAC));
    assert.deepEqual(conflicts.map((c) => c.mac), [OTHER_MAC]);

    // Answered for, then won: announced like any other win.
    assert.deepEqual(r.setAnnounced(wanted([[V4]])).map((t) => t.ifindex).sort(), [ETH0.index, ETH1.index]);
    assert.equal(ask(ETH0.index, arpRequest(V4))[0], `arp reply ${V4} is-at ${ETH0.mac} to ${CLIENT_MAC} tpa 192.0.2.100 tha ${CLIENT_MAC}`);
  });

  it('stops answering the moment an IP is lost, and leaves its group', () => {
    const { io, r, ask } = setup();
    r.setAnnounced(wanted([[V4], [V6]]));
    assert.equal(ask(ETH0.index, arpRequest(V4)).length, 1);
    r.setAnnounced(wanted([[V6]]));
    assert.deepEqual(ask(ETH0.index, arpRequest(V4)), []);
    assert.equal(ask(ETH0.index, neighborSolicitation(V6)).length, 1);
    r.setAnnounced(new Map());
    assert.deepEqual(ask(ETH0.index, neighborSolicitation(V6)), []);
    assert.equal(io.groups.size, 0);
  });

  it('shares a solicited-node group between IPs with the same low 24 bits, counted', () => {
    const { io, r } = setup();
    const twin = '2001:db8:ffff::200'; // same ff02::1:ff00:200
    r.setAnnounced(wanted([[V6], [twin]]));
    assert.equal(io.groups.get('2/ff02::1:ff00:200'), 2);
    r.setAnnounced(wanted([[twin]]));
    assert.equal(io.groups.get('2/ff02::1:ff00:200'), 1);
  });

  it('with L2Advertisement interfaces answers only there, and reports those interfaces', () => {
    const { io, r, ask } = setup();
    r.setAnnounced(wanted([[V4, ['eth1']], [V6, ['eth1']]]));
    assert.deepEqual(ask(ETH0.index, arpRequest(V4)), [], 'not on eth0');
    assert.equal(ask(ETH1.index, arpRequest(V4)).length, 1);
    assert.deepEqual(r.interfacesOf(V4), ['eth1']);
    assert.deepEqual([...io.groups.keys()], ['3/ff02::1:ff00:200']);
  });

  it('opens a socket for a named interface the defaults skip, and closes it when no IP names it', () => {
    const { io, r, ask } = setup();
    r.setAnnounced(wanted([[V4, ['cali0123']]]));
    assert.equal(ask(CALI.index, arpRequest(V4)).length, 1);
    r.setAnnounced(wanted([[V4]]));
    assert.equal(io.socket(CALI.index), undefined);
  });

  it('follows interfaces appearing and disappearing, and returns the pairs that need announcing', () => {
    const { io, r, ask } = setup();
    const fresh = r.setAnnounced(wanted([[V4]]));
    assert.deepEqual(fresh, [
      { ifindex: 2, ipText: V4 },
      { ifindex: 3, ipText: V4 },
    ]);
    assert.deepEqual(r.setAnnounced(wanted([[V4]])), [], 'nothing new');
    // eth1 goes away, eth2 appears.
    const eth2 = iface(6, 'eth2');
    const appeared = r.setInterfaces([ETH0, eth2], ADDRESSED);
    assert.deepEqual(appeared, [{ ifindex: 6, ipText: V4 }]);
    assert.ok(io.opened.find((s) => s.ifindex === ETH1.index)?.closed, 'the socket on the gone interface is closed');
    assert.equal(ask(eth2.index, arpRequest(V4)).length, 1);
  });

  it('keeps the socket of a link that goes down, and announces again when it comes back up', () => {
    const { io, r } = setup();
    r.setAnnounced(wanted([[V4]]));
    const socket = io.socket(ETH0.index);
    assert.deepEqual(r.setInterfaces([{ ...ETH0, up: false }, ETH1], ADDRESSED), []);
    assert.equal(io.socket(ETH0.index), socket, 'the same socket: it survives down and up');
    assert.deepEqual(r.answering(), [{ ifindex: 3, ipText: V4 }], 'no announcements on a down link');
    assert.deepEqual(r.setInterfaces([ETH0, ETH1], ADDRESSED), [{ ifindex: 2, ipText: V4 }]);
  });

  it('announce(): both gratuitous ARP forms for IPv4, an unsolicited NA with Override for IPv6', async () => {
    const { io, r, metrics } = setup();
    r.setAnnounced(wanted([[V4], [V6]]));
    assert.equal(r.announce({ ifindex: ETH0.index, ipText: V4 }), 2);
    assert.equal(r.announce({ ifindex: ETH0.index, ipText: V6 }), 1);
    assert.deepEqual(io.socket(ETH0.index)?.sent.map(describeFrame), [
      `arp request ${V4} is-at ${ETH0.mac} to ff:ff:ff:ff:ff:ff tpa ${V4} tha 00:00:00:00:00:00`,
      `arp reply ${V4} is-at ${ETH0.mac} to ff:ff:ff:ff:ff:ff tpa ${V4} tha ${ETH0.mac}`,
      `na O ${V6} target-mac ${ETH0.mac} to 33:33:00:00:00:01`,
    ]);
    assert.equal(r.announce({ ifindex: ETH0.index, ipText: V4B }), 0, 'never for an IP not announced');
    assert.match(await metrics.text(), /herald_layer2_gratuitous_sent\{ip="192\.0\.2\.200"\} 2/);
  });

  it('counts requests received and responses sent per IP, and send failures per code', async () => {
    const { io, r, metrics, ask } = setup();
    r.setAnnounced(wanted([[V4]]));
    ask(ETH0.index, arpRequest(V4));
    ask(ETH0.index, arpRequest(V4B));
    const s = io.socket(ETH0.index);
    if (s) s.failWith = 'ENETDOWN';
    ask(ETH0.index, arpRequest(V4));
    const text = await metrics.text();
    assert.match(text, /herald_layer2_requests_received\{ip="192\.0\.2\.200"\} 2/);
    assert.match(text, /herald_layer2_responses_sent\{ip="192\.0\.2\.200"\} 1/);
    assert.match(text, /herald_layer2_send_errors_total\{code="ENETDOWN"\} 1/);
    assert.doesNotMatch(text, /192\.0\.2\.201/, 'requests for IPs not announced are not counted');
  });

  it('reports another MAC claiming an announced IP, and does not answer a gratuitous ARP', () => {
    const { r, conflicts, ask } = setup();
    r.setAnnounced(wanted([[V4], [V6]]));
    assert.deepEqual(ask(ETH0.index, foreignGarp(V4, OTHER_MAC)), []);
    ask(ETH1.index, foreignGarp(V4, OTHER_MAC, 'reply'));
    ask(ETH0.index, foreignNA(V6, OTHER_MAC));
    ask(ETH0.index, foreignGarp(V4B, OTHER_MAC));
    assert.deepEqual(conflicts, [
      { ipText: V4, mac: OTHER_MAC, kind: 'garp', ifname: 'eth0' },
      { ipText: V4, mac: OTHER_MAC, kind: 'garp', ifname: 'eth1' },
      { ipText: V6, mac: OTHER_MAC, kind: 'unsolicitedNA', ifname: 'eth0' },
    ]);
  });

  it('ignores frames from its own interfaces (two links on one LAN)', () => {
    const { r, conflicts, ask } = setup();
    r.setAnnounced(wanted([[V4]]));
    assert.deepEqual(ask(ETH1.index, foreignGarp(V4, ETH0.mac)), []);
    assert.deepEqual(ask(ETH1.index, arpRequest(V4, { senderMAC: ETH0.mac, senderIP: '192.0.2.11' })), []);
    assert.deepEqual(conflicts, []);
  });

  it('survives a socket that cannot be opened and retries it on the next change', () => {
    const io = new FakeIO();
    io.refuse.add(ETH0.index);
    const r = new Responder({ io, log, metrics: responderMetrics() });
    r.setInterfaces(INTERFACES, ADDRESSED);
    assert.deepEqual([...r.failedInterfaces()], [['eth0', 'EPERM']]);
    io.refuse.clear();
    r.setInterfaces(INTERFACES, ADDRESSED);
    assert.equal(r.failedInterfaces().size, 0);
    assert.ok(io.socket(ETH0.index));
  });

  it('close() closes every socket, leaves every group and answers nothing more', () => {
    const { io, r } = setup();
    r.setAnnounced(wanted([[V4], [V6]]));
    const sockets = [...io.opened];
    r.close();
    assert.ok(sockets.every((s) => s.closed));
    assert.equal(io.groups.size, 0);
    assert.deepEqual(r.setAnnounced(wanted([[V4]])), []);
    assert.equal(r.announce({ ifindex: ETH0.index, ipText: V4 }), 0);
  });
});
