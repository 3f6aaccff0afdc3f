// CustomResourceDefinitions for the embedded API server: a CRD (apiextensions.k8s.io/v1)
// compiled once into what the server needs to serve its kind: names, scope, status
// subresource, printer columns, defaulting + pruning, and validation that answers as
// kube-apiserver does (schema errors, list-type uniqueness, then CEL rules unless a
// blocking schema error makes them meaningless).
import { yamlDocuments } from './manifest-files.js';
import { RuleSet } from './cel-rules.js';
import { invalid, NIL_FIELD, type FieldError } from './schema-errors.js';
import {
  applyDefaults,
  isObject,
  prune,
  structuralProblems,
  validateListTypes,
  validateSchema,
  type JSONObject,
  type Schema,
} from './schema-structural.js';

export type { FieldError } from './schema-errors.js';

export interface CompiledCRD {
  group: string;
  /** The storage version. */
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  scope: 'Namespaced' | 'Cluster';
  statusSubresource: boolean;
  printerColumns: unknown[];
  /**
   * Prunes unknown fields, then applies schema defaults, in place: what the apiserver does
   * to every custom resource it decodes (on create, update and read).
   */
  applyDefaults(obj: Record<string, unknown>): void;
  validate(obj: Record<string, unknown>, old?: Record<string, unknown>): FieldError[];
  /**
   * Drops unknown fields in place and returns their paths (`spec.foo`), for
   * `fieldValidation=Strict` (`strict decoding error: unknown field "spec.foo"`) and
   * `Warn`. applyDefaults prunes too; call this first to learn what was dropped.
   */
  prune(obj: Record<string, unknown>): string[];
  /** The storage version's openAPIV3Schema, for OpenAPI and `kubectl explain`. */
  schema: Record<string, unknown>;
  /** The CRD object as loaded. */
  crd: Record<string, unknown>;
}

export class CRDError extends Error {
  readonly code = 'CRDError';
}

/**
 * Schema errors after which Kubernetes does not run CEL rules: the object lacks the shape
 * the rules were written for (apiextensions strategy.go, hasBlockingErr).
 */
const BLOCKING: ReadonlySet<FieldError['type']> = new Set([
  'FieldValueNotSupported',
  'FieldValueRequired',
  'FieldValueTooLong',
  'FieldValueTooMany',
  'FieldValueTypeInvalid',
]);

const NOT_CHECKED = 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

function str(v: unknown, what: string, name: string): string {
  if (typeof v !== 'string' || v === '') throw new CRDError(`CRD ${name}: ${what} is required`);
  return v;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function compileCRD(crd: Record<string, unknown>): CompiledCRD {
  const meta = isObject(crd.metadata) ? crd.metadata : {};
  const crdName = typeof meta.name === 'string' ? meta.name : '(unnamed)';
  if (crd.apiVersion !== 'apiextensions.k8s.io/v1' || crd.kind !== 'CustomResourceDefinition') {
    throw new CRDError(`CRD ${crdName}: not an apiextensions.k8s.io/v1 CustomResourceDefinition`);
  }
  const spec = isObject(crd.spec) ? crd.spec : {};
  const names = isObject(spec.names) ? spec.names : {};
  const group = str(spec.group, 'spec.group', crdName);
  const kind = str(names.kind, 'spec.names.kind', crdName);
  const plural = str(names.plural, 'spec.names.plural', crdName);
  if (crdName !== `${plural}.${group}`) {
    throw new CRDError(`CRD ${crdName}: metadata.name must be spec.names.plural+"."+spec.group (${plural}.${group})`);
  }
  const scope = spec.scope;
  if (scope !== 'Namespaced' && scope !== 'Cluster') throw new CRDError(`CRD ${crdName}: spec.scope must be Namespaced or Cluster`);
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isObject) : [];
  const storage = versions.filter((v) => v.storage === true);
  if (storage.length !== 1) throw new CRDError(`CRD ${crdName}: exactly one version must be the storage version`);
  const version = storage[0] as JSONObject;
  const versionName = str(version.name, 'storage version name', crdName);
  if (version.served !== true) throw new CRDError(`CRD ${crdName}: storage version ${versionName} must be served`);
  const schemaHolder = isObject(version.schema) ? version.schema : {};
  if (!isObject(schemaHolder.openAPIV3Schema)) {
    throw new CRDError(`CRD ${crdName}: version ${versionName} has no schema.openAPIV3Schema`);
  }
  const rawSchema = schemaHolder.openAPIV3Schema;
  const schema = rawSchema as Schema;
  const problems = structuralProblems(schema);
  if (problems.length) throw new CRDError(`CRD ${crdName} is not structural: ${problems.join('; ')}`);
  let rules: RuleSet;
  try {
    rules = new RuleSet(schema);
  } catch (e) {
    throw new CRDError(`CRD ${crdName}: ${(e as Error).message}`);
  }
  const subresources = isObject(version.subresources) ? version.subresources : {};

  return {
    group,
    version: versionName,
    kind,
    listKind: typeof names.listKind === 'string' && names.listKind ? names.listKind : `${kind}List`,
    plural,
    singular: typeof names.singular === 'string' && names.singular ? names.singular : kind.toLowerCase(),
    shortNames: strings(names.shortNames),
    categories: strings(names.categories),
    scope,
    statusSubresource: isObject(subresources.status),
    printerColumns: Array.isArray(version.additionalPrinterColumns) ? version.additionalPrinterColumns : [],
    schema: rawSchema,
    crd,
    prune(obj) {
      return prune(schema, obj);
    },
    applyDefaults(obj) {
      prune(schema, obj);
      applyDefaults(schema, obj);
    },
    validate(obj, old) {
      const errors = validateSchema(schema, obj, old);
      // As kube-apiserver: list-type uniqueness is checked on update only if the old
      // object met it, so pre-existing duplicates do not block unrelated writes.
      if (!old || validateListTypes(schema, old).length === 0) errors.push(...validateListTypes(schema, obj));
      if (rules.size === 0) return errors;
      if (errors.some((e) => BLOCKING.has(e.type))) {
        errors.push(invalid(NIL_FIELD, null, NOT_CHECKED));
        return errors;
      }
      errors.push(...rules.validate(obj, old));
      return errors;
    },
  };
}

/** Every CustomResourceDefinition in the YAML files under `dir` (recursively, multi-document). */
export function loadCRDs(dir: string): CompiledCRD[] {
  const out: CompiledCRD[] = [];
  for (const { file, doc } of yamlDocuments(dir)) {
    if (!isObject(doc) || doc.kind !== 'CustomResourceDefinition') continue;
    try {
      out.push(compileCRD(doc));
    } catch (e) {
      throw new CRDError(`${file}: ${(e as Error).message}`);
    }
  }
  return out;
}
