// Membership between speaker processes in network namespaces on a bridge (root only):
// cutting one node's link takes it out of everyone else's live set within the detection
// time; forged datagrams on the wire change nothing and are counted. Namespaces are named
// hlt-member-*, addresses are from the documentation ranges, nothing touches the host.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { KEY, waitFor } from './harness.js';

const BRIDGE_NS = 'hlt-member-br';
const NODES = [
  { name: 'n1', ns: 'hlt-member-1', v4: '192.0.2.31', v6: '2001:db8:77::31' },
  { name: 'n2', ns: 'hlt-member-2', v4: '192.0.2.32', v6: '2001:db8:77::32' },
  { name: 'n3', ns: 'hlt-member-3', v4: '192.0.2.33', v6: '2001:db8:77::33' },
];
const DETECT_MS = 350;
const SLACK_MS = 300;
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..', '..');

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function canRun(): boolean {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function deleteNamespaces(): void {
  for (const ns of [BRIDGE_NS, ...NODES.map((n) => n.ns)]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // not there
    }
  }
}

interface Line {
  at?: number;
  live?: string[];
  events?: { type: string; node?: string; reason?: string }[];
  started?: boolean;
  dropped?: Record<string, number>;
}

class Proc {
  readonly lines: Line[] = [];
  constructor(readonly name: string, readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        this.lines.push(JSON.parse(l) as Line);
      } catch {
        // a log line
      }
    });
  }
  live(): string[] | undefined {
    return [...this.lines].reverse().find((l) => l.live)?.live;
  }
  downAt(node: string, since: number): Line | undefined {
    return this.lines.find((l) => (l.at ?? 0) >= since && l.events?.some((e) => e.type === 'down' && e.node === node));
  }
}

describe('membership between network namespaces', function () {
  this.timeout(60_000);
  const procs: Proc[] = [];

  before(function () {
    if (!canRun()) this.skip();
    deleteNamespaces();
    ip('netns', 'add', BRIDGE_NS);
    ip('-n', BRIDGE_NS, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', BRIDGE_NS, 'link', 'set', 'br0', 'up');
    for (const [i, n] of NODES.entries()) {
      ip('netns', 'add', n.ns);
      ip('-n', n.ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `v${i}`, 'netns', BRIDGE_NS);
      ip('-n', BRIDGE_NS, 'link', 'set', `v${i}`, 'master', 'br0', 'up');
      ip('-n', n.ns, 'link', 'set', 'lo', 'up');
      // Keep the IPv6 address across the link cut, as a server's network manager would re-add it.
      execFileSync('ip', ['netns', 'exec', n.ns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/eth0/keep_addr_on_down']);
      ip('-n', n.ns, 'addr', 'add', `${n.v4}/24`, 'dev', 'eth0');
      ip('-n', n.ns, 'addr', 'add', `${n.v6}/64`, 'dev', 'eth0', 'nodad');
      ip('-n', n.ns, 'link', 'set', 'eth0', 'up');
    }
  });

  after(async () => {
    for (const p of procs) {
      if (p.child.exitCode === null && p.child.pid) p.child.kill('SIGKILL');
    }
    await Promise.all(procs.map((p) => (p.child.exitCode === null ? new Promise((r) => p.child.once('exit', r)) : undefined)));
    if (canRun()) deleteNamespaces();
  });

  it('a node whose link goes down is out of every other live set within the detection time', async () => {
    // Mixed families: n2 is reached over IPv6, the others over IPv4.
    const peers = NODES.map((n) => `${n.name}=${n.name === 'n2' ? n.v6 : n.v4}`).join(',');
    for (const n of NODES) {
      const child = spawn('ip', ['netns', 'exec', n.ns, process.execPath, '--import', 'tsx', join(HERE, 'member-main.ts'), '--node', n.name, '--peers', peers], {
        cwd: ROOT,
        env: { ...process.env, HLT_MEMBER_KEY: KEY.toString('hex') },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      procs.push(new Proc(n.name, child));
    }
    await waitFor('all three live everywhere', () => procs.every((p) => p.live()?.length === 3), 30_000, 50);
    const [p1, p2, p3] = procs as [Proc, Proc, Proc];

    const t0 = Date.now();
    ip('-n', 'hlt-member-3', 'link', 'set', 'eth0', 'down');
    const downs = await waitFor('n3 down at n1 and n2', () => {
      const a = p1.downAt('n3', t0);
      const b = p2.downAt('n3', t0);
      return a && b ? [a, b] : undefined;
    });
    for (const d of downs) {
      const ms = (d.at as number) - t0;
      assert.ok(ms <= DETECT_MS + SLACK_MS, `n3 down after ${ms} ms`);
      assert.deepEqual(d.live, ['n1', 'n2']);
    }
    // n3 in turn lost everyone (it is alone on a dead link: its own problem to announce into the void).
    await waitFor('n3 alone', () => p3.live()?.length === 1);

    // The link comes back: everyone is live again (same boot: no join delay).
    ip('-n', 'hlt-member-3', 'link', 'set', 'eth0', 'up');
    await waitFor('all three live again', () => procs.every((p) => p.live()?.length === 3), 5_000);
  });

  it('forged datagrams on the wire change nothing and are counted', async function () {
    if (procs.length !== 3) this.skip();
    const [p1, p2] = procs as [Proc, Proc, Proc];
    const linesBefore = p2.lines.length;
    // From n1's namespace: n1 "leaving" under the wrong key, plus junk, sent to n2 over IPv4 and IPv6.
    const script = `
      const dgram = require('node:dgram'); const crypto = require('node:crypto');
      const name = Buffer.from('n1'); const h = Buffer.alloc(37 + name.length);
      h.writeUInt16BE(0x484d, 0); h[2] = 1; h[3] = 2; h.writeUInt16BE(100, 4);
      h.writeUInt32BE(Math.floor(Date.now() / 2 ** 32), 8); h.writeUInt32BE(Date.now() % 2 ** 32, 12);
      h.writeUInt32BE(1, 24); h.writeUInt32BE(Math.floor(Date.now() / 2 ** 32), 28); h.writeUInt32BE(Date.now() % 2 ** 32, 32);
      h[36] = name.length; name.copy(h, 37);
      const forged = Buffer.concat([h, crypto.createHmac('sha256', Buffer.alloc(32, 1)).update(h).digest()]);
      const s4 = dgram.createSocket('udp4'), s6 = dgram.createSocket('udp6');
      let n = 0; const done = () => { if (++n === 4) { s4.close(); s6.close(); } };
      s4.send(forged, 7946, '${NODES[1]?.v4}', done); s6.send(forged, 7946, '${NODES[1]?.v6}', done);
      s4.send(Buffer.from('junk'), 7946, '${NODES[1]?.v4}', done); s6.send(Buffer.alloc(100), 7946, '${NODES[1]?.v6}', done);`;
    execFileSync('ip', ['netns', 'exec', 'hlt-member-1', process.execPath, '-e', script]);
    const stats = await waitFor(
      'drop counters',
      () => {
        p2.child.stdin!.write('stats\n');
        const d = [...p2.lines].reverse().find((l) => l.dropped)?.dropped;
        return d && d.badMac === 2 && d.truncated === 1 && d.badMagic === 1 ? d : undefined;
      },
      5_000,
      100,
    );
    assert.ok(stats);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(p2.lines.slice(linesBefore).every((l) => !l.events?.some((e) => e.type === 'down')), 'no one went down');
    assert.deepEqual(p2.live(), ['n1', 'n2', 'n3']);
    assert.deepEqual(p1.live(), ['n1', 'n2', 'n3']);
  });
});
