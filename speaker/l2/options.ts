// The L2 announcer's settings and where a speaker reads them: environment variables of
// the speaker container (the DaemonSet sets them), so that the speaker's command line
// stays the contract DESIGN.md fixes. Pure: the environment is passed in.
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
  conflictRecheckMs: number;
  conflictHoldMs: number;
}

export const DEFAULT_L2_SETTINGS: L2Settings = {
  membershipPort: DEFAULT_MEMBERSHIP_PORT,
  excludeInterfaces: DEFAULT_EXCLUDED_INTERFACES,
  announce: DEFAULT_ANNOUNCE_POLICY,
  interfacePollMs: DEFAULT_INTERFACE_POLL_MS,
  conflictRecheckMs: DEFAULT_CONFLICT_RECHECK_MS,
  conflictHoldMs: DEFAULT_CONFLICT_HOLD_MS,
};

/** The variables read, for documentation and error messages. */
export const L2_ENV = {
  membershipPort: 'HERALD_MEMBERLIST_PORT',
  excludeInterfaces: 'HERALD_L2_EXCLUDE_INTERFACES',
  takeoverMs: 'HERALD_L2_TAKEOVER_MS',
  refreshSeconds: 'HERALD_L2_REFRESH_SECONDS',
  interfacePollMs: 'HERALD_L2_INTERFACE_POLL_MS',
} as const;

export type SettingsResult = { ok: true; settings: L2Settings } | { ok: false; errors: string[] };

function integer(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return n >= min && n <= max ? n : undefined;
}

/**
 * Settings from the environment:
 * - HERALD_MEMBERLIST_PORT: the membership port (default 7946);
 * - HERALD_L2_EXCLUDE_INTERFACES: comma-separated name globs replacing the default
 *   exclusions, or added to them when the value starts with `+`; empty: exclude none;
 * - HERALD_L2_TAKEOVER_MS: comma-separated announcement offsets after a takeover, ms;
 * - HERALD_L2_REFRESH_SECONDS: periodic re-announcement, seconds (default 0: off);
 * - HERALD_L2_INTERFACE_POLL_MS: how often interfaces are re-read (default 5000).
 */
export function l2SettingsFromEnv(env: Readonly<Record<string, string | undefined>>): SettingsResult {
  const errors: string[] = [];
  const s: L2Settings = { ...DEFAULT_L2_SETTINGS };
  const port = env[L2_ENV.membershipPort];
  if (port !== undefined && port !== '') {
    const n = integer(port, 1, 65535);
    if (n === undefined) errors.push(`${L2_ENV.membershipPort}: a port number, not "${port}"`);
    else s.membershipPort = n;
  }
  const ex = env[L2_ENV.excludeInterfaces];
  if (ex !== undefined) {
    const add = ex.startsWith('+');
    const list = (add ? ex.slice(1) : ex).split(',').map((x) => x.trim()).filter(Boolean);
    const bad = list.filter((x) => !/^[A-Za-z0-9_.:@*-]+$/.test(x));
    if (bad.length > 0) errors.push(`${L2_ENV.excludeInterfaces}: not interface names or globs: ${bad.join(', ')}`);
    else s.excludeInterfaces = add ? [...DEFAULT_EXCLUDED_INTERFACES, ...list] : list;
  }
  let takeoverMs = s.announce.takeoverMs;
  const tk = env[L2_ENV.takeoverMs];
  if (tk !== undefined && tk !== '') {
    const parts = tk.split(',').map((x) => integer(x, 0, 600_000));
    if (parts.some((x) => x === undefined)) errors.push(`${L2_ENV.takeoverMs}: comma-separated milliseconds, not "${tk}"`);
    else takeoverMs = parts as number[];
  }
  let refreshMs = s.announce.refreshMs;
  const rf = env[L2_ENV.refreshSeconds];
  if (rf !== undefined && rf !== '') {
    const n = integer(rf, 0, 86_400);
    if (n === undefined) errors.push(`${L2_ENV.refreshSeconds}: whole seconds, not "${rf}"`);
    else refreshMs = n * 1000;
  }
  const announce = { takeoverMs, refreshMs };
  const problem = policyProblem(announce);
  if (problem) errors.push(`announcements: ${problem}`);
  else s.announce = announce;
  const poll = env[L2_ENV.interfacePollMs];
  if (poll !== undefined && poll !== '') {
    const n = integer(poll, 100, 600_000);
    if (n === undefined) errors.push(`${L2_ENV.interfacePollMs}: milliseconds from 100, not "${poll}"`);
    else s.interfacePollMs = n;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, settings: s };
}
