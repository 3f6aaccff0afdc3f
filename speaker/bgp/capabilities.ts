// Capabilities advertised in OPEN (RFC 5492). The ones herald negotiates are decoded;
// any other is kept raw so nothing the peer said is lost.
import { ErrorCode, OpenSubcode, BGPEncodeError, BGPProtocolError } from './errors.js';
import type { AddressFamily } from './family.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export const CapabilityCode = {
  Multiprotocol: 1, // RFC 4760
  RouteRefresh: 2, // RFC 2918
  ExtendedMessage: 6, // RFC 8654
  GracefulRestart: 64, // RFC 4724
  FourOctetAS: 65, // RFC 6793
  EnhancedRouteRefresh: 70, // RFC 7313
} as const;

/** RFC 4724 §3: per-family state the restarting speaker kept. */
export interface GracefulRestartFamily extends AddressFamily {
  /** F bit: forwarding state for this family was preserved across the restart. */
  readonly forwardingState: boolean;
}

export type Capability =
  | { readonly type: 'multiprotocol'; readonly afi: number; readonly safi: number }
  | { readonly type: 'routeRefresh' }
  | { readonly type: 'extendedMessage' }
  | {
      readonly type: 'gracefulRestart';
      /** R bit: the sender has restarted (RFC 4724 §3). */
      readonly restartState: boolean;
      /** N bit: the sender supports RFC 8538 notifications in graceful restart. */
      readonly notification: boolean;
      /** Seconds, 12 bits. */
      readonly restartTime: number;
      readonly families: readonly GracefulRestartFamily[];
    }
  | { readonly type: 'fourOctetAS'; readonly asn: number }
  | { readonly type: 'enhancedRouteRefresh' }
  | { readonly type: 'unknown'; readonly code: number; readonly value: Buffer };

function malformed(detail: string, data?: Buffer): BGPProtocolError {
  // RFC 4271 §6.2: a recognized optional parameter that is malformed -> subcode 0.
  return new BGPProtocolError(ErrorCode.OpenMessage, OpenSubcode.Unspecific, detail, data);
}

function decodeOne(code: number, value: Buffer): Capability {
  const r = new Reader(value, (d) => malformed(`capability ${code}: ${d}`));
  const expectLength = (n: number): void => {
    if (value.length !== n) throw malformed(`capability ${code} has length ${value.length}, expected ${n}`);
  };
  switch (code) {
    case CapabilityCode.Multiprotocol: {
      expectLength(4);
      const afi = r.u16();
      r.u8(); // reserved
      return { type: 'multiprotocol', afi, safi: r.u8() };
    }
    case CapabilityCode.RouteRefresh:
      expectLength(0);
      return { type: 'routeRefresh' };
    case CapabilityCode.ExtendedMessage:
      expectLength(0);
      return { type: 'extendedMessage' };
    case CapabilityCode.EnhancedRouteRefresh:
      expectLength(0);
      return { type: 'enhancedRouteRefresh' };
    case CapabilityCode.FourOctetAS:
      expectLength(4);
      return { type: 'fourOctetAS', asn: r.u32() };
    case CapabilityCode.GracefulRestart: {
      if (value.length < 2 || (value.length - 2) % 4 !== 0) {
        throw malformed(`graceful restart capability has length ${value.length}, expected 2 + 4n`);
      }
      const word = r.u16();
      const families: GracefulRestartFamily[] = [];
      while (r.remaining > 0) {
        const afi = r.u16();
        const safi = r.u8();
        families.push({ afi, safi, forwardingState: (r.u8() & 0x80) !== 0 });
      }
      return {
        type: 'gracefulRestart',
        restartState: (word & 0x8000) !== 0,
        notification: (word & 0x4000) !== 0,
        restartTime: word & 0x0fff,
        families,
      };
    }
    default:
      return { type: 'unknown', code, value: Buffer.from(value) };
  }
}

/** Decodes the capabilities of one Capabilities optional parameter (RFC 5492 §4). */
export function decodeCapabilities(value: Buffer): Capability[] {
  const r = new Reader(value, (d) => malformed(`capabilities: ${d}`));
  const out: Capability[] = [];
  while (r.remaining > 0) {
    const code = r.u8('capability code');
    const length = r.u8('capability length');
    out.push(decodeOne(code, r.bytes(length, `capability ${code} value`)));
  }
  return out;
}

/** Writes one capability as code, length, value. */
export function writeCapability(w: Writer, c: Capability): void {
  const code = capabilityCode(c);
  w.u8(code);
  const at = w.reserve(1);
  const start = w.length;
  switch (c.type) {
    case 'multiprotocol':
      w.u16(c.afi).u8(0).u8(c.safi);
      break;
    case 'routeRefresh':
    case 'extendedMessage':
    case 'enhancedRouteRefresh':
      break;
    case 'fourOctetAS':
      w.u32(c.asn);
      break;
    case 'gracefulRestart':
      if (c.restartTime < 0 || c.restartTime > 0xfff) throw new BGPEncodeError(`restart time ${c.restartTime} exceeds 4095 s`);
      w.u16((c.restartState ? 0x8000 : 0) | (c.notification ? 0x4000 : 0) | c.restartTime);
      for (const f of c.families) w.u16(f.afi).u8(f.safi).u8(f.forwardingState ? 0x80 : 0);
      break;
    case 'unknown':
      w.bytes(c.value);
      break;
  }
  const length = w.length - start;
  if (length > 255) throw new BGPEncodeError(`capability ${code} is ${length} octets, more than 255`);
  w.patchU8(at, length);
}

export function capabilityCode(c: Capability): number {
  switch (c.type) {
    case 'multiprotocol':
      return CapabilityCode.Multiprotocol;
    case 'routeRefresh':
      return CapabilityCode.RouteRefresh;
    case 'extendedMessage':
      return CapabilityCode.ExtendedMessage;
    case 'gracefulRestart':
      return CapabilityCode.GracefulRestart;
    case 'fourOctetAS':
      return CapabilityCode.FourOctetAS;
    case 'enhancedRouteRefresh':
      return CapabilityCode.EnhancedRouteRefresh;
    case 'unknown':
      return c.code;
  }
}

export function findCapability<T extends Capability['type']>(
  caps: readonly Capability[],
  type: T,
): Extract<Capability, { type: T }> | undefined {
  return caps.find((c) => c.type === type) as Extract<Capability, { type: T }> | undefined;
}
