// ROUTE-REFRESH (RFC 2918 §3) with the RFC 7313 subtype in the former reserved octet.
import type { Writer } from './writer.js';

/** RFC 7313 §3.2. */
export const RouteRefreshSubtype = { Normal: 0, BeginningOfRouteRefresh: 1, EndOfRouteRefresh: 2 } as const;

export interface RouteRefreshMessage {
  readonly type: 'routeRefresh';
  readonly afi: number;
  readonly safi: number;
  /**
   * 0 a request, 1 BoRR, 2 EoRR. Other values are delivered as is: RFC 7313 §5 says
   * to ignore such a message, which is the session's call, not the codec's.
   */
  readonly subtype: number;
}

/** Decodes the 4-octet body; messages.ts has already checked the length. */
export function decodeRouteRefresh(body: Buffer): RouteRefreshMessage {
  return { type: 'routeRefresh', afi: body.readUInt16BE(0), subtype: body[2] as number, safi: body[3] as number };
}

export function writeRouteRefresh(w: Writer, m: RouteRefreshMessage): void {
  w.u16(m.afi).u8(m.subtype).u8(m.safi);
}
