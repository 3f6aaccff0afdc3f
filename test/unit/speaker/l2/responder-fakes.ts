// Fakes for the L2 responder and announcer tests: packet sockets that record what they
// send and let the test deliver frames, counted multicast memberships, interface facts,
// and frame builders for the questions a client asks.
import { formatIP, parseIP, type IP } from '../../../../shared/ip/ip.js';
import { createMetrics } from '../../../../shared/metrics.js';
import { silentLogger } from '../../../../shared/log.js';
import { decodeArpFrame, encodeArpFrame } from '../../../../speaker/l2/arp.js';
import { BROADCAST_MAC, ZERO_MAC } from '../../../../speaker/l2/ethernet.js';
import { ALL_NODES, decodeNdpFrame, encodeNdpFrame, multicastMAC, solicitedNodeAddress } from '../../../../speaker/l2/ndp.js';
import type { Informer } from '../../../../shared/k8s/informer.js';
import type { ResourceType } from '../../../../shared/k8s/resources.js';
import { L2_STATUSES } from '../../../../speaker/l2/status.js';
import type { StatusObject, StatusWriter } from '../../../../shared/k8s/writers.js';
import type { FrameSink, ResponderInterface, ResponderIO, ResponderMetrics } from '../../../../speaker/l2/responder.js';

export const CLIENT_MAC = '02:00:5e:00:53:64';
export const CLIENT_V4 = '192.0.2.100';
export const CLIENT_V6 = '2001:db8:0:2::100';

export function ipOf(text: string): IP {
  const ip = parseIP(text);
  if (!ip) throw new Error(text);
  return ip;
}

export class FakeSocket implements FrameSink {
  readonly sent: Uint8Array[] = [];
  closed = false;
  failWith: string | undefined;
  constructor(
    readonly ifindex: number,
    readonly deliver: (frame: Uint8Array) => void,
  ) {}
  send(frame: Uint8Array): void {
    if (this.closed) throw Object.assign(new Error('closed'), { code: 'EBADF' });
    if (this.failWith) throw Object.assign(new Error(this.failWith), { code: this.failWith });
    this.sent.push(frame);
  }
  close(): void {
    this.closed = true;
  }
}

export class FakeIO implements ResponderIO {
  /** Every socket ever opened, in order; the open one per interface in `open`. */
  readonly opened: FakeSocket[] = [];
  readonly groups = new Map<string, number>();
  refuse = new Set<number>();
  readonly memberships = {
    join: (ifindex: number, group: string): boolean => {
      const k = `${ifindex}/${group}`;
      const n = this.groups.get(k) ?? 0;
      this.groups.set(k, n + 1);
      return n === 0;
    },
    leave: (ifindex: number, group: string): boolean => {
      const k = `${ifindex}/${group}`;
      const n = this.groups.get(k) ?? 0;
      if (n <= 1) this.groups.delete(k);
      else this.groups.set(k, n - 1);
      return n === 1;
    },
    close: (): void => this.groups.clear(),
  };

  openSocket(ifindex: number, onFrame: (frame: Uint8Array) => void): FrameSink {
    if (this.refuse.has(ifindex)) throw Object.assign(new Error('Operation not permitted'), { code: 'EPERM' });
    const s = new FakeSocket(ifindex, onFrame);
    this.opened.push(s);
    return s;
  }

  /** The open socket on an interface. */
  socket(ifindex: number): FakeSocket | undefined {
    return this.opened.filter((s) => s.ifindex === ifindex && !s.closed).at(-1);
  }

  /** Every frame sent on any socket, oldest first. */
  allSent(): Uint8Array[] {
    return this.opened.flatMap((s) => s.sent);
  }

  clearSent(): void {
    for (const s of this.opened) s.sent.length = 0;
  }
}

export function iface(index: number, name: string, o: Partial<ResponderInterface> = {}): ResponderInterface {
  return {
    index,
    name,
    mac: `02:68:6c:00:02:${index.toString(16).padStart(2, '0')}`,
    linkType: 1,
    loopback: false,
    noArp: false,
    bridgePort: false,
    bondMember: false,
    veth: false,
    up: true,
    ...o,
  };
}

export function responderMetrics(): ResponderMetrics & { text(): Promise<string> } {
  const m = createMetrics({ defaultMetrics: false });
  return {
    requestsReceived: m.counter({ name: 'layer2_requests_received', help: 'x', labelNames: ['ip'] }),
    responsesSent: m.counter({ name: 'layer2_responses_sent', help: 'x', labelNames: ['ip'] }),
    gratuitousSent: m.counter({ name: 'layer2_gratuitous_sent', help: 'x', labelNames: ['ip'] }),
    sendErrors: m.counter({ name: 'layer2_send_errors_total', help: 'x', labelNames: ['code'] }),
    text: () => m.registry.metrics(),
  };
}

export const log = silentLogger();

/** A client's ARP request: who has `target`? */
export function arpRequest(target: string, o: { senderIP?: string; senderMAC?: string } = {}): Uint8Array {
  const mac = o.senderMAC ?? CLIENT_MAC;
  return encodeArpFrame({
    ethernet: { destination: BROADCAST_MAC, source: mac },
    arp: { operation: 'request', senderMAC: mac, senderIP: ipOf(o.senderIP ?? CLIENT_V4).value, targetMAC: ZERO_MAC, targetIP: ipOf(target).value },
  });
}

/** Another host's gratuitous ARP for `ip` (request or reply form). */
export function foreignGarp(ip: string, mac: string, form: 'request' | 'reply' = 'request'): Uint8Array {
  return encodeArpFrame({
    ethernet: { destination: BROADCAST_MAC, source: mac },
    arp: { operation: form, senderMAC: mac, senderIP: ipOf(ip).value, targetMAC: form === 'request' ? ZERO_MAC : mac, targetIP: ipOf(ip).value },
  });
}

/** A client's neighbor solicitation for `target`, to its solicited-node group. */
export function neighborSolicitation(target: string, o: { source?: string; mac?: string } = {}): Uint8Array {
  const t = ipOf(target).value;
  const group = solicitedNodeAddress(t);
  const source = o.source === '::' ? 0n : ipOf(o.source ?? CLIENT_V6).value;
  const mac = o.mac ?? CLIENT_MAC;
  return encodeNdpFrame({
    ethernet: { destination: multicastMAC(group), source: mac },
    ip: { trafficClass: 0, flowLabel: 0, hopLimit: 255, source, destination: group },
    message: { type: 'neighbor-solicitation', target: t, ...(source === 0n ? {} : { sourceLinkLayerAddress: mac }) },
  });
}

/** Another host's unsolicited NA for `ip`. */
export function foreignNA(ip: string, mac: string): Uint8Array {
  const t = ipOf(ip).value;
  return encodeNdpFrame({
    ethernet: { destination: multicastMAC(ALL_NODES), source: mac },
    ip: { trafficClass: 0, flowLabel: 0, hopLimit: 255, source: t, destination: ALL_NODES },
    message: { type: 'neighbor-advertisement', router: false, solicited: false, override: true, target: t, targetLinkLayerAddress: mac },
  });
}

/** What a sent frame is, in a line a test can compare. */
export function describeFrame(f: Uint8Array): string {
  const arp = decodeArpFrame(f);
  if (arp.ok) {
    const a = arp.value.arp;
    const ip4 = (v: bigint) => [24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 255n)).join('.');
    return `arp ${a.operation} ${ip4(a.senderIP)} is-at ${a.senderMAC} to ${arp.value.ethernet.destination} tpa ${ip4(a.targetIP)} tha ${a.targetMAC}`;
  }
  const ndp = decodeNdpFrame(f);
  if (ndp.ok && ndp.value.message.type === 'neighbor-advertisement') {
    const m = ndp.value.message;
    const flags = `${m.solicited ? 'S' : ''}${m.override ? 'O' : ''}`;
    return `na ${flags} ${formatIP({ family: 6, value: m.target })} target-mac ${m.targetLinkLayerAddress ?? '-'} to ${ndp.value.ethernet.destination}`;
  }
  return 'other';
}

/**
 * A StatusWriter that records calls and keeps what it wrote, seen through an informer-like
 * view (list/get/subscribe) as the announcer's status informer would see the cluster.
 */
export class RecordingWriter implements StatusWriter {
  readonly calls: string[] = [];
  readonly store = new Map<string, StatusObject>();
  failNext: Error[] = [];
  readonly #subscribers = new Set<() => void>();

  async apply<T extends StatusObject>(_r: ResourceType, obj: T): Promise<T> {
    this.calls.push(`apply ${obj.metadata.name} ${JSON.stringify((obj.status as { node?: string; interfaces?: unknown }) ?? {})}`);
    const e = this.failNext.shift();
    if (e) throw e;
    this.store.set(obj.metadata.name, structuredClone(obj));
    this.#notify();
    return obj;
  }
  async patchStatus<T extends StatusObject>(): Promise<T> {
    throw new Error('not used');
  }
  async delete(_r: ResourceType, _ns: string | undefined, name: string): Promise<void> {
    this.calls.push(`delete ${name}`);
    const e = this.failNext.shift();
    if (e) throw e;
    this.store.delete(name);
    this.#notify();
  }
  /** Someone else's change (another node, a person). */
  external(change: (store: Map<string, StatusObject>) => void): void {
    change(this.store);
    this.#notify();
  }
  #notify(): void {
    for (const s of this.#subscribers) s();
  }
  /** The informer view. */
  informer(): Informer<StatusObject> {
    const list = (): StatusObject[] => [...this.store.values()];
    return {
      resource: L2_STATUSES,
      synced: Promise.resolve(),
      hasSynced: () => true,
      start: () => {},
      stop: async () => {},
      get: (name: string) => this.store.get(name),
      list,
      subscribe: (handler: () => void) => {
        this.#subscribers.add(handler);
        return () => this.#subscribers.delete(handler);
      },
      stats: () => ({ watching: true, lists: 1, watches: 1, errors: 0, restarts: 0 }),
    } as unknown as Informer<StatusObject>;
  }
}
