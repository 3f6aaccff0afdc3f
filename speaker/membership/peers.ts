// Where to send heartbeats: every other speaker's node address, from the Node objects
// (the speaker runs with host networking on every node, so a Node's InternalIP is its
// speaker's address on the cluster network). Pure.
import { canonicalIP, parseIP } from '../../shared/ip/ip.js';

/** The parts of a core/v1 Node read here. */
export interface NodeAddresses {
  metadata?: { name?: string };
  status?: { addresses?: { type?: string; address?: string }[] };
}

export interface MemberPeer {
  name: string;
  /** Canonical IPv4 or IPv6 text. */
  address: string;
  /** The peer's membership port when it differs from the local one (tests, unusual setups). */
  port?: number;
}

export interface PeerOptions {
  /** The local node: never a peer of itself. */
  self: string;
  /** Only addresses of this family (e.g. an IPv6-only announcing network); default: the Node's first InternalIP. */
  family?: 4 | 6;
  /** Address types to look for, in order of preference. */
  addressTypes?: readonly string[];
}

/** One peer per Node (sorted by name) that has a usable address; the local node left out. */
export function memberPeers(nodes: readonly NodeAddresses[], opts: PeerOptions): MemberPeer[] {
  const types = opts.addressTypes ?? ['InternalIP'];
  const out: MemberPeer[] = [];
  for (const n of nodes) {
    const name = n.metadata?.name;
    if (!name || name === opts.self) continue;
    let address: string | undefined;
    for (const type of types) {
      for (const a of n.status?.addresses ?? []) {
        if (a.type !== type || !a.address) continue;
        const ip = parseIP(a.address);
        if (!ip || (opts.family !== undefined && ip.family !== opts.family)) continue;
        address = canonicalIP(a.address);
        break;
      }
      if (address) break;
    }
    if (address) out.push({ name, address });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
