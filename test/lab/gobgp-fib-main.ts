// The process beside gobgpd in hl-router that keeps the kernel table equal to gobgpd's
// RIB (see gobgp-fib.ts). `gobgp monitor global rib` wakes it on every change; a slow
// timer covers anything the monitor misses (a peer dropping, a restarted gobgpd).
//   node --import tsx test/lab/gobgp-fib-main.ts --api 127.0.0.1:50051
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ipBatch, run } from './exec.js';
import { fibCommands, fibFromKernel, fibFromRib, type Fib, type GobgpRib } from './gobgp-fib.js';

const { values } = parseArgs({ options: { api: { type: 'string', default: '127.0.0.1:50051' }, 'interval-ms': { type: 'string', default: '2000' } } });
const [host, port] = (values.api ?? '').split(/:(?=\d+$)/);
const gobgp = ['-u', host ?? '127.0.0.1', '-p', port ?? '50051'];

async function readRib(family: 'ipv4' | 'ipv6'): Promise<GobgpRib> {
  const r = await run('gobgp', [...gobgp, '-j', 'global', 'rib', '-a', family], { timeoutMs: 30_000 });
  return (r.stdout.trim() ? JSON.parse(r.stdout) : {}) as GobgpRib;
}

async function readKernel(): Promise<Fib> {
  const [v4, v6] = await Promise.all([run('ip', ['-j', 'route', 'show', 'proto', 'bgp']), run('ip', ['-j', '-6', 'route', 'show', 'proto', 'bgp'])]);
  return new Map([...fibFromKernel(v4.stdout, 4), ...fibFromKernel(v6.stdout, 6)]);
}

let installed: Fib = new Map();
let running = false;
let again = false;

async function sync(): Promise<void> {
  if (running) {
    again = true;
    return;
  }
  running = true;
  try {
    do {
      again = false;
      const [v4, v6] = await Promise.all([readRib('ipv4'), readRib('ipv6')]);
      const want = new Map([...fibFromRib(v4), ...fibFromRib(v6)]);
      const cmds = fibCommands(installed, want);
      if (cmds.length > 0) {
        // One bad line (a route already gone) must not stop the rest.
        await ipBatch(undefined, cmds, { force: true }).catch((e: unknown) => console.error(`gobgp-fib: ${String(e)}`));
        installed = await readKernel();
        console.log(`gobgp-fib: ${cmds.length} change(s), ${installed.size} route(s) installed`);
      }
    } while (again);
  } catch (e) {
    console.error(`gobgp-fib: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    running = false;
  }
}

let debounce: NodeJS.Timeout | undefined;
function soon(): void {
  debounce ??= setTimeout(() => {
    debounce = undefined;
    void sync();
  }, 5);
}

function monitor(): void {
  const child = spawn('gobgp', [...gobgp, '-j', 'monitor', 'global', 'rib'], { stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: child.stdout }).on('line', soon);
  child.on('exit', () => setTimeout(monitor, 1000));
}

installed = await readKernel();
await sync();
monitor();
setInterval(() => void sync(), Number(values['interval-ms']));
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
