// The message union and the one dispatch for decode and encode (RFC 4271 §4).
import { HEADER_LENGTH, INITIAL_CONTEXT, MAX_MESSAGE_SIZE, type CodecContext } from './context.js';
import { BGPEncodeError, BGPProtocolError, ErrorCode, RouteRefreshSubcode } from './errors.js';
import { badLength, MessageType, readHeader } from './header.js';
import { decodeNotification, writeNotification, type NotificationMessage } from './notification.js';
import { decodeOpen, writeOpen, type OpenMessage } from './open.js';
import { decodeRouteRefresh, RouteRefreshSubtype, writeRouteRefresh, type RouteRefreshMessage } from './route-refresh.js';
import { decodeUpdate, writeUpdate, type UpdateMessage } from './update.js';
import { Writer } from './writer.js';

export interface KeepaliveMessage {
  readonly type: 'keepalive';
}

export const KEEPALIVE: KeepaliveMessage = { type: 'keepalive' };

export type BGPMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** RFC 4271 §4.2–§4.5, RFC 2918 §3: the smallest legal length of each type. */
const minimumLength: Record<number, number> = {
  [MessageType.Open]: 29,
  [MessageType.Update]: 23,
  [MessageType.Notification]: 21,
  [MessageType.Keepalive]: 19,
  [MessageType.RouteRefresh]: 23,
};

/**
 * Decodes one whole message (header included), as the Framer returns them. Any fault
 * throws BGPProtocolError carrying the NOTIFICATION to send; nothing else is thrown.
 */
export function decodeMessage(frame: Buffer, ctx: CodecContext = INITIAL_CONTEXT): BGPMessage {
  if (frame.length < HEADER_LENGTH) throw badLength(frame.length, `${frame.length} octets cannot hold a header`);
  const { length, type } = readHeader(frame, 0, ctx.maxMessageSize);
  if (length !== frame.length) throw badLength(length, `length field ${length}, but the message has ${frame.length} octets`);
  if (length < (minimumLength[type] as number)) throw badLength(length, `length ${length} too short for message type ${type}`);
  const body = frame.subarray(HEADER_LENGTH);
  switch (type) {
    case MessageType.Open:
      // RFC 8654 §4: OPEN never grows beyond 4096 octets.
      if (length > MAX_MESSAGE_SIZE) throw badLength(length, `OPEN of ${length} octets`);
      return decodeOpen(body);
    case MessageType.Update:
      return decodeUpdate(body, ctx);
    case MessageType.Notification:
      return decodeNotification(body);
    case MessageType.Keepalive:
      if (length !== HEADER_LENGTH) throw badLength(length, `KEEPALIVE of ${length} octets`);
      return KEEPALIVE;
    default: {
      if (length !== 23) {
        const subtype = body[2] as number;
        if (subtype === RouteRefreshSubtype.BeginningOfRouteRefresh || subtype === RouteRefreshSubtype.EndOfRouteRefresh) {
          // RFC 7313 §5: data = the complete ROUTE-REFRESH message.
          throw new BGPProtocolError(ErrorCode.RouteRefreshMessage, RouteRefreshSubcode.InvalidMessageLength, `ROUTE-REFRESH of ${length} octets`, Buffer.from(frame));
        }
        throw badLength(length, `ROUTE-REFRESH of ${length} octets`);
      }
      return decodeRouteRefresh(body);
    }
  }
}

const typeCodes: Record<BGPMessage['type'], number> = {
  open: MessageType.Open,
  update: MessageType.Update,
  notification: MessageType.Notification,
  keepalive: MessageType.Keepalive,
  routeRefresh: MessageType.RouteRefresh,
};

/** Encodes a message, header included. Throws BGPEncodeError when it cannot be sent as is. */
export function encodeMessage(m: BGPMessage, ctx: CodecContext = INITIAL_CONTEXT): Buffer {
  const w = new Writer(m.type === 'update' ? 512 : 64);
  w.fill(0xff, 16);
  const lengthAt = w.reserve(2);
  w.u8(typeCodes[m.type]);
  switch (m.type) {
    case 'open':
      writeOpen(w, m);
      break;
    case 'update':
      writeUpdate(w, m, ctx);
      break;
    case 'notification':
      writeNotification(w, m);
      break;
    case 'keepalive':
      break;
    case 'routeRefresh':
      writeRouteRefresh(w, m);
      break;
  }
  const max = m.type === 'open' || m.type === 'keepalive' ? MAX_MESSAGE_SIZE : ctx.maxMessageSize;
  if (w.length > max) throw new BGPEncodeError(`${m.type} message of ${w.length} octets exceeds ${max}`);
  w.patchU16(lengthAt, w.length);
  return w.finish();
}
