// Runs herald's BFD sessions (and, when asked, a BGP session tied to one) inside a network
// namespace for the BFD lab. Commands arrive as JSON lines on stdin; every state change
// goes out as a JSON line on stdout with the wall-clock time it happened, so the test
// can measure detection times against the moment it cut the link.
//
//   {"op":"add","id":"v4","peer":{"address":…,"localAddress":…,"profile":{…}}}
//   {"op":"remove","id":"v4"}   {"op":"bgp","id":"r","cfg":{…},"bfd":"v4"}   {"op":"close"}
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { silentLogger, createLogger } from '../../../shared/log.js';
import { attachBFD, BFDSessions, type BFDHandle, type BFDPeer } from '../../../speaker/bfd/index.js';
import { MULTIHOP_PORT, SINGLE_HOP_PORT } from '../../../speaker/bfd/protocol.js';
import { addressKey, NodeBFDTransport, type BFDTransport } from '../../../speaker/bfd/transport.js';
import { BGPSession, type SessionConfig } from '../../../speaker/bgp/session.js';

type Command =
  | { op: 'add'; id: string; peer: BFDPeer }
  | { op: 'remove'; id: string }
  | { op: 'bgp'; id: string; cfg: SessionConfig; bfd?: string }
  | { op: 'bgpStop'; id: string }
  | { op: 'drops' }
  | { op: 'close' };

const log = process.env.HLT_BFD_DEBUG ? createLogger({ component: 'lab', level: 'debug', destination: pino.destination({ dest: 2, sync: true }) }) : silentLogger();
const out = (e: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ ...e, t: Date.now() })}\n`);

// When a datagram last arrived, by listening port and source: a detection is timed from
// the last packet herald heard (the peer's sending may lag its schedule on a loaded
// machine), which the cut's time does not tell.
const lastRx = new Map<string, number>();
const real = new NodeBFDTransport(log);
const transport: BFDTransport = {
  listen: (family, port, onPacket) =>
    real.listen(family, port, (data, from, ttl) => {
      lastRx.set(`${port} ${addressKey(from)}`, Date.now());
      onPacket(data, from, ttl);
    }),
  sender: (opts) => real.sender(opts),
};
const bfd = new BFDSessions({ log, transport });
const handles = new Map<string, BFDHandle>();
const bgp = new Map<string, { session: BGPSession; detach?: () => void }>();

async function handle(c: Command): Promise<void> {
  switch (c.op) {
    case 'add': {
      const h = bfd.add(c.peer);
      handles.set(c.id, h);
      const rxKey = `${c.peer.multihop ? MULTIHOP_PORT : SINGLE_HOP_PORT} ${addressKey(c.peer.address)}`;
      h.onState((state, diag) => out({ event: 'bfd', id: c.id, state, diag, status: h.status(), lastRx: lastRx.get(rxKey) }));
      out({ event: 'added', id: c.id, discriminator: h.localDiscriminator });
      return;
    }
    case 'remove':
      handles.get(c.id)?.remove();
      handles.delete(c.id);
      return;
    case 'bgp': {
      const session = new BGPSession(c.cfg, { log });
      let last = '';
      session.onStatus((s) => {
        if (s.state === last) return;
        last = s.state;
        out({ event: 'bgp', id: c.id, state: s.state, lastError: s.lastError });
      });
      const h = c.bfd ? handles.get(c.bfd) : undefined;
      bgp.set(c.id, { session, ...(h ? { detach: attachBFD(session, h) } : {}) });
      session.start();
      return;
    }
    case 'bgpStop': {
      const e = bgp.get(c.id);
      e?.detach?.();
      await e?.session.stop();
      bgp.delete(c.id);
      out({ event: 'bgpStopped', id: c.id });
      return;
    }
    case 'drops':
      out({ event: 'drops', counts: bfd.dropCounts() });
      return;
    case 'close':
      for (const e of bgp.values()) await e.session.stop();
      await bfd.close();
      out({ event: 'closed' });
      process.exit(0);
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  handle(JSON.parse(line) as Command).catch((err: unknown) => out({ event: 'error', message: String(err) }));
});
lines.on('close', () => {
  void bfd.close().then(() => process.exit(0));
});
out({ event: 'ready' });
