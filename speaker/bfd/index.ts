// herald's BFD (RFC 5880, single-hop RFC 5881, multihop RFC 5883): the Control packet codec,
// the state machine as a reducer, UDP sessions, and the tie to BGP sessions.
export { BFDSessions, profileConfig, type BFDHandle, type BFDPeer, type BFDSessionsOptions, type BFDStateCallback, type BFDStateInfo } from './session.js';
export { attachBFD, type LinkDownTarget } from './attach.js';
export { bfdStatus, BFD_NOT_CONFIGURED } from './status.js';
export { Diag, diagText, type BFDState } from './protocol.js';
export { BFDDecodeError, decodeControl, encodeControl, type BFDControlPacket } from './packet.js';
export { PeerBFD, type PeerBFDConfig } from './peer-bfd.js';
