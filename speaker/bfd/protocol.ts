// BFD vocabulary shared by the codec, the state machine and the driver: session states
// and diagnostic codes (RFC 5880 §4.1), UDP ports (RFC 5881 §4, RFC 5883 §2) and the
// timer constants the RFCs fix.

/** RFC 5880 §4.1 "Sta", by wire value. */
export const STATES = ['AdminDown', 'Down', 'Init', 'Up'] as const;
export type BFDState = (typeof STATES)[number];

/** RFC 5880 §4.1 "Diag" (5 bits; 9–31 reserved). */
export const Diag = {
  None: 0,
  ControlDetectionTimeExpired: 1,
  EchoFunctionFailed: 2,
  NeighborSignaledSessionDown: 3,
  ForwardingPlaneReset: 4,
  PathDown: 5,
  ConcatenatedPathDown: 6,
  AdministrativelyDown: 7,
  ReverseConcatenatedPathDown: 8,
} as const;
export type Diag = number;

const DIAG_TEXT: readonly string[] = [
  'No Diagnostic',
  'Control Detection Time Expired',
  'Echo Function Failed',
  'Neighbor Signaled Session Down',
  'Forwarding Plane Reset',
  'Path Down',
  'Concatenated Path Down',
  'Administratively Down',
  'Reverse Concatenated Path Down',
];

export function diagText(diag: Diag): string {
  return DIAG_TEXT[diag] ?? `Reserved Diagnostic ${diag}`;
}

/** RFC 5881 §4: control packets of single-hop sessions go to this port. */
export const SINGLE_HOP_PORT = 3784;
/** RFC 5883 §2: multihop sessions use their own port. */
export const MULTIHOP_PORT = 4784;
/** RFC 5881 §4: the source port of a session, fixed for its lifetime. */
export const SOURCE_PORT_MIN = 49152;
export const SOURCE_PORT_MAX = 65535;
/** RFC 5881 §5, RFC 5883 §2: GTSM (RFC 5082), packets leave with the highest TTL. */
export const SEND_TTL = 255;

/** RFC 5880 §6.8.3: while not Up, bfd.DesiredMinTxInterval is at least one second. */
export const SLOW_TX_US = 1_000_000;
/** RFC 5880 §6.8.1: bfd.RemoteMinRxInterval before anything is heard from the peer. */
export const INITIAL_REMOTE_MIN_RX_US = 1;
