#!/usr/bin/env python3
# Regenerates the table of proto-schema.ts from generated.proto files of k8s.io/api and
# k8s.io/apimachinery: tools/gen-proto-schema.py core.proto apps.proto rbac.proto meta.proto
#   runtime.proto intstr.proto resource.proto discovery.proto coordination.proto events.proto authorization.proto
import re, sys, json
files = sys.argv[1:]
msgs = {}
for f in files:
    text = open(f).read()
    pkg = re.search(r'^package\s+([\w.]+);', text, re.M).group(1)
    for m in re.finditer(r'^message (\w+) \{(.*?)^\}', text, re.M | re.S):
        name, body = m.group(1), m.group(2)
        fields = []
        for fm in re.finditer(r'^\s*(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+);', body, re.M):
            fields.append((int(fm.group(4)), fm.group(3), fm.group(2), fm.group(1)))
        for fm in re.finditer(r'^\s*map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+);', body, re.M):
            fields.append((int(fm.group(4)), fm.group(3), (fm.group(1), fm.group(2)), 'map'))
        msgs[pkg + '.' + name] = (pkg, sorted(fields))
SCALARS = {'string','bool','int32','int64','bytes','double','float','uint32','uint64','sint32','sint64','fixed32','fixed64'}
def resolve(pkg, t):
    if t in SCALARS: return t
    if t.startswith('.'): return t[1:]
    if pkg + '.' + t in msgs: return pkg + '.' + t
    return t
def short(n):
    for p in ('k8s.io.api.', 'k8s.io.apimachinery.pkg.'):
        if n.startswith(p): return n[len(p):]
    return n
SPECIAL = {'k8s.io.apimachinery.pkg.apis.meta.v1.Time':'Time','k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime':'MicroTime','k8s.io.apimachinery.pkg.apis.meta.v1.Duration':'Duration','k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1':'FieldsV1','k8s.io.apimachinery.pkg.runtime.RawExtension':'RawExtension','k8s.io.apimachinery.pkg.util.intstr.IntOrString':'IntOrString','k8s.io.apimachinery.pkg.api.resource.Quantity':'Quantity'}
roots = ['k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions'] + ['k8s.io.api.core.v1.'+k for k in ['Namespace','Secret','ConfigMap','ServiceAccount','Service','Node','Pod','Event']] + ['k8s.io.api.apps.v1.Deployment','k8s.io.api.apps.v1.DaemonSet'] + ['k8s.io.api.rbac.v1.'+k for k in ['Role','ClusterRole','RoleBinding','ClusterRoleBinding']] + ['k8s.io.api.authorization.v1.SelfSubjectAccessReview','k8s.io.api.authorization.v1.SubjectAccessReview'] + ['k8s.io.api.discovery.v1.EndpointSlice','k8s.io.api.coordination.v1.Lease','k8s.io.api.events.v1.Event']
seen = {}
todo = list(roots)
def typ(pkg, t):
    r = resolve(pkg, t)
    if r in SPECIAL: return SPECIAL[r]
    if r in SCALARS: return r
    if r not in msgs: raise SystemExit('unknown type %s in %s' % (t, pkg))
    if r not in seen and r not in todo: todo.append(r)
    return short(r)
while todo:
    n = todo.pop(0)
    if n in seen: continue
    pkg, fields = msgs[n]
    out = []
    for num, fname, t, label in fields:
        if label == 'map':
            out.append([num, fname, typ(pkg, t[0]) + ',' + typ(pkg, t[1]), 2])
        elif label == 'repeated':
            out.append([num, fname, typ(pkg, t), 1])
        else:
            out.append([num, fname, typ(pkg, t)])
    seen[n] = out
print(len(seen), file=sys.stderr)
lines = []
for n in sorted(seen):
    lines.append('  %s: %s,' % (json.dumps(short(n)).replace('"', "'"), json.dumps(seen[n], separators=(',', ':')).replace('"', "'")))
print('\n'.join(lines))
