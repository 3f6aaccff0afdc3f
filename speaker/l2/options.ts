// The L2 announcer's settings: `herald speaker` flags, each with an environment variable
// read when the flag is absent (shared/flags.ts ExtraFlag `env`), so that a DaemonSet can
// set either. Pure: the parsed flag values are passed in.
import type { ExtraFlag } from '../../shared/flags.js';
import { MAX_HOLD_MS } from '../membership/codec.js';
import { DEFAULT_RESTART_HOLD_MS } from '../membership/core.js';
import { DEFAULT_ANNOUNCE_POLICY, policyProblem, type AnnouncePolicy } from './announce.js';
import { DEFAULT_EXCLUDED_INTERFACES } from './interfaces.js';

export const DEFAULT_MEMBERSHIP_PORT = 7946;
export const DEFAULT_INTERFACE_POLL_MS = 5000;
/**
 * How long after seeing another MAC claim an IP a speaker waits before re-announcing it,
 * if it still wins it then. Longer than the membership's join delay (500 ms), so that a
 * node taking an IP over from this one (a new speaker, make-before-break) is never
 * answered with a counter-announcement.
 */
export const DEFAULT_CONFLICT_RECHECK_MS = 1000;
/** At most one conflict-driven re-announcement per IP this often. */
export const DEFAULT_CONFLICT_HOLD_MS = 5000;

export interface L2Settings {
  /** UDP port of the membership heartbeats, the same on every speaker. */
  membershipPort: number;
  /** Interface names skipped unless an L2Advertisement names them (globs, `*` suffix). */
  excludeInterfaces: readonly string[];
  announce: AnnouncePolicy;
  interfacePollMs: number;
  /** How long peers keep this node's IPs while its speaker restarts (membership/core.ts, "Restarts"); 0: hand them over at once. */
  restartHoldMs: number;
  conflictRecheckMs: number;
  conflictHoldMs: number;
}

export const DEFAULT_L2_SETTINGS: L2Settings = {
  membershipPort: DEFAULT_MEMBERSHIP_PORT,
  excludeInterfaces: DEFAULT_EXCLUDED_INTERFACES,
  announce: DEFAULT_ANNOUNCE_POLICY,
  interfacePollMs: DEFAULT_INTERFACE_POLL_MS,
  restartHoldMs: DEFAULT_RESTART_HOLD_MS,
  conflictRecheckMs: DEFAULT_CONFLICT_RECHECK_MS,
  conflictHoldMs: DEFAULT_CONFLICT_HOLD_MS,
};

/** The flags (and their environment variables) of `herald speaker` for layer 2; docs/l2.md lists them. */
export const L2_FLAGS = {
  'memberlist-port': {
    type: 'string',
    arg: 'PORT',
    env: 'HERALD_MEMBERLIST_PORT',
    help: `UDP port of the speakers' liveness heartbeats, the same on every node; peers also open TCP connections to it to see a restarting speaker's node is up (default ${DEFAULT_MEMBERSHIP_PORT})`,
  },
  'l2-exclude-interfaces': {
    type: 'string',
    arg: 'GLOBS',
    env: 'HERALD_L2_EXCLUDE_INTERFACES',
    help: `interfaces never answered on unless an L2Advertisement names them (bridge and bond members, NOARP and non-Ethernet ones are skipped anyway): comma-separated names, \`*\` matching any characters; \`+a,b\` adds to the defaults, \`none\` excludes nothing (default ${DEFAULT_EXCLUDED_INTERFACES.join(',')})`,
  },
  'l2-takeover-ms': {
    type: 'string',
    arg: 'LIST',
    env: 'HERALD_L2_TAKEOVER_MS',
    help: `gratuitous ARP / unsolicited NA after taking an IP over, ms after the takeover, ascending (default ${DEFAULT_ANNOUNCE_POLICY.takeoverMs.join(',')})`,
  },
  'l2-refresh-seconds': {
    type: 'string',
    arg: 'N',
    env: 'HERALD_L2_REFRESH_SECONDS',
    help: 'announce every IP this node answers for again every N seconds, for switches that age out MAC tables; 0 turns it off (default 0)',
  },
  'l2-interface-poll-ms': {
    type: 'string',
    arg: 'MS',
    env: 'HERALD_L2_INTERFACE_POLL_MS',
    help: `how often the node's interfaces are read again, ms, 100 or more (default ${DEFAULT_INTERFACE_POLL_MS})`,
  },
  'l2-restart-hold-ms': {
    type: 'string',
    arg: 'MS',
    env: 'HERALD_L2_RESTART_HOLD_MS',
    help: `on SIGTERM, how long the other speakers keep this node's IPs on it while its node is up, for the restarted speaker to come back to (no IP moves, no connection reset); 0 hands them over at once; at most ${MAX_HOLD_MS} (default ${DEFAULT_RESTART_HOLD_MS})`,
  },
} as const satisfies Record<string, ExtraFlag>;

export type L2FlagName = keyof typeof L2_FLAGS;

export type SettingsResult = { ok: true; settings: L2Settings } | { ok: false; errors: string[] };

function integer(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return n >= min && n <= max ? n : undefined;
}

/**
 * Settings from the parsed `herald speaker` flags (parseClientFlags' `extra`: a flag's
 * value, else its environment variable's, else undefined). Every bad value is reported,
 * each naming its flag and variable.
 */
export function l2SettingsFromFlags(values: Readonly<Record<string, string | boolean | undefined>>): SettingsResult {
  const errors: string[] = [];
  const s: L2Settings = { ...DEFAULT_L2_SETTINGS };
  const get = (name: L2FlagName): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const bad = (name: L2FlagName, what: string): void => {
    errors.push(`--${name} (or ${L2_FLAGS[name].env}): ${what}`);
  };

  const port = get('memberlist-port');
  if (port !== undefined) {
    const n = integer(port, 1, 65535);
    if (n === undefined) bad('memberlist-port', `a port number from 1 to 65535, not "${port}"`);
    else s.membershipPort = n;
  }
  const ex = get('l2-exclude-interfaces');
  if (ex !== undefined) {
    const add = ex.startsWith('+');
    const text = add ? ex.slice(1) : ex;
    const list = text.trim() === 'none' && !add ? [] : text.split(',').map((x) => x.trim()).filter(Boolean);
    const wrong = list.filter((x) => !/^[A-Za-z0-9_.:@*-]+$/.test(x));
    if (wrong.length > 0) bad('l2-exclude-interfaces', `not interface names or globs: ${wrong.map((x) => JSON.stringify(x)).join(', ')}`);
    else s.excludeInterfaces = add ? [...DEFAULT_EXCLUDED_INTERFACES, ...list] : list;
  }
  let takeoverMs = s.announce.takeoverMs;
  const tk = get('l2-takeover-ms');
  if (tk !== undefined) {
    const parts = tk.split(',').map((x) => integer(x, 0, 600_000));
    if (parts.some((x) => x === undefined)) bad('l2-takeover-ms', `comma-separated milliseconds (0 to 600000), not "${tk}"`);
    else takeoverMs = parts as number[];
  }
  let refreshMs = s.announce.refreshMs;
  const rf = get('l2-refresh-seconds');
  if (rf !== undefined) {
    const n = integer(rf, 0, 86_400);
    if (n === undefined) bad('l2-refresh-seconds', `whole seconds from 0 to 86400, not "${rf}"`);
    else refreshMs = n * 1000;
  }
  const announce = { takeoverMs, refreshMs };
  const problem = policyProblem(announce);
  if (problem) errors.push(`--l2-takeover-ms / --l2-refresh-seconds: ${problem}`);
  else s.announce = announce;
  const poll = get('l2-interface-poll-ms');
  if (poll !== undefined) {
    const n = integer(poll, 100, 600_000);
    if (n === undefined) bad('l2-interface-poll-ms', `milliseconds from 100 to 600000, not "${poll}"`);
    else s.interfacePollMs = n;
  }
  const hold = get('l2-restart-hold-ms');
  if (hold !== undefined) {
    const n = integer(hold, 0, MAX_HOLD_MS);
    if (n === undefined) bad('l2-restart-hold-ms', `milliseconds from 0 to ${MAX_HOLD_MS}, not "${hold}"`);
    else s.restartHoldMs = n;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, settings: s };
}
