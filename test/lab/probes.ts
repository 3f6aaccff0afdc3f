// Looking at the lab from a host the way a person would: who answers ARP or NDP for an
// address (arping, ndisc6), and HTTP (curl). Used by `lab status`, the demo and tests.
import { tryRun } from './exec.js';
import { HOST_IF } from './plan.js';

/** Habets arping `-r`: one MAC per reply line. */
export function parseArpingRaw(out: string): string[] {
  return [...new Set(out.split('\n').map((l) => l.trim().toLowerCase()).filter((l) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(l)))];
}

/** ndisc6 `-m`: "Target link-layer address: 02:68:6C:00:02:0B" per reply. */
export function parseNdisc6(out: string): string[] {
  const macs = [...out.matchAll(/Target link-layer address:\s*([0-9A-Fa-f:]{17})/g)].map((m) => (m[1] ?? '').toLowerCase());
  return [...new Set(macs)];
}

/**
 * The MACs that answer ARP (IPv4) or a neighbor solicitation (IPv6) for `ip`, asked
 * once from `ns`, collecting every reply for `waitMs`.
 */
export async function whoAnswers(ns: string, ip: string, waitMs = 1000): Promise<string[]> {
  if (ip.includes(':')) {
    const r = await tryRun('ndisc6', ['-m', '-n', '-r', '1', '-w', String(waitMs), ip, HOST_IF], { netns: ns, timeoutMs: waitMs + 3000 });
    return parseNdisc6(r.stdout);
  }
  // -C: wait for this many replies, i.e. until -w ends, so a second answer shows too.
  const secs = Math.max(1, Math.round(waitMs / 1000));
  const r = await tryRun('arping', ['-c', '1', '-w', String(secs), '-C', '99', '-r', '-i', HOST_IF, ip], { netns: ns, timeoutMs: waitMs + 3000 });
  return parseArpingRaw(r.stdout);
}

/** `curl http://<ip>/` from a namespace: the body, or undefined if nothing answered. */
export async function httpGet(ns: string, ip: string, timeoutS = 2): Promise<string | undefined> {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const r = await tryRun('curl', ['-sS', '-m', String(timeoutS), `http://${host}/`], { netns: ns, timeoutMs: timeoutS * 1000 + 3000 });
  return r.code === 0 ? r.stdout : undefined;
}
