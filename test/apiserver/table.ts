// Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), which is
// how `kubectl get` learns its columns: the built-in kinds' columns as kube-apiserver's
// printers define them (pkg/printers/internalversion), and CRD additionalPrinterColumns.
import { evaluate } from './jsonpath.js';
import { isObj, readMeta, type Obj } from './object.js';
import type { ResourceDef } from './registry.js';

export interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number | boolean | null;
type Printer = { columns: Column[]; cells(o: Obj, now: Date): Cell[] };

const col = (name: string, type = 'string', priority = 0, format = ''): Column => ({ name, type, format, description: name, priority });
const NAME = col('Name', 'string', 0, 'name');
const AGE = col('Age', 'string');

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function age(ts: unknown, now: Date): string {
  if (typeof ts !== 'string') return '<unknown>';
  return humanDuration(now.getTime() - Date.parse(ts));
}

function o(v: unknown): Obj {
  return isObj(v) ? v : {};
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function orNone(list: string[]): string {
  return list.length > 0 ? list.join(',') : '<none>';
}

function servicePorts(spec: Obj): string {
  return orNone(arr(spec.ports).map((p) => {
    const x = o(p);
    return `${String(x.port)}${x.nodePort ? `:${String(x.nodePort)}` : ''}/${String(x.protocol ?? 'TCP')}`;
  }));
}

function externalIP(spec: Obj, status: Obj): string {
  const external = arr(spec.externalIPs).map(String);
  switch (spec.type) {
    case 'ExternalName':
      return String(spec.externalName ?? '');
    case 'LoadBalancer': {
      const ingress = arr(o(status.loadBalancer).ingress).map((i) => String(o(i).ip ?? o(i).hostname ?? ''));
      const all = [...ingress, ...external];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    default:
      return orNone(external);
  }
}

function selectorString(sel: unknown): string {
  return orNone(Object.entries(o(sel)).map(([k, v]) => `${k}=${String(v)}`));
}

function nodeStatus(n: Obj): string {
  const ready = arr(o(n.status).conditions).map(o).find((c) => c.type === 'Ready');
  let s = !ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown';
  if (o(n.spec).unschedulable === true) s += ',SchedulingDisabled';
  return s;
}

function nodeRoles(n: Obj): string {
  const roles = Object.keys(readMeta(n).labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  return orNone(roles);
}

function nodeAddress(n: Obj, type: string): string {
  const a = arr(o(n.status).addresses).map(o).find((x) => x.type === type);
  return a ? String(a.address) : '<none>';
}

const PRINTERS: Record<string, Printer> = {
  '/Service': {
    columns: [NAME, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE, col('Selector', 'string', 1)],
    cells: (x, now) => {
      const spec = o(x.spec);
      return [readMeta(x).name ?? '', String(spec.type ?? ''), String(spec.clusterIP ?? '<none>'), externalIP(spec, o(x.status)), servicePorts(spec), age(readMeta(x).creationTimestamp, now), selectorString(spec.selector)];
    },
  },
  '/Node': {
    columns: [NAME, col('Status'), col('Roles'), AGE, col('Version'), col('Internal-IP', 'string', 1), col('External-IP', 'string', 1)],
    cells: (x, now) => [readMeta(x).name ?? '', nodeStatus(x), nodeRoles(x), age(readMeta(x).creationTimestamp, now), String(o(o(x.status).nodeInfo).kubeletVersion ?? ''), nodeAddress(x, 'InternalIP'), nodeAddress(x, 'ExternalIP')],
  },
  '/Pod': {
    columns: [NAME, col('Ready'), col('Status'), col('Restarts', 'string'), AGE, col('IP', 'string', 1), col('Node', 'string', 1)],
    cells: (x, now) => {
      const st = o(x.status);
      const containers = arr(o(x.spec).containers);
      const statuses = arr(st.containerStatuses).map(o);
      const ready = statuses.filter((c) => c.ready === true).length;
      const restarts = statuses.reduce((n, c) => n + Number(c.restartCount ?? 0), 0);
      return [readMeta(x).name ?? '', `${ready}/${containers.length}`, String(st.phase ?? ''), String(restarts), age(readMeta(x).creationTimestamp, now), String(st.podIP ?? '<none>'), String(o(x.spec).nodeName ?? '<none>')];
    },
  },
  '/Namespace': {
    columns: [NAME, col('Status'), AGE],
    cells: (x, now) => [readMeta(x).name ?? '', String(o(x.status).phase ?? ''), age(readMeta(x).creationTimestamp, now)],
  },
  '/ConfigMap': {
    columns: [NAME, col('Data', 'integer'), AGE],
    cells: (x, now) => [readMeta(x).name ?? '', Object.keys(o(x.data)).length + Object.keys(o(x.binaryData)).length, age(readMeta(x).creationTimestamp, now)],
  },
  '/Secret': {
    columns: [NAME, col('Type'), col('Data', 'integer'), AGE],
    cells: (x, now) => [readMeta(x).name ?? '', String(x.type ?? ''), Object.keys(o(x.data)).length, age(readMeta(x).creationTimestamp, now)],
  },
  '/Event': {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message')],
    cells: (x, now) => {
      const inv = o(x.involvedObject);
      const seen = x.lastTimestamp ?? x.eventTime ?? readMeta(x).creationTimestamp;
      return [age(seen, now), String(x.type ?? ''), String(x.reason ?? ''), `${String(inv.kind ?? '').toLowerCase()}/${String(inv.name ?? '')}`, String(x.message ?? '')];
    },
  },
  'discovery.k8s.io/EndpointSlice': {
    columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
    cells: (x, now) => {
      const ports = arr(x.ports).map((p) => String(o(p).port ?? ''));
      const eps = arr(x.endpoints).flatMap((e) => arr(o(e).addresses).map(String));
      return [readMeta(x).name ?? '', String(x.addressType ?? ''), orNone(ports), eps.length > 3 ? `${eps.slice(0, 3).join(',')} + ${eps.length - 3} more...` : orNone(eps), age(readMeta(x).creationTimestamp, now)];
    },
  },
  'coordination.k8s.io/Lease': {
    columns: [NAME, col('Holder'), AGE],
    cells: (x, now) => [readMeta(x).name ?? '', String(o(x.spec).holderIdentity ?? ''), age(readMeta(x).creationTimestamp, now)],
  },
  'apps/Deployment': {
    columns: [NAME, col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), AGE],
    cells: (x, now) => {
      const st = o(x.status);
      return [readMeta(x).name ?? '', `${Number(st.readyReplicas ?? 0)}/${Number(o(x.spec).replicas ?? 0)}`, Number(st.updatedReplicas ?? 0), Number(st.availableReplicas ?? 0), age(readMeta(x).creationTimestamp, now)];
    },
  },
  'apps/DaemonSet': {
    columns: [NAME, col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), col('Up-to-date', 'integer'), col('Available', 'integer'), col('Node Selector'), AGE],
    cells: (x, now) => {
      const st = o(x.status);
      const sel = o(o(o(o(x.spec).template).spec).nodeSelector);
      return [readMeta(x).name ?? '', Number(st.desiredNumberScheduled ?? 0), Number(st.currentNumberScheduled ?? 0), Number(st.numberReady ?? 0), Number(st.updatedNumberScheduled ?? 0), Number(st.numberAvailable ?? 0), selectorString(sel), age(readMeta(x).creationTimestamp, now)];
    },
  },
};

const CREATED_AT: Printer = {
  columns: [NAME, col('Created At', 'date')],
  cells: (x) => [readMeta(x).name ?? '', String(readMeta(x).creationTimestamp ?? '')],
};
const BINDING: Printer = {
  columns: [NAME, col('Role'), AGE],
  cells: (x, now) => [readMeta(x).name ?? '', `${String(o(x.roleRef).kind ?? '')}/${String(o(x.roleRef).name ?? '')}`, age(readMeta(x).creationTimestamp, now)],
};
PRINTERS['rbac.authorization.k8s.io/Role'] = CREATED_AT;
PRINTERS['rbac.authorization.k8s.io/ClusterRole'] = CREATED_AT;
PRINTERS['rbac.authorization.k8s.io/RoleBinding'] = BINDING;
PRINTERS['rbac.authorization.k8s.io/ClusterRoleBinding'] = BINDING;
PRINTERS['apiextensions.k8s.io/CustomResourceDefinition'] = CREATED_AT;

const DEFAULT: Printer = { columns: [NAME, AGE], cells: (x, now) => [readMeta(x).name ?? '', age(readMeta(x).creationTimestamp, now)] };

interface PrinterColumn {
  name?: string;
  type?: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath?: string;
}

function crdPrinter(columns: unknown[]): Printer {
  const defs = columns.filter(isObj) as PrinterColumn[];
  return {
    columns: [NAME, ...defs.map((c) => ({ name: c.name ?? '', type: c.type ?? 'string', format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 }))],
    cells: (x, now) => [
      readMeta(x).name ?? '',
      ...defs.map((c): Cell => {
        let values: unknown[];
        try {
          values = evaluate(c.jsonPath ?? '', x);
        } catch {
          return null;
        }
        if (values.length === 0) return null;
        const v = values[0];
        if (c.type === 'date') return age(v, now);
        if (c.type === 'integer' || c.type === 'number') return typeof v === 'number' ? v : Number(v);
        if (c.type === 'boolean') return typeof v === 'boolean' ? v : String(v) === 'true';
        return values.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',');
      }),
    ],
  };
}

function printerFor(def: ResourceDef): Printer {
  if (def.crd) return def.crd.printerColumns.length > 0 ? crdPrinter(def.crd.printerColumns) : DEFAULT;
  return PRINTERS[`${def.group}/${def.kind}`] ?? PRINTERS[`/${def.kind}`] ?? DEFAULT;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableMeta {
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

/** A meta.k8s.io/v1 Table of the given (external-form) objects. */
export function toTable(def: ResourceDef, objs: Obj[], listMeta: TableMeta, include: IncludeObject, now: Date): Obj {
  const p = printerFor(def);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: p.columns,
    rows: objs.map((x) => {
      const row: Obj = { cells: p.cells(x, now) };
      if (include === 'Object') row.object = x;
      else if (include === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: x.metadata };
      return row;
    }),
  };
}
