// Authorization of resource requests against the RBAC objects the server stores (the ones
// loaded from manifests/ at start and any applied later), through rbac.ts's Authorizer,
// with kube-apiserver's Forbidden message (endpoints/handlers/responsewriters/errors.go).
import type { Logger } from 'pino';
import { Authorizer, forbiddenMessage, type RequestAttributes } from './rbac.js';
import type { User } from './auth.js';
import { forbidden, type ApiError } from './errors.js';
import type { Obj } from './object.js';
import type { Store, Subscriber } from './store.js';

export type { RequestAttributes } from './rbac.js';

export const RBAC_BUCKETS = [
  'rbac.authorization.k8s.io/roles',
  'rbac.authorization.k8s.io/clusterroles',
  'rbac.authorization.k8s.io/rolebindings',
  'rbac.authorization.k8s.io/clusterrolebindings',
];

export class RequestAuthorizer {
  private readonly authorizer: Authorizer;
  private cache: Obj[] | undefined;

  constructor(
    private readonly store: Store,
    private readonly enabled: boolean,
    private readonly log: Logger,
  ) {
    const invalidate: Subscriber = { deliver: () => (this.cache = undefined) };
    for (const b of RBAC_BUCKETS) store.bucket(b).subscribers.add(invalidate);
    this.authorizer = new Authorizer(() => this.objects());
  }

  /** Every stored Role, ClusterRole, RoleBinding and ClusterRoleBinding. */
  objects(): Obj[] {
    if (!this.cache) {
      const out: Obj[] = [];
      for (const b of RBAC_BUCKETS) for (const s of this.store.bucket(b).objects.values()) out.push(s.obj);
      this.cache = out;
    }
    return this.cache;
  }

  /** The decision itself, for access reviews. */
  decide(user: User, a: Omit<RequestAttributes, 'user' | 'groups'>): { allowed: boolean; reason: string } {
    if (!this.enabled) return { allowed: true, reason: 'authorization is off' };
    return this.authorizer.authorize({ user: user.name, groups: user.groups, ...a });
  }

  /** The Forbidden error for a denied request, or undefined when it may proceed. */
  check(user: User, a: Omit<RequestAttributes, 'user' | 'groups'>): ApiError | undefined {
    if (!this.enabled) return undefined;
    const attrs: RequestAttributes = { user: user.name, groups: user.groups, ...a };
    const decision = this.authorizer.authorize(attrs);
    if (decision.allowed) return undefined;
    this.log.debug({ user: user.name, verb: a.verb, resource: a.resource, path: a.path, reason: decision.reason }, 'forbidden');
    return forbidden({ group: a.apiGroup, resource: a.resource }, a.name, forbiddenMessage(attrs, decision.reason));
  }
}
