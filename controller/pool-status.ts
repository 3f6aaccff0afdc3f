// An IPAddressPool's status as the controller keeps it: usage per family from the
// allocator (saturating, so an IPv6 /64 pool reports Number.MAX_SAFE_INTEGER available
// rather than overflowing), and conditions from the config model's errors:
//   Ready             True while addresses can be assigned from the pool
//   Overlap           True when some addresses are already in an older pool (named);
//                     herald does not allocate the overlap (REFERENCE.md, Pools)
//   InvalidAddresses  True when entries of spec.addresses cannot be used (field named)
//   Advertised        True when an L2Advertisement or BGPAdvertisement covers the pool
//                     (named); False: its addresses are assigned, and nothing announces them
// Warning events accompany a problem when it appears or its wording changes, never on
// every pass. Only the controller writes pool status; the speaker reads pools only.
// Pure: `now` comes in.
import type { Condition, IPAddressPool, IPAddressPoolStatus } from '../shared/api/types.js';
import type { ConfigError, ConfigModel, Pool } from '../shared/config/types.js';
import { saturate } from '../shared/ip/ip.js';
import type { PoolUsage } from './allocator-types.js';
import { conditionNews, mergeConditions, nextCondition, sameConditions, type ConditionSpec, type StatusEvent } from './conditions.js';

export const POOL_CONDITIONS = { ready: 'Ready', overlap: 'Overlap', invalidAddresses: 'InvalidAddresses', advertised: 'Advertised' } as const;

export interface PoolStatusPlan {
  status: IPAddressPoolStatus;
  /** False when the pool already shows `status`. */
  changed: boolean;
  events: StatusEvent[];
}

export interface PoolStatusInput {
  pool: IPAddressPool;
  /** The pool in the config model; undefined when the pool is invalid. */
  model: Pool | undefined;
  usage: PoolUsage | undefined;
  /** The config errors about this pool. */
  errors: readonly ConfigError[];
  /**
   * The advertisements that cover the pool (`L2Advertisement "name"`), from the whole
   * configuration; undefined while that is not known (no Advertised condition then).
   */
  advertisedBy?: readonly string[];
  now: string;
}

const describe = (errors: readonly ConfigError[]): string => errors.map((e) => `${e.field}: ${e.message}`).join('; ');

export function planPoolStatus(i: PoolStatusInput): PoolStatusPlan {
  const generation = i.pool.metadata.generation;
  const gen = generation !== undefined ? { observedGeneration: generation } : {};
  const invalid = i.errors.filter((e) => e.reason === 'Invalid');
  const conflicts = i.errors.filter((e) => e.reason === 'Conflict');
  const badAddresses = invalid.filter((e) => e.field === 'spec.addresses' || e.field.startsWith('spec.addresses['));

  let ready: ConditionSpec;
  if (!i.model) {
    ready = { type: POOL_CONDITIONS.ready, status: 'False', reason: 'InvalidConfiguration', message: describe(invalid) || 'the pool is invalid', ...gen };
  } else if (i.model.ranges.length === 0) {
    ready = {
      type: POOL_CONDITIONS.ready,
      status: 'False',
      reason: 'NoAddresses',
      message: 'every address of the pool is already in another pool (see Overlap); nothing can be assigned from it',
      ...gen,
    };
  } else {
    ready = {
      type: POOL_CONDITIONS.ready,
      status: 'True',
      reason: 'Valid',
      message: conflicts.length > 0 ? 'addresses outside the overlap with other pools can be assigned (see Overlap)' : 'addresses can be assigned',
      ...gen,
    };
  }
  const overlap: ConditionSpec =
    conflicts.length > 0
      ? { type: POOL_CONDITIONS.overlap, status: 'True', reason: 'OverlapsPool', message: describe(conflicts), ...gen }
      : { type: POOL_CONDITIONS.overlap, status: 'False', reason: 'NoOverlap', message: 'no address is in another pool', ...gen };
  const addresses: ConditionSpec =
    badAddresses.length > 0
      ? { type: POOL_CONDITIONS.invalidAddresses, status: 'True', reason: 'InvalidAddresses', message: describe(badAddresses), ...gen }
      : { type: POOL_CONDITIONS.invalidAddresses, status: 'False', reason: 'AddressesValid', message: 'every entry of spec.addresses is usable', ...gen };
  const by = i.advertisedBy;
  const advertised: ConditionSpec | undefined =
    by === undefined
      ? undefined
      : by.length > 0
        ? { type: POOL_CONDITIONS.advertised, status: 'True', reason: 'Advertised', message: `covered by ${by.join(', ')}`, ...gen }
        : {
            type: POOL_CONDITIONS.advertised,
            status: 'False',
            reason: 'NotAdvertised',
            message: 'no L2Advertisement or BGPAdvertisement covers this pool: its addresses are assigned, but no node announces them',
            ...gen,
          };

  const current = i.pool.status?.conditions ?? [];
  const find = (type: string): Condition | undefined => current.find((c) => c.type === type);
  const events: StatusEvent[] = [];
  if (ready.status === 'False' && conditionNews(find(ready.type), ready)) events.push({ type: 'Warning', reason: ready.reason, message: ready.message });
  if (overlap.status === 'True' && conditionNews(find(overlap.type), overlap)) events.push({ type: 'Warning', reason: overlap.reason, message: overlap.message });
  if (advertised?.status === 'False' && conditionNews(find(advertised.type), advertised)) events.push({ type: 'Warning', reason: advertised.reason, message: advertised.message });

  const conditions = mergeConditions(
    current,
    [ready, overlap, addresses, ...(advertised ? [advertised] : [])].map((c) => nextCondition(find(c.type), c, i.now)),
  );
  const u = i.usage;
  const status: IPAddressPoolStatus = {
    assignedIPv4: saturate(u?.assignedIPv4 ?? 0n),
    assignedIPv6: saturate(u?.assignedIPv6 ?? 0n),
    availableIPv4: i.model ? saturate(u?.availableIPv4 ?? 0n) : 0,
    availableIPv6: i.model ? saturate(u?.availableIPv6 ?? 0n) : 0,
    ...gen,
    conditions,
  };
  return { status, changed: !sameStatus(i.pool.status, status), events };
}

function sameStatus(a: IPAddressPoolStatus | undefined, b: IPAddressPoolStatus): boolean {
  if (!a) return false;
  const fields = ['assignedIPv4', 'assignedIPv6', 'availableIPv4', 'availableIPv6', 'observedGeneration'] as const;
  return fields.every((f) => a[f] === b[f]) && sameConditions(a.conditions, b.conditions);
}

/** Pool name → the advertisements in the model that cover it, as `Kind "name"`. */
export function advertisementsByPool(model: ConfigModel): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (kind: string, ads: readonly { name: string; pools: readonly string[] }[]): void => {
    for (const a of ads) for (const p of a.pools) out.set(p, [...(out.get(p) ?? []), `${kind} "${a.name}"`]);
  };
  add('L2Advertisement', model.l2Advertisements);
  add('BGPAdvertisement', model.bgpAdvertisements);
  return out;
}
