// BFD Control packets (RFC 5880 §4.1): pure encode and decode, with the packet-level
// reception checks of §6.8.6. Structurally impossible packets throw BFDDecodeError, the
// one error type of this codec; valid packets we do not handle (another version, an
// authentication section) come back as a drop reason. Session-level checks (which session
// a discriminator names, its state) belong to the state machine and the demultiplexer.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//  |                       My Discriminator                        |
//  |                      Your Discriminator                       |
//  |                    Desired Min TX Interval                    |
//  |                   Required Min RX Interval                    |
//  |                 Required Min Echo RX Interval                 |
//  |   Auth Type   |   Auth Len    |    Authentication Data...     |   (A bit only)
import { STATES, type BFDState, type Diag } from './protocol.js';

export const BFD_VERSION = 1;
/** RFC 5880 §6.8.6: the mandatory section; 26 is the least with an authentication section. */
export const CONTROL_BYTES = 24;
const MIN_AUTH_BYTES = 26;

export interface BFDControlPacket {
  readonly diag: Diag;
  readonly state: BFDState;
  /** P: a Poll Sequence asks for a packet with F set (§6.5). */
  readonly poll: boolean;
  /** F: the answer to a Poll. */
  readonly final: boolean;
  /** C: BFD runs independently of the control plane (§6.8.7). */
  readonly controlPlaneIndependent: boolean;
  /** D: the sender wants Demand mode (§6.6). */
  readonly demand: boolean;
  readonly detectMult: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  /** Microseconds, as on the wire. */
  readonly desiredMinTxInterval: number;
  readonly requiredMinRxInterval: number;
  readonly requiredMinEchoRxInterval: number;
}

/** What makes a packet impossible: each a MUST-discard rule of RFC 5880 §4.1 / §6.8.6. */
export type BFDMalformed =
  | 'short'
  | 'length'
  | 'detect-mult'
  | 'multipoint'
  | 'my-discriminator'
  | 'your-discriminator'
  | 'poll-and-final'
  | 'auth-length';

export class BFDDecodeError extends Error {
  readonly code = 'BFD_MALFORMED';
  constructor(
    readonly check: BFDMalformed,
    message: string,
  ) {
    super(message);
    this.name = 'BFDDecodeError';
  }
}

/** Valid packets this speaker does not take. */
export type BFDDropReason =
  /** §6.8.6: "If the version number is not correct (1), the packet MUST be discarded." */
  | 'unsupported-version'
  /** We configure no authentication; §6.8.6 discards A=1 on such a session. */
  | 'authentication-unsupported';

export type BFDDecodeResult = { readonly ok: true; readonly value: BFDControlPacket } | { readonly ok: false; readonly drop: BFDDropReason };

const FLAG_P = 0x20;
const FLAG_F = 0x10;
const FLAG_C = 0x08;
const FLAG_A = 0x04;
const FLAG_D = 0x02;
const FLAG_M = 0x01;

/** Decodes one UDP payload; throws BFDDecodeError and nothing else. */
export function decodeControl(bytes: Uint8Array): BFDDecodeResult {
  if (bytes.length < CONTROL_BYTES) throw new BFDDecodeError('short', `${bytes.length} bytes is shorter than a BFD Control packet (24)`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const version = b[0]! >> 5;
  if (version !== BFD_VERSION) return { ok: false, drop: 'unsupported-version' };
  const flags = b[1]!;
  const auth = (flags & FLAG_A) !== 0;
  const length = b[3]!;
  if (length < (auth ? MIN_AUTH_BYTES : CONTROL_BYTES)) throw new BFDDecodeError('length', `Length ${length} is below the minimum ${auth ? MIN_AUTH_BYTES : CONTROL_BYTES}`);
  if (length > b.length) throw new BFDDecodeError('length', `Length ${length} exceeds the ${b.length}-byte payload`);
  const detectMult = b[2]!;
  if (detectMult === 0) throw new BFDDecodeError('detect-mult', 'Detect Mult is zero');
  if (flags & FLAG_M) throw new BFDDecodeError('multipoint', 'Multipoint (M) bit is set');
  const myDiscriminator = b.readUInt32BE(4);
  if (myDiscriminator === 0) throw new BFDDecodeError('my-discriminator', 'My Discriminator is zero');
  const state = STATES[flags >> 6]!;
  const yourDiscriminator = b.readUInt32BE(8);
  if (yourDiscriminator === 0 && state !== 'Down' && state !== 'AdminDown') {
    throw new BFDDecodeError('your-discriminator', `Your Discriminator is zero in state ${state}`);
  }
  // §4.1: "A control packet MUST NOT have both the Poll (P) and Final (F) bits set."
  if ((flags & FLAG_P) && (flags & FLAG_F)) throw new BFDDecodeError('poll-and-final', 'both Poll and Final are set');
  if (auth) {
    // §4.2: Auth Len counts the whole section, type and length octets included.
    const authLen = b[CONTROL_BYTES + 1]!;
    if (authLen < 2 || CONTROL_BYTES + authLen > length) {
      throw new BFDDecodeError('auth-length', `Auth Len ${authLen} does not fit the ${length}-byte packet`);
    }
    return { ok: false, drop: 'authentication-unsupported' };
  }
  return {
    ok: true,
    value: {
      diag: b[0]! & 0x1f,
      state,
      poll: (flags & FLAG_P) !== 0,
      final: (flags & FLAG_F) !== 0,
      controlPlaneIndependent: (flags & FLAG_C) !== 0,
      demand: (flags & FLAG_D) !== 0,
      detectMult,
      myDiscriminator,
      yourDiscriminator,
      desiredMinTxInterval: b.readUInt32BE(12),
      requiredMinRxInterval: b.readUInt32BE(16),
      requiredMinEchoRxInterval: b.readUInt32BE(20),
    },
  };
}

const u32 = (n: number, what: string): number => {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`${what} ${n} is not a 32-bit unsigned integer`);
  return n;
};

/** The 24 bytes of a packet without authentication. Throws RangeError on values no packet can carry. */
export function encodeControl(p: BFDControlPacket): Buffer {
  if (!Number.isInteger(p.diag) || p.diag < 0 || p.diag > 31) throw new RangeError(`diag ${p.diag} does not fit 5 bits`);
  if (!Number.isInteger(p.detectMult) || p.detectMult < 1 || p.detectMult > 255) throw new RangeError(`detectMult ${p.detectMult} is not 1..255`);
  if (p.poll && p.final) throw new RangeError('a packet cannot carry both Poll and Final');
  const b = Buffer.alloc(CONTROL_BYTES);
  b[0] = (BFD_VERSION << 5) | p.diag;
  b[1] = (STATES.indexOf(p.state) << 6) | (p.poll ? FLAG_P : 0) | (p.final ? FLAG_F : 0) | (p.controlPlaneIndependent ? FLAG_C : 0) | (p.demand ? FLAG_D : 0);
  b[2] = p.detectMult;
  b[3] = CONTROL_BYTES;
  b.writeUInt32BE(u32(p.myDiscriminator, 'myDiscriminator'), 4);
  b.writeUInt32BE(u32(p.yourDiscriminator, 'yourDiscriminator'), 8);
  b.writeUInt32BE(u32(p.desiredMinTxInterval, 'desiredMinTxInterval'), 12);
  b.writeUInt32BE(u32(p.requiredMinRxInterval, 'requiredMinRxInterval'), 16);
  b.writeUInt32BE(u32(p.requiredMinEchoRxInterval, 'requiredMinEchoRxInterval'), 20);
  return b;
}
