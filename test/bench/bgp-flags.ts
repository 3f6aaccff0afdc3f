// The Node flags the speaker runs with in a cluster, read from where they are set: the
// image's ENTRYPOINT (Dockerfile) and the speaker container of the base DaemonSet
// (manifests/base/speaker.yaml: its command, if it sets one, and NODE_OPTIONS). The BGP
// benchmark starts herald's side with exactly these, so its memory figure follows any
// change to them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

interface Container {
  name?: string;
  command?: string[];
  env?: { name?: string; value?: string }[];
}

/** Flags between `node` and the script in an argv, e.g. ["node", "--x", "dist/shared/cli.js"] → ["--x"]. */
function nodeFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of argv.slice(1)) {
    if (!a.startsWith('-')) break;
    out.push(a);
  }
  return out;
}

export function speakerNodeFlags(repoRoot: string): string[] {
  const docker = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(docker);
  if (!entry?.[1]) throw new Error('Dockerfile: no ENTRYPOINT in exec form');
  const docs = yaml.loadAll(readFileSync(join(repoRoot, 'manifests', 'base', 'speaker.yaml'), 'utf8')) as { kind?: string; spec?: { template?: { spec?: { containers?: Container[] } } } }[];
  const speaker = docs.find((d) => d?.kind === 'DaemonSet')?.spec?.template?.spec?.containers?.find((c) => c.name === 'speaker');
  if (!speaker) throw new Error('manifests/base/speaker.yaml: no speaker container');
  const command = speaker.command ?? (JSON.parse(entry[1]) as string[]);
  if (command[0] !== 'node') throw new Error(`the speaker does not start with node: ${command.join(' ')}`);
  const nodeOptions = speaker.env?.find((e) => e.name === 'NODE_OPTIONS')?.value?.split(/\s+/).filter(Boolean) ?? [];
  // Node reads NODE_OPTIONS before its command line, so the command line's flags win.
  return [...nodeOptions, ...nodeFlags(command)];
}
