// Helpers for membership integration tests: in-process members with their own metrics,
// a recorder of their live sets, and waiting with a deadline.
import { createSocket } from 'node:dgram';
import { Membership, type MembershipConfig } from '../../../speaker/membership/member.js';
import { promMembershipMetrics } from '../../../speaker/membership/prom-metrics.js';
import type { MembershipEvent } from '../../../speaker/membership/core.js';
import type { MembershipMetrics } from '../../../speaker/membership/metrics.js';
import type { MemberPeer } from '../../../speaker/membership/peers.js';
import { createMetrics, type Metrics } from '../../../shared/metrics.js';
import { waitFor as poll } from '../../lab/exec.js';

export const KEY = Buffer.alloc(32, 0x5a);

export interface Recorded {
  at: number;
  live: string[];
  events: readonly MembershipEvent[];
}

export class TestMember {
  readonly member: Membership;
  readonly metrics: Metrics;
  readonly changes: Recorded[] = [];

  /** Called as each datagram this member sent is handed to the kernel (its send callback). */
  onSent: ((type: string) => void) | undefined;

  constructor(readonly name: string, cfg: Omit<MembershipConfig, 'node' | 'key'> & { key?: Uint8Array }) {
    this.metrics = createMetrics({ defaultMetrics: false });
    const prom = promMembershipMetrics(this.metrics);
    const metrics: MembershipMetrics = {
      dropped: (reason, n) => prom.dropped(reason, n),
      received: (type, n) => prom.received(type, n),
      sent: (type, n) => {
        prom.sent(type, n);
        this.onSent?.(type);
      },
      sendError: (code, n) => prom.sendError(code, n),
      transition: (direction, reason, n) => prom.transition(direction, reason, n),
      livePeers: (count) => prom.livePeers(count),
    };
    this.member = new Membership({ key: KEY, ...cfg, node: name, metrics });
    this.member.onChange((live, events) => this.changes.push({ at: performance.now(), live: [...live].sort(), events }));
  }

  live(): string[] | undefined {
    const l = this.member.live();
    return l ? [...l].sort() : undefined;
  }

  /**
   * Stops this member right after its next heartbeat: resolves with the time its last
   * datagram was sent. Node runs a send's callback before the poll phase that reads it on
   * loopback, so the peers hear it at or after that time.
   */
  stopAfterHeartbeat(): Promise<{ lastSent: number; stopped: Promise<void> }> {
    return new Promise((resolve) => {
      this.onSent = (type) => {
        if (type !== 'alive') return;
        this.onSent = undefined;
        const lastSent = performance.now();
        resolve({ lastSent, stopped: this.member.stop() });
      };
    });
  }

  /** The first change at or after `since` in which `node` went down. */
  downAt(node: string, since: number): Recorded | undefined {
    return this.changes.find((c) => c.at >= since && c.events.some((e) => e.type === 'down' && e.node === node));
  }

  async dropped(): Promise<Record<string, number>> {
    const m = await this.metrics.registry.getSingleMetric('herald_membership_dropped_total')?.get();
    const out: Record<string, number> = {};
    for (const v of m?.values ?? []) out[String(v.labels.reason)] = v.value;
    return out;
  }
}

export function waitFor<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000, everyMs = 10): Promise<T> {
  return poll(what, f, timeoutMs, everyMs);
}

/** A UDP port free on `address` right now (for tests that need the same port on several addresses). */
export async function freePort(address: string): Promise<number> {
  const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve());
  });
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export function peersOf(members: { name: string; address: string; port?: number }[]): MemberPeer[] {
  return members.map((m) => ({ name: m.name, address: m.address, ...(m.port !== undefined ? { port: m.port } : {}) }));
}

/** Sends raw datagrams from an ephemeral socket. */
export async function sendRaw(datagrams: Uint8Array[], port: number, address: string): Promise<void> {
  const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  for (const d of datagrams) {
    await new Promise<void>((resolve, reject) => s.send(d, port, address, (err) => (err ? reject(err) : resolve())));
  }
  await new Promise<void>((resolve) => s.close(() => resolve()));
}
