// herald-native's packet socket, BPF filter and multicast join against the real kernel:
// two network namespaces joined by a veth pair, responder-fixture.ts answering for
// 192.0.2.10 and 2001:db8::10 in hlt-native-a, arping / ndisc6 / rdisc6 asking from
// hlt-native-b. Needs root, iproute2, arping and ndisc6; skipped otherwise.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { gratuitousArpFrame } from '../../../speaker/l2/arp.js';
import { nativeAvailable, PacketSocket } from '../../../speaker/native/index.js';

const run = promisify(execFile);
const A = 'hlt-native-a';
const B = 'hlt-native-b';
const MAC_A = '02:00:00:00:0a:01';
const FIXTURE = resolve(dirname(fileURLToPath(import.meta.url)), 'responder-fixture.ts');
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

type Event = { event: string } & Record<string, unknown>;

async function sh(cmd: string, args: string[], ok = true): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 20_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (ok) throw err;
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
const inB = (...args: string[]) => sh('ip', ['netns', 'exec', B, ...args], false);

async function haveTools(): Promise<boolean> {
  for (const tool of ['ip', 'arping', 'ndisc6', 'rdisc6']) {
    if ((await sh('sh', ['-c', `command -v ${tool} || PATH=$PATH:/usr/sbin:/sbin command -v ${tool}`], false)).code !== 0) return false;
  }
  return true;
}

async function removeNamespaces(): Promise<void> {
  for (const ns of [A, B]) await sh('ip', ['netns', 'del', ns], false);
}

async function counter(ns: string, file: string, pattern: RegExp): Promise<number> {
  const { out } = await sh('ip', ['netns', 'exec', ns, 'cat', file]);
  const m = pattern.exec(out);
  assert.ok(m?.[1], `no ${pattern} in ${file}`);
  return Number(m[1]);
}
// /proc/net/snmp: "Udp: InDatagrams NoPorts ..." header line, then the values line.
const udpNoPorts = (ns: string) => counter(ns, '/proc/net/snmp', /^Udp: \d+ (\d+)/m);
const udp6NoPorts = (ns: string) => counter(ns, '/proc/net/snmp6', /^Udp6NoPorts\s+(\d+)/m);

describe('herald-native packet socket in network namespaces (root)', function () {
  this.timeout(60_000);
  let fixture: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;
  const events: Event[] = [];

  async function waitFor(what: string, predicate: (e: Event) => boolean, ms = 10_000): Promise<Event> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = events.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`fixture never reported ${what}; saw ${JSON.stringify(events)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  before(async function () {
    if (process.getuid?.() !== 0 || !nativeAvailable() || !(await haveTools())) this.skip();
    await removeNamespaces();
    const ip = (...args: string[]) => sh('ip', args);
    await ip('netns', 'add', A);
    await ip('netns', 'add', B);
    await ip('link', 'add', 'veth-a', 'netns', A, 'address', MAC_A, 'type', 'veth', 'peer', 'name', 'veth-b', 'netns', B, 'address', '02:00:00:00:0b:01');
    for (const [ns, dev, v4, v6] of [[A, 'veth-a', '192.0.2.1/24', '2001:db8::1/64'], [B, 'veth-b', '192.0.2.2/24', '2001:db8::2/64']] as const) {
      await ip('-n', ns, 'addr', 'add', v4, 'dev', dev);
      await ip('-n', ns, 'addr', 'add', v6, 'dev', dev, 'nodad');
      await ip('-n', ns, 'link', 'set', dev, 'up');
    }
    // B learns from gratuitous ARP and unsolicited NA (ip-sysctl.rst: arp_accept,
    // accept_untracked_na, which applies to routers, hence forwarding).
    await sh('ip', ['netns', 'exec', B, 'sysctl', '-qw', 'net.ipv4.conf.veth-b.arp_accept=1', 'net.ipv6.conf.veth-b.forwarding=1', 'net.ipv6.conf.veth-b.accept_untracked_na=1']);

    fixture = spawn('ip', ['netns', 'exec', A, process.execPath, '--import', 'tsx', FIXTURE, 'veth-a', '192.0.2.10', '2001:db8::10'], {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    exited = new Promise((res) => fixture!.once('exit', (code) => res(code)));
    createInterface({ input: fixture.stdout! }).on('line', (line) => events.push(JSON.parse(line) as Event));
    const ready = await waitFor('ready', (e) => e.event === 'ready', 30_000);
    assert.equal(ready.mac, MAC_A);
  });

  after(async () => {
    if (fixture?.pid && fixture.exitCode === null && fixture.signalCode === null) fixture.kill('SIGKILL');
    await removeNamespaces();
  });

  it('answers arping for the service IP with the interface MAC', async () => {
    const { code, out } = await inB('arping', '-c', '1', '-w', '3', '-I', 'veth-b', '192.0.2.10');
    assert.equal(code, 0, out);
    assert.match(out, /bytes from 02:00:00:00:0a:01 \(192\.0\.2\.10\)/);
    const seen = await waitFor('the request', (e) => e.event === 'arp' && e.target === '192.0.2.10');
    assert.deepEqual([seen.operation, seen.answered, seen.packetType], ['request', true, 'broadcast']);
  });

  it('receives, and does not answer, a request for an IP it does not hold', async () => {
    const { code } = await inB('arping', '-c', '1', '-w', '1', '-I', 'veth-b', '192.0.2.11');
    assert.notEqual(code, 0);
    assert.equal((await waitFor('the request', (e) => e.event === 'arp' && e.target === '192.0.2.11')).answered, false);
  });

  it('joins the solicited-node group and answers ndisc6 with a neighbor advertisement', async () => {
    const { out: maddr } = await sh('ip', ['-n', A, '-6', 'maddr', 'show', 'dev', 'veth-a']);
    assert.match(maddr, /ff02::1:ff00:10/);
    const { code, out } = await inB('ndisc6', '-1', '-r', '2', '-w', '1000', '2001:db8::10', 'veth-b');
    assert.equal(code, 0, out);
    assert.match(out, /Target link-layer address: 02:00:00:00:0A:01/i);
    const seen = await waitFor('the solicitation', (e) => e.event === 'ndp' && e.target === '2001:db8::10');
    assert.deepEqual([seen.type, seen.answered, seen.packetType], ['neighbor-solicitation', true, 'multicast']);
  });

  it('stays silent for an IPv6 address it does not hold', async () => {
    const { code } = await inB('ndisc6', '-1', '-r', '1', '-w', '500', '2001:db8::11', 'veth-b');
    assert.notEqual(code, 0);
  });

  it('lets nothing else through: UDP, router solicitations, the kernel’s own replies', async () => {
    const before4 = await udpNoPorts(A);
    const before6 = await udp6NoPorts(A);
    // Datagrams to closed ports: A's kernel receives them and sends ICMP errors back.
    await inB('bash', '-c', 'echo x > /dev/udp/192.0.2.1/9; echo x > /dev/udp/2001:db8::1/9');
    await inB('rdisc6', '-1', '-r', '1', '-w', '300', 'veth-b');
    assert.ok((await udpNoPorts(A)) > before4, 'the IPv4 datagram reached A');
    assert.ok((await udp6NoPorts(A)) > before6, 'the IPv6 datagram reached A');
    await new Promise((r) => setTimeout(r, 200));
    const unexpected = events.filter(
      (e) =>
        e.event !== 'ready' &&
        !(e.event === 'arp' && e.operation === 'request') &&
        !(e.event === 'ndp' && e.type === 'neighbor-solicitation'),
    );
    assert.deepEqual(unexpected, []);
    // B resolved A's own addresses: the requests came in, A's kernel answered, and its
    // outgoing replies (ARP reply, NA) never reached the socket.
    assert.ok(events.some((e) => e.event === 'arp' && e.target === '192.0.2.1' && e.answered === false));
    assert.ok(events.some((e) => e.event === 'ndp' && e.target === '2001:db8::1' && e.answered === false));
  });

  it('sends gratuitous ARP and unsolicited NA that update the neighbor’s cache', async () => {
    fixture!.stdin!.write('{"cmd":"garp","ip":"192.0.2.20"}\n{"cmd":"una","ip":"2001:db8::20"}\n');
    await waitFor('the announcement', (e) => e.event === 'sent' && e.cmd === 'una');
    for (const ip of ['192.0.2.20', '2001:db8::20']) {
      let out = '';
      for (let i = 0; i < 40 && !out.includes(MAC_A); i++) {
        out = (await sh('ip', ['-n', B, 'neigh', 'show', ip])).out;
        if (!out.includes(MAC_A)) await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(out, new RegExp(`${ip.replace(/\./g, '\\.')} dev veth-b lladdr ${MAC_A}`));
    }
  });

  it('lets the process exit once the socket and memberships are closed', async () => {
    fixture!.stdin!.end();
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 10_000).unref())]);
    assert.equal(code, 0);
    assert.deepEqual(events.filter((e) => ['error', 'malformed', 'bug', 'other'].includes(e.event)), []);
  });

  it('delivers frames on loopback too, and turns an exception in onFrame into an uncaught exception', async () => {
    // On lo, a broadcast frame we send comes back in (our outgoing copy is filtered out). lo is NOARP, so the kernel ignores the ARP request itself.
    const frames: number[] = [];
    const caught = new Promise<unknown>((resolveCaught) => {
      const mochaHandlers = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.once('uncaughtException', (err) => {
        for (const h of mochaHandlers) process.on('uncaughtException', h);
        resolveCaught(err);
      });
    });
    const lo = new PacketSocket({
      ifindex: 1,
      onError: () => {},
      onFrame: ({ frame, ifindex, packetType }) => {
        frames.push(frame.length);
        // lo's own broadcast address is all zeros, so ff:ff:ff:ff:ff:ff counts as multicast.
        assert.deepEqual([ifindex, packetType], [1, 'multicast']);
        throw new Error('thrown by onFrame');
      },
    });
    try {
      lo.send(gratuitousArpFrame(0xc000020an, '02:00:00:00:0a:01', 'request'));
      const err = await Promise.race([caught, new Promise((r) => setTimeout(() => r('no uncaught exception'), 5000).unref())]);
      assert.equal((err as Error).message, 'thrown by onFrame');
      assert.deepEqual(frames, [60]);
    } finally {
      lo.close();
    }
  });

  it('reports system errors and refuses to send once closed', async () => {
    assert.throws(
      () => new PacketSocket({ ifindex: 2 ** 31 - 1, onFrame: () => {}, onError: () => {} }),
      (e: NodeJS.ErrnoException) => e.code === 'ENODEV' && e.syscall === 'bind',
    );
    const lo = new PacketSocket({ ifindex: 1, onFrame: () => {}, onError: () => {} }).unref();
    lo.close();
    lo.close();
    assert.equal(lo.closed, true);
    assert.throws(() => lo.send(new Uint8Array(60)), /closed/);
  });
});
