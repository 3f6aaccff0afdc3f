// The YAML documents under a folder of manifests (recursively, multi-document files, in
// sorted path order): what the API server loads CRDs and RBAC objects from.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

/** Every document with the file it came from; a missing folder has none. */
export function yamlDocuments(dir: string): { file: string; doc: unknown }[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const out: { file: string; doc: unknown }[] = [];
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...yamlDocuments(p));
    else if (/\.ya?ml$/.test(e)) for (const doc of yaml.loadAll(readFileSync(p, 'utf8'))) out.push({ file: p, doc });
  }
  return out;
}
