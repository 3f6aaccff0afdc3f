// The status the controller keeps on herald's configuration objects other than pools
// (L2Advertisement, BGPAdvertisement, BGPPeer, Community, BFDProfile), from the config
// model's errors. herald has no admission webhook (DESIGN.md, API): these conditions and
// events are where an operator learns that an object is wrong, and which field.
//   Ready     True while the speakers use the object; False when they leave it out
//             (reason InvalidConfiguration, UnresolvedReference or Conflict), the
//             message naming each field and what is wrong with it
//   Degraded  True when the object is used but part of it is not (a pool another
//             advertisement took, a peer name that does not exist yet), fields named
// Warning events accompany a problem when it appears or its wording changes, a Normal
// event the return to Ready; never on every pass. Pure: `now` comes in.
import type { AdvertisementStatus, Condition } from '../shared/api/types.js';
import type { ConfigError, ConfigResult } from '../shared/config/types.js';
import { conditionNews, mergeConditions, nextCondition, sameConditions, type ConditionSpec, type StatusEvent } from './conditions.js';

export const CONFIG_CONDITIONS = { ready: 'Ready', degraded: 'Degraded' } as const;

/** The kinds whose status this plans (pools have their own: pool-status.ts). */
export const CONFIG_KINDS = ['L2Advertisement', 'BGPAdvertisement', 'BGPPeer', 'Community', 'BFDProfile'] as const;
export type ConfigKind = (typeof CONFIG_KINDS)[number];

/** metav1.Condition allows 32,768 characters of message. */
const MAX_MESSAGE = 32_768;

export interface ConfigObjectLike {
  metadata: { name?: string; generation?: number };
  status?: AdvertisementStatus;
}

export interface ConfigStatusInput {
  kind: ConfigKind;
  obj: ConfigObjectLike;
  /** Whether the speakers' config model holds the object. */
  used: boolean;
  /** The config errors about this object. */
  errors: readonly ConfigError[];
  now: string;
}

export interface ConfigStatusPlan {
  status: AdvertisementStatus;
  /** False when the object already shows `status`. */
  changed: boolean;
  events: StatusEvent[];
}

/** Whether the speakers' model holds the object (a Community: its aliases can be used). */
export function usedInModel(kind: ConfigKind, name: string, config: ConfigResult): boolean {
  const m = config.model;
  const has = (list: readonly { name: string }[]): boolean => list.some((x) => x.name === name);
  switch (kind) {
    case 'L2Advertisement':
      return has(m.l2Advertisements);
    case 'BGPAdvertisement':
      return has(m.bgpAdvertisements);
    case 'BGPPeer':
      return has(m.peers);
    case 'BFDProfile':
      return has(m.bfdProfiles);
    case 'Community':
      // An invalid Community is dropped whole; one that lost an alias to an older one keeps the rest.
      return !config.errors.some((e) => e.kind === kind && e.name === name && e.reason === 'Invalid');
  }
}

const REASON_OF: Record<ConfigError['reason'], string> = {
  Invalid: 'InvalidConfiguration',
  Reference: 'UnresolvedReference',
  Conflict: 'Conflict',
};

/** `field: message; …`, cut to what a condition can hold. */
export function describeErrors(errors: readonly ConfigError[]): string {
  const text = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 1)}…`;
}

/** The reason for a set of errors: the gravest of them (Invalid, then Reference, then Conflict). */
function reasonFor(errors: readonly ConfigError[]): string {
  for (const r of ['Invalid', 'Reference', 'Conflict'] as const) if (errors.some((e) => e.reason === r)) return REASON_OF[r];
  return REASON_OF.Invalid;
}

export function planConfigStatus(i: ConfigStatusInput): ConfigStatusPlan {
  const generation = i.obj.metadata.generation;
  const gen = generation !== undefined ? { observedGeneration: generation } : {};
  const what = i.kind === 'Community' ? 'its names can be used' : 'the speakers use it';
  let ready: ConditionSpec;
  let degraded: ConditionSpec;
  if (!i.used) {
    ready = {
      type: CONFIG_CONDITIONS.ready,
      status: 'False',
      reason: reasonFor(i.errors),
      message: describeErrors(i.errors) || `the ${i.kind} is left out of the configuration`,
      ...gen,
    };
    degraded = { type: CONFIG_CONDITIONS.degraded, status: 'False', reason: 'NotInUse', message: `the ${i.kind} is not used (see Ready)`, ...gen };
  } else {
    ready = { type: CONFIG_CONDITIONS.ready, status: 'True', reason: 'Valid', message: i.errors.length > 0 ? `${what}, in part (see Degraded)` : what, ...gen };
    degraded =
      i.errors.length > 0
        ? { type: CONFIG_CONDITIONS.degraded, status: 'True', reason: reasonFor(i.errors), message: describeErrors(i.errors), ...gen }
        : { type: CONFIG_CONDITIONS.degraded, status: 'False', reason: 'NoProblems', message: 'every field is in use', ...gen };
  }

  const current = i.obj.status?.conditions ?? [];
  const find = (type: string): Condition | undefined => current.find((c) => c.type === type);
  const events: StatusEvent[] = [];
  const wasReady = find(ready.type);
  if (ready.status === 'False' && conditionNews(wasReady, ready)) events.push({ type: 'Warning', reason: ready.reason, message: ready.message });
  if (ready.status === 'True' && wasReady?.status === 'False') events.push({ type: 'Normal', reason: 'Valid', message: `the problems are fixed: ${what}` });
  if (degraded.status === 'True' && conditionNews(find(degraded.type), degraded)) events.push({ type: 'Warning', reason: degraded.reason, message: degraded.message });

  const conditions = mergeConditions(
    current,
    [ready, degraded].map((c) => nextCondition(find(c.type), c, i.now)),
  );
  const status: AdvertisementStatus = { ...gen, conditions };
  const changed = i.obj.status?.observedGeneration !== status.observedGeneration || !sameConditions(i.obj.status?.conditions, conditions);
  return { status, changed, events };
}
