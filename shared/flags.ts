// The flags the controller and the speaker share (DESIGN.md, "Command line"), parsed
// with node:util parseArgs. A component adds its own flags through `extra`; parsing is
// pure (args and environment in, a result out) so it is tested without a process.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_NAMESPACE } from './api/types.js';
import { parseListenAddr, type ListenAddr } from './http-server.js';
import { LOG_LEVELS, isLogLevel, type LogLevel } from './log.js';

export interface ClientFlags {
  /** Path from --kubeconfig; undefined means KUBECONFIG, else in-cluster. */
  kubeconfig: string | undefined;
  namespace: string;
  /** spec.loadBalancerClass to serve; undefined serves Services without a class. */
  lbClass: string | undefined;
  metricsAddr: ListenAddr | null;
  /** undefined: probes are served on the metrics address. */
  healthAddr: ListenAddr | null | undefined;
  logLevel: LogLevel;
}

export interface ExtraFlag {
  type: 'string' | 'boolean';
  help: string;
  /** Shown in --help, e.g. "NAME". */
  arg?: string;
  default?: string | boolean;
  /** Environment variable read when the flag is absent. */
  env?: string;
  required?: boolean;
}

export interface FlagSpec {
  command: string;
  summary: string;
  defaultMetricsAddr: string;
  extra?: Record<string, ExtraFlag>;
}

export type FlagResult =
  | { kind: 'ok'; flags: ClientFlags; extra: Record<string, string | boolean | undefined> }
  | { kind: 'help'; text: string }
  | { kind: 'error'; message: string };

const COMMON: Record<string, Omit<ExtraFlag, 'default'> & { default?: string }> = {
  kubeconfig: { type: 'string', arg: 'FILE', help: 'kubeconfig file (default: $KUBECONFIG, else in-cluster)' },
  namespace: { type: 'string', arg: 'NS', help: `namespace of herald's objects (default ${DEFAULT_NAMESPACE})` },
  'lb-class': { type: 'string', arg: 'CLASS', help: 'serve only Services with this spec.loadBalancerClass (default: only Services without one)' },
  'metrics-addr': { type: 'string', arg: 'ADDR', help: '/metrics (and the probes) on host:port; 0 disables' },
  'health-addr': { type: 'string', arg: 'ADDR', help: '/healthz and /readyz on their own host:port (default: on the metrics address); 0 disables' },
  'log-level': { type: 'string', arg: 'LEVEL', help: `${LOG_LEVELS.join('|')} (default info)` },
};

export function helpText(spec: FlagSpec): string {
  const rows: [string, string][] = [];
  const all = { ...COMMON, ...(spec.extra ?? {}) };
  for (const [name, f] of Object.entries(all)) {
    let help = f.help;
    if (name === 'metrics-addr') help += ` (default ${spec.defaultMetricsAddr})`;
    if (f.env) help += ` [env ${f.env}]`;
    rows.push([`--${name}${f.type === 'string' ? ` ${f.arg ?? 'VALUE'}` : ''}`, help]);
  }
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return [
    `usage: npm run -s herald -- ${spec.command} [flags]`,
    '',
    spec.summary,
    '',
    'flags:',
    ...rows.map(([l, h]) => `  ${l.padEnd(width)}${h}`),
  ].join('\n');
}

export function parseClientFlags(args: string[], env: Record<string, string | undefined>, spec: FlagSpec): FlagResult {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, f] of Object.entries({ ...COMMON, ...(spec.extra ?? {}) })) options[name] = { type: f.type };
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (err) {
    // parseArgs' messages name the flag ("Unknown option '--foo'"); add where to look.
    const msg = err instanceof Error ? err.message : String(err);
    return { kind: 'error', message: `${spec.command}: ${msg.split('. ')[0]}\nRun with --help for the flags.` };
  }
  if (values.help) return { kind: 'help', text: helpText(spec) };
  const str = (k: string): string | undefined => {
    const v = values[k];
    return typeof v === 'string' ? v : undefined;
  };

  const errors: string[] = [];
  const addr = (flag: string, v: string): ListenAddr | null => {
    const r = parseListenAddr(v);
    if (r.ok) return r.value;
    errors.push(`--${flag}: ${r.error}`);
    return null;
  };
  const metricsAddr = addr('metrics-addr', str('metrics-addr') ?? spec.defaultMetricsAddr);
  const h = str('health-addr');
  const healthAddr = h === undefined ? undefined : addr('health-addr', h);
  const logLevel = str('log-level') ?? 'info';
  if (!isLogLevel(logLevel)) errors.push(`--log-level: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  const namespace = str('namespace') ?? DEFAULT_NAMESPACE;
  // RFC 1123 label, as Kubernetes requires of namespace names.
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) errors.push(`--namespace: "${namespace}" is not a valid namespace name`);
  const lbClass = str('lb-class');
  if (lbClass === '') errors.push('--lb-class: must not be empty (leave it out to serve Services without a class)');
  const kubeconfig = str('kubeconfig');
  if (kubeconfig === '') errors.push('--kubeconfig: must not be empty');

  const extra: Record<string, string | boolean | undefined> = {};
  for (const [name, f] of Object.entries(spec.extra ?? {})) {
    let v: string | boolean | undefined = values[name] as string | boolean | undefined;
    if (v === undefined && f.env) {
      const e = env[f.env];
      if (e !== undefined && e !== '') v = f.type === 'boolean' ? e === 'true' || e === '1' : e;
    }
    if (v === undefined) v = f.default;
    if (f.required && (v === undefined || v === '')) {
      errors.push(`--${name} is required${f.env ? ` (or set ${f.env})` : ''}`);
    }
    extra[name] = v;
  }
  if (errors.length > 0) return { kind: 'error', message: `${spec.command}: ${errors.join('\n')}\nRun with --help for the flags.` };
  return {
    kind: 'ok',
    flags: { kubeconfig, namespace, lbClass, metricsAddr, healthAddr, logLevel: logLevel as LogLevel },
    extra,
  };
}
