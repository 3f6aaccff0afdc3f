// An in-memory UDP network for BFD driver tests: each host gets a BFDTransport; datagrams
// cross on setImmediate (FakeClock.advance lets those run), can be cut, and are recorded.
// They arrive with the TTL `ttlOnArrival` (255: sent on the link itself), or the one given.
import type { BFDListener, BFDSender, BFDTransport, Family, SenderOptions } from '../../../../speaker/bfd/transport.js';
import { addressKey } from '../../../../speaker/bfd/transport.js';

export interface Datagram {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly data: Buffer;
  readonly ttl?: number;
}

export class FakeNetwork {
  readonly sent: Datagram[] = [];
  /** Drop every datagram while set (a cut link). */
  cut = false;
  /** The TTL senders' datagrams arrive with: 255 on one link, less past routers. */
  ttlOnArrival = 255;
  private readonly listeners = new Map<string, (data: Buffer, from: string, ttl?: number) => void>();

  /** The transport of a host with these addresses; the first is its default source. */
  host(...addresses: string[]): FakeHost {
    return new FakeHost(this, addresses);
  }

  register(address: string, port: number, fn: (data: Buffer, from: string, ttl?: number) => void): () => void {
    const key = `${addressKey(address)}/${port}`;
    this.listeners.set(key, fn);
    return () => this.listeners.delete(key);
  }

  deliver(d: Datagram): void {
    this.sent.push(d);
    if (this.cut) return;
    const fn = this.listeners.get(`${addressKey(d.to)}/${d.port}`);
    const ttl = d.ttl ?? this.ttlOnArrival;
    if (fn) setImmediate(() => fn(Buffer.from(d.data), addressKey(d.from), ttl));
  }

  /** Injects a datagram as if `from` had sent it, arriving with `ttl` (default ttlOnArrival). */
  inject(from: string, to: string, port: number, data: Buffer, ttl?: number): void {
    this.deliver({ from, to, port, data, ...(ttl !== undefined ? { ttl } : {}) });
  }
}

export class FakeHost implements BFDTransport {
  readonly senders: FakeSender[] = [];
  readonly listens: { family: Family; port: number; closed: boolean }[] = [];
  /** Makes listen() fail with this errno code. */
  listenError: string | undefined;

  constructor(
    private readonly net: FakeNetwork,
    readonly addresses: string[],
  ) {}

  listen(family: Family, port: number, onPacket: (data: Buffer, from: string, ttl?: number) => void): Promise<BFDListener> {
    if (this.listenError) return Promise.reject(Object.assign(new Error(`bind ${this.listenError}`), { code: this.listenError }));
    const entry = { family, port, closed: false };
    this.listens.push(entry);
    const off = this.addresses.filter((a) => (a.includes(':') ? 6 : 4) === family).map((a) => this.net.register(a, port, onPacket));
    return Promise.resolve({
      close: () => {
        entry.closed = true;
        for (const o of off) o();
      },
    });
  }

  sender(opts: SenderOptions): BFDSender {
    const from = opts.localAddress ?? this.addresses.find((a) => (a.includes(':') ? 6 : 4) === opts.family) ?? '';
    const s = new FakeSender(this.net, from, opts);
    this.senders.push(s);
    return s;
  }
}

export class FakeSender implements BFDSender {
  closed = false;
  constructor(
    private readonly net: FakeNetwork,
    readonly from: string,
    readonly opts: SenderOptions,
  ) {}

  send(data: Buffer): void {
    if (this.closed) throw new Error('send on a closed sender');
    this.net.deliver({ from: this.from, to: this.opts.peerAddress, port: this.opts.port, data: Buffer.from(data) });
  }

  close(): void {
    this.closed = true;
  }
}
