// What a session has negotiated that changes how octets are read and written.

/** RFC 4271 §4.1. */
export const HEADER_LENGTH = 19;
/** RFC 4271 §4.1: the largest message without RFC 8654. */
export const MAX_MESSAGE_SIZE = 4096;
/** RFC 8654 §3: the largest message once both sides advertised extended messages. */
export const EXTENDED_MAX_MESSAGE_SIZE = 65535;

export interface CodecContext {
  /** RFC 6793: both sides advertised 4-octet AS numbers, so AS_PATH carries 4-octet ASes. */
  readonly fourOctetAS: boolean;
  /** MAX_MESSAGE_SIZE, or EXTENDED_MAX_MESSAGE_SIZE when both sides advertised RFC 8654. */
  readonly maxMessageSize: number;
  /**
   * true for iBGP, false for eBGP, undefined when unknown. LOCAL_PREF received from an
   * external peer is discarded (RFC 7606 §7.5).
   */
  readonly internal?: boolean;
}

/** Before the OPEN exchange: 2-octet AS, 4096-octet messages. */
export const INITIAL_CONTEXT: CodecContext = { fourOctetAS: false, maxMessageSize: MAX_MESSAGE_SIZE };
