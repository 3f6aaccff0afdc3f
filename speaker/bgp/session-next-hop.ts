// NEXT_HOP for the routes a session sends (REFERENCE.md: the local address of the
// session). A route of the session's own family takes the connection's local address.
// A route of the other family (IPv6 prefixes over an IPv4 session, RFC 4760, or IPv4
// over IPv6) needs an address of that family on the same node: herald takes one from
// the interface that holds the session's local address, because that is the link the
// peer reaches us over. Without such an address those routes are not sent.
import os from 'node:os';
import { parseIP, type Family } from '../../shared/ip/ip.js';
import { plainAddress } from './transport.js';

/** Next hop of `family` for a session whose local address is `localAddress`, or undefined. */
export type NextHopResolver = (localAddress: string, family: Family) => string | undefined;

export type InterfaceTable = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

function usable(a: os.NetworkInterfaceInfo, family: Family): boolean {
  if (a.internal) return false;
  if (family === 4) return a.family === 'IPv4';
  if (a.family !== 'IPv6') return false;
  // A link-local next hop alone is useless beyond the link (RFC 2545 §3 wants a global one).
  const ip = parseIP(a.address.replace(/%.*$/, ''));
  return ip !== undefined && ip.value >> 118n !== 0x3fan;
}

/** Picks from an interface table (os.networkInterfaces() shape); pure, for tests. */
export function nextHopFromInterfaces(localAddress: string, family: Family, table: InterfaceTable): string | undefined {
  const local = plainAddress(localAddress);
  const ip = parseIP(local);
  if (!ip) return undefined;
  if (ip.family === family) return local;
  for (const addrs of Object.values(table)) {
    if (!addrs?.some((a) => plainAddress(a.address) === local)) continue;
    const pick = addrs.find((a) => usable(a, family));
    return pick ? plainAddress(pick.address) : undefined;
  }
  return undefined;
}

/** The node's interfaces as they are now (read on every session establishment). */
export const interfaceNextHop: NextHopResolver = (localAddress, family) => nextHopFromInterfaces(localAddress, family, os.networkInterfaces());
