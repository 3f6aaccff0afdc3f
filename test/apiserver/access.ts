// Who a request acts as, and what it may do: impersonation headers (kubectl --as) and
// the access reviews behind `kubectl auth can-i`, both decided by RBAC.
import type { IncomingMessage } from 'node:http';
import type { User } from './auth.js';
import type { RequestAuthorizer } from './authz.js';
import { badRequest } from './errors.js';
import { isObj, type Obj } from './object.js';
import { apiVersionOf, type ResourceDef } from './registry.js';

// Impersonation (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): the caller
// needs the `impersonate` verb on the user (or service account) and on each group.
export function impersonate(authz: RequestAuthorizer, user: User, req: IncomingMessage): User {
  const name = req.headers['impersonate-user'];
  const rawGroups = req.headers['impersonate-group'];
  const groups = (Array.isArray(rawGroups) ? rawGroups : rawGroups ? [rawGroups] : []).flatMap((g) => g.split(',').map((x) => x.trim()));
  if (typeof name !== 'string' || name === '') {
    if (groups.length > 0) throw badRequest('requested Impersonate-Group without Impersonate-User');
    return user;
  }
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  const checks = [
    sa
      ? { verb: 'impersonate', apiGroup: '', resource: 'serviceaccounts', namespace: sa[1] as string, name: sa[2] as string }
      : { verb: 'impersonate', apiGroup: '', resource: 'users', name },
    ...groups.map((g) => ({ verb: 'impersonate', apiGroup: '', resource: 'groups', name: g })),
  ];
  for (const c of checks) {
    const denied = authz.check(user, c);
    if (denied) throw denied;
  }
  const implied = sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`] : [];
  return { name, groups: [...new Set([...groups, ...(groups.length === 0 ? implied : []), 'system:authenticated'])] };
}

/** SelfSubjectAccessReview and SubjectAccessReview, answered from RBAC. */
export function accessReview(authz: RequestAuthorizer, def: ResourceDef, user: User, body: unknown): Obj {
  const spec = isObj(body) && isObj(body.spec) ? body.spec : {};
  let subject = user;
  if (def.kind === 'SubjectAccessReview') {
    if (typeof spec.user !== 'string' && !Array.isArray(spec.groups)) throw badRequest('SubjectAccessReview: spec.user or spec.groups is required');
    subject = { name: typeof spec.user === 'string' ? spec.user : '', groups: Array.isArray(spec.groups) ? spec.groups.map(String) : [] };
  }
  const ra = isObj(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nra = isObj(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if (!ra && !nra) throw badRequest('exactly one of nonResourceAttributes or resourceAttributes must be specified');
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const decision = ra
    ? authz.decide(subject, {
        verb: str(ra.verb),
        apiGroup: str(ra.group),
        resource: str(ra.resource),
        ...(str(ra.subresource) ? { subresource: str(ra.subresource) } : {}),
        ...(str(ra.namespace) ? { namespace: str(ra.namespace) } : {}),
        ...(str(ra.name) ? { name: str(ra.name) } : {}),
      })
    : authz.decide(subject, { verb: str(nra?.verb), apiGroup: '', resource: '', path: str(nra?.path) });
  const status: Obj = { allowed: decision.allowed };
  if (decision.reason) status.reason = decision.reason;
  return { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { creationTimestamp: null }, spec, status };
}
