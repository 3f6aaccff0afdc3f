// Who is using the lab. Only one lab can exist on a machine (its namespace names are
// fixed), so `lab up` records the processes it was started from, and a second `lab up`
// or `lab down` from an unrelated process tree (another test run) waits for, or refuses
// to touch, a lab whose owner is still alive. A lab whose owners are all gone (a crash)
// is free for anyone, so `lab down` after a crash still works. Processes that are
// ancestors of the caller too (the user's shell) never count as another owner.
import { readFileSync } from 'node:fs';

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 4, after the parenthesised command name (which may itself contain spaces).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** This process and its ancestors, init excluded. */
export function processChain(pid: number = process.pid): number[] {
  const out: number[] = [];
  for (let p: number | undefined = pid; p !== undefined && p > 1 && out.length < 64; p = parentOf(p)) out.push(p);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The recorded owners that are alive and not in the caller's own chain. */
export function otherLiveOwners(owners: readonly number[] | undefined, chain: readonly number[] = processChain()): number[] {
  const mine = new Set(chain);
  return (owners ?? []).filter((p) => !mine.has(p) && alive(p));
}
