// A client probing a service IP every few milliseconds from hl-client, reporting each
// answer as a JSON line, so that a test or the benchmark can see exactly when traffic
// stopped and which node it resumed through. Runs until SIGTERM or stdin closes.
//   node --import tsx test/e2e/l2/prober.ts --target 192.0.2.200 [--mode udp|http] [--interval 10] [--port 9000]
// Lines (times are epoch ms with microsecond precision):
//   {"sent":seq,"t":time}           every 100 ms: the last probe sent
//   {"s":seq,"t":sentAt,"n":node}   udp: an answer (node = who echoed it)
//   {"s":seq,"t":sentAt,"n":node,"ms":duration} | {"s":seq,"t":sentAt,"e":code,"ms":duration}   http
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { isIPv6 } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    mode: { type: 'string', default: 'udp' },
    interval: { type: 'string', default: '10' },
    port: { type: 'string' },
    timeout: { type: 'string', default: '3000' },
  },
});
const target = values.target;
if (!target) throw new Error('--target is required');
const interval = Number(values.interval);
const now = (): number => performance.timeOrigin + performance.now();
const out = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
let seq = 0;
const sentAt = new Map<number, number>();

function udp(): () => void {
  const port = Number(values.port ?? 9000);
  const s = createSocket(isIPv6(target as string) ? 'udp6' : 'udp4');
  s.on('message', (msg) => {
    const [node, n] = msg.toString('utf8').split(' ');
    const k = Number(n);
    const t = sentAt.get(k);
    if (t === undefined) return;
    sentAt.delete(k);
    out({ s: k, t: +t.toFixed(3), n: node, r: +(now() - t).toFixed(3) });
  });
  // A send the kernel refuses (no neighbour yet) is a lost probe like any other.
  s.on('error', () => {});
  return () => {
    seq++;
    const t = now();
    sentAt.set(seq, t);
    if (sentAt.size > 10_000) sentAt.delete(seq - 10_000);
    s.send(String(seq), port, target as string, () => {});
  };
}

let inflight = 0;

function http(): () => void {
  const port = Number(values.port ?? 80);
  const timeout = Number(values.timeout);
  return () => {
    const k = ++seq;
    const t = now();
    let done = false;
    inflight++;
    const finish = (o: Record<string, unknown>): void => {
      if (done) return;
      done = true;
      inflight--;
      out({ s: k, t: +t.toFixed(3), ...o, ms: +(now() - t).toFixed(3) });
    };
    const req = request({ host: target, port, path: '/', agent: false, timeout }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => finish(res.statusCode === 200 ? { n: body.trim() } : { e: `HTTP ${res.statusCode}` }));
      res.on('error', (err: NodeJS.ErrnoException) => finish({ e: err.code ?? err.message }));
    });
    req.on('timeout', () => {
      finish({ e: 'timeout' });
      req.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish({ e: err.code ?? err.message }));
    req.end();
  };
}

const probe = values.mode === 'http' ? http() : udp();
const timer = setInterval(probe, interval);
const report = setInterval(() => out({ sent: seq, t: +now().toFixed(3) }), 100);
out({ start: +now().toFixed(3), target, mode: values.mode, interval });
const stop = (): void => {
  clearInterval(timer);
  clearInterval(report);
  out({ sent: seq, t: +now().toFixed(3), end: true });
  // Answers still in flight get a moment (HTTP: until each ends or times out).
  const deadline = now() + (values.mode === 'http' ? Number(values.timeout) + 100 : 300);
  const wait = setInterval(() => {
    if ((values.mode === 'http' && inflight === 0) || now() >= deadline) {
      clearInterval(wait);
      process.exit(0);
    }
  }, 20);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
