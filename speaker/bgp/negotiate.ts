// What we offer in OPEN and what both sides agree on once the peer's OPEN arrives
// (RFC 4271 §6.2 checks, RFC 5492 capability intersection). Pure: the FSM calls it.
import { findCapability, writeCapability, type Capability, type GracefulRestartFamily } from './capabilities.js';
import { EXTENDED_MAX_MESSAGE_SIZE, MAX_MESSAGE_SIZE, type CodecContext } from './context.js';
import { BGPProtocolError, ErrorCode, OpenSubcode, u16Data } from './errors.js';
import { IPV4_UNICAST, sameFamily, type AddressFamily } from './family.js';
import { AS_TRANS, BGP_VERSION, type OpenMessage } from './open.js';
import { addressValue } from './prefix.js';
import { Writer } from './writer.js';

/** Our side of a session, from the BGPPeer and the node. */
export interface LocalSpeaker {
  /** Our AS (4-octet values allowed). */
  readonly asn: number;
  /** Router ID, dotted quad, non-zero. */
  readonly bgpIdentifier: string;
  /** Seconds: 0 (no keepalives, no hold timer) or at least 3. */
  readonly holdTime: number;
  /** Seconds; default holdTime / 3. Used when smaller than the negotiated hold time / 3. */
  readonly keepaliveTime?: number;
  /** The families to offer (RFC 4760 multiprotocol capabilities). */
  readonly families: readonly AddressFamily[];
  /** The AS the peer must have; exclusive with dynamicASN. Neither: any AS is accepted. */
  readonly peerASN?: number;
  /** MetalLB's dynamicASN: accept any AS equal to ours (internal) or different (external). */
  readonly dynamicASN?: 'internal' | 'external';
  /** RFC 4724: offered when set. */
  readonly gracefulRestart?: {
    /** Seconds the peer should keep our routes after we go away (at most 4095). */
    readonly restartTime: number;
    /** R bit: we have just restarted (routes are being re-sent, End-of-RIB follows). */
    readonly restarting?: boolean;
    /** F bit per offered family: our forwarding state survived the restart. */
    readonly forwardingState?: boolean;
    /** N bit: RFC 8538 graceful notification support. */
    readonly notification?: boolean;
  };
  /** RFC 2918; default true. */
  readonly routeRefresh?: boolean;
  /** RFC 7313; default false (answering it takes BoRR/EoRR markers). */
  readonly enhancedRouteRefresh?: boolean;
  /** RFC 8654; default true. */
  readonly extendedMessages?: boolean;
}

export interface NegotiatedGracefulRestart {
  /** Seconds the peer asks us to keep its routes when it restarts. */
  readonly peerRestartTime: number;
  /** The peer's R bit: it has restarted and will send End-of-RIB. */
  readonly peerRestarting: boolean;
  /** Both sides set the N bit (RFC 8538). */
  readonly notification: boolean;
  /** Families the peer preserves across its restarts, with its F bits. */
  readonly peerFamilies: readonly GracefulRestartFamily[];
}

/** What both sides agreed on: the record the session and the codec work from. */
export interface Negotiated {
  readonly peerASN: number;
  readonly peerBgpIdentifier: string;
  /** iBGP: the peer is in our AS. */
  readonly internal: boolean;
  /** Seconds; min(ours, theirs); 0 means no hold timer and no keepalives. */
  readonly holdTime: number;
  /** Seconds between our keepalives; 0 when holdTime is 0. */
  readonly keepaliveTime: number;
  /** The families both sides offered, in our order. */
  readonly families: readonly AddressFamily[];
  readonly fourOctetAS: boolean;
  readonly routeRefresh: boolean;
  readonly enhancedRouteRefresh: boolean;
  readonly extendedMessages: boolean;
  readonly maxMessageSize: number;
  /** Present when both sides offered graceful restart. */
  readonly gracefulRestart?: NegotiatedGracefulRestart;
  readonly peerCapabilities: readonly Capability[];
}

export type NegotiationResult = { readonly ok: true; readonly negotiated: Negotiated } | { readonly ok: false; readonly error: BGPProtocolError };

/** Our OPEN (RFC 4271 §4.2): AS_TRANS in My AS when our AS needs 4 octets (RFC 6793 §4.1). */
export function buildOpen(local: LocalSpeaker): OpenMessage {
  const capabilities: Capability[] = local.families.map((f) => ({ type: 'multiprotocol', afi: f.afi, safi: f.safi }));
  if (local.routeRefresh ?? true) capabilities.push({ type: 'routeRefresh' });
  if (local.enhancedRouteRefresh) capabilities.push({ type: 'enhancedRouteRefresh' });
  capabilities.push({ type: 'fourOctetAS', asn: local.asn });
  if (local.extendedMessages ?? true) capabilities.push({ type: 'extendedMessage' });
  const gr = local.gracefulRestart;
  if (gr) {
    capabilities.push({
      type: 'gracefulRestart',
      restartState: gr.restarting ?? false,
      notification: gr.notification ?? false,
      restartTime: gr.restartTime,
      families: local.families.map((f) => ({ afi: f.afi, safi: f.safi, forwardingState: gr.forwardingState ?? false })),
    });
  }
  return {
    type: 'open',
    version: BGP_VERSION,
    myAS: local.asn > 0xffff ? AS_TRANS : local.asn,
    holdTime: local.holdTime,
    bgpIdentifier: local.bgpIdentifier,
    capabilities,
  };
}

/** The peer's real AS: the 4-octet AS capability when present, else My AS. */
export function peerAS(open: OpenMessage): number {
  return findCapability(open.capabilities, 'fourOctetAS')?.asn ?? open.myAS;
}

function openError(subcode: number, detail: string, data?: Buffer): NegotiationResult {
  return { ok: false, error: new BGPProtocolError(ErrorCode.OpenMessage, subcode, detail, data) };
}

/** The keepalive interval for a negotiated hold time (RFC 4271 §10: hold / 3 suggested). */
export function keepaliveFor(holdTime: number, configured?: number): number {
  if (holdTime === 0) return 0;
  const third = Math.max(1, Math.floor(holdTime / 3));
  return configured !== undefined && configured > 0 ? Math.min(configured, third) : third;
}

/** Checks the peer's OPEN against our side (RFC 4271 §6.2) and intersects capabilities. */
export function negotiate(local: LocalSpeaker, open: OpenMessage): NegotiationResult {
  if (open.version !== BGP_VERSION) return openError(OpenSubcode.UnsupportedVersionNumber, `version ${open.version}`, u16Data(BGP_VERSION));

  const asn = peerAS(open);
  // RFC 7607: AS 0 is never a valid peer AS.
  if (asn === 0 || open.myAS === 0) return openError(OpenSubcode.BadPeerAS, 'peer AS 0');
  if (local.peerASN !== undefined && asn !== local.peerASN) {
    return openError(OpenSubcode.BadPeerAS, `peer AS ${asn}, expected ${local.peerASN}`);
  }
  if (local.dynamicASN === 'internal' && asn !== local.asn) return openError(OpenSubcode.BadPeerAS, `peer AS ${asn} is not our AS ${local.asn} (dynamicASN internal)`);
  if (local.dynamicASN === 'external' && asn === local.asn) return openError(OpenSubcode.BadPeerAS, `peer AS ${asn} is our own AS (dynamicASN external)`);
  const internal = asn === local.asn;

  // RFC 6286 §2.2: non-zero; unique within the AS (eBGP peers may share ours).
  const id = addressValue(open.bgpIdentifier, 4);
  if (id === 0n) return openError(OpenSubcode.BadBGPIdentifier, 'BGP identifier 0.0.0.0');
  if (internal && id === addressValue(local.bgpIdentifier, 4)) {
    return openError(OpenSubcode.BadBGPIdentifier, `internal peer uses our BGP identifier ${open.bgpIdentifier}`);
  }

  // RFC 4271 §4.2: a hold time of 1 or 2 seconds MUST be rejected.
  if (open.holdTime === 1 || open.holdTime === 2) return openError(OpenSubcode.UnacceptableHoldTime, `hold time ${open.holdTime}`);
  const holdTime = Math.min(local.holdTime, open.holdTime);

  const peerMP = open.capabilities.filter((c) => c.type === 'multiprotocol');
  // RFC 4760 §8: a peer that offers no multiprotocol capability speaks IPv4 unicast.
  const peerFamilies: AddressFamily[] = peerMP.length > 0 ? peerMP : [IPV4_UNICAST];
  const families = local.families.filter((f) => peerFamilies.some((p) => sameFamily(p, f)));
  if (families.length === 0) {
    // RFC 5492 §3: data = the capabilities that could not be agreed.
    const w = new Writer(32);
    for (const f of local.families) writeCapability(w, { type: 'multiprotocol', afi: f.afi, safi: f.safi });
    return openError(OpenSubcode.UnsupportedCapability, 'no address family in common', w.finish());
  }

  const fourOctetAS = findCapability(open.capabilities, 'fourOctetAS') !== undefined;
  const has = (t: Capability['type']): boolean => open.capabilities.some((c) => c.type === t);
  const extendedMessages = (local.extendedMessages ?? true) && has('extendedMessage');
  const peerGR = findCapability(open.capabilities, 'gracefulRestart');
  const localGR = local.gracefulRestart;

  const negotiated: Negotiated = {
    peerASN: asn,
    peerBgpIdentifier: open.bgpIdentifier,
    internal,
    holdTime,
    keepaliveTime: keepaliveFor(holdTime, local.keepaliveTime),
    families,
    fourOctetAS,
    routeRefresh: (local.routeRefresh ?? true) && has('routeRefresh'),
    enhancedRouteRefresh: (local.enhancedRouteRefresh ?? false) && has('enhancedRouteRefresh'),
    extendedMessages,
    maxMessageSize: extendedMessages ? EXTENDED_MAX_MESSAGE_SIZE : MAX_MESSAGE_SIZE,
    ...(localGR && peerGR
      ? {
          gracefulRestart: {
            peerRestartTime: peerGR.restartTime,
            peerRestarting: peerGR.restartState,
            notification: (localGR.notification ?? false) && peerGR.notification,
            peerFamilies: peerGR.families,
          },
        }
      : {}),
    peerCapabilities: open.capabilities,
  };
  return { ok: true, negotiated };
}

/** The codec settings a negotiated session reads and writes with. */
export function codecContext(n: Negotiated): CodecContext {
  return { fourOctetAS: n.fourOctetAS, maxMessageSize: n.maxMessageSize, internal: n.internal };
}
