// BFDProfiles and BGPPeers: the per-object rules MetalLB's CRDs and config parser apply
// (internal/config: peerFromCR, parseTimers, bfdProfileFromCR), the password Secret
// lookup, and one cross-object rule of herald's own: two peers that would open the same
// session from the same node.
import type { BFDProfile, BGPPeer, LabelSelector } from '../api/types.js';
import { formatIP, parseIP, type IP } from '../ip/ip.js';
import type { BFDProfileModel, ConfigError, PeerModel } from './types.js';
import { parseDuration, formatDuration, SECOND } from './duration.js';
import { selectorsMayOverlap } from './selector-rules.js';
import { byCreation, interfaceNameProblem, intake, isRecord, optionalBool, optionalInt, optionalString, Reporter, selectorList } from './checks.js';

/** The parts of a core/v1 Secret the model reads. `data` values are base64, as in the API. */
export interface SecretLike {
  metadata: { name: string; namespace?: string };
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export const BASIC_AUTH_SECRET = 'kubernetes.io/basic-auth';
const MAX_ASN = 4294967295;
// TCP_MD5SIG_MAXKEYLEN in include/uapi/linux/tcp.h (RFC 2385 keys).
const MAX_MD5_KEY_BYTES = 80;

export interface BFDProfilesResult {
  profiles: BFDProfileModel[];
  /** Every BFDProfile name, valid or not. */
  names: string[];
}

export function buildBFDProfiles(raw: readonly BFDProfile[], namespace: string, sink: ConfigError[]): BFDProfilesResult {
  const out: BFDProfileModel[] = [];
  const objects = intake(raw, 'BFDProfile', namespace, sink);
  for (const p of objects) {
    const r = new Reporter(sink, 'BFDProfile', p.metadata.name as string);
    const s: Record<string, unknown> = isRecord(p.spec) ? p.spec : {};
    // Ranges and defaults as in MetalLB's BFDProfile CRD (FRR's bfdd limits).
    const ms = (field: string, def: number): number => optionalInt(r, `spec.${field}`, s[field], 10, 60000, `${field} (milliseconds)`) ?? def;
    const model: BFDProfileModel = {
      name: p.metadata.name as string,
      receiveInterval: ms('receiveInterval', 300),
      transmitInterval: ms('transmitInterval', 300),
      detectMultiplier: optionalInt(r, 'spec.detectMultiplier', s.detectMultiplier, 2, 255, 'detectMultiplier') ?? 3,
      echoInterval: ms('echoInterval', 50),
      echoMode: optionalBool(r, 'spec.echoMode', s.echoMode) ?? false,
      passiveMode: optionalBool(r, 'spec.passiveMode', s.passiveMode) ?? false,
      minimumTtl: optionalInt(r, 'spec.minimumTtl', s.minimumTtl, 1, 254, 'minimumTtl') ?? 254,
    };
    if (r.invalidCount === 0) out.push(model);
  }
  return { profiles: out, names: objects.map((p) => p.metadata.name as string) };
}

export interface PeerContext {
  namespace: string;
  secrets: readonly SecretLike[];
  bfdProfiles: ReadonlyMap<string, BFDProfileModel>;
  /** Names of BFDProfiles that exist but are invalid, for a more precise message. */
  invalidBFDProfiles: ReadonlySet<string>;
}

export interface PeersResult {
  peers: PeerModel[];
  /** Every BGPPeer name, valid or not. */
  names: string[];
}

export function buildPeers(raw: readonly BGPPeer[], ctx: PeerContext, sink: ConfigError[]): PeersResult {
  const accepted: { raw: BGPPeer; model: PeerModel; r: Reporter }[] = [];
  const objects = intake(raw, 'BGPPeer', ctx.namespace, sink);
  for (const p of objects) {
    const r = new Reporter(sink, 'BGPPeer', p.metadata.name as string);
    const { model, usable } = checkPeer(p, r, ctx);
    if (usable && model) accepted.push({ raw: p, model, r });
  }
  // Two peers with the same remote end (address, port, VRF, source) and nodes in common
  // would open two sessions that the router sees as one neighbour; the later one loses.
  const kept: typeof accepted = [];
  for (const a of [...accepted].sort((x, y) => byCreation(x.raw, y.raw))) {
    const twin = kept.find((k) => sameSession(k.model, a.model) && selectorsMayOverlap(k.model.nodeSelectors, a.model.nodeSelectors));
    if (twin) {
      a.r.conflict(
        'spec.peerAddress',
        `BGPPeer "${twin.model.name}" (created earlier) already peers with ${formatIP(a.model.peerAddress)} port ${a.model.peerPort}` +
          `${a.model.vrf ? ` in VRF ${a.model.vrf}` : ''} from nodes this peer's nodeSelectors may also select; ` +
          'give the two peers nodeSelectors no node can match both, or delete one',
      );
      continue;
    }
    kept.push(a);
  }
  const peers = kept.map((k) => k.model).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { peers, names: objects.map((p) => p.metadata.name as string) };
}

function sameSession(a: PeerModel, b: PeerModel): boolean {
  const src = (ip: IP | undefined): string => (ip ? formatIP(ip) : '');
  return (
    a.peerAddress.family === b.peerAddress.family &&
    a.peerAddress.value === b.peerAddress.value &&
    a.peerPort === b.peerPort &&
    a.vrf === b.vrf &&
    src(a.sourceAddress) === src(b.sourceAddress)
  );
}

function checkPeer(p: BGPPeer, r: Reporter, ctx: PeerContext): { model?: PeerModel; usable: boolean } {
  const s: Record<string, unknown> = isRecord(p.spec) ? p.spec : {};
  if (!isRecord(p.spec)) r.invalid('spec', 'a BGPPeer needs a spec with myASN, peerASN (or dynamicASN) and peerAddress');
  let unusable = false;

  const myASN = optionalInt(r, 'spec.myASN', s.myASN, 1, MAX_ASN, 'myASN');
  if (s.myASN === undefined || s.myASN === null) r.invalid('spec.myASN', 'myASN (this cluster\'s AS number, 1..4294967295) is required');
  const peerASN = optionalInt(r, 'spec.peerASN', s.peerASN, 1, MAX_ASN, 'peerASN');
  const dynamicASN = optionalString(r, 'spec.dynamicASN', s.dynamicASN);
  const hasPeerASN = s.peerASN !== undefined && s.peerASN !== null;
  if (dynamicASN !== undefined && dynamicASN !== 'internal' && dynamicASN !== 'external') {
    r.invalid('spec.dynamicASN', `dynamicASN must be "internal" or "external", not "${dynamicASN}"`);
  }
  if (hasPeerASN === (dynamicASN !== undefined)) {
    r.invalid(hasPeerASN ? 'spec.dynamicASN' : 'spec.peerASN', hasPeerASN
      ? 'set either peerASN or dynamicASN, not both'
      : 'set peerASN (the router\'s AS number) or dynamicASN (internal or external)');
  }
  const ebgpMultiHop = optionalBool(r, 'spec.ebgpMultiHop', s.ebgpMultiHop) ?? false;
  const internal = dynamicASN === 'internal' || (peerASN !== undefined && peerASN === myASN);
  if (ebgpMultiHop && internal) r.invalid('spec.ebgpMultiHop', 'ebgpMultiHop applies to eBGP only; this peer is iBGP (same AS as myASN)');

  const peerAddress = address(r, 'spec.peerAddress', s.peerAddress, true);
  const sourceAddress = address(r, 'spec.sourceAddress', s.sourceAddress, false);
  if (peerAddress && sourceAddress && peerAddress.family !== sourceAddress.family) {
    r.invalid('spec.sourceAddress', `sourceAddress ${formatIP(sourceAddress)} and peerAddress ${formatIP(peerAddress)} must be of the same IP family`);
  }
  const peerPort = optionalInt(r, 'spec.peerPort', s.peerPort, 1, 65535, 'peerPort') ?? 179;
  const timers = checkTimers(r, s);
  const routerID = checkRouterID(r, s.routerID);
  const nodeSelectors: LabelSelector[] = selectorList(r, 'spec.nodeSelectors', s.nodeSelectors);

  const vrf = optionalString(r, 'spec.vrf', s.vrf) ?? '';
  if (vrf !== '') {
    const why = interfaceNameProblem(vrf);
    if (why) r.invalid('spec.vrf', `VRF ${why}`);
  }
  const password = checkPassword(r, s, ctx);
  if (password === null) unusable = true;

  let bfdProfile: BFDProfileModel | undefined;
  const bfdName = optionalString(r, 'spec.bfdProfile', s.bfdProfile);
  if (bfdName) {
    bfdProfile = ctx.bfdProfiles.get(bfdName);
    if (!bfdProfile) {
      unusable = true;
      r.reference('spec.bfdProfile', ctx.invalidBFDProfiles.has(bfdName)
        ? `BFDProfile "${bfdName}" is invalid; fix it (see its errors) for this peer to be used`
        : `BFDProfile "${bfdName}" does not exist in namespace ${ctx.namespace}; create it or remove spec.bfdProfile`);
    }
  }
  const enableGracefulRestart = optionalBool(r, 'spec.enableGracefulRestart', s.enableGracefulRestart) ?? false;
  const disableMP = optionalBool(r, 'spec.disableMP', s.disableMP) ?? false;

  if (r.invalidCount > 0 || unusable || !peerAddress || myASN === undefined || !timers) return { usable: false };
  const model: PeerModel = {
    name: p.metadata.name as string,
    myASN,
    ...(peerASN !== undefined ? { peerASN } : {}),
    ...(dynamicASN === 'internal' || dynamicASN === 'external' ? { dynamicASN } : {}),
    peerAddress,
    ...(sourceAddress ? { sourceAddress } : {}),
    peerPort,
    ...timers,
    ...(routerID ? { routerID } : {}),
    nodeSelectors,
    ...(password ? { password } : {}),
    ...(bfdProfile ? { bfdProfile } : {}),
    enableGracefulRestart,
    ebgpMultiHop,
    vrf,
    disableMP,
  };
  return { model, usable: true };
}

function address(r: Reporter, field: string, value: unknown, required: boolean): IP | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) r.invalid(field, 'the router\'s IP address is required');
    return undefined;
  }
  const ip = typeof value === 'string' ? parseIP(value) : undefined;
  if (!ip) r.invalid(field, `${JSON.stringify(value)} is not an IPv4 or IPv6 address`);
  return ip;
}

function checkRouterID(r: Reporter, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const ip = typeof value === 'string' ? parseIP(value) : undefined;
  // RFC 4271 §4.2: the BGP Identifier is 4 octets; RFC 6286 §2.1: it must be non-zero.
  if (!ip || ip.family !== 4 || ip.value === 0n) {
    r.invalid('spec.routerID', `routerID ${JSON.stringify(value)} must be a non-zero IPv4 address (the 32-bit BGP Identifier, RFC 4271 §4.2), even on IPv6 sessions`);
    return undefined;
  }
  return formatIP(ip);
}

type Timers = Pick<PeerModel, 'holdTime' | 'keepaliveTime' | 'connectTime'>;

/** Whole seconds of a timer field, or undefined (and an error) when it is not one. */
function seconds(r: Reporter, field: string, value: unknown): number | undefined | null {
  if (value === undefined || value === null) return undefined;
  const d = typeof value === 'string' ? parseDuration(value) : { ok: false as const, error: `${JSON.stringify(value)} is not a duration string such as "90s"` };
  if (!d.ok) {
    r.invalid(field, d.error);
    return null;
  }
  // BGP carries these in whole seconds (RFC 4271 §4.2), so a fraction cannot be honoured.
  if (d.value < 0n || d.value % SECOND !== 0n) {
    r.invalid(field, `"${value}" (${formatDuration(d.value)}) must be a whole, non-negative number of seconds: BGP timers have a resolution of one second`);
    return null;
  }
  return Number(d.value / SECOND);
}

/**
 * Hold time 0 (no keepalives, no hold timer) or 3..65535 s (RFC 4271 §4.2, §10); default
 * 90 s, or 3 × keepaliveTime when only that is given (MetalLB parseTimers). Keepalive
 * defaults to hold / 3 (RFC 4271 §10), may not exceed the hold time, and may be 0 only
 * when the hold time is.
 */
function checkTimers(r: Reporter, s: Record<string, unknown>): Timers | undefined {
  const hold = seconds(r, 'spec.holdTime', s.holdTime);
  const keepalive = seconds(r, 'spec.keepaliveTime', s.keepaliveTime);
  const connect = seconds(r, 'spec.connectTime', s.connectTime);
  if (hold === null || keepalive === null || connect === null) return undefined;
  const holdTime = hold ?? (keepalive !== undefined ? keepalive * 3 : 90);
  const keepaliveTime = keepalive ?? Math.floor(holdTime / 3);
  const connectTime = connect ?? 120;
  let ok = true;
  if (holdTime !== 0 && (holdTime < 3 || holdTime > 65535)) {
    ok = false;
    r.invalid(hold !== undefined ? 'spec.holdTime' : 'spec.keepaliveTime', hold !== undefined
      ? `holdTime ${holdTime}s must be 0 (disabled) or between 3s and 65535s (RFC 4271 §4.2)`
      : `keepaliveTime ${keepaliveTime}s makes the default holdTime (3 × keepalive) ${holdTime}s, outside 3s..65535s; set holdTime too`);
  } else if (keepaliveTime > holdTime) {
    ok = false;
    r.invalid('spec.keepaliveTime', `keepaliveTime ${keepaliveTime}s must not exceed holdTime ${holdTime}s`);
  } else if (keepaliveTime === 0 && holdTime !== 0) {
    ok = false;
    r.invalid('spec.keepaliveTime', `keepaliveTime 0 would let the peer's ${holdTime}s hold timer expire; use 1s..${holdTime}s (default holdTime / 3)`);
  }
  if (connectTime < 1 || connectTime > 65535) {
    ok = false;
    r.invalid('spec.connectTime', `connectTime ${connectTime}s must be between 1s and 65535s`);
  }
  return ok ? { holdTime, keepaliveTime, connectTime } : undefined;
}

/**
 * The TCP-MD5 key (RFC 2385) from spec.password or the Secret spec.passwordSecret names.
 * Undefined: no password. Null: a password was asked for but cannot be had; the peer
 * cannot be used (a session without the key would never come up anyway).
 */
function checkPassword(r: Reporter, s: Record<string, unknown>, ctx: PeerContext): string | undefined | null {
  const inline = optionalString(r, 'spec.password', s.password);
  const ref = s.passwordSecret;
  if (inline && ref !== undefined && ref !== null) {
    r.invalid('spec.passwordSecret', 'set either password or passwordSecret, not both');
    return null;
  }
  if (inline) return keyProblem(r, 'spec.password', inline, 'password') ? null : inline;
  if (ref === undefined || ref === null) return undefined;
  if (!isRecord(ref) || typeof ref.name !== 'string' || ref.name === '') {
    r.invalid('spec.passwordSecret', 'passwordSecret needs the name of a kubernetes.io/basic-auth Secret');
    return null;
  }
  const ns = ref.namespace ?? ctx.namespace;
  if (ns !== ctx.namespace) {
    r.invalid('spec.passwordSecret.namespace', `the Secret must be in herald's namespace ${ctx.namespace}, not ${JSON.stringify(ns)}: herald reads Secrets only there`);
    return null;
  }
  const where = `Secret "${ref.name}" in namespace ${ctx.namespace}`;
  const secret = ctx.secrets.find((x) => x.metadata?.name === ref.name && (x.metadata.namespace ?? ctx.namespace) === ctx.namespace);
  if (!secret) {
    r.reference('spec.passwordSecret', `${where} does not exist; create it (type ${BASIC_AUTH_SECRET}, key "password")`);
    return null;
  }
  if (secret.type !== BASIC_AUTH_SECRET) {
    r.reference('spec.passwordSecret', `${where} has type ${JSON.stringify(secret.type ?? 'Opaque')}; it must be ${BASIC_AUTH_SECRET}`);
    return null;
  }
  let password: string | undefined = secret.stringData?.password;
  if (password === undefined && typeof secret.data?.password === 'string') {
    const b64 = secret.data.password;
    if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
      r.reference('spec.passwordSecret', `${where}: data.password is not valid base64`);
      return null;
    }
    password = Buffer.from(b64, 'base64').toString('utf8');
  }
  if (password === undefined) {
    r.reference('spec.passwordSecret', `${where} has no "password" key; add one`);
    return null;
  }
  return keyProblem(r, 'spec.passwordSecret', password, `the password in ${where}`, true) ? null : password;
}

function keyProblem(r: Reporter, field: string, key: string, what: string, fromSecret = false): boolean {
  let why: string | undefined;
  if (key === '') why = `${what} is empty`;
  else if (/[\r\n]/.test(key)) why = `${what} contains a line break`;
  else if (Buffer.byteLength(key) > MAX_MD5_KEY_BYTES) why = `${what} is longer than ${MAX_MD5_KEY_BYTES} bytes, the most Linux accepts for a TCP-MD5 key`;
  if (!why) return false;
  if (fromSecret) r.reference(field, why);
  else r.invalid(field, why);
  return true;
}
