// Address families as BGP names them: AFI (IANA address family numbers) and SAFI
// (RFC 4760 §6). herald speaks IPv4 and IPv6 unicast; other families pass through raw.
import type { Family } from '../../shared/ip/ip.js';

export const AFI = { IPv4: 1, IPv6: 2 } as const;
export const SAFI = { Unicast: 1 } as const;

export interface AddressFamily {
  readonly afi: number;
  readonly safi: number;
}

export const IPV4_UNICAST: AddressFamily = { afi: AFI.IPv4, safi: SAFI.Unicast };
export const IPV6_UNICAST: AddressFamily = { afi: AFI.IPv6, safi: SAFI.Unicast };

export function sameFamily(a: AddressFamily, b: AddressFamily): boolean {
  return a.afi === b.afi && a.safi === b.safi;
}

/** `ipv4-unicast`, `ipv6-unicast`, else `afi/safi` numbers: stable keys and log values. */
export function familyName(f: AddressFamily): string {
  if (f.safi === SAFI.Unicast && f.afi === AFI.IPv4) return 'ipv4-unicast';
  if (f.safi === SAFI.Unicast && f.afi === AFI.IPv6) return 'ipv6-unicast';
  return `${f.afi}/${f.safi}`;
}

/** The IP family of a unicast AFI/SAFI herald decodes, or undefined for others. */
export function ipFamilyOf(f: AddressFamily): Family | undefined {
  if (f.safi !== SAFI.Unicast) return undefined;
  if (f.afi === AFI.IPv4) return 4;
  if (f.afi === AFI.IPv6) return 6;
  return undefined;
}

export function unicastFamily(family: Family): AddressFamily {
  return family === 4 ? IPV4_UNICAST : IPV6_UNICAST;
}
