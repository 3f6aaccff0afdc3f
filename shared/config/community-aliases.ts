// Community objects: named aliases for community values, so that a BGPAdvertisement can
// say `no-advertise-upstream` instead of `65535:65282`. An alias name is global across
// Community objects (MetalLB refuses duplicates); herald keeps the alias of the object
// created first and reports the later one.
import type { Community } from '../api/types.js';
import type { ConfigError } from './types.js';
import { parseCommunity, type CommunityValue } from './community.js';
import { byCreation, intake, isRecord, Reporter } from './checks.js';

export interface CommunityAliases {
  values: ReadonlyMap<string, CommunityValue>;
  /** Alias names defined only by invalid Community objects → that object's name. */
  invalid: ReadonlyMap<string, string>;
}

interface Defined {
  object: Community;
  name: string;
  index: number;
  value: CommunityValue;
}

export function buildCommunityAliases(raw: readonly Community[], namespace: string, sink: ConfigError[]): CommunityAliases {
  const validDefs: Defined[] = [];
  const invalid = new Map<string, string>();
  const objects = intake(raw, 'Community', namespace, sink).sort(byCreation);
  const reporters = new Map<Community, Reporter>();
  for (const c of objects) {
    const objectName = c.metadata.name as string;
    const r = new Reporter(sink, 'Community', objectName);
    reporters.set(c, r);
    const list = isRecord(c.spec) ? c.spec.communities : undefined;
    if (list !== undefined && !Array.isArray(list)) r.invalid('spec.communities', 'must be a list of {name, value} aliases');
    const defs: Defined[] = [];
    const names: string[] = [];
    (Array.isArray(list) ? list : []).forEach((alias: unknown, index) => {
      const field = `spec.communities[${index}]`;
      const { name, value } = isRecord(alias) ? alias : { name: undefined, value: undefined };
      if (typeof name !== 'string' || name === '') {
        r.invalid(`${field}.name`, 'an alias needs a non-empty name');
        return;
      }
      names.push(name);
      const asValue = parseCommunity(name);
      if (asValue.ok || asValue.shape) {
        r.invalid(`${field}.name`, `alias name "${name}" looks like a community value; pick a name such as "no-export-upstream"`);
        return;
      }
      if (defs.some((d) => d.name === name)) {
        r.invalid(`${field}.name`, `alias "${name}" is defined twice in this object`);
        return;
      }
      const parsed = typeof value === 'string' ? parseCommunity(value) : undefined;
      if (!parsed?.ok) {
        r.invalid(`${field}.value`, parsed ? parsed.error : 'an alias needs a value such as 65000:100 or large:64512:1:2');
        return;
      }
      defs.push({ object: c, name, index, value: parsed.value });
    });
    if (r.invalidCount === 0) validDefs.push(...defs);
    else for (const n of names) invalid.set(n, objectName);
  }

  const values = new Map<string, CommunityValue>();
  const owner = new Map<string, Defined>();
  for (const d of validDefs) {
    const first = owner.get(d.name);
    if (first) {
      reporters.get(d.object)?.conflict(
        `spec.communities[${d.index}].name`,
        `alias "${d.name}" is already defined by Community "${first.object.metadata.name}" (created earlier), whose value is used; rename or remove one`,
      );
      continue;
    }
    owner.set(d.name, d);
    values.set(d.name, d.value);
  }
  for (const n of values.keys()) invalid.delete(n);
  return { values, invalid };
}
