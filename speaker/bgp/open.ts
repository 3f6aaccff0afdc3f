// OPEN (RFC 4271 §4.2) with optional parameters (RFC 5492 capabilities, RFC 9072
// extended parameter length). Only syntax is checked here; whether the peer's AS,
// identifier and hold time are acceptable is negotiate.ts's business.
import { decodeCapabilities, writeCapability, type Capability } from './capabilities.js';
import { BGPEncodeError, BGPProtocolError, ErrorCode, OpenSubcode, u16Data } from './errors.js';
import { readAddress, writeAddress } from './prefix.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

export const BGP_VERSION = 4;
/** RFC 6793 §9: the 2-octet stand-in for an AS that does not fit in 16 bits. */
export const AS_TRANS = 23456;

const PARAM_CAPABILITIES = 2;
/** RFC 9072 §2: a Non-Ext OP Type of 255 marks the extended encoding. */
const PARAM_EXTENDED = 255;

export interface OpenMessage {
  readonly type: 'open';
  readonly version: number;
  /** The 2-octet My Autonomous System field (AS_TRANS when the real AS needs 4 octets). */
  readonly myAS: number;
  /** Seconds; 0 or at least 3 to be acceptable (RFC 4271 §4.2). */
  readonly holdTime: number;
  /** Dotted quad. */
  readonly bgpIdentifier: string;
  readonly capabilities: readonly Capability[];
}

function openError(subcode: number, detail: string, data?: Buffer): BGPProtocolError {
  return new BGPProtocolError(ErrorCode.OpenMessage, subcode, detail, data);
}

/** Decodes an OPEN body (the octets after the 19-octet header). */
export function decodeOpen(body: Buffer): OpenMessage {
  const r = new Reader(body, (d) => openError(OpenSubcode.Unspecific, d));
  const version = r.u8('version');
  if (version !== BGP_VERSION) {
    // RFC 4271 §6.2: data = the largest locally supported version.
    throw openError(OpenSubcode.UnsupportedVersionNumber, `version ${version}`, u16Data(BGP_VERSION));
  }
  const myAS = r.u16('my AS');
  const holdTime = r.u16('hold time');
  const bgpIdentifier = readAddress(r, 4, 'BGP identifier');
  let paramsLength = r.u8('optional parameters length');
  let extended = false;
  if (paramsLength === 255 && r.remaining > 0 && body[r.offset] === PARAM_EXTENDED) {
    r.u8();
    paramsLength = r.u16('extended optional parameters length');
    extended = true;
  }
  if (paramsLength !== r.remaining) {
    throw openError(OpenSubcode.Unspecific, `optional parameters length ${paramsLength}, but ${r.remaining} octets follow`);
  }
  const capabilities: Capability[] = [];
  while (r.remaining > 0) {
    const type = r.u8('parameter type');
    const length = extended ? r.u16('parameter length') : r.u8('parameter length');
    const value = r.bytes(length, `parameter ${type}`);
    if (type !== PARAM_CAPABILITIES) {
      throw openError(OpenSubcode.UnsupportedOptionalParameter, `optional parameter type ${type}`);
    }
    capabilities.push(...decodeCapabilities(value));
  }
  return { type: 'open', version, myAS, holdTime, bgpIdentifier, capabilities };
}

/**
 * Writes an OPEN body: every capability in one Capabilities parameter, with the RFC 9072
 * extended lengths only when they do not fit in one octet.
 */
export function writeOpen(w: Writer, m: OpenMessage): void {
  if (m.myAS < 0 || m.myAS > 0xffff) throw new BGPEncodeError(`my AS ${m.myAS} does not fit in 2 octets; send AS_TRANS`);
  if (m.holdTime < 0 || m.holdTime > 0xffff) throw new BGPEncodeError(`hold time ${m.holdTime} out of range`);
  w.u8(m.version).u16(m.myAS).u16(m.holdTime);
  writeAddress(w, m.bgpIdentifier, 4);
  const cw = new Writer(64);
  for (const c of m.capabilities) writeCapability(cw, c);
  const caps = cw.finish();
  if (caps.length === 0) {
    w.u8(0);
  } else if (caps.length + 2 <= 255) {
    w.u8(caps.length + 2).u8(PARAM_CAPABILITIES).u8(caps.length).bytes(caps);
  } else {
    // RFC 9072 §2: Non-Ext OP Len 255, Non-Ext OP Type 255, then 2-octet lengths.
    w.u8(255).u8(PARAM_EXTENDED).u16(3 + caps.length);
    w.u8(PARAM_CAPABILITIES).u16(caps.length).bytes(caps);
  }
}
