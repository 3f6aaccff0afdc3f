// CustomResourceDefinitions: loaded from manifests at start and creatable through
// apiextensions.k8s.io/v1; each one registers a resource served as its schema says.
// Schema validation, defaulting and CEL rules come from crd-validation.ts.
import { yamlDocuments } from './manifest-files.js';
import { fieldError, type FieldError } from './errors.js';
import { isObj, readMeta, timestamp, type Obj } from './object.js';
import { ALL_VERBS, type CompiledCRD, type Registry, type ResourceDef, type Strategy } from './registry.js';
import { builtinSchema } from './strategic-merge.js';

export type CompileCRD = (crd: Record<string, unknown>) => CompiledCRD;

/** Every object of a kind in YAML files under dir (recursively), in file order. */
export function readManifests(dir: string, kinds: readonly string[]): Obj[] {
  return yamlDocuments(dir)
    .map((d) => d.doc)
    .filter((doc): doc is Obj => isObj(doc) && kinds.includes(doc.kind as string));
}

export function crdResourceDef(c: CompiledCRD): ResourceDef {
  return {
    group: c.group,
    version: c.version,
    kind: c.kind,
    listKind: c.listKind,
    plural: c.plural,
    singular: c.singular,
    shortNames: c.shortNames,
    categories: c.categories,
    namespaced: c.scope === 'Namespaced',
    verbs: ALL_VERBS,
    subresources: c.statusSubresource ? ['status'] : [],
    bucket: `${c.group}/${c.plural}`,
    generation: true,
    resetStatusOnCreate: c.statusSubresource,
    custom: true,
    nameRule: 'subdomain',
    patchSchema: builtinSchema,
    crd: c,
  };
}

function crdNames(crd: Obj): { group: string; plural: string } {
  const spec = isObj(crd.spec) ? crd.spec : {};
  const names = isObj(spec.names) ? spec.names : {};
  return { group: String(spec.group ?? ''), plural: String(names.plural ?? '') };
}

/**
 * The strategy of customresourcedefinitions: compiles each CRD on write (refusing ones
 * that do not compile), reports it Established, and keeps the registry in step.
 */
export class CrdStrategy implements Strategy {
  constructor(
    private readonly registry: Registry,
    private readonly compile: CompileCRD,
    private readonly now: () => Date,
    private readonly onRemoved: (def: ResourceDef) => void,
  ) {}

  private check(obj: Obj): { compiled?: CompiledCRD; errs: FieldError[] } {
    const { group, plural } = crdNames(obj);
    const name = readMeta(obj).name ?? '';
    if (name !== `${plural}.${group}`) {
      return { errs: [fieldError.invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group')] };
    }
    try {
      return { compiled: this.compile(obj), errs: [] };
    } catch (e) {
      return { errs: [fieldError.invalid('spec', group, e instanceof Error ? e.message : String(e))] };
    }
  }

  private established(obj: Obj, c: CompiledCRD): void {
    const t = timestamp(this.now());
    obj.status = {
      acceptedNames: { kind: c.kind, listKind: c.listKind, plural: c.plural, singular: c.singular, shortNames: c.shortNames, categories: c.categories },
      conditions: [
        { type: 'NamesAccepted', status: 'True', lastTransitionTime: t, reason: 'NoConflicts', message: 'no conflicts found' },
        { type: 'Established', status: 'True', lastTransitionTime: t, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
      ],
      storedVersions: [c.version],
    };
  }

  prepareCreate(obj: Obj, ctx: { dryRun: boolean; onCommit(fn: () => void): void }): FieldError[] {
    const { compiled, errs } = this.check(obj);
    if (!compiled) return errs;
    const clash = this.registry.lookup(compiled.group, compiled.version, compiled.plural);
    if (clash && !clash.crd) return [fieldError.invalid('spec.names.plural', compiled.plural, 'is already served by a built-in resource')];
    this.established(obj, compiled);
    ctx.onCommit(() => this.registry.add(crdResourceDef(compiled)));
    return [];
  }

  prepareUpdate(obj: Obj, old: Obj, ctx: { onCommit(fn: () => void): void }): FieldError[] {
    const { compiled, errs } = this.check(obj);
    if (!compiled) return errs;
    const before = crdNames(old);
    if (before.group !== crdNames(obj).group) return [fieldError.invalid('spec.group', crdNames(obj).group, 'field is immutable')];
    this.established(obj, compiled);
    ctx.onCommit(() => {
      for (const d of this.registry.all()) {
        if (d.crd && d.group === before.group && d.plural === before.plural && d.version !== compiled.version) {
          this.registry.remove(d.group, d.version, d.plural);
        }
      }
      this.registry.add(crdResourceDef(compiled));
    });
    return [];
  }

  deleted(obj: Obj): void {
    const { group, plural } = crdNames(obj);
    for (const d of this.registry.all()) {
      if (d.crd && d.group === group && d.plural === plural) {
        this.registry.remove(d.group, d.version, d.plural);
        this.onRemoved(d);
      }
    }
  }
}
