// A client of an FRR daemon's vtysh socket (`<vty_socket dir>/bgpd.vty`), so the benchmark
// can ask bgpd for its summary every few milliseconds without starting a vtysh process
// each time. The protocol is vtysh's own: a command line ending in NUL; the reply is the
// output followed by three NULs and a status byte.
import net from 'node:net';

export class VtyClient {
  private buf = Buffer.alloc(0);
  private waiting: { resolve: (s: string) => void; reject: (e: Error) => void } | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.deliver();
    });
    sock.on('error', (e) => this.waiting?.reject(e));
    sock.on('close', () => this.waiting?.reject(new Error('vty socket closed')));
  }

  static connect(path: string): Promise<VtyClient> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(path);
      s.once('connect', () => resolve(new VtyClient(s)));
      s.once('error', reject);
    });
  }

  private deliver(): void {
    if (!this.waiting) return;
    for (let i = 0; i + 3 < this.buf.length; i++) {
      if (this.buf[i] === 0 && this.buf[i + 1] === 0 && this.buf[i + 2] === 0) {
        const out = this.buf.subarray(0, i).toString('utf8');
        const status = this.buf[i + 3];
        this.buf = this.buf.subarray(i + 4);
        const w = this.waiting;
        this.waiting = undefined;
        if (status === 0) w.resolve(out);
        else w.reject(new Error(`vty command failed (status ${status}): ${out.trim()}`));
        return;
      }
    }
  }

  /** Runs one command; commands are serialized. */
  run(command: string): Promise<string> {
    const p = this.chain.then(
      () =>
        new Promise<string>((resolve, reject) => {
          this.waiting = { resolve, reject };
          this.sock.write(`${command}\0`);
          this.deliver();
        }),
    );
    this.chain = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.sock.destroy();
  }
}

export interface PeerSummary {
  state: string;
  pfxRcd: number;
}

/** One neighbour's state and received-prefix count, per family, from `show bgp summary json`. */
export async function peerSummary(vty: VtyClient, peer: string): Promise<{ v4?: PeerSummary; v6?: PeerSummary }> {
  const doc = JSON.parse((await vty.run('show bgp summary json')) || '{}') as Record<string, { peers?: Record<string, { state?: string; pfxRcd?: number }> }>;
  const pick = (fam: string): PeerSummary | undefined => {
    const p = doc[fam]?.peers?.[peer];
    return p ? { state: p.state ?? 'unknown', pfxRcd: p.pfxRcd ?? 0 } : undefined;
  };
  const v4 = pick('ipv4Unicast');
  const v6 = pick('ipv6Unicast');
  return { ...(v4 ? { v4 } : {}), ...(v6 ? { v6 } : {}) };
}
