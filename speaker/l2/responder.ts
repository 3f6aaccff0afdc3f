// The ARP/NDP responder: one packet socket per interface it answers on, the solicited-node
// groups of the IPv6 IPs it answers for, and the table answer.ts decides with. It is told
// the whole wanted state (STYLE.md, declarative seams): the interfaces of the node, and
// the IPs this node announces with their L2Advertisement interfaces; it works out which
// sockets to open or close and which groups to join or leave. Losing an IP takes effect
// before setAnnounced returns: the next frame already finds it gone.
import type { Counter } from 'prom-client';
import { formatIP, type IP } from '../../shared/ip/ip.js';
import type { Logger } from '../../shared/log.js';
import { answerFrame, EMPTY_TABLE, type AnswerTable, type AnsweredIP, type ConflictKind } from './answer.js';
import { gratuitousArpFrame } from './arp.js';
import type { MAC } from './ethernet.js';
import { eligibleInterfaces, eligibleOnly, type EligibleInterface, type InterfaceFacts, type InterfacePolicy } from './interfaces.js';
import { solicitedNodeAddress, unsolicitedNeighborAdvertisementFrame } from './ndp.js';
import type { AnnounceTarget } from './announce.js';

export interface FrameSink {
  send(frame: Uint8Array): void;
  close(): void;
}

export interface ResponderIO {
  /** Opens a packet socket on the interface with the responder's filter (filter.ts). */
  openSocket(ifindex: number, onFrame: (frame: Uint8Array) => void, onError: (err: NodeJS.ErrnoException) => void): FrameSink;
  /** Counted solicited-node memberships (speaker/native MulticastMemberships). */
  memberships: { join(ifindex: number, group: string): boolean; leave(ifindex: number, group: string): boolean; close(): void };
}

export interface ResponderMetrics {
  requestsReceived: Counter<'ip'>;
  responsesSent: Counter<'ip'>;
  gratuitousSent: Counter<'ip'>;
  sendErrors: Counter<'code'>;
}

export interface Conflict {
  readonly ipText: string;
  readonly mac: MAC;
  readonly kind: ConflictKind;
  readonly ifname: string;
}

export interface ResponderOptions {
  io: ResponderIO;
  log: Logger;
  metrics: ResponderMetrics;
  /** Name exclusions (the `addressed` part comes with each setInterfaces). */
  policy?: Pick<InterfacePolicy, 'exclude'>;
  onConflict?: (c: Conflict) => void;
}

/** An IP to answer for; `interfaces` empty: every eligible interface. */
export interface WantedIP {
  readonly ip: IP;
  readonly interfaces: readonly string[];
  /**
   * Answer for another node, with its MACs by interface name (a single one serves every
   * interface): no gratuitous announcements, and only where a MAC is known.
   */
  readonly onBehalfOf?: ReadonlyMap<string, MAC>;
}

/** Interface facts the responder keeps: the filter's plus whether the link is up. */
export type ResponderInterface = InterfaceFacts & { readonly up: boolean };

interface OpenSocket {
  readonly sink: FrameSink;
  readonly name: string;
  mac: MAC;
}

/** `ifindex/ipText` */
type PairKey = string;

interface Group {
  readonly ifindex: number;
  readonly group: string;
}

export class Responder {
  readonly #o: ResponderOptions;
  #infos: readonly ResponderInterface[] = [];
  #addressed: ReadonlySet<string> = new Set();
  #wanted: ReadonlyMap<string, WantedIP> = new Map();
  #sockets = new Map<number, OpenSocket>();
  /** Interfaces whose socket failed to open, by index: the error code (retried on the next change). */
  #failed = new Map<number, string>();
  #table: AnswerTable = EMPTY_TABLE;
  /** Answering pairs on links that are up, as of the last change. */
  #livePairs = new Set<PairKey>();
  /** Solicited-node memberships held, one per (interface, IPv6 IP). */
  #groups = new Map<PairKey, Group>();
  #closed = false;

  constructor(o: ResponderOptions) {
    this.#o = o;
  }

  /**
   * The node's interfaces, as last polled, and which of them carry an address (a veth
   * with one is an uplink, not a pod's); returns pairs that now need announcing.
   */
  setInterfaces(infos: readonly ResponderInterface[], addressed: ReadonlySet<string> = new Set()): AnnounceTarget[] {
    this.#infos = infos;
    this.#addressed = addressed;
    return this.#apply();
  }

  /** The IPs this node announces (keyed by canonical text); returns pairs that now need announcing. */
  setAnnounced(wanted: ReadonlyMap<string, WantedIP>): AnnounceTarget[] {
    this.#wanted = wanted;
    return this.#apply();
  }

  /** The MAC of the interface this node answers on by that name, if it has a socket there. */
  macOf(ifname: string): MAC | undefined {
    for (const s of this.#sockets.values()) if (s.name === ifname) return s.mac;
    return undefined;
  }

  /** Interfaces answering for each announced IP, by name, sorted (for ServiceL2Status). */
  interfacesOf(ipText: string): string[] {
    const a = this.#answered(ipText);
    if (!a) return [];
    return [...a.ifindexes].map((i) => this.#sockets.get(i)?.name ?? '').filter(Boolean).sort();
  }

  /** Every (IP, interface) pair answered now, on links that are up. */
  answering(): AnnounceTarget[] {
    return [...this.#livePairs].map(parsePair);
  }

  /** Interfaces whose socket could not be opened, with the error code. */
  failedInterfaces(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [index, code] of this.#failed) out.set(this.#infos.find((i) => i.index === index)?.name ?? String(index), code);
    return out;
  }

  /**
   * Sends one gratuitous announcement of `target`: ARP request and reply forms for IPv4
   * (MetalLB sends both; some hosts learn from only one), an unsolicited NA with Override
   * for IPv6. Returns the number of frames sent.
   */
  announce(target: AnnounceTarget): number {
    const s = this.#sockets.get(target.ifindex);
    const wanted = this.#wanted.get(target.ipText);
    if (!s || !wanted || !this.#livePairs.has(pairKey(target.ifindex, target.ipText))) return 0;
    const frames =
      wanted.ip.family === 4
        ? [gratuitousArpFrame(wanted.ip.value, s.mac, 'request'), gratuitousArpFrame(wanted.ip.value, s.mac, 'reply')]
        : [unsolicitedNeighborAdvertisementFrame(wanted.ip.value, s.mac)];
    let sent = 0;
    for (const f of frames) if (this.#send(s, f)) sent++;
    if (sent > 0) this.#o.metrics.gratuitousSent.inc({ ip: target.ipText }, sent);
    return sent;
  }

  /** Closes every socket and leaves every group. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#table = EMPTY_TABLE;
    for (const s of this.#sockets.values()) s.sink.close();
    this.#sockets.clear();
    this.#o.io.memberships.close();
    this.#groups.clear();
    this.#livePairs.clear();
  }

  // ------------------------------------------------------------------ internals

  #answered(ipText: string): AnsweredIP | undefined {
    const w = this.#wanted.get(ipText);
    if (!w) return undefined;
    return (w.ip.family === 4 ? this.#table.v4 : this.#table.v6).get(w.ip.value);
  }

  #apply(): AnnounceTarget[] {
    if (this.#closed) return [];
    const policy: InterfacePolicy = { ...this.#o.policy, addressed: this.#addressed };
    const byNamed = new Map<string, EligibleInterface[]>();
    const eligibleFor = (named: readonly string[]): EligibleInterface[] => {
      const key = named.join(',');
      let e = byNamed.get(key);
      if (!e) byNamed.set(key, (e = eligibleOnly(eligibleInterfaces(this.#infos, named, policy))));
      return e;
    };

    // The interfaces each IP answers on, and so the sockets needed. Default-eligible
    // interfaces keep a socket even with nothing to answer: a takeover then never waits
    // for a socket to open.
    const need = new Map<number, EligibleInterface>();
    for (const i of eligibleFor([])) need.set(i.index, i);
    const perIP = new Map<string, EligibleInterface[]>();
    for (const [text, w] of this.#wanted) {
      const list = eligibleFor([...w.interfaces].sort());
      perIP.set(text, list);
      for (const i of list) need.set(i.index, i);
    }
    this.#syncSockets(need);

    const v4 = new Map<bigint, AnsweredIP>();
    const v6 = new Map<bigint, AnsweredIP>();
    const pairs = new Set<PairKey>();
    const up = new Set(this.#infos.filter((i) => i.up).map((i) => i.index));
    for (const [text, w] of this.#wanted) {
      const ifindexes = new Set<number>();
      const behalf = w.onBehalfOf;
      const only = behalf?.size === 1 ? [...behalf.values()][0] : undefined;
      const onBehalf = behalf ? new Map<number, MAC>() : undefined;
      for (const i of perIP.get(text) ?? []) {
        if (!this.#sockets.has(i.index)) continue;
        if (onBehalf) {
          const mac = behalf?.get(i.name) ?? only;
          if (!mac) continue;
          onBehalf.set(i.index, mac);
        } else if (up.has(i.index)) pairs.add(pairKey(i.index, text));
        ifindexes.add(i.index);
      }
      (w.ip.family === 4 ? v4 : v6).set(w.ip.value, { ipText: text, ifindexes, ...(onBehalf ? { onBehalf } : {}) });
    }
    const ownMacs = new Set([...this.#sockets.values()].map((s) => s.mac));
    // The table first: from here on, a lost IP is no longer answered.
    this.#table = { v4, v6, ownMacs };
    this.#syncGroups(v6);

    const fresh: AnnounceTarget[] = [];
    for (const p of pairs) if (!this.#livePairs.has(p)) fresh.push(parsePair(p));
    this.#livePairs = pairs;
    return fresh;
  }

  #syncSockets(need: ReadonlyMap<number, EligibleInterface>): void {
    for (const [index, s] of this.#sockets) {
      const want = need.get(index);
      if (want && want.name === s.name) {
        s.mac = want.mac;
        continue;
      }
      s.sink.close();
      this.#sockets.delete(index);
      this.#o.log.info({ interface: s.name }, 'l2: stopped listening on interface');
    }
    for (const index of this.#failed.keys()) if (!need.has(index)) this.#failed.delete(index);
    for (const [index, i] of need) {
      if (this.#sockets.has(index)) continue;
      try {
        const sink = this.#o.io.openSocket(
          index,
          (frame) => this.#onFrame(index, frame),
          (err) => this.#o.log.warn({ err, interface: i.name }, 'l2: packet socket error'),
        );
        this.#sockets.set(index, { sink, name: i.name, mac: i.mac });
        this.#failed.delete(index);
        this.#o.log.info({ interface: i.name, mac: i.mac }, 'l2: listening on interface');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
        if (this.#failed.get(index) !== code) this.#o.log.error({ err, interface: i.name }, 'l2: cannot open a packet socket');
        this.#failed.set(index, code);
      }
    }
  }

  #syncGroups(v6: ReadonlyMap<bigint, AnsweredIP>): void {
    const want = new Map<PairKey, Group>();
    for (const [value, a] of v6) {
      const group = formatIP({ family: 6, value: solicitedNodeAddress(value) });
      for (const ifindex of a.ifindexes) want.set(pairKey(ifindex, a.ipText), { ifindex, group });
    }
    const { memberships } = this.#o.io;
    for (const [key, { ifindex, group }] of this.#groups) {
      if (want.has(key)) continue;
      this.#groups.delete(key);
      try {
        memberships.leave(ifindex, group);
      } catch (err) {
        // The interface is gone: the kernel dropped its groups with it.
        this.#o.log.debug({ err, ifindex, group }, 'l2: leaving a solicited-node group failed');
      }
    }
    for (const [key, g] of want) {
      if (this.#groups.has(key)) continue;
      try {
        memberships.join(g.ifindex, g.group);
        this.#groups.set(key, g);
      } catch (err) {
        this.#o.log.warn({ err, ifindex: g.ifindex, group: g.group }, 'l2: cannot join a solicited-node group; solicitations may not arrive');
      }
    }
  }

  #onFrame(ifindex: number, frame: Uint8Array): void {
    const s = this.#sockets.get(ifindex);
    if (!s || this.#closed) return;
    const out = answerFrame(frame, { index: ifindex, mac: s.mac }, this.#table);
    if (out.asked !== undefined) this.#o.metrics.requestsReceived.inc({ ip: out.asked });
    if (out.reply && this.#send(s, out.reply) && out.asked !== undefined) this.#o.metrics.responsesSent.inc({ ip: out.asked });
    if (out.conflict) this.#o.onConflict?.({ ...out.conflict, ifname: s.name });
  }

  #send(s: OpenSocket, frame: Uint8Array): boolean {
    try {
      s.sink.send(frame);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
      this.#o.metrics.sendErrors.inc({ code });
      this.#o.log.debug({ err, interface: s.name }, 'l2: send failed');
      return false;
    }
  }
}

function pairKey(ifindex: number, ipText: string): PairKey {
  return `${ifindex}/${ipText}`;
}

function parsePair(key: PairKey): AnnounceTarget {
  const slash = key.indexOf('/');
  return { ifindex: Number(key.slice(0, slash)), ipText: key.slice(slash + 1) };
}
