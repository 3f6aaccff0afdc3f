// The REST verbs over the store, with kube-apiserver's generic registry semantics
// (k8s.io/apiserver/pkg/registry/generic/registry/store.go): server-set metadata,
// optimistic concurrency, status and spec written only through their own endpoints,
// generation, no-op updates that write nothing, finalizers and deletionTimestamp,
// generateName, dry run, and namespaces that must exist and empty out when deleted.
import { randomUUID, randomInt } from 'node:crypto';
import { serverSideApply } from './apply.js';
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  fieldError,
  forbidden,
  invalid,
  notFound,
  type FieldError,
  type GroupResource,
} from './errors.js';
import { listObjects, type ListResult } from './list.js';
import { APPLY, parseApplied, patchObject, patchType } from './patch.js';
import { clone, deepEqual, isObj, meta, readMeta, specPart, timestamp, type Obj } from './object.js';
import { apiVersionOf, hasStatus, type Registry, type ResourceDef, type WriteContext } from './registry.js';
import type { Store, Stored } from './store.js';
import { validateMeta } from './validation.js';

export type { ListResult } from './list.js';

export interface WriteResult {
  code: number;
  /** Present when the result is in the store. */
  stored?: Stored;
  obj: Obj;
}

const NAMESPACES = '/namespaces';
const UNDELETABLE_NAMESPACES = ['default', 'kube-system', 'kube-public'];

export function gr(def: ResourceDef): GroupResource {
  return { group: def.group, resource: def.plural };
}

export function isDryRun(q: URLSearchParams, body?: unknown): boolean {
  const values = [...q.getAll('dryRun')];
  if (isObj(body) && Array.isArray(body.dryRun)) values.push(...body.dryRun.map(String));
  for (const v of values) if (v !== 'All' && v !== '') throw badRequest(`Invalid dry run value: ${v}`);
  return values.includes('All');
}

class Tx implements WriteContext {
  private readonly commits: (() => void)[] = [];
  private readonly rollbacks: (() => void)[] = [];
  constructor(readonly dryRun: boolean) {}
  onCommit(fn: () => void): void {
    this.commits.push(fn);
  }
  onRollback(fn: () => void): void {
    this.rollbacks.push(fn);
  }
  commit(): void {
    this.commits.forEach((f) => f());
  }
  rollback(): void {
    this.rollbacks.forEach((f) => f());
  }
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export class Rest {
  /** Server-side apply: the last configuration each manager applied, per object uid. */
  private readonly applied = new Map<string, Map<string, Obj>>();

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly now: () => Date,
  ) {}

  /** The object as this API shows it (events.k8s.io sees stored core Events renamed). */
  json(def: ResourceDef, s: Stored): string {
    return def.toExternal ? JSON.stringify(def.toExternal(s.obj)) : s.json;
  }

  external(def: ResourceDef, o: Obj): Obj {
    return def.toExternal ? def.toExternal(o) : o;
  }

  get(def: ResourceDef, ns: string | undefined, name: string): Stored {
    const s = this.store.get(def.bucket, def.namespaced ? ns : undefined, name);
    if (!s) throw notFound(gr(def), name);
    return s;
  }

  list(def: ResourceDef, ns: string | undefined, q: URLSearchParams): ListResult {
    return listObjects(this.store, def, ns, q, (o) => this.external(def, o));
  }

  private checkTypeMeta(def: ResourceDef, o: Obj): void {
    const want = apiVersionOf(def);
    if (o.apiVersion !== undefined && o.apiVersion !== want) {
      throw badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${want})`);
    }
    if (o.kind !== undefined && o.kind !== def.kind) {
      throw badRequest(`the kind in the data (${String(o.kind)}) does not match the expected kind (${def.kind})`);
    }
  }

  /** apiVersion, kind and metadata first, as the API prints them. */
  private normalize(def: ResourceDef, body: Obj): Obj {
    this.checkTypeMeta(def, body);
    const withType: Obj = { apiVersion: apiVersionOf(def), kind: def.kind, metadata: {}, ...body };
    withType.apiVersion = apiVersionOf(def);
    withType.kind = def.kind;
    for (const k of ['metadata', 'spec', 'status'] as const) {
      if (withType[k] !== undefined && withType[k] !== null && !isObj(withType[k])) {
        throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: json: cannot unmarshal ${Array.isArray(withType[k]) ? 'array' : typeof withType[k]} into Go struct field ${def.kind}.${k} of type object`);
      }
    }
    if (!isObj(withType.metadata)) withType.metadata = {};
    const internal = def.toInternal ? def.toInternal(withType) : withType;
    return { apiVersion: internal.apiVersion, kind: internal.kind, metadata: internal.metadata, ...internal };
  }

  /** fieldValidation=Strict: fields the schema does not know are an error, not silently pruned. */
  private strictFields(def: ResourceDef, obj: Obj, q: URLSearchParams): void {
    if (q.get('fieldValidation') !== 'Strict' || !def.crd) return;
    const unknown = def.crd.prune(clone(obj));
    if (unknown.length === 0) return;
    const list = unknown.map((f) => `unknown field "${f}"`).join(', ');
    throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${list}`);
  }

  private requireNamespace(def: ResourceDef, ns: string, name: string): void {
    const n = this.store.get(NAMESPACES, undefined, ns);
    if (!n) throw notFound({ group: '', resource: 'namespaces' }, ns);
    if (readMeta(n.obj).deletionTimestamp) {
      const msg = `unable to create new content in namespace ${ns} because it is being terminated`;
      const e = forbidden(gr(def), name, `${def.plural}${def.group ? '.' + def.group : ''} "${name}" is forbidden: ${msg}`);
      e.details!.causes = [{ reason: 'NamespaceTerminating', message: msg, field: 'metadata.namespace' }];
      throw e;
    }
  }

  private generateName(def: ResourceDef, ns: string | undefined, prefix: string): string {
    for (let attempt = 0; attempt < 8; attempt++) {
      let s = prefix.slice(0, 58);
      for (let i = 0; i < 5; i++) s += GENERATE_ALPHABET[randomInt(GENERATE_ALPHABET.length)];
      if (!this.store.get(def.bucket, ns, s)) return s;
    }
    throw alreadyExists(gr(def), prefix);
  }

  create(def: ResourceDef, ns: string | undefined, body: unknown, q: URLSearchParams): WriteResult {
    if (!isObj(body)) throw badRequest('the body of the request must be a JSON object');
    const dryRun = isDryRun(q);
    const obj = this.normalize(def, clone(body));
    const m = meta(obj);
    if (def.namespaced) {
      if (m.namespace && m.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      m.namespace = ns;
    } else delete m.namespace;
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'generation', 'managedFields'] as const) {
      delete m[k];
    }
    const scopeNs = def.namespaced ? ns : undefined;
    if (!m.name) {
      if (!m.generateName) throw invalid(def.kind, def.group, '', [fieldError.required('metadata.name', 'name or generateName is required')]);
      m.name = this.generateName(def, scopeNs, m.generateName);
    }
    if (def.namespaced) this.requireNamespace(def, ns as string, m.name);
    if (def.resetStatusOnCreate) delete obj.status;
    const tx = new Tx(dryRun);
    const errs: FieldError[] = validateMeta(obj, def.nameRule);
    if (errs.length === 0 && def.strategy?.prepareCreate) errs.push(...def.strategy.prepareCreate(obj, tx));
    if (errs.length === 0 && def.crd) {
      this.strictFields(def, obj, q);
      def.crd.applyDefaults(obj);
      errs.push(...def.crd.validate(obj));
    }
    if (errs.length > 0) {
      tx.rollback();
      throw invalid(def.kind, def.group, m.name, errs);
    }
    if (this.store.get(def.bucket, scopeNs, m.name)) {
      tx.rollback();
      throw alreadyExists(gr(def), m.name);
    }
    m.uid = randomUUID();
    m.creationTimestamp = timestamp(this.now());
    if (def.generation) m.generation = 1;
    if (dryRun) {
      tx.rollback();
      return { code: 201, obj };
    }
    const stored = this.store.put(def.bucket, obj);
    tx.commit();
    return { code: 201, stored, obj: stored.obj };
  }

  update(def: ResourceDef, ns: string | undefined, name: string, sub: string | undefined, body: unknown, q: URLSearchParams, fromPatch = false): WriteResult {
    if (!isObj(body)) throw badRequest('the body of the request must be a JSON object');
    const dryRun = isDryRun(q);
    const cur = this.get(def, ns, name);
    const obj = this.normalize(def, clone(body));
    const m = meta(obj);
    if (m.name !== undefined && m.name !== name) throw badRequest(`the name of the object (${m.name}) does not match the name on the URL (${name})`);
    if (def.namespaced && m.namespace && m.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (m.resourceVersion !== undefined && m.resourceVersion !== '' && m.resourceVersion !== String(cur.rv)) throw conflict(gr(def), name);
    if ((m.resourceVersion === undefined || m.resourceVersion === '') && def.custom && !fromPatch) {
      throw invalid(def.kind, def.group, name, [{ type: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    }
    const old = cur.obj;
    const oldMeta = readMeta(old);
    if (m.uid !== undefined && m.uid !== '' && m.uid !== oldMeta.uid) {
      throw conflict(gr(def), name, `Precondition failed: UID in precondition: ${m.uid}, UID in object meta: ${oldMeta.uid ?? ''}`);
    }
    let next: Obj;
    if (sub === 'status') {
      // Custom resources take only status from a /status write; built-in kinds keep their
      // old spec but take metadata too (serviceStatusStrategy: newService.Spec = oldService.Spec).
      next = def.custom ? (JSON.parse(cur.json) as Obj) : { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata, ...specPart(JSON.parse(cur.json) as Obj) };
      if (obj.status === undefined) delete next.status;
      else next.status = obj.status;
    } else {
      next = obj;
      if (hasStatus(def)) {
        if (old.status === undefined) delete next.status;
        else next.status = clone(old.status);
      }
    }
    const nm = meta(next);
    nm.name = name;
    if (def.namespaced) nm.namespace = ns;
    else delete nm.namespace;
    for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink'] as const) {
      if (oldMeta[k] === undefined) delete nm[k];
      else (nm as Record<string, unknown>)[k] = oldMeta[k];
    }
    delete nm.resourceVersion;
    const tx = new Tx(dryRun);
    const errs: FieldError[] = validateMeta(next, def.nameRule);
    if (oldMeta.deletionTimestamp) {
      const added = (nm.finalizers ?? []).filter((f) => !(oldMeta.finalizers ?? []).includes(f));
      if (added.length > 0) errs.push(fieldError.forbidden('metadata.finalizers', 'no new finalizers can be added if the object is being deleted, found new finalizers ' + JSON.stringify(added)));
    }
    if (errs.length === 0) {
      if (sub === 'status') {
        if (def.strategy?.validateStatus) errs.push(...def.strategy.validateStatus(next, old));
      } else if (def.strategy?.prepareUpdate) errs.push(...def.strategy.prepareUpdate(next, old, tx));
    }
    if (errs.length === 0 && def.crd) {
      this.strictFields(def, next, q);
      def.crd.applyDefaults(next);
      errs.push(...def.crd.validate(next, old));
    }
    if (errs.length > 0) {
      tx.rollback();
      throw invalid(def.kind, def.group, name, errs);
    }
    // Without a status subresource, status is part of what generation counts (CR strategy).
    const counted = (o: Obj): Obj => (hasStatus(def) ? specPart(o) : { ...specPart(o), status: o.status });
    if (def.generation && !deepEqual(counted(next), counted(old))) nm.generation = (oldMeta.generation ?? 0) + 1;
    const unchanged = deepEqual({ ...next, metadata: { ...nm, resourceVersion: undefined, managedFields: undefined } }, { ...old, metadata: { ...oldMeta, resourceVersion: undefined, managedFields: undefined } });
    if (unchanged) {
      tx.rollback();
      return { code: 200, stored: cur, obj: cur.obj };
    }
    if (dryRun) {
      tx.rollback();
      nm.resourceVersion = String(cur.rv);
      return { code: 200, obj: next };
    }
    if (nm.deletionTimestamp && (nm.finalizers ?? []).length === 0) {
      tx.commit();
      return { code: 200, ...this.finalDelete(def, next) };
    }
    const stored = this.store.put(def.bucket, next);
    tx.commit();
    return { code: 200, stored, obj: stored.obj };
  }

  patch(def: ResourceDef, ns: string | undefined, name: string, sub: string | undefined, contentType: string, raw: string, q: URLSearchParams): WriteResult {
    const type = patchType(def, contentType);
    if (type === APPLY) return this.apply(def, ns, name, sub, raw, q);
    const cur = this.get(def, ns, name);
    return this.update(def, ns, name, sub, patchObject(def, type, raw, clone(this.external(def, cur.obj))), q, true);
  }

  private apply(def: ResourceDef, ns: string | undefined, name: string, sub: string | undefined, raw: string, q: URLSearchParams): WriteResult {
    const manager = q.get('fieldManager');
    if (!manager) throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const applied = parseApplied(raw);
    const am = isObj(applied.metadata) ? applied.metadata : {};
    if (am.name !== undefined && am.name !== name) throw badRequest(`the name of the object (${String(am.name)}) does not match the name on the URL (${name})`);
    const cur = this.store.get(def.bucket, def.namespaced ? ns : undefined, name);
    let result: WriteResult;
    if (!cur) {
      if (sub) throw notFound(gr(def), name);
      result = this.create(def, ns, { ...applied, metadata: { ...am, name } }, q);
    } else {
      const prev = this.applied.get(readMeta(cur.obj).uid ?? '')?.get(manager);
      const merged = serverSideApply(clone(this.external(def, cur.obj)), applied, prev, def.patchSchema);
      result = this.update(def, ns, name, sub, merged, q, true);
    }
    if (result.stored) {
      const uid = readMeta(result.stored.obj).uid ?? '';
      let perManager = this.applied.get(uid);
      if (!perManager) this.applied.set(uid, (perManager = new Map()));
      perManager.set(manager, clone(applied));
    }
    return result;
  }

  delete(def: ResourceDef, ns: string | undefined, name: string, body: unknown, q: URLSearchParams): WriteResult {
    const dryRun = isDryRun(q, body);
    const cur = this.get(def, ns, name);
    const om = readMeta(cur.obj);
    const pre = isObj(body) && isObj(body.preconditions) ? body.preconditions : {};
    if (typeof pre.uid === 'string' && pre.uid !== om.uid) {
      throw conflict(gr(def), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${om.uid ?? ''}`);
    }
    if (typeof pre.resourceVersion === 'string' && pre.resourceVersion !== om.resourceVersion) {
      throw conflict(gr(def), name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${om.resourceVersion ?? ''}`);
    }
    if (def.bucket === NAMESPACES) return this.deleteNamespace(def, cur, dryRun);
    if ((om.finalizers ?? []).length > 0) {
      if (om.deletionTimestamp) return { code: 202, stored: cur, obj: cur.obj };
      const next = JSON.parse(cur.json) as Obj;
      const nm = meta(next);
      nm.deletionTimestamp = timestamp(this.now());
      nm.deletionGracePeriodSeconds = 0;
      if (dryRun) return { code: 202, obj: next };
      const stored = this.store.put(def.bucket, next);
      return { code: 202, stored, obj: stored.obj };
    }
    if (dryRun) return { code: 200, obj: cur.obj };
    return { code: 200, ...this.finalDelete(def, JSON.parse(cur.json) as Obj) };
  }

  deleteCollection(def: ResourceDef, ns: string | undefined, body: unknown, q: URLSearchParams): Obj[] {
    const listQ = new URLSearchParams();
    for (const k of ['labelSelector', 'fieldSelector']) {
      const v = q.get(k);
      if (v) listQ.set(k, v);
    }
    const out: Obj[] = [];
    for (const s of this.list(def, ns, listQ).items) {
      out.push(this.delete(def, s.namespace || undefined, s.name, body, q).obj);
    }
    return out;
  }

  private finalDelete(def: ResourceDef, obj: Obj): { stored?: Stored; obj: Obj } {
    const stored = this.store.remove(def.bucket, obj);
    const m = readMeta(obj);
    this.applied.delete(m.uid ?? '');
    def.strategy?.deleted?.(obj);
    if (m.namespace) this.finishNamespace(m.namespace);
    return stored ? { stored, obj: stored.obj } : { obj };
  }

  // The namespace controller's part, done at once: deleting a namespace deletes what is
  // in it; the namespace itself goes when nothing is left (objects with finalizers stay
  // until their finalizers are removed).
  private deleteNamespace(def: ResourceDef, cur: Stored, dryRun: boolean): WriteResult {
    if (UNDELETABLE_NAMESPACES.includes(cur.name)) {
      throw forbidden(gr(def), cur.name, `namespaces "${cur.name}" is forbidden: this namespace may not be deleted`);
    }
    if (readMeta(cur.obj).deletionTimestamp) return { code: 200, stored: cur, obj: cur.obj };
    const next = JSON.parse(cur.json) as Obj;
    meta(next).deletionTimestamp = timestamp(this.now());
    meta(next).deletionGracePeriodSeconds = 0;
    next.status = { ...(isObj(next.status) ? next.status : {}), phase: 'Terminating' };
    if (dryRun) return { code: 200, obj: next };
    const stored = this.store.put(def.bucket, next);
    const seen = new Set<string>();
    for (const d of this.registry.all()) {
      if (!d.namespaced || seen.has(d.bucket)) continue;
      seen.add(d.bucket);
      for (const s of [...this.store.bucket(d.bucket).objects.values()]) {
        if (s.namespace === cur.name) this.delete(d, s.namespace, s.name, undefined, new URLSearchParams());
      }
    }
    this.finishNamespace(cur.name);
    return { code: 200, stored, obj: stored.obj };
  }

  private finishNamespace(ns: string): void {
    const n = this.store.get(NAMESPACES, undefined, ns);
    if (!n || !readMeta(n.obj).deletionTimestamp || this.store.countInNamespace(ns) > 0) return;
    const last = JSON.parse(n.json) as Obj;
    last.spec = {};
    this.store.remove(NAMESPACES, last);
  }
}
