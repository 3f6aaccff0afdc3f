// What the responder does with one received frame: answer it, note that another host
// claims an IP this node announces, or ignore it (with the reason). Pure: the frame, the
// receiving interface and the table of announced IPs in, an outcome out; the responder
// (responder.ts) sends and counts.
import { arpReplyFrame, decodeArpFrame, isGratuitous, type ArpFrame } from './arp.js';
import { L2DecodeError, type MAC } from './ethernet.js';
import { decodeNdpFrame, neighborAdvertisementFrame } from './ndp.js';

/** An IP this node answers for, and the interfaces (by index) it answers on. */
export interface AnsweredIP {
  readonly ipText: string;
  readonly ifindexes: ReadonlySet<number>;
  /**
   * Answering for another node (its speaker restarting): the MAC to answer with, by
   * interface index. The frames still leave from this node's MAC; the answer's hardware
   * address is the other node's, so traffic keeps going to it.
   */
  readonly onBehalf?: ReadonlyMap<number, MAC>;
}

export interface AnswerTable {
  /** IPv4 addresses by value (shared/ip IP.value). */
  readonly v4: ReadonlyMap<bigint, AnsweredIP>;
  readonly v6: ReadonlyMap<bigint, AnsweredIP>;
  /** Every MAC of this node's answering interfaces: frames from them are our own. */
  readonly ownMacs: ReadonlySet<MAC>;
}

export const EMPTY_TABLE: AnswerTable = { v4: new Map(), v6: new Map(), ownMacs: new Set() };

export interface ReceivingInterface {
  readonly index: number;
  readonly mac: MAC;
}

/**
 * How another host claimed an IP this node announces:
 * - `garp`: a gratuitous ARP, request or reply form (RFC 5227 §3, RFC 2002 §4.6);
 * - `arpSender`: an ARP request sent from the IP (the sender uses it as its own);
 * - `unsolicitedNA`: a neighbor advertisement for it to a multicast group (RFC 4861 §7.2.6);
 * - `nsSource`: a neighbor solicitation sent from the IP.
 */
export type ConflictKind = 'garp' | 'arpSender' | 'unsolicitedNA' | 'nsSource';

export type IgnoreReason =
  /** Not ARP for Ethernet/IPv4 nor NS/NA (or failing RFC 4861 validation). */
  | 'notNeighborDiscovery'
  | 'malformed'
  /** Sent by one of this node's interfaces (seen on another interface of the same LAN). */
  | 'own'
  /** A question about, or an announcement of, an IP this node does not announce. */
  | 'notAnnounced'
  /** The IP is announced, but not on the interface the frame came in on. */
  | 'interfaceNotAllowed'
  /** An ARP reply or an NA that claims nothing of ours. */
  | 'notAQuestion';

export interface FrameOutcome {
  /** The announced IP a request asked for (counted as a request received). */
  readonly asked?: string;
  /** The answer to send back out of the receiving interface. */
  readonly reply?: Uint8Array;
  readonly protocol?: 'arp' | 'ndp';
  readonly conflict?: { readonly ipText: string; readonly mac: MAC; readonly kind: ConflictKind };
  readonly ignored?: IgnoreReason;
}

function lookup(map: ReadonlyMap<bigint, AnsweredIP>, ip: bigint, ifindex: number): AnsweredIP | IgnoreReason {
  const a = map.get(ip);
  if (!a) return 'notAnnounced';
  return a.ifindexes.has(ifindex) ? a : 'interfaceNotAllowed';
}

/** Decides what to do with `frame`, received on `iface`. Never throws on bad bytes. */
export function answerFrame(frame: Uint8Array, iface: ReceivingInterface, table: AnswerTable): FrameOutcome {
  try {
    return decide(frame, iface, table);
  } catch (err) {
    if (err instanceof L2DecodeError) return { ignored: 'malformed' };
    throw err;
  }
}

function decide(frame: Uint8Array, iface: ReceivingInterface, table: AnswerTable): FrameOutcome {
  const arp = decodeArpFrame(frame);
  if (arp.ok) {
    const { ethernet, arp: p } = arp.value;
    if (table.ownMacs.has(ethernet.source) || table.ownMacs.has(p.senderMAC)) return { ignored: 'own' };
    // Another host using or announcing one of our IPs (any interface: a claim is a claim).
    const claimed = table.v4.get(p.senderIP);
    // The node answered for, speaking for itself again: not a conflict.
    if (claimed && isOnBehalfMAC(claimed, p.senderMAC)) return { ignored: 'own' };
    if (claimed && p.senderIP !== 0n) {
      const conflict = { ipText: claimed.ipText, mac: p.senderMAC, kind: isGratuitous(p) ? ('garp' as const) : ('arpSender' as const) };
      if (isGratuitous(p) || p.operation === 'reply') return { conflict };
      return { conflict, ...answerArp(arp.value, iface, table) };
    }
    if (p.operation !== 'request') return { ignored: 'notAQuestion' };
    // A probe (sender 0.0.0.0, RFC 5227 §2.1.1) is answered too: that is how the prober
    // learns the address is taken.
    return answerArp(arp.value, iface, table);
  }
  if (arp.drop !== 'not-arp') return { ignored: 'notNeighborDiscovery' };

  const ndp = decodeNdpFrame(frame);
  if (!ndp.ok) return { ignored: 'notNeighborDiscovery' };
  const { ethernet, ip, message } = ndp.value;
  if (table.ownMacs.has(ethernet.source)) return { ignored: 'own' };
  if (message.type === 'neighbor-advertisement') {
    const claimed = table.v6.get(message.target);
    if (!claimed) return { ignored: 'notAnnounced' };
    const mac = message.targetLinkLayerAddress ?? ethernet.source;
    if (table.ownMacs.has(mac) || isOnBehalfMAC(claimed, mac)) return { ignored: 'own' };
    return { conflict: { ipText: claimed.ipText, mac, kind: 'unsolicitedNA' } };
  }
  const from = table.v6.get(ip.source);
  const conflict = from && !isOnBehalfMAC(from, message.sourceLinkLayerAddress ?? ethernet.source) ? { ipText: from.ipText, mac: message.sourceLinkLayerAddress ?? ethernet.source, kind: 'nsSource' as const } : undefined;
  const found = lookup(table.v6, message.target, iface.index);
  if (typeof found === 'string') return { ...(conflict ? { conflict } : {}), ignored: found };
  // A DAD probe (source ::) for our IP is answered to all-nodes (RFC 4861 §7.2.4): the
  // prober then knows the address is in use.
  return {
    ...(conflict ? { conflict } : {}),
    asked: found.ipText,
    reply: neighborAdvertisementFrame(ndp.value, iface.mac, found.onBehalf?.get(iface.index)),
    protocol: 'ndp',
  };
}

function answerArp(request: ArpFrame, iface: ReceivingInterface, table: AnswerTable): FrameOutcome {
  const found = lookup(table.v4, request.arp.targetIP, iface.index);
  if (typeof found === 'string') return { ignored: found };
  return { asked: found.ipText, reply: arpReplyFrame(request, iface.mac, found.onBehalf?.get(iface.index)), protocol: 'arp' };
}

function isOnBehalfMAC(a: AnsweredIP, mac: MAC): boolean {
  if (!a.onBehalf) return false;
  for (const m of a.onBehalf.values()) if (m === mac) return true;
  return false;
}
