// From the election to what this node does in layer 2, and what changed since the last
// time: the IPs to answer for (with their L2Advertisement interfaces) and the Services it
// announces on each. Pure.
import type { IPElection } from '../election.js';
import type { MAC } from './ethernet.js';
import type { WantedIP } from './responder.js';

export interface L2Plan {
  /** IPs this node answers for, by canonical text. */
  readonly wanted: ReadonlyMap<string, WantedIP>;
  /** Services announced through each of those IPs (`namespace/name`). */
  readonly services: ReadonlyMap<string, readonly string[]>;
}

export const EMPTY_PLAN: L2Plan = { wanted: new Map(), services: new Map() };

export function planL2(elections: ReadonlyMap<string, IPElection>, self: string): L2Plan {
  const wanted = new Map<string, WantedIP>();
  const services = new Map<string, readonly string[]>();
  for (const [text, e] of elections) {
    if (e.winner !== self) continue;
    wanted.set(text, { ip: e.ip, interfaces: e.interfaces });
    services.set(text, e.services);
  }
  return { wanted, services };
}

/**
 * The IPs this node answers for on behalf of held nodes (their speakers restarting,
 * docs/l2.md): those a held node wins (`full`) that this node would win without the held
 * nodes (`without`), answered with the held node's MACs so that traffic stays with it.
 * An IP whose held winner's MACs are unknown is left unanswered, as before.
 */
export function planOnBehalf(
  full: ReadonlyMap<string, IPElection>,
  without: ReadonlyMap<string, IPElection>,
  self: string,
  held: ReadonlySet<string>,
  macsOf: (node: string, election: IPElection) => ReadonlyMap<string, MAC> | undefined,
): Map<string, WantedIP> {
  const out = new Map<string, WantedIP>();
  if (held.size === 0) return out;
  for (const [text, e] of full) {
    if (e.winner === undefined || !held.has(e.winner)) continue;
    const mine = without.get(text);
    if (mine?.winner !== self) continue;
    const macs = macsOf(e.winner, e);
    if (!macs || macs.size === 0) continue;
    out.set(text, { ip: e.ip, interfaces: mine.interfaces, onBehalfOf: macs });
  }
  return out;
}

/** One Service on one IP. */
export interface ServiceIP {
  readonly service: string;
  readonly ipText: string;
}

export interface L2Change {
  readonly won: readonly string[];
  readonly lost: readonly string[];
  /** (Service, IP) pairs announced now and not before, and the reverse. */
  readonly added: readonly ServiceIP[];
  readonly removed: readonly ServiceIP[];
  /** Services announced from this node now (on any IP) and not before: `nodeAssigned`. */
  readonly newServices: readonly string[];
}

function pairs(plan: L2Plan): Map<string, ServiceIP> {
  const out = new Map<string, ServiceIP>();
  for (const [ipText, svcs] of plan.services) for (const service of svcs) out.set(`${service} ${ipText}`, { service, ipText });
  return out;
}

function servicesOf(plan: L2Plan): Set<string> {
  const out = new Set<string>();
  for (const svcs of plan.services.values()) for (const s of svcs) out.add(s);
  return out;
}

/** What changed from `prev` to `next`. */
export function diffL2(prev: L2Plan, next: L2Plan): L2Change {
  const won = [...next.wanted.keys()].filter((ip) => !prev.wanted.has(ip));
  const lost = [...prev.wanted.keys()].filter((ip) => !next.wanted.has(ip));
  const before = pairs(prev);
  const after = pairs(next);
  const added = [...after].filter(([k]) => !before.has(k)).map(([, v]) => v);
  const removed = [...before].filter(([k]) => !after.has(k)).map(([, v]) => v);
  const hadServices = servicesOf(prev);
  const newServices = [...servicesOf(next)].filter((s) => !hadServices.has(s)).sort();
  return { won, lost, added, removed, newServices };
}
