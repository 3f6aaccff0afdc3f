// Solicited-node multicast memberships for the IPv6 service IPs an interface answers for
// (RFC 4861 §7.2.1: a node joins the solicited-node group of each of its addresses). The
// addon joins with IPV6_JOIN_GROUP on a socket that only exists to hold memberships; see
// src/mcast.c for why that also makes the NIC and MLD-snooping switches deliver them.
import { canonicalIP, parseIP } from '../../shared/ip/ip.js';
import { nativeAddon, type NativeAddon } from './addon.js';

/**
 * Counted memberships: two service IPs whose low 24 bits match share one solicited-node
 * group, so the group is left only when its last user leaves. When one socket's
 * membership memory (net.core.optmem_max) runs out, another socket is opened.
 */
export class MulticastMemberships {
  readonly #native: Pick<NativeAddon, 'mcastOpen' | 'mcastJoin' | 'mcastLeave' | 'closeFd'>;
  readonly #fds: number[] = [];
  // key `${ifindex}/${group}` -> the socket holding it and how many users it has
  readonly #joined = new Map<string, { fd: number; users: number }>();

  constructor(native: Pick<NativeAddon, 'mcastOpen' | 'mcastJoin' | 'mcastLeave' | 'closeFd'> = nativeAddon()) {
    this.#native = native;
  }

  /** Joins `group` on `ifindex`; returns true when this made the kernel join. */
  join(ifindex: number, group: string): boolean {
    const key = groupKey(ifindex, group);
    const held = this.#joined.get(key);
    if (held) {
      held.users++;
      return false;
    }
    const canonical = key.slice(key.indexOf('/') + 1);
    for (let attempt = 0; ; attempt++) {
      const fd = this.#fds.at(-1) ?? this.#open();
      try {
        this.#native.mcastJoin(fd, ifindex, canonical);
        this.#joined.set(key, { fd, users: 1 });
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // ENOBUFS / ENOMEM: this socket's option memory is full; use a fresh one.
        if ((code === 'ENOBUFS' || code === 'ENOMEM') && attempt === 0) {
          this.#open();
          continue;
        }
        throw err;
      }
    }
  }

  /** Drops one user of `group` on `ifindex`; returns true when this made the kernel leave. */
  leave(ifindex: number, group: string): boolean {
    const key = groupKey(ifindex, group);
    const held = this.#joined.get(key);
    if (!held) return false;
    if (--held.users > 0) return false;
    this.#joined.delete(key);
    this.#native.mcastLeave(held.fd, ifindex, key.slice(key.indexOf('/') + 1));
    return true;
  }

  /** The groups currently joined, as `ifindex/group`. */
  groups(): string[] {
    return [...this.#joined.keys()].sort();
  }

  /** Leaves every group (by closing the sockets). */
  close(): void {
    for (const fd of this.#fds.splice(0)) this.#native.closeFd(fd);
    this.#joined.clear();
  }

  #open(): number {
    const fd = this.#native.mcastOpen();
    this.#fds.push(fd);
    return fd;
  }
}

function groupKey(ifindex: number, group: string): string {
  const ip = parseIP(group);
  if (!Number.isInteger(ifindex) || ifindex <= 0) throw new TypeError(`invalid interface index ${ifindex}`);
  if (!ip || ip.family !== 6 || ip.value >> 120n !== 0xffn) throw new TypeError(`"${group}" is not an IPv6 multicast address`);
  return `${ifindex}/${canonicalIP(group)}`;
}
