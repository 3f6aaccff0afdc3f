// Runs BGPSessions inside a network namespace for the integration tests: started by
// lab.ts as `ip netns exec <ns> node --import tsx session-runner.ts`, it takes one JSON
// command per line on stdin and writes one JSON event per line on stdout. Logs (pino)
// go to stderr.
//   {"op":"listen"}                                   open a BGPListener on port 179
//   {"op":"start","id":"a","cfg":{…},"listen":true}   new BGPSession (with the listener)
//   {"op":"wanted","id":"a","ads":[…]}                setWanted
//   {"op":"stop","id":"a","mode":"graceful-restart"}  stop; answers {"event":"stopped"}
//   {"op":"exit"}                                     stop everything (shutdown), exit
import { createInterface } from 'node:readline';
import { createLogger } from '../../../shared/log.js';
import { BGPSession, type Advertisement, type SessionConfig } from '../../../speaker/bgp/session.js';
import { BGPListener } from '../../../speaker/bgp/transport.js';

type Command =
  | { op: 'listen' }
  | { op: 'start'; id: string; cfg: SessionConfig; listen?: boolean }
  | { op: 'wanted'; id: string; ads: Advertisement[] }
  | { op: 'stop'; id: string; mode?: 'shutdown' | 'graceful-restart'; message?: string }
  | { op: 'exit' };

const log = createLogger({ component: 'speaker', level: 'debug', destination: process.stderr });
const sessions = new Map<string, BGPSession>();
let listener: BGPListener | undefined;

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function session(id: string): BGPSession {
  const s = sessions.get(id);
  if (!s) throw new Error(`no session ${id}`);
  return s;
}

async function handle(c: Command): Promise<void> {
  switch (c.op) {
    case 'listen':
      listener ??= new BGPListener({ log });
      return;
    case 'start': {
      const s = new BGPSession(c.cfg, { log: log.child({ session: c.id }), ...(c.listen && listener ? { listener } : {}) });
      sessions.set(c.id, s);
      s.onStatus((status) => emit({ event: 'status', id: c.id, status }));
      s.start();
      return;
    }
    case 'wanted':
      session(c.id).setWanted(c.ads);
      return;
    case 'stop':
      await session(c.id).stop({ ...(c.mode ? { mode: c.mode } : {}), ...(c.message ? { message: c.message } : {}) });
      sessions.delete(c.id);
      emit({ event: 'stopped', id: c.id });
      return;
    case 'exit':
      await Promise.all([...sessions.values()].map((s) => s.stop()));
      await listener?.close();
      emit({ event: 'exited' });
      process.exit(0);
  }
}

const lines = createInterface({ input: process.stdin });
let chain = Promise.resolve();
lines.on('line', (line) => {
  if (!line.trim()) return;
  chain = chain.then(() => handle(JSON.parse(line) as Command)).catch((err: unknown) => emit({ event: 'error', message: err instanceof Error ? err.message : String(err) }));
});
// The test process went away: do not linger in the namespace.
lines.on('close', () => process.exit(0));
emit({ event: 'ready' });
