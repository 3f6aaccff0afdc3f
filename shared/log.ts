// Structured logging for every herald process: one JSON object per line on stdout, so
// that `kubectl logs`, the lab's log files and tests all read the same thing.
//
// Stable keys (use these names, not synonyms, so logs can be filtered across components):
//   component  controller | speaker | apiserver | lab   (set once, on the root logger)
//   node       the node a speaker runs on
//   service    "namespace/name" of a Service
//   ip         a service IP
//   peer       a BGP peer address or a memberlist peer
//   pool       an IPAddressPool name
//   err        an Error (serialized with message, type and stack)
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export interface LoggerOptions {
  level?: LogLevel;
  component: string;
  node?: string;
  /** Where the lines go; stdout when absent. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const base: Record<string, string> = { component: opts.component };
  if (opts.node) base.node = opts.node;
  const options = {
    level: opts.level ?? 'info',
    base,
    // ISO time reads well in `kubectl logs`; epoch millis would not.
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names, not numbers, so a person grepping for "error" finds errors.
    formatters: { level: (label: string) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options, pino.destination({ dest: 1, sync: true }));
}

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
