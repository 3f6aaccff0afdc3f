// Validation of the install manifests as the API server would do it, without one:
//   - Kubernetes kinds: the OpenAPI schema of the kind (kubernetes-models, generated from
//     Kubernetes' OpenAPI; the nearest release on npm to the 1.32 target that runs on
//     Node 20 is the v1.33 schema), plus strict field checking (`kubectl apply`'s
//     default, fieldValidation=Strict) from @kubernetes/client-node's type map, since
//     the schema allows unknown fields and a misspelt `readOnlyRootFileSystem` would pass;
//   - monitoring.coreos.com kinds: the Prometheus Operator CRD schemas
//     (@kubernetes-models/prometheus-operator);
//   - herald.dev kinds: herald's own CRDs in manifests/crds, compiled by the embedded API
//     server's CRD code (pruning, defaulting, schema and CEL rules).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { loadCRDs, type CompiledCRD } from '../../apiserver/crd-validation.js';

export const ROOT = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');
export const MANIFESTS = join(ROOT, 'manifests');

export type K8sDoc = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

export interface LoadedDoc {
  file: string;
  index: number;
  doc: K8sDoc;
}

/** Every .yaml/.yml file under dir, recursively, sorted. */
export function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(entry)) out.push(p);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseDocs(text: string, where: string): K8sDoc[] {
  const docs: K8sDoc[] = [];
  for (const d of yaml.loadAll(text)) {
    if (d === null || d === undefined) continue;
    if (!isObject(d) || typeof d.apiVersion !== 'string' || typeof d.kind !== 'string' || !isObject(d.metadata)) {
      throw new Error(`${where}: a document without apiVersion, kind and metadata`);
    }
    docs.push(d as K8sDoc);
  }
  return docs;
}

export function loadFile(file: string): LoadedDoc[] {
  return parseDocs(readFileSync(file, 'utf8'), relative(ROOT, file)).map((doc, index) => ({ file: relative(ROOT, file), index, doc }));
}

/** `kubectl kustomize <dir>` (kubectl's built-in kustomize), parsed. */
export function kustomize(dir: string): K8sDoc[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  return parseDocs(out, `kubectl kustomize ${relative(ROOT, dir)}`);
}

let crds: Map<string, CompiledCRD> | undefined;
function heraldCRD(kind: string): CompiledCRD | undefined {
  crds ??= new Map(loadCRDs(join(MANIFESTS, 'crds')).map((c) => [`${c.group}/${c.version}/${c.kind}`, c]));
  return crds.get(kind);
}

type Model = new (data: unknown) => { validate(): void };

async function modelFor(apiVersion: string, kind: string): Promise<Model | undefined> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const spec =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`;
  try {
    const mod = (await import(spec)) as Record<string, unknown>;
    return mod[kind] as Model | undefined;
  } catch {
    return undefined;
  }
}

interface Attribute {
  baseName: string;
  type: string;
}
type ClientModel = { getAttributeTypeMap(): Attribute[] };
const CLIENT = k8s as unknown as Record<string, ClientModel | undefined>;

/** Fields of `value` that the Kubernetes type `type` does not have (strict decoding). */
function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1] as string, `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isObject(value)) for (const [k, v] of Object.entries(value)) unknownFields(v, map[1] as string, `${path}.${k}`, out);
    return;
  }
  const model = CLIENT[type];
  if (!model || typeof model.getAttributeTypeMap !== 'function' || !isObject(value)) return;
  const attrs = model.getAttributeTypeMap();
  for (const [k, v] of Object.entries(value)) {
    const a = attrs.find((x) => x.baseName === k);
    if (!a) out.push(`${path ? `${path}.` : ''}${k}`);
    else unknownFields(v, a.type, `${path ? `${path}.` : ''}${k}`, out);
  }
}

function clientTypeName(apiVersion: string, kind: string): string {
  const version = apiVersion.includes('/') ? (apiVersion.split('/')[1] as string) : apiVersion;
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

/** Everything the API server would reject in this object; empty when it is valid. */
export async function validateDoc(doc: K8sDoc): Promise<string[]> {
  const errors: string[] = [];
  if (!doc.metadata.name) errors.push('metadata.name is required');
  if (doc.apiVersion.startsWith('herald.dev/')) {
    const crd = heraldCRD(`${doc.apiVersion}/${doc.kind}`);
    if (!crd) return [`no CRD in manifests/crds serves ${doc.apiVersion} ${doc.kind}`];
    if (crd.scope === 'Namespaced' && !doc.metadata.namespace) errors.push('metadata.namespace is required (namespaced kind)');
    const copy = structuredClone(doc) as Record<string, unknown>;
    for (const f of crd.prune(copy)) errors.push(`unknown field "${f}"`);
    crd.applyDefaults(copy);
    for (const e of crd.validate(copy)) errors.push(`${e.field}: ${e.message}`);
    return errors;
  }
  const model = await modelFor(doc.apiVersion, doc.kind);
  if (!model) return [`no schema for ${doc.apiVersion} ${doc.kind}`];
  try {
    new model(doc).validate();
  } catch (e) {
    errors.push((e as Error).message);
  }
  if (!doc.apiVersion.startsWith('monitoring.coreos.com/')) {
    const type = clientTypeName(doc.apiVersion, doc.kind);
    if (!CLIENT[type]) errors.push(`no client-node type ${type} for strict field checking`);
    const unknown: string[] = [];
    unknownFields(doc, type, '', unknown);
    for (const f of unknown) errors.push(`unknown field "${f}"`);
  }
  return errors;
}

/** validateDoc over many documents; one line per problem, naming where it is. */
export async function problems(docs: { where: string; doc: K8sDoc }[]): Promise<string[]> {
  const out: string[] = [];
  for (const { where, doc } of docs) {
    for (const e of await validateDoc(doc)) out.push(`${where}: ${doc.kind} ${doc.metadata.name ?? '?'}: ${e}`);
  }
  return out;
}
