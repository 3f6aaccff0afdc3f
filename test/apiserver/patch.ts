// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge
// patch (built-in kinds only, as in Kubernetes) and server-side apply configurations.
import yaml from 'js-yaml';
import { badRequest, unsupportedMediaType } from './errors.js';
import { jsonPatch, mergePatch } from './json-patch.js';
import { isObj, type Obj } from './object.js';
import type { ResourceDef } from './registry.js';
import { strategicMergePatch } from './strategic-merge.js';

export const APPLY = 'application/apply-patch+yaml';
const MERGE = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';

/** The patch type of a Content-Type, or 415 when this resource does not take it. */
export function patchType(def: ResourceDef, contentType: string): string {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const accepted = def.custom ? [JSON_PATCH, MERGE, APPLY] : [JSON_PATCH, MERGE, STRATEGIC, APPLY];
  if (!accepted.includes(type)) throw unsupportedMediaType(contentType, accepted);
  return type;
}

/** `current` (a copy the caller gives up) with a merge, JSON or strategic patch applied. */
export function patchObject(def: ResourceDef, type: string, raw: string, current: Obj): Obj {
  let patch: unknown;
  try {
    patch = JSON.parse(raw);
  } catch (e) {
    throw badRequest(`error decoding patch: ${e instanceof Error ? e.message : String(e)}`);
  }
  let result: unknown;
  if (type === MERGE) result = mergePatch(current, patch);
  else if (type === JSON_PATCH) result = jsonPatch(current, patch);
  else result = strategicMergePatch(current, patch, def.patchSchema);
  if (!isObj(result)) throw badRequest('the patch did not produce an object');
  return result;
}

/** A server-side apply configuration (YAML or JSON) with its apiVersion and kind. */
export function parseApplied(raw: string): Obj {
  let applied: unknown;
  try {
    applied = yaml.load(raw);
  } catch (e) {
    throw badRequest(`error decoding YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isObj(applied)) throw badRequest('the applied configuration must be an object');
  if (typeof applied.apiVersion !== 'string' || typeof applied.kind !== 'string') {
    throw badRequest('apply patches must have apiVersion and kind set');
  }
  return applied;
}
