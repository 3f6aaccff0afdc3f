// The upstream router in hl-router: which daemon, its configuration file in the
// repository, and what the rest of the lab asks of it (start, sessions).
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tryRun } from './exec.js';
import type { LabPaths } from './paths.js';
import type { LabPlan } from './plan.js';

export const ROUTER_KINDS = ['frr', 'bird', 'gobgp'] as const;
export type RouterKind = (typeof ROUTER_KINDS)[number];

export function isRouterKind(s: string): s is RouterKind {
  return (ROUTER_KINDS as readonly string[]).includes(s);
}

export interface RouterOptions {
  kind: RouterKind;
  /** Router in the nodes' AS (64512) instead of its own (64500). */
  ibgp: boolean;
  /** TCP-MD5 key (RFC 2385) for every node session. */
  password?: string;
}

export interface RouterContext {
  paths: LabPaths;
  plan: LabPlan;
  opts: RouterOptions;
}

/** One BGP session as the router sees it. */
export interface BgpSession {
  peer: string;
  state: string;
  established: boolean;
  /** Prefixes accepted from the peer, when the daemon says. */
  prefixes?: number;
}

export interface RouterDaemon {
  readonly kind: RouterKind;
  /** Starts the daemons inside hl-router and returns once they answer their CLI. */
  start(): Promise<void>;
  sessions(): Promise<BgpSession[]>;
  /** The daemon's own view of one prefix, as its CLI prints it (for the demo). */
  showRoute(prefix: string): Promise<string>;
}

/** The configuration file in the repository (kind/routers/) for these options. */
export function configSource(paths: LabPaths, o: Pick<RouterOptions, 'kind' | 'ibgp'>): string {
  const dir = join(paths.repo, 'kind', 'routers', o.kind);
  const variant = o.ibgp ? '-ibgp' : '';
  switch (o.kind) {
    case 'frr':
      return join(dir, `frr${variant}.conf`);
    case 'bird':
      return join(dir, `bird${variant}.conf`);
    case 'gobgp':
      return join(dir, `gobgp${variant}.toml`);
  }
}

/** Keys go into configuration files and vtysh command lines: printable, no quotes or spaces. */
export function checkPassword(password: string): void {
  if (!/^[\x21-\x7e]{1,80}$/.test(password) || /["'\\]/.test(password)) {
    throw new Error('the BGP password must be 1-80 printable characters without spaces, quotes or backslashes');
  }
}

/**
 * BIRD and GoBGP read the key from their file: the repository files carry a commented
 * placeholder line (`#password "";`, `#auth-password = ""`) that this fills in. FRR's
 * key is set through vtysh instead, so its files stay exactly as the kind topology uses them.
 */
export function withPassword(config: string, kind: 'bird' | 'gobgp', password: string | undefined): string {
  if (password === undefined) return config;
  checkPassword(password);
  const re = kind === 'bird' ? /^(\s*)#password "";.*$/m : /^(\s*)#auth-password = "".*$/m;
  if (!re.test(config)) throw new Error(`the ${kind} configuration has no password placeholder line`);
  return config.replace(re, kind === 'bird' ? `$1password "${password}";` : `$1auth-password = "${password}"`);
}

/** Copies the configuration into the runtime directory, where the daemon reads it. */
export function renderConfig(ctx: RouterContext, runDir: string, fileName: string, extra = ''): string {
  const src = readFileSync(configSource(ctx.paths, ctx.opts), 'utf8');
  const { kind, password } = ctx.opts;
  const text = (kind === 'frr' ? src : withPassword(src, kind, password)) + extra;
  const dest = join(runDir, fileName);
  writeFileSync(dest, text, { mode: 0o644 });
  return dest;
}

/**
 * A runtime directory for daemons that drop to their own user (FRR runs as `frr`): it
 * must be theirs, and every directory above it must let them through.
 */
export async function runtimeDir(paths: LabPaths, name: string, owner?: string): Promise<string> {
  const dir = join(paths.router, name);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  if (owner) {
    const ids = await tryRun('id', ['-u', owner]);
    const gid = await tryRun('id', ['-g', owner]);
    if (ids.code !== 0 || gid.code !== 0) throw new Error(`user ${owner} does not exist: is the package installed?`);
    chownSync(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
    const ok = await tryRun('runuser', ['-u', owner, '--', 'test', '-w', dir]);
    if (ok.code !== 0) {
      throw new Error(
        `${owner} cannot reach ${dir}: a directory above the checkout is closed to other users ` +
          `(chmod o+x it, or clone the repository elsewhere)`,
      );
    }
  }
  return dir;
}
