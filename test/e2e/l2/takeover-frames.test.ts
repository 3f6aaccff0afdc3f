// What a Linux client does with herald's takeover frames, measured on the kernel of this
// machine (the basis of announce.ts' schedule): a client whose neighbour entry for a
// service IP points at the old node, learnt a moment ago (inside the 1 s ARP locktime),
// switches to the new node on the first gratuitous ARP (request and reply form, as
// herald sends them) and on the first unsolicited NA with Override.
// Namespaces hlt-l2tk-*: a bridge, a client, the old owner (its kernel answering), the new
// owner (speaker/native and the L2 codecs through the native tests' responder fixture).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { nativeAvailable } from '../../../speaker/native/index.js';
import { run, sleep, tryRun } from '../../lab/exec.js';

const BR = 'hlt-l2tk-br';
const CLIENT = 'hlt-l2tk-c';
const OLD = 'hlt-l2tk-old';
const NEW = 'hlt-l2tk-new';
const ALL = [BR, CLIENT, OLD, NEW];
const MAC = { [CLIENT]: '02:00:5e:10:00:01', [OLD]: '02:00:5e:10:00:02', [NEW]: '02:00:5e:10:00:03' } as Record<string, string>;
const ADDR = { [CLIENT]: ['192.0.2.100', '2001:db8:7::100'], [OLD]: ['192.0.2.11', '2001:db8:7::11'], [NEW]: ['192.0.2.12', '2001:db8:7::12'] } as Record<string, string[]>;
const VIP4 = '192.0.2.200';
const VIP6 = '2001:db8:7::200';
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'integration', 'native', 'responder-fixture.ts');

const isRoot = process.getuid?.() === 0;

async function neighbour(ip: string): Promise<string> {
  return (await run('ip', ['-n', CLIENT, 'neigh', 'show', ip, 'dev', 'eth0'])).stdout.trim();
}

/** Makes the client resolve `ip` (one UDP datagram to the discard port) and returns the entry. */
async function learn(ip: string): Promise<string> {
  await run('bash', ['-c', `echo x > /dev/udp/${ip}/9 || true`], { netns: CLIENT });
  for (let i = 0; i < 50; i++) {
    const n = await neighbour(ip);
    if (/lladdr/.test(n)) return n;
    await sleep(20);
  }
  return neighbour(ip);
}

(isRoot && nativeAvailable() ? describe : describe.skip)('takeover frames seen by a Linux client (hlt-l2tk-*)', function () {
  this.timeout(60_000);
  let fixture: ChildProcess | undefined;
  const lines: string[] = [];

  const send = async (cmd: 'garp' | 'una', ip: string): Promise<void> => {
    const n = lines.length;
    fixture?.stdin?.write(`${JSON.stringify({ cmd, ip })}\n`);
    for (let i = 0; i < 100 && !lines.slice(n).some((l) => l.includes('"sent"')); i++) await sleep(10);
  };

  before(async function () {
    for (const ns of ALL) await tryRun('ip', ['netns', 'del', ns]);
    for (const ns of ALL) await run('ip', ['netns', 'add', ns]);
    await run('ip', ['-n', BR, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
    await run('ip', ['-n', BR, 'link', 'set', 'br0', 'up']);
    for (const [i, ns] of [CLIENT, OLD, NEW].entries()) {
      await run('sysctl', ['-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0'], { netns: ns });
      await run('ip', ['-n', BR, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns, 'address', MAC[ns] as string]);
      await run('ip', ['-n', BR, 'link', 'set', `p${i}`, 'master', 'br0', 'up']);
      const [v4, v6] = ADDR[ns] as string[];
      await run('ip', ['-n', ns, 'addr', 'add', `${v4}/24`, 'dev', 'eth0']);
      await run('ip', ['-n', ns, 'addr', 'add', `${v6}/64`, 'dev', 'eth0', 'nodad']);
      await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // The fixture answers requests for other addresses (.201): the client must learn the
    // old owner's MAC from the old owner alone, and the new one only from the announcement.
    fixture = spawn('ip', ['netns', 'exec', NEW, process.execPath, '--import', 'tsx', FIXTURE, 'eth0', '192.0.2.201', '2001:db8:7::201'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: fixture.stdout! }).on('line', (l) => lines.push(l));
    for (let i = 0; i < 500 && !lines.some((l) => l.includes('"ready"')); i++) await sleep(20);
    assert.ok(lines.some((l) => l.includes('"ready"')), 'the fixture started');
  });

  after(async () => {
    if (fixture && fixture.exitCode === null) {
      fixture.stdin?.end();
      fixture.kill('SIGTERM');
      await new Promise((r) => fixture?.once('exit', r));
    }
    for (const ns of ALL) await tryRun('ip', ['netns', 'del', ns]);
  });

  for (const delayMs of [0, 300]) {
    it(`IPv4: one gratuitous ARP (both forms) moves the client ${delayMs} ms after it learnt the old MAC (inside locktime)`, async () => {
      await tryRun('ip', ['-n', CLIENT, 'neigh', 'flush', 'dev', 'eth0']);
      await run('ip', ['-n', OLD, 'addr', 'add', `${VIP4}/32`, 'dev', 'eth0']);
      try {
        assert.match(await learn(VIP4), new RegExp(`lladdr ${MAC[OLD]}`));
      } finally {
        await run('ip', ['-n', OLD, 'addr', 'del', `${VIP4}/32`, 'dev', 'eth0']);
      }
      await sleep(delayMs);
      await send('garp', VIP4);
      await sleep(50);
      assert.match(await neighbour(VIP4), new RegExp(`lladdr ${MAC[NEW]}`));
    });
  }

  it('IPv6: one unsolicited NA with Override moves the client', async () => {
    await tryRun('ip', ['-n', CLIENT, 'neigh', 'flush', 'dev', 'eth0']);
    await run('ip', ['-n', OLD, 'addr', 'add', `${VIP6}/128`, 'dev', 'eth0', 'nodad']);
    try {
      assert.match(await learn(VIP6), new RegExp(`lladdr ${MAC[OLD]}`));
    } finally {
      await run('ip', ['-n', OLD, 'addr', 'del', `${VIP6}/128`, 'dev', 'eth0']);
    }
    await send('una', VIP6);
    await sleep(50);
    assert.match(await neighbour(VIP6), new RegExp(`lladdr ${MAC[NEW]}`));
  });
});
