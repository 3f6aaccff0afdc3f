// In-memory TCP for session tests: a connection pair whose bytes cross on setImmediate
// (FakeClock.advance lets those run), a Transport that hands each connect a fresh pair,
// and a FakePeer that plays the router with herald's own codec.
import { EXTENDED_MAX_MESSAGE_SIZE, INITIAL_CONTEXT, type CodecContext } from '../../../../speaker/bgp/context.js';
import { IPV4_UNICAST, IPV6_UNICAST, type AddressFamily } from '../../../../speaker/bgp/family.js';
import { Framer } from '../../../../speaker/bgp/framer.js';
import { decodeMessage, encodeMessage, KEEPALIVE, type BGPMessage } from '../../../../speaker/bgp/messages.js';
import type { NotificationMessage } from '../../../../speaker/bgp/notification.js';
import type { OpenMessage } from '../../../../speaker/bgp/open.js';
import type { ConnectRequest, ConnectResult, Connection, ConnectionHandlers, PassiveRegistry, Transport } from '../../../../speaker/bgp/transport.js';
import { announcedPrefixes, withdrawnPrefixes, type UpdateMessage } from '../../../../speaker/bgp/update.js';
import type { Capability } from '../../../../speaker/bgp/capabilities.js';
import { prefixText } from '../../../../speaker/bgp/prefix.js';

export class FakeConnection implements Connection {
  other!: FakeConnection;
  closed = false;
  /** How this side ended: 'end' (FIN after the queued bytes), 'destroy', or by the other side. */
  endedBy: 'end' | 'destroy' | 'remote' | undefined;
  /**
   * This side leaves the connection open when the other ends it, until it closes itself,
   * as a router does until it has acted on the NOTIFICATION before the FIN. Default: it
   * closes at once.
   */
  lingers = false;
  /** The other side ended the connection while this one lingers. */
  finReceived = false;
  private handlers: ConnectionHandlers | undefined;
  private pending: Buffer[] = [];
  private readonly closeWaiters: (() => void)[] = [];

  constructor(
    readonly localAddress: string,
    readonly localPort: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {}

  setHandlers(h: ConnectionHandlers): void {
    this.handlers = h;
    const queued = this.pending;
    this.pending = [];
    for (const b of queued) h.data(b);
  }

  write(data: Buffer): void {
    if (this.closed) return;
    const copy = Buffer.from(data);
    setImmediate(() => this.other.deliver(copy));
  }

  end(): Promise<void> {
    return this.close('end');
  }

  destroy(): void {
    if (this.closed && this.closeWaiters.length > 0) {
      // Ended, the other side lingering: cut it (an RST).
      this.endedBy = 'destroy';
      setImmediate(() => this.other.remoteClosed());
      for (const resolve of this.closeWaiters.splice(0)) resolve();
      return;
    }
    void this.close('destroy');
  }

  private close(how: 'end' | 'destroy'): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.endedBy = how;
    if (how === 'end' && this.other.lingers && !this.other.closed) {
      // Like a TCP socket: closed once the other side has closed too.
      return new Promise((resolve) => {
        this.closeWaiters.push(resolve);
        setImmediate(() => {
          this.other.finReceived = true;
        });
      });
    }
    return new Promise((resolve) =>
      setImmediate(() => {
        this.other.remoteClosed();
        resolve();
      }),
    );
  }

  private deliver(b: Buffer): void {
    if (this.closed) return;
    if (this.handlers) this.handlers.data(b);
    else this.pending.push(b);
  }

  private remoteClosed(): void {
    for (const resolve of this.closeWaiters.splice(0)) resolve();
    if (this.closed) return;
    this.closed = true;
    this.endedBy = 'remote';
    this.handlers?.close();
  }
}

export function connectionPair(local: string, remote: string): [FakeConnection, FakeConnection] {
  const a = new FakeConnection(local, 40000, remote, 179);
  const b = new FakeConnection(remote, 179, local, 40000);
  a.other = b;
  b.other = a;
  return [a, b];
}

export interface PeerOpenOptions {
  asn?: number;
  holdTime?: number;
  bgpIdentifier?: string;
  families?: AddressFamily[];
  gracefulRestart?: boolean;
  extendedMessages?: boolean;
  fourOctetAS?: boolean;
}

/** The router: reads what the session sends, answers with herald's codec. */
export class FakePeer {
  readonly received: BGPMessage[] = [];
  ctx: CodecContext = { ...INITIAL_CONTEXT, maxMessageSize: EXTENDED_MAX_MESSAGE_SIZE };
  private readonly framer = new Framer(EXTENDED_MAX_MESSAGE_SIZE);
  /** Called for each message as it arrives. */
  onMessage: ((m: BGPMessage) => void) | undefined;

  constructor(readonly conn: FakeConnection) {
    conn.setHandlers({
      data: (chunk) => {
        for (const f of this.framer.push(chunk)) {
          const m = decodeMessage(f, this.ctx);
          this.received.push(m);
          this.onMessage?.(m);
        }
      },
      close: () => {},
    });
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  send(m: BGPMessage): void {
    this.conn.write(encodeMessage(m, this.ctx));
  }

  sendRaw(b: Buffer): void {
    this.conn.write(b);
  }

  /** Sends our OPEN and, when told, the KEEPALIVE that confirms theirs; sets the codec context for what follows. */
  open(o: PeerOpenOptions = {}, confirm = true): OpenMessage {
    const asn = o.asn ?? 64500;
    const families = o.families ?? [IPV4_UNICAST, IPV6_UNICAST];
    const caps: Capability[] = families.map((f) => ({ type: 'multiprotocol', afi: f.afi, safi: f.safi }));
    caps.push({ type: 'routeRefresh' });
    if (o.fourOctetAS ?? true) caps.push({ type: 'fourOctetAS', asn });
    if (o.extendedMessages) caps.push({ type: 'extendedMessage' });
    if (o.gracefulRestart) caps.push({ type: 'gracefulRestart', restartState: false, notification: false, restartTime: 120, families: families.map((f) => ({ ...f, forwardingState: false })) });
    const open: OpenMessage = { type: 'open', version: 4, myAS: asn > 0xffff ? 23456 : asn, holdTime: o.holdTime ?? 90, bgpIdentifier: o.bgpIdentifier ?? '192.0.2.1', capabilities: caps };
    this.send(open);
    if (confirm) this.send(KEEPALIVE);
    this.ctx = { fourOctetAS: o.fourOctetAS ?? true, maxMessageSize: o.extendedMessages ? EXTENDED_MAX_MESSAGE_SIZE : 4096 };
    return open;
  }

  messages<T extends BGPMessage['type']>(type: T): Extract<BGPMessage, { type: T }>[] {
    return this.received.filter((m) => m.type === type) as Extract<BGPMessage, { type: T }>[];
  }

  get updates(): UpdateMessage[] {
    return this.messages('update');
  }

  get notifications(): NotificationMessage[] {
    return this.messages('notification');
  }

  /** The routes the peer holds after applying every UPDATE in order: prefix -> UPDATE that announced it. */
  rib(): Map<string, UpdateMessage> {
    const rib = new Map<string, UpdateMessage>();
    for (const u of this.updates) {
      for (const p of withdrawnPrefixes(u)) rib.delete(prefixText(p));
      for (const p of announcedPrefixes(u)) rib.set(prefixText(p), u);
    }
    return rib;
  }
}

export type ConnectBehaviour = 'accept' | 'refuse' | 'hang';

export class FakeTransport implements Transport {
  readonly requests: ConnectRequest[] = [];
  readonly peers: FakePeer[] = [];
  behaviour: ConnectBehaviour = 'accept';
  localAddress = '192.0.2.11';
  /** Runs on every new peer before the session sees the connection. */
  onPeer: ((p: FakePeer) => void) | undefined;

  connect(req: ConnectRequest, done: (r: ConnectResult) => void): { cancel(): void } {
    this.requests.push(req);
    if (this.behaviour === 'hang') return { cancel: () => {} };
    const refuse = this.behaviour === 'refuse';
    const t = setImmediate(() => {
      if (refuse) return done({ ok: false, error: new Error(`connect ECONNREFUSED ${req.peerAddress}:${req.peerPort}`) });
      const [ours, theirs] = connectionPair(req.sourceAddress ?? this.localAddress, req.peerAddress);
      const peer = new FakePeer(theirs);
      this.peers.push(peer);
      this.onPeer?.(peer);
      done({ ok: true, connection: ours });
    });
    return { cancel: () => clearImmediate(t) };
  }

  get peer(): FakePeer {
    const p = this.peers.at(-1);
    if (!p) throw new Error('no connection yet');
    return p;
  }
}

/** A PassiveRegistry the test feeds connections into. */
export class FakeRegistry implements PassiveRegistry {
  readonly registered: { peerAddress: string; localAddress?: string; password?: string }[] = [];
  private accept: ((c: Connection) => void) | undefined;

  register(peer: { peerAddress: string; localAddress?: string; password?: string }, accept: (c: Connection) => void): () => void {
    this.registered.push(peer);
    this.accept = accept;
    return () => {
      this.registered.splice(this.registered.indexOf(peer), 1);
      if (this.accept === accept) this.accept = undefined;
    };
  }

  /** The peer connects to us; returns its side, or undefined when nobody is registered. */
  dial(local = '192.0.2.11', remote = '192.0.2.1'): FakePeer | undefined {
    if (!this.accept) return undefined;
    const [ours, theirs] = connectionPair(local, remote);
    const peer = new FakePeer(theirs);
    this.accept(ours);
    return peer;
  }
}
