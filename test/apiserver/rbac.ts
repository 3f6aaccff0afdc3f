// Kubernetes RBAC authorization (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac) for
// the embedded API server, over Role/ClusterRole/RoleBinding/ClusterRoleBinding objects:
// the very ones in manifests/ in tests, so a permission the manifests lack fails here
// exactly as in a cluster. Includes the default policy every cluster has
// (cluster-admin for system:masters, system:discovery, system:basic-user,
// system:public-info-viewer) and the privileged system:masters group.
import { yamlDocuments } from './manifest-files.js';
import { matchesSelector } from '../../shared/api/selector.js';
import type { LabelSelector } from '../../shared/api/types.js';

export interface RequestAttributes {
  user: string;
  /**
   * As the authenticator reports them. `system:authenticated` is implied for every user
   * but `system:anonymous`, and `system:serviceaccounts[:<ns>]` for service accounts.
   */
  groups: string[];
  /** get list watch create update patch delete deletecollection (resources); get post put … (paths). */
  verb: string;
  /** '' for core. */
  apiGroup: string;
  /** '' for a non-resource request. */
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Set (with resource '') for a non-resource request: `/version`, `/apis`, `/healthz`. */
  path?: string;
}

export type RBACObject = Record<string, unknown>;

export interface Decision {
  allowed: boolean;
  /** Why it was allowed (which binding), or the RBAC errors met while denying; '' otherwise. */
  reason: string;
}

const RBAC_API = 'rbac.authorization.k8s.io/v1';
const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

interface PolicyRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface Binding {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  name: string;
  namespace: string;
  roleRef: { kind: string; name: string };
  subjects: Subject[];
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function rulesOf(role: RBACObject): PolicyRule[] {
  return (Array.isArray(role.rules) ? role.rules : []).map((r) => {
    const o = obj(r);
    return {
      verbs: strings(o.verbs),
      apiGroups: strings(o.apiGroups),
      resources: strings(o.resources),
      resourceNames: strings(o.resourceNames),
      nonResourceURLs: strings(o.nonResourceURLs),
    };
  });
}

function bindingOf(o: RBACObject): Binding {
  const meta = obj(o.metadata);
  const ref = obj(o.roleRef);
  return {
    kind: o.kind as Binding['kind'],
    name: String(meta.name ?? ''),
    namespace: String(meta.namespace ?? ''),
    roleRef: { kind: String(ref.kind ?? ''), name: String(ref.name ?? '') },
    subjects: (Array.isArray(o.subjects) ? o.subjects : []).map((s) => {
      const so = obj(s);
      return {
        kind: String(so.kind ?? ''),
        name: String(so.name ?? ''),
        ...(typeof so.namespace === 'string' && so.namespace ? { namespace: so.namespace } : {}),
      };
    }),
  };
}

// rbac/v1 helpers: VerbMatches, APIGroupMatches, ResourceMatches, ResourceNameMatches,
// NonResourceURLMatches.
const has = (list: string[], v: string): boolean => list.includes('*') || list.includes(v);

function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  return rule.resources.some(
    (r) =>
      r === '*' ||
      r === combined ||
      (subresource !== '' && r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)),
  );
}

function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return rule.nonResourceURLs.some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
}

export function ruleAllows(a: RequestAttributes, rule: PolicyRule): boolean {
  if (a.path !== undefined) return has(rule.verbs, a.verb) && nonResourceURLMatches(rule, a.path);
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return (
    has(rule.verbs, a.verb) &&
    has(rule.apiGroups, a.apiGroup) &&
    resourceMatches(rule, combined, a.subresource ?? '') &&
    (rule.resourceNames.length === 0 || (a.name !== undefined && a.name !== '' && rule.resourceNames.includes(a.name)))
  );
}

const SA_PREFIX = 'system:serviceaccount:';

/** The groups the authenticator would add to these. */
function effectiveGroups(user: string, groups: string[]): Set<string> {
  const out = new Set(groups);
  if (user !== 'system:anonymous' && !out.has('system:unauthenticated')) out.add('system:authenticated');
  if (user.startsWith(SA_PREFIX)) {
    const ns = user.slice(SA_PREFIX.length).split(':')[0];
    out.add('system:serviceaccounts');
    if (ns) out.add(`system:serviceaccounts:${ns}`);
  }
  return out;
}

function appliesTo(user: string, groups: Set<string>, s: Subject, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user;
    case 'Group':
      return groups.has(s.name);
    case 'ServiceAccount': {
      // A subject without a namespace means the binding's own.
      const ns = s.namespace ?? bindingNamespace;
      return ns !== '' && user === `${SA_PREFIX}${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace ?? bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

/** The default policy of every cluster (kube-apiserver's bootstrap policy), as far as herald meets it. */
export const BOOTSTRAP_POLICY: readonly RBACObject[] = [
  clusterRole('cluster-admin', [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
  ]),
  clusterRoleBinding('cluster-admin', 'cluster-admin', [{ kind: 'Group', name: 'system:masters' }]),
  clusterRole('system:discovery', [
    {
      nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'],
      verbs: ['get'],
    },
  ]),
  clusterRoleBinding('system:discovery', 'system:discovery', [{ kind: 'Group', name: 'system:authenticated' }]),
  clusterRole('system:basic-user', [
    { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
    { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
  ]),
  clusterRoleBinding('system:basic-user', 'system:basic-user', [{ kind: 'Group', name: 'system:authenticated' }]),
  clusterRole('system:public-info-viewer', [
    { nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] },
  ]),
  clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [
    { kind: 'Group', name: 'system:authenticated' },
    { kind: 'Group', name: 'system:unauthenticated' },
  ]),
];

function clusterRole(name: string, rules: Record<string, unknown>[]): RBACObject {
  return { apiVersion: RBAC_API, kind: 'ClusterRole', metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } }, rules };
}

function clusterRoleBinding(name: string, role: string, subjects: Record<string, unknown>[]): RBACObject {
  return {
    apiVersion: RBAC_API,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: subjects.map((s) => ({ apiGroup: 'rbac.authorization.k8s.io', ...s })),
  };
}

interface Policy {
  clusterRoles: Map<string, RBACObject>;
  roles: Map<string, RBACObject>;
  clusterRoleBindings: Binding[];
  roleBindings: Map<string, Binding[]>;
}

function index(objects: readonly RBACObject[]): Policy {
  const p: Policy = { clusterRoles: new Map(), roles: new Map(), clusterRoleBindings: [], roleBindings: new Map() };
  for (const o of objects) {
    const meta = obj(o.metadata);
    const name = String(meta.name ?? '');
    const ns = String(meta.namespace ?? '');
    switch (o.kind) {
      case 'ClusterRole':
        p.clusterRoles.set(name, o);
        break;
      case 'Role':
        p.roles.set(`${ns}/${name}`, o);
        break;
      case 'ClusterRoleBinding':
        p.clusterRoleBindings.push(bindingOf(o));
        break;
      case 'RoleBinding': {
        const list = p.roleBindings.get(ns) ?? [];
        list.push(bindingOf(o));
        p.roleBindings.set(ns, list);
        break;
      }
    }
  }
  return p;
}

/** A ClusterRole's rules, with those of the ClusterRoles its aggregationRule selects. */
function clusterRoleRules(p: Policy, role: RBACObject): PolicyRule[] {
  const selectors = obj(role.aggregationRule).clusterRoleSelectors;
  if (!Array.isArray(selectors)) return rulesOf(role);
  const rules: PolicyRule[] = [];
  for (const other of p.clusterRoles.values()) {
    if (other === role) continue;
    const labels = obj(obj(other.metadata).labels) as Record<string, string>;
    if (selectors.some((s) => matchesSelector(s as LabelSelector, labels))) rules.push(...rulesOf(other));
  }
  return rules;
}

export class Authorizer {
  private lastSource: RBACObject[] | undefined;
  private lastPolicy: Policy | undefined;

  /** `source` is called on every request; returning the same array again reuses its index. */
  constructor(private readonly source: () => RBACObject[]) {}

  private policy(): Policy {
    const objects = this.source();
    if (objects !== this.lastSource || !this.lastPolicy) {
      this.lastPolicy = index([...BOOTSTRAP_POLICY, ...objects]);
      this.lastSource = objects;
    }
    return this.lastPolicy;
  }

  authorize(a: RequestAttributes): Decision {
    // kube-apiserver's privileged-group authorizer, in front of RBAC.
    if (a.groups.includes('system:masters')) return { allowed: true, reason: '' };
    const p = this.policy();
    const groups = effectiveGroups(a.user, a.groups);
    const errors: string[] = [];

    const visit = (b: Binding, rules: () => PolicyRule[] | undefined): Decision | undefined => {
      for (const s of b.subjects) {
        if (!appliesTo(a.user, groups, s, b.namespace)) continue;
        const found = rules();
        if (!found) {
          const what = b.roleRef.kind === 'Role' ? 'role' : 'clusterrole';
          errors.push(`${what}.rbac.authorization.k8s.io ${JSON.stringify(b.roleRef.name)} not found`);
          return undefined;
        }
        if (found.some((r) => ruleAllows(a, r))) {
          const source =
            b.kind === 'ClusterRoleBinding'
              ? `ClusterRoleBinding ${JSON.stringify(b.name)}`
              : `RoleBinding ${JSON.stringify(`${b.name}/${b.namespace}`)}`;
          return {
            allowed: true,
            reason: `RBAC: allowed by ${source} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(s, b.namespace)}`,
          };
        }
        return undefined;
      }
      return undefined;
    };

    for (const b of p.clusterRoleBindings) {
      if (b.roleRef.kind !== 'ClusterRole') continue;
      const d = visit(b, () => {
        const role = p.clusterRoles.get(b.roleRef.name);
        return role ? clusterRoleRules(p, role) : undefined;
      });
      if (d) return d;
    }
    // RoleBindings grant only within their namespace, and never for non-resource URLs.
    if (a.namespace && a.path === undefined) {
      for (const b of p.roleBindings.get(a.namespace) ?? []) {
        const d = visit(b, () => {
          if (b.roleRef.kind === 'Role') {
            const role = p.roles.get(`${b.namespace}/${b.roleRef.name}`);
            return role ? rulesOf(role) : undefined;
          }
          const role = p.clusterRoles.get(b.roleRef.name);
          return role ? clusterRoleRules(p, role) : undefined;
        });
        if (d) return d;
      }
    }
    return { allowed: false, reason: errors.length === 0 ? '' : `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` };
  }
}

/**
 * The message of the 403 Forbidden Status kube-apiserver sends
 * (`services "web" is forbidden: User "…" cannot patch resource "services" in API group "" in the namespace "default"`).
 */
export function forbiddenMessage(a: RequestAttributes, reason = ''): string {
  let msg: string;
  if (a.path !== undefined) {
    msg = `forbidden: User ${JSON.stringify(a.user)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  } else {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
    const what = `User ${JSON.stringify(a.user)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${where}`;
    const gr = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
    msg = `${a.name ? `${gr} ${JSON.stringify(a.name)}` : gr} is forbidden: ${what}`;
  }
  return reason ? `${msg}: ${reason}` : msg;
}

/** Every Role, ClusterRole, RoleBinding and ClusterRoleBinding in the YAML files under `dir`. */
export function loadRBACObjects(dir: string): RBACObject[] {
  const out: RBACObject[] = [];
  for (const { doc } of yamlDocuments(dir)) {
    const o = obj(doc);
    if (o.apiVersion === RBAC_API && typeof o.kind === 'string' && RBAC_KINDS.has(o.kind)) out.push(o);
  }
  return out;
}
