// NOTIFICATION (RFC 4271 §4.5) and the shutdown communication of RFC 8203 / RFC 9003:
// Cease subcodes 2 and 4 may carry a length octet and a UTF-8 message from the operator.
import { BGPEncodeError, CeaseSubcode, ErrorCode, type BGPProtocolError } from './errors.js';
import type { Writer } from './writer.js';

/** RFC 9003 §2: the shutdown communication is at most 255 octets. */
export const MAX_SHUTDOWN_MESSAGE = 255;

export interface NotificationMessage {
  readonly type: 'notification';
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
  /** RFC 8203 shutdown communication, when the data holds a well-formed one. */
  readonly shutdownMessage?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function carriesShutdownMessage(code: number, subcode: number): boolean {
  return code === ErrorCode.Cease && (subcode === CeaseSubcode.AdministrativeShutdown || subcode === CeaseSubcode.AdministrativeReset);
}

/**
 * Decodes a NOTIFICATION body. Never fails on the data: RFC 8203 §4 says a malformed
 * shutdown communication is ignored (a NOTIFICATION is never answered with another).
 */
export function decodeNotification(body: Buffer): NotificationMessage {
  const code = body[0] as number;
  const subcode = body[1] as number;
  const data = Buffer.from(body.subarray(2));
  const base = { type: 'notification' as const, code, subcode, data };
  if (!carriesShutdownMessage(code, subcode) || data.length === 0) return base;
  const length = data[0] as number;
  if (length === 0 || length + 1 > data.length) return base;
  try {
    return { ...base, shutdownMessage: utf8.decode(data.subarray(1, 1 + length)) };
  } catch {
    return base;
  }
}

export function writeNotification(w: Writer, m: NotificationMessage): void {
  w.u8(m.code).u8(m.subcode).bytes(m.data);
}

export function notification(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): NotificationMessage {
  return { type: 'notification', code, subcode, data };
}

/** The NOTIFICATION a protocol error asks for. */
export function notificationFor(err: BGPProtocolError): NotificationMessage {
  return notification(err.code, err.subcode, err.data);
}

/**
 * A Cease NOTIFICATION with an RFC 8203 shutdown communication. Messages longer than
 * 255 octets are cut at a character boundary (RFC 9003 §2).
 */
export function shutdownNotification(subcode: number, message = ''): NotificationMessage {
  if (!carriesShutdownMessage(ErrorCode.Cease, subcode)) throw new BGPEncodeError(`Cease subcode ${subcode} carries no shutdown communication`);
  let text = Buffer.from(message, 'utf8');
  if (text.length > MAX_SHUTDOWN_MESSAGE) {
    let end = MAX_SHUTDOWN_MESSAGE;
    while (end > 0 && ((text[end] as number) & 0xc0) === 0x80) end--;
    text = text.subarray(0, end);
  }
  const data = Buffer.concat([Buffer.from([text.length]), text]);
  return text.length > 0
    ? { type: 'notification', code: ErrorCode.Cease, subcode, data, shutdownMessage: text.toString('utf8') }
    : { type: 'notification', code: ErrorCode.Cease, subcode, data };
}
