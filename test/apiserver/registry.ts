// The resources the server serves: built-in kinds and every CustomResourceDefinition,
// each described once here and used by routing, discovery, REST handlers and tables.
import type { CompiledCRD } from './crd-validation.js';
import type { FieldError } from './errors.js';
import type { Obj } from './object.js';
import type { PatchSchema } from './strategic-merge.js';

export type { CompiledCRD } from './crd-validation.js';

/** Lets a strategy reserve things (IPs, ports) that must be released if the write does not happen. */
export interface WriteContext {
  readonly dryRun: boolean;
  onCommit(fn: () => void): void;
  onRollback(fn: () => void): void;
}

export interface Strategy {
  /** Defaults and validates an object about to be created. */
  prepareCreate?(obj: Obj, ctx: WriteContext): FieldError[];
  /** Defaults and validates an update of the main resource (status already carried over). */
  prepareUpdate?(obj: Obj, old: Obj, ctx: WriteContext): FieldError[];
  /** Validates an update through the status subresource. */
  validateStatus?(obj: Obj, old: Obj): FieldError[];
  /** The object left the store for good. */
  deleted?(obj: Obj): void;
}

export type NameRule = 'subdomain' | 'dns1035' | 'dns1123' | 'path';

export interface ResourceDef {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  verbs: string[];
  /** Served subresources: 'status' (and 'finalize' for namespaces). */
  subresources: string[];
  /** Storage key; two APIs over one kind (core and events.k8s.io Events) share it. */
  bucket: string;
  /** metadata.generation is kept and bumped on changes outside metadata and status. */
  generation: boolean;
  /** Status dropped on create (status subresource semantics; Service and Pod strategies). */
  resetStatusOnCreate: boolean;
  /** Custom resources refuse updates without metadata.resourceVersion and strategic merge patches. */
  custom: boolean;
  nameRule: NameRule;
  patchSchema: PatchSchema;
  strategy?: Strategy;
  crd?: CompiledCRD;
  /** Storage form → this API's form, for kinds served by two APIs. */
  toExternal?(o: Obj): Obj;
  /** This API's form → storage form. */
  toInternal?(o: Obj): Obj;
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersionOf(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

export function hasStatus(def: ResourceDef): boolean {
  return def.subresources.includes('status');
}

export class Registry {
  private readonly defs = new Map<string, ResourceDef>();
  /** Bumped on every change, for discovery's hashes and caches. */
  generation = 0;

  private static key(group: string, version: string, plural: string): string {
    return `${group}/${version}/${plural}`;
  }

  add(def: ResourceDef): void {
    this.defs.set(Registry.key(def.group, def.version, def.plural), def);
    this.generation++;
  }

  remove(group: string, version: string, plural: string): ResourceDef | undefined {
    const k = Registry.key(group, version, plural);
    const def = this.defs.get(k);
    if (def) {
      this.defs.delete(k);
      this.generation++;
    }
    return def;
  }

  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.defs.get(Registry.key(group, version, plural));
  }

  byKind(group: string, kind: string): ResourceDef | undefined {
    for (const d of this.defs.values()) if (d.group === group && d.kind === kind) return d;
    return undefined;
  }

  all(): ResourceDef[] {
    return [...this.defs.values()];
  }

  /** Group → versions → resources, groups in a stable order with the core group first. */
  groups(): Map<string, Map<string, ResourceDef[]>> {
    const out = new Map<string, Map<string, ResourceDef[]>>();
    const sorted = this.all().sort((a, b) => (a.group === b.group ? 0 : a.group === '' ? -1 : b.group === '' ? 1 : a.group < b.group ? -1 : 1));
    for (const d of sorted) {
      let g = out.get(d.group);
      if (!g) out.set(d.group, (g = new Map()));
      let v = g.get(d.version);
      if (!v) g.set(d.version, (v = []));
      v.push(d);
    }
    return out;
  }
}
