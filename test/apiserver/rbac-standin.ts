// Stand-in for rbac.ts (written in parallel): the same exports, allowing everything.
// authz.ts imports this only until rbac.ts exists.
export interface RequestAttributes {
  user: string;
  groups: string[];
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export type RBACObject = Record<string, unknown>;

export class Authorizer {
  constructor(private readonly source: () => RBACObject[]) {}
  authorize(_a: RequestAttributes): { allowed: boolean; reason: string } {
    return { allowed: true, reason: `stand-in authorizer (${this.source().length} RBAC objects not consulted)` };
  }
}

export function loadRBACObjects(_dir: string): RBACObject[] {
  return [];
}
