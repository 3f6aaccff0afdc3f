// Cluster IP and node port allocation, as kube-apiserver's service allocators do it
// (pkg/registry/core/service/ipallocator, portallocator), except that free values are
// handed out in order from a moving cursor instead of at random, so tests are repeatable.
import { formatIP, parseCIDR, parseIP, type Family, type IPRange } from '../../shared/ip/ip.js';

export type AllocateResult = 'ok' | 'out-of-range' | 'taken';

export class IPAllocator {
  readonly family: Family;
  readonly cidr: string;
  private readonly first: bigint;
  private readonly last: bigint;
  private readonly used = new Set<bigint>();
  private cursor: bigint;

  constructor(cidr: string) {
    const r = parseCIDR(cidr);
    if (!r.ok) throw new Error(`service CIDR ${cidr}: ${r.error}`);
    const range: IPRange = r.value;
    this.family = range.family;
    this.cidr = cidr;
    // The network address is never handed out; in IPv4 neither is the broadcast address.
    this.first = range.first + 1n;
    this.last = this.family === 4 ? range.last - 1n : range.last;
    if (this.last < this.first) throw new Error(`service CIDR ${cidr} is too small`);
    this.cursor = this.first;
  }

  get size(): bigint {
    return this.last - this.first + 1n;
  }

  allocateNext(): string | undefined {
    if (BigInt(this.used.size) >= this.size) return undefined;
    for (;;) {
      const v = this.cursor;
      this.cursor = v >= this.last ? this.first : v + 1n;
      if (!this.used.has(v)) {
        this.used.add(v);
        return formatIP({ family: this.family, value: v });
      }
    }
  }

  allocate(text: string): AllocateResult {
    const ip = parseIP(text);
    if (!ip || ip.family !== this.family || ip.value < this.first || ip.value > this.last) return 'out-of-range';
    if (this.used.has(ip.value)) return 'taken';
    this.used.add(ip.value);
    return 'ok';
  }

  release(text: string): void {
    const ip = parseIP(text);
    if (ip && ip.family === this.family) this.used.delete(ip.value);
  }

  has(text: string): boolean {
    const ip = parseIP(text);
    return !!ip && ip.family === this.family && this.used.has(ip.value);
  }
}

export class PortAllocator {
  private readonly used = new Set<number>();
  private cursor: number;

  constructor(
    readonly base = 30000,
    readonly max = 32767,
  ) {
    this.cursor = base;
  }

  get range(): string {
    return `${this.base}-${this.max}`;
  }

  allocateNext(): number | undefined {
    if (this.used.size > this.max - this.base) return undefined;
    for (;;) {
      const p = this.cursor;
      this.cursor = p >= this.max ? this.base : p + 1;
      if (!this.used.has(p)) {
        this.used.add(p);
        return p;
      }
    }
  }

  allocate(port: number): AllocateResult {
    if (port < this.base || port > this.max) return 'out-of-range';
    if (this.used.has(port)) return 'taken';
    this.used.add(port);
    return 'ok';
  }

  release(port: number): void {
    this.used.delete(port);
  }
}
