// herald's command line: `npm run -s herald -- <command> [flags]` (DESIGN.md, "Command line").
// Each command lives in its own module, loaded only when asked for, so that the
// controller never loads the embedded API server or the lab and vice versa.

type Main = (args: string[]) => Promise<number | void>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Main> }> = {
  controller: {
    summary: 'run the controller (assigns IPs to LoadBalancer Services)',
    load: async () => (await import('../controller/main.js')).main,
  },
  speaker: {
    summary: 'run the speaker on one node (announces IPs over L2 and BGP)',
    load: async () => (await import('../speaker/main.js')).main,
  },
  apiserver: {
    summary: 'run the embedded Kubernetes API server',
    load: async () => (await import('../test/apiserver/main.js')).main,
  },
  lab: {
    summary: 'the network-namespace testbed: lab up | down | status | endpoints',
    load: async () => (await import('../test/lab/main.js')).main,
  },
  'import-metallb': {
    summary: 'read MetalLB objects (YAML, stdin) and print the herald equivalents',
    load: async () => (await import('./cli/import-metallb.js')).main,
  },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)}${c.summary}`);
  return ['usage: npm run -s herald -- <command> [flags]', '', 'commands:', ...rows, '', 'Each command takes --help.'].join('\n');
}

async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`herald: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const main = await cmd.load();
  const code = await main(rest);
  return typeof code === 'number' ? code : 0;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`herald: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  },
);
