// The 19-octet message header (RFC 4271 §4.1) and its checks (§6.1).
import { HEADER_LENGTH } from './context.js';
import { BGPProtocolError, ErrorCode, HeaderSubcode } from './errors.js';

export const MessageType = { Open: 1, Update: 2, Notification: 3, Keepalive: 4, RouteRefresh: 5 } as const;

const MARKER_LENGTH = 16;

export interface Header {
  readonly length: number;
  readonly type: number;
}

export function badLength(length: number, detail: string): BGPProtocolError {
  // RFC 4271 §6.1: data = the erroneous Length field.
  const data = Buffer.alloc(2);
  data.writeUInt16BE(length & 0xffff);
  return new BGPProtocolError(ErrorCode.MessageHeader, HeaderSubcode.BadMessageLength, detail, data);
}

/**
 * Checks the header at `offset` (at least 19 octets must be there): marker all ones,
 * length within 19..maxMessageSize, a known type. Throws BGPProtocolError otherwise.
 */
export function readHeader(buf: Buffer, offset: number, maxMessageSize: number): Header {
  for (let i = offset; i < offset + MARKER_LENGTH; i++) {
    if (buf[i] !== 0xff) {
      throw new BGPProtocolError(ErrorCode.MessageHeader, HeaderSubcode.ConnectionNotSynchronized, 'marker is not all ones');
    }
  }
  const length = buf.readUInt16BE(offset + MARKER_LENGTH);
  if (length < HEADER_LENGTH || length > maxMessageSize) {
    throw badLength(length, `length ${length} outside ${HEADER_LENGTH}..${maxMessageSize}`);
  }
  const type = buf[offset + MARKER_LENGTH + 2] as number;
  if (type < MessageType.Open || type > MessageType.RouteRefresh) {
    throw new BGPProtocolError(ErrorCode.MessageHeader, HeaderSubcode.BadMessageType, `message type ${type}`, Buffer.from([type]));
  }
  return { length, type };
}
