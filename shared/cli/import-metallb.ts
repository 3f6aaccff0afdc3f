// `herald import-metallb`: reads MetalLB objects (YAML or JSON, stdin or -f FILE) and
// prints the herald equivalents as YAML on stdout; what cannot be carried over goes to
// stderr. Exit code 0 when everything converted, 1 when something could not be.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import { importMetalLB } from '../migrate/metallb.js';

const HELP = `usage: npm run -s herald -- import-metallb [-f FILE] [--namespace NS] [-o yaml|json]

Reads MetalLB IPAddressPool, L2Advertisement, BGPAdvertisement, BGPPeer, Community,
BFDProfile (and the legacy AddressPool and config ConfigMap) from FILE or stdin and prints
the herald.dev/v1beta1 equivalents. Services need no change: herald honours the
metallb.io/ annotations.

  -f, --filename FILE   read from FILE (default: stdin)
  -n, --namespace NS    namespace of the objects written (default: herald-system)
  -o, --output FORMAT   yaml (default) or json`;

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      filename: { type: 'string', short: 'f' },
      namespace: { type: 'string', short: 'n', default: 'herald-system' },
      output: { type: 'string', short: 'o', default: 'yaml' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.output !== 'yaml' && values.output !== 'json') {
    console.error(`import-metallb: --output must be yaml or json, not "${values.output}"`);
    return 2;
  }
  const text = readFileSync(values.filename ?? 0, 'utf8');
  let docs: unknown[];
  try {
    docs = yaml.loadAll(text);
  } catch (err) {
    console.error(`import-metallb: cannot parse input: ${(err as Error).message}`);
    return 2;
  }
  const { objects, notes } = importMetalLB(docs, { namespace: values.namespace });
  if (values.output === 'json') {
    process.stdout.write(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2) + '\n');
  } else {
    process.stdout.write(objects.map((o) => yaml.dump(o, { noRefs: true, lineWidth: 120 })).join('---\n'));
  }
  for (const n of notes) {
    console.error(`${n.severity}: ${n.source}${n.field ? ` ${n.field}` : ''}: ${n.message}`);
  }
  console.error(`import-metallb: ${objects.length} objects written, ${notes.filter((n) => n.severity === 'error').length} errors, ${notes.filter((n) => n.severity === 'warning').length} warnings`);
  return notes.some((n) => n.severity === 'error') ? 1 : 0;
}
