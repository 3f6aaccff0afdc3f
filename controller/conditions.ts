// metav1.Condition bookkeeping shared by the Service and IPAddressPool status plans:
// lastTransitionTime moves only when `status` flips (apimachinery's meta.SetStatusCondition),
// so rewriting an unchanged condition is a no-op and a person can see how long a problem
// has lasted. Pure: the time comes in as text.
import type { Condition } from '../shared/api/types.js';

/** An event a status plan asks for, recorded on the object once its status is written. */
export interface StatusEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** A condition without its transition time, as the plans compute it. */
export type ConditionSpec = Omit<Condition, 'lastTransitionTime'>;

/** metav1.Time: RFC 3339 with seconds precision. */
export function conditionTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** `want` with the transition time `current` earned, or `now` if the status flipped. */
export function nextCondition(current: Condition | undefined, want: ConditionSpec, now: string): Condition {
  const lastTransitionTime = current && current.status === want.status ? current.lastTransitionTime : now;
  return {
    type: want.type,
    status: want.status,
    ...(want.observedGeneration !== undefined ? { observedGeneration: want.observedGeneration } : {}),
    lastTransitionTime,
    reason: want.reason,
    message: want.message,
  };
}

export function sameCondition(a: Condition | undefined, b: Condition | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.type === b.type &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.lastTransitionTime === b.lastTransitionTime &&
    (a.observedGeneration ?? undefined) === (b.observedGeneration ?? undefined)
  );
}

/** True when the condition states something new: another status, reason or message. */
export function conditionNews(current: Condition | undefined, want: ConditionSpec): boolean {
  return !current || current.status !== want.status || current.reason !== want.reason || current.message !== want.message;
}

/**
 * `list` with the conditions of `types` replaced by `mine` (in `mine`'s order, where
 * the old ones stood, new ones last); conditions of other types, written by others, stay.
 */
export function mergeConditions(list: readonly Condition[] | undefined, mine: readonly Condition[]): Condition[] {
  const byType = new Map(mine.map((c) => [c.type, c]));
  const out: Condition[] = [];
  for (const c of list ?? []) {
    const m = byType.get(c.type);
    if (m) {
      out.push(m);
      byType.delete(c.type);
    } else out.push(c);
  }
  for (const c of mine) if (byType.has(c.type)) out.push(c);
  return out;
}

/** `list` without the conditions of these types. */
export function withoutConditions(list: readonly Condition[] | undefined, types: readonly string[]): Condition[] {
  return (list ?? []).filter((c) => !types.includes(c.type));
}

export function sameConditions(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((c, i) => sameCondition(c, y[i]));
}
