// Authentication by bearer token (one token per identity, made at start) and the
// kubeconfig files that carry them.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import yaml from 'js-yaml';

export type Identity = 'admin' | 'controller' | 'speaker';

export interface User {
  name: string;
  groups: string[];
}

const SA_GROUPS = ['system:serviceaccounts', 'system:serviceaccounts:herald-system', 'system:authenticated'];

export const USERS: Record<Identity, User> = {
  admin: { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
  controller: { name: 'system:serviceaccount:herald-system:controller', groups: SA_GROUPS },
  speaker: { name: 'system:serviceaccount:herald-system:speaker', groups: SA_GROUPS },
};

export class TokenAuthenticator {
  readonly tokens: Record<Identity, string>;
  private readonly byToken = new Map<string, User>();

  constructor(tokens?: Partial<Record<Identity, string>>) {
    const make = (): string => randomBytes(24).toString('base64url');
    this.tokens = { admin: tokens?.admin ?? make(), controller: tokens?.controller ?? make(), speaker: tokens?.speaker ?? make() };
    for (const id of Object.keys(this.tokens) as Identity[]) this.byToken.set(this.tokens[id], USERS[id]);
  }

  /** The user an Authorization header names, or undefined (→ 401). */
  authenticate(header: string | undefined): User | undefined {
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    return m ? this.byToken.get(m[1] as string) : undefined;
  }
}

export function kubeconfigYAML(server: string, identity: Identity, token: string, caPEM?: string, namespace = 'default'): string {
  const cluster: Record<string, string> = { server };
  if (caPEM) cluster['certificate-authority-data'] = Buffer.from(caPEM).toString('base64');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'herald', cluster }],
    users: [{ name: identity, user: { token } }],
    contexts: [{ name: `herald-${identity}`, context: { cluster: 'herald', user: identity, namespace } }],
    'current-context': `herald-${identity}`,
    preferences: {},
  };
  return yaml.dump(doc, { lineWidth: -1 });
}

export function writeKubeconfigFile(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
}
