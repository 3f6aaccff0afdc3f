// Speaker membership as a pure state machine: authenticated messages and clock ticks in,
// a new state and up/down events out. The adapter (member.ts) owns the socket and timers
// and passes the time in; nothing here reads a clock.
//
// Liveness. Every speaker sends `alive` to every other speaker's node address each
// `interval` and says how long that interval is. A peer is down once nothing has been
// heard from it for `detectMultiplier` × its interval (3.5 × 100 ms = 350 ms by default,
// three missed heartbeats plus jitter margin, as BFD's Detection Time, RFC 5880 §6.8.4),
// and at once when it says `leave`. Heartbeats travel the announcing network, so a dead
// NIC is a dead node (leases through the API server miss that: Cilium #35507).
//
// Joining. A speaker heartbeats from the start but listens for one detection time before
// it reports anything (`ready`), so that it never starts by believing it is alone and
// claiming every IP; peers heard in that time are live at once (speakers started together
// all see each other by then). After that, a peer with a new boot counts as live only
// once heard without a break for `joinDelayMs` (default 500 ms, more than the joiner's
// 350 ms of listening): the joiner starts announcing when it becomes ready, and the node
// it takes IPs from stops only after that (make-before-break). A peer that timed out and
// comes back with the same boot waits `holdDownMs` (default 0: a healed partition should
// end the double announcement as soon as possible).
//
// Restarts. A speaker stopping says `leave`, and with it how long to hold its place
// (`hold`, codec.ts). Its peers then keep its node live in every election, so that
// nobody takes its IPs, for as long as its node is seen up (the adapter probes the node's
// kernel, which answers while the speaker process is gone: member.ts) and at most `hold`
// ms. The node's next boot takes the place over at once, with no join delay: it never
// lost it. A speaker restart thus moves no IP. Moving one would reset every TCP
// connection through it, since the new node has none of the old one's state (MetalLB
// #805), while the old node's kernel goes on serving them throughout the restart; only
// ARP/NDP answers pause, which clients with the address cached never need and clients
// resolving it retry (Linux: 3 requests 1 s apart). If the node stops answering (it was
// shutting down, its link went) the hold ends after one detection time and its IPs fail
// over as for a cut link; if its speaker is not back within `hold` (removed from the
// node, crash-looping) they are taken over then. A `leave` without a hold (or from a
// speaker built before holds) is the make-before-break leave: peers take over at once
// while the leaver answers through its grace period.
//
// The hold changes only who is live, so every speaker still runs the same election on
// the same live set; a speaker that starts while another is held has not heard the
// `leave` and does not count the held node (it joins the election when it comes back).
//
// Replay. Every message carries the sender's boot (start time + nonce) and a sequence
// number. Per sender, only the newest boot is accepted and, within it, only increasing
// sequence numbers: a replayed or reordered datagram is dropped. A boot older than the
// known one is accepted only once the known boot has been silent for `maxClockSkewMs`
// (a restart after the clock stepped back). When a boot is first seen its `sentAt` must be
// within `maxClockSkewMs` of the local wall clock, so a speaker that has just started
// cannot be fed packets recorded long ago. 0 turns that check off (older boots then still
// wait for 60 s of silence).
import type { BootId, Message } from './codec.js';

/**
 * How long a leaving speaker asks its peers to keep its node in the elections while it
 * restarts: a DaemonSet pod replaced on a node that has its image is back in a few seconds.
 */
export const DEFAULT_RESTART_HOLD_MS = 10_000;

export interface CoreOptions {
  /** The local node name; its own packets (reflected back) are dropped. */
  self: string;
  /** The local heartbeat interval, ms; also sets how long to listen before `ready`. */
  intervalMs: number;
  detectMultiplier: number;
  joinDelayMs: number;
  holdDownMs: number;
  maxClockSkewMs: number;
}

export const DEFAULT_CORE_OPTIONS = {
  intervalMs: 100,
  detectMultiplier: 3.5,
  joinDelayMs: 500,
  holdDownMs: 0,
  maxClockSkewMs: 60_000,
} as const;

/** A peer whose speaker left asking its node be kept live while it restarts. */
export interface RestartHold {
  /** Monotonic ms at which the hold ends whatever happens. */
  readonly until: number;
  /** Monotonic ms of the last sign the node is up (the leave, then node probes). */
  readonly seen: number;
}

export interface PeerState {
  readonly boot: BootId;
  readonly highestSeq: number;
  /** Monotonic ms of the last accepted message. */
  readonly lastHeard: number;
  /** The interval the peer promised in its last message, ms. */
  readonly interval: number;
  /** Start of the current unbroken run of heartbeats (monotonic ms). */
  readonly since: number;
  readonly live: boolean;
  /** This boot has been live before (so coming back is a recovery, not a join). */
  readonly wasLive: boolean;
  /** This boot said `leave`: nothing more from it is accepted. */
  readonly left: boolean;
  /** Set while the peer is held live through a restart of its speaker. */
  readonly hold?: RestartHold;
}

export interface MembershipState {
  readonly opts: Readonly<CoreOptions>;
  readonly startedAt: number;
  readonly ready: boolean;
  readonly peers: ReadonlyMap<string, PeerState>;
}

/** Now, twice: monotonic for liveness, wall clock (ms since the epoch) to judge `sentAt`. */
export interface Now {
  mono: number;
  wall: number;
}

/** `resumed`: the next boot of a held peer (it never stopped counting as live). */
export type UpReason = 'settled' | 'joined' | 'recovered' | 'resumed';
/** `nodeGone`: a held peer's node stopped answering; `holdExpired`: its speaker did not come back in time. */
export type DownReason = 'timeout' | 'leave' | 'restarted' | 'nodeGone' | 'holdExpired';
export type MembershipEvent =
  | { type: 'ready' }
  | { type: 'up'; node: string; reason: UpReason }
  | { type: 'down'; node: string; reason: DownReason }
  /** A live peer left asking to be held for `ms`: it stays live, nothing changes yet. */
  | { type: 'hold'; node: string; ms: number };

/** Why an authentic message was dropped. */
export type CoreDropReason = 'self' | 'replay' | 'oldBoot' | 'stale' | 'left';

export interface Step {
  state: MembershipState;
  events: MembershipEvent[];
  drop?: CoreDropReason;
}

export function initialState(opts: Partial<CoreOptions> & { self: string }, now: number): MembershipState {
  return { opts: { ...DEFAULT_CORE_OPTIONS, ...opts }, startedAt: now, ready: false, peers: new Map() };
}

/** How long `peer` may stay silent before it is down, ms. */
export function detectionTime(state: MembershipState, peer: Pick<PeerState, 'interval'>): number {
  return peer.interval * state.opts.detectMultiplier;
}

function settleTime(state: MembershipState): number {
  return state.opts.intervalMs * state.opts.detectMultiplier;
}

/** How long a boot must be silent before an older boot of the same node is believed. */
function oldBootSilence(state: MembershipState): number {
  return state.opts.maxClockSkewMs > 0 ? state.opts.maxClockSkewMs : DEFAULT_CORE_OPTIONS.maxClockSkewMs;
}

function compareBoot(a: BootId, b: BootId): number {
  return a.time - b.time || a.nonce - b.nonce;
}

/** How long `peer` must be heard without a break before it is up again. */
function upDelay(state: MembershipState, peer: PeerState): number {
  if (!state.ready) return 0;
  return peer.wasLive ? state.opts.holdDownMs : state.opts.joinDelayMs;
}

function withPeer(state: MembershipState, node: string, peer: PeerState): MembershipState {
  const peers = new Map(state.peers);
  peers.set(node, peer);
  return { ...state, peers };
}

/** Marks the peer up if it has been heard long enough; mutates `events`. */
function maybeUp(state: MembershipState, node: string, peer: PeerState, now: number, events: MembershipEvent[]): PeerState {
  if (peer.live || peer.left || now - peer.since < upDelay(state, peer)) return peer;
  const reason: UpReason = !state.ready ? 'settled' : peer.wasLive ? 'recovered' : 'joined';
  events.push({ type: 'up', node, reason });
  return { ...peer, live: true, wasLive: true };
}

export function onMessage(state: MembershipState, m: Message, now: Now): Step {
  if (m.node === state.opts.self) return { state, events: [], drop: 'self' };
  const events: MembershipEvent[] = [];
  const known = state.peers.get(m.node);

  if (!known || compareBoot(m.boot, known.boot) !== 0) {
    if (known && compareBoot(m.boot, known.boot) < 0 && now.mono - known.lastHeard <= oldBootSilence(state)) {
      return { state, events, drop: 'oldBoot' };
    }
    if (state.opts.maxClockSkewMs > 0 && Math.abs(now.wall - m.sentAt) > state.opts.maxClockSkewMs) {
      return { state, events, drop: 'stale' };
    }
    if (known?.hold && m.type === 'alive') {
      // The held node's next boot: it takes its own place back, still live.
      events.push({ type: 'up', node: m.node, reason: 'resumed' });
      const peer: PeerState = { boot: m.boot, highestSeq: m.seq, lastHeard: now.mono, interval: m.interval, since: now.mono, live: true, wasLive: true, left: false };
      return { state: withPeer(state, m.node, peer), events };
    }
    if (known?.live) events.push({ type: 'down', node: m.node, reason: 'restarted' });
    let peer: PeerState = {
      boot: m.boot,
      highestSeq: m.seq,
      lastHeard: now.mono,
      interval: m.interval,
      since: now.mono,
      live: false,
      wasLive: false,
      left: m.type === 'leave',
    };
    peer = maybeUp(state, m.node, peer, now.mono, events);
    return { state: withPeer(state, m.node, peer), events };
  }

  if (m.seq <= known.highestSeq) return { state, events, drop: 'replay' };
  if (known.left) return { state, events, drop: 'left' };
  if (m.type === 'leave') {
    const hold = m.hold ?? 0;
    if (known.live && hold > 0) {
      events.push({ type: 'hold', node: m.node, ms: hold });
      const peer: PeerState = { ...known, highestSeq: m.seq, lastHeard: now.mono, left: true, hold: { until: now.mono + hold, seen: now.mono } };
      return { state: withPeer(state, m.node, peer), events };
    }
    if (known.live) events.push({ type: 'down', node: m.node, reason: 'leave' });
    const peer = { ...known, highestSeq: m.seq, lastHeard: now.mono, live: false, left: true };
    return { state: withPeer(state, m.node, peer), events };
  }
  // A heartbeat after a silence longer than the detection time breaks the run even if no
  // tick came in between to notice.
  const broken = now.mono - known.lastHeard >= detectionTime(state, known);
  if (broken && known.live) events.push({ type: 'down', node: m.node, reason: 'timeout' });
  let peer: PeerState = {
    ...known,
    highestSeq: m.seq,
    lastHeard: now.mono,
    interval: m.interval,
    since: broken ? now.mono : known.since,
    live: known.live && !broken,
  };
  peer = maybeUp(state, m.node, peer, now.mono, events);
  return { state: withPeer(state, m.node, peer), events };
}

/** Advances time: the end of the listening phase, timeouts, and joins that have waited long enough. */
export function onTick(state: MembershipState, now: number): Step {
  const events: MembershipEvent[] = [];
  let next = state;
  if (!state.ready && now - state.startedAt >= settleTime(state)) {
    next = { ...state, ready: true };
    events.push({ type: 'ready' });
  }
  let peers: Map<string, PeerState> | undefined;
  for (const [node, peer] of next.peers) {
    let p = peer;
    if (p.hold) {
      const reason: DownReason | undefined = now >= p.hold.until ? 'holdExpired' : now - p.hold.seen >= detectionTime(next, p) ? 'nodeGone' : undefined;
      if (reason) {
        events.push({ type: 'down', node, reason });
        p = { ...p, live: false, hold: undefined };
      }
    } else if (p.live && now - p.lastHeard >= detectionTime(next, p)) {
      events.push({ type: 'down', node, reason: 'timeout' });
      p = { ...p, live: false };
    } else if (!p.live && !p.left && now - p.lastHeard < detectionTime(next, p)) {
      p = maybeUp(next, node, p, now, events);
    }
    if (p !== peer) (peers ??= new Map(next.peers)).set(node, p);
  }
  if (peers) next = { ...next, peers };
  return { state: next, events };
}

/**
 * The next time (monotonic ms) at which onTick could change something, or undefined if
 * nothing is pending. The adapter sleeps until then, so detection is not rounded up to a
 * polling period.
 */
export function nextDeadline(state: MembershipState): number | undefined {
  let at = state.ready ? Number.POSITIVE_INFINITY : state.startedAt + settleTime(state);
  for (const p of state.peers.values()) {
    if (p.hold) {
      at = Math.min(at, p.hold.until, p.hold.seen + detectionTime(state, p));
      continue;
    }
    if (p.left) continue;
    const expires = p.lastHeard + detectionTime(state, p);
    if (p.live) at = Math.min(at, expires);
    else {
      const upAt = p.since + upDelay(state, p);
      if (upAt < expires) at = Math.min(at, upAt);
    }
  }
  return Number.isFinite(at) ? at : undefined;
}

/** A sign that `node`'s host is up (member.ts probes held peers' nodes): extends its hold. */
export function onNodeSeen(state: MembershipState, node: string, now: number): MembershipState {
  const p = state.peers.get(node);
  if (!p?.hold || now <= p.hold.seen) return state;
  return withPeer(state, node, { ...p, hold: { ...p.hold, seen: now } });
}

/** Peers held through a restart of their speaker: the nodes to probe. */
export function heldPeers(state: MembershipState): string[] {
  const out: string[] = [];
  for (const [node, p] of state.peers) if (p.hold) out.push(node);
  return out;
}

/** The live speakers, the local one included. Meaningful once `ready`. */
export function liveNodes(state: MembershipState): Set<string> {
  const out = new Set([state.opts.self]);
  for (const [node, p] of state.peers) if (p.live) out.add(node);
  return out;
}

// ---------------------------------------------------------------- the sending side

/** What a speaker needs to number its own messages. */
export interface Sender {
  readonly node: string;
  readonly boot: BootId;
  readonly seq: number;
}

export function newSender(node: string, bootTime: number, nonce: number): Sender {
  return { node, boot: { time: Math.floor(bootTime), nonce: nonce >>> 0 }, seq: 0 };
}

/** The next message to send (any destination) and the sender with its sequence advanced. */
export function nextMessage(sender: Sender, type: Message['type'], interval: number, wall: number, hold = 0): { sender: Sender; message: Message } {
  const seq = sender.seq + 1;
  return {
    sender: { ...sender, seq },
    message: { type, node: sender.node, boot: sender.boot, seq, sentAt: Math.max(0, Math.floor(wall)), interval, ...(hold > 0 ? { hold } : {}) },
  };
}
