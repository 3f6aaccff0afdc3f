// The Node flags a component runs with in a cluster, read from where they are set: the
// image's ENTRYPOINT (Dockerfile) and the component's container in the base manifests
// (its command, if it sets one, and NODE_OPTIONS). The benchmarks and the L2 lab tests
// start compiled components with exactly these, so their memory figures follow any
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

const WORKLOADS = {
  controller: { file: 'controller.yaml', kind: 'Deployment' },
  speaker: { file: 'speaker.yaml', kind: 'DaemonSet' },
} as const;

export function shippedNodeFlags(repoRoot: string, component: keyof typeof WORKLOADS): string[] {
  const w = WORKLOADS[component];
  const docker = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(docker);
  if (!entry?.[1]) throw new Error('Dockerfile: no ENTRYPOINT in exec form');
  const docs = yaml.loadAll(readFileSync(join(repoRoot, 'manifests', 'base', w.file), 'utf8')) as { kind?: string; spec?: { template?: { spec?: { containers?: Container[] } } } }[];
  const container = docs.find((d) => d?.kind === w.kind)?.spec?.template?.spec?.containers?.find((c) => c.name === component);
  if (!container) throw new Error(`manifests/base/${w.file}: no ${component} container`);
  const command = container.command ?? (JSON.parse(entry[1]) as string[]);
  if (command[0] !== 'node') throw new Error(`the ${component} does not start with node: ${command.join(' ')}`);
  const nodeOptions = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value?.split(/\s+/).filter(Boolean) ?? [];
  // Node reads NODE_OPTIONS before its command line, so the command line's flags win.
  return [...nodeOptions, ...nodeFlags(command)];
}
