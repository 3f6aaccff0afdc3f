// Durations as Kubernetes writes them (metav1.Duration, which is Go's time.ParseDuration):
// `90s`, `1m30s`, `1.5h`, `500ms`, `0`. MetalLB's BGPPeer timers use this syntax, so herald
// reads the same strings the same way.
import type { ParseResult } from '../ip/ip.js';

export const NANOSECOND = 1n;
export const MICROSECOND = 1000n;
export const MILLISECOND = 1_000_000n;
export const SECOND = 1_000_000_000n;

const UNITS: Readonly<Record<string, bigint>> = {
  ns: NANOSECOND,
  us: MICROSECOND,
  'µs': MICROSECOND, // U+00B5 micro sign
  'μs': MICROSECOND, // U+03BC Greek mu
  ms: MILLISECOND,
  s: SECOND,
  m: 60n * SECOND,
  h: 3600n * SECOND,
};

// Go stores a Duration in an int64 of nanoseconds.
const MAX_NANOS = (1n << 63n) - 1n;

const COMPONENT = /^(\d*)(?:\.(\d*))?([^\d.]+)/;

/** Parses a Go duration into nanoseconds (may be negative, as in Go). */
export function parseDuration(text: string): ParseResult<bigint> {
  const bad = (why: string): ParseResult<bigint> => ({ ok: false, error: `"${text}" is not a duration (${why}); write it like 90s, 1m30s or 500ms` });
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return { ok: true, value: 0n };
  if (s === '') return bad('empty');
  let total = 0n;
  while (s !== '') {
    const m = COMPONENT.exec(s);
    if (!m) return bad(/^[\d.]+$/.test(s) ? 'missing unit' : 'expected a number');
    const [whole, intPart = '', fracPart, unitText = ''] = m;
    if (intPart === '' && (fracPart === undefined || fracPart === '')) return bad('expected a number');
    const unit = UNITS[unitText];
    if (unit === undefined) return bad(`unknown unit "${unitText}"`);
    let value = BigInt(intPart === '' ? '0' : intPart) * unit;
    if (fracPart) value += (BigInt(fracPart) * unit) / 10n ** BigInt(fracPart.length);
    total += value;
    if (total > MAX_NANOS) return bad('too large');
    s = s.slice(whole.length);
  }
  return { ok: true, value: negative ? -total : total };
}

/** A nanosecond count as the shortest Go-style text (`1m30s`, `500ms`). */
export function formatDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s';
  const sign = nanos < 0n ? '-' : '';
  let n = nanos < 0n ? -nanos : nanos;
  if (n < SECOND) {
    for (const [unit, size] of [['ms', MILLISECOND], ['µs', MICROSECOND]] as const) {
      if (n % size === 0n) return `${sign}${n / size}${unit}`;
    }
    return `${sign}${n}ns`;
  }
  let out = '';
  const h = n / UNITS.h!;
  n -= h * UNITS.h!;
  const m = n / UNITS.m!;
  n -= m * UNITS.m!;
  if (h > 0n) out += `${h}h`;
  if (m > 0n || (h > 0n && n > 0n)) out += `${m}m`;
  if (n > 0n) {
    const whole = n / SECOND;
    const frac = n % SECOND;
    out += frac === 0n ? `${whole}s` : `${whole}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}s`;
  }
  return sign + out;
}
