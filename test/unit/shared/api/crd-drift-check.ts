// One source of truth for herald's API shapes: the interfaces in shared/api/types.ts are
// read with the TypeScript compiler API and compared, field by field and through every
// referenced interface, with the CRD schemas in manifests/crds/: names, optionality and
// primitive types (string, number → integer|number, boolean, array, object, map), plus
// enums against string-literal unions. Optionality: a field the CRD requires is required
// in types.ts and an optional one optional; a field with a CRD default may be either
// (always present once the server has defaulted it, yet absent from what a user writes).
import ts from 'typescript';

export type Shape =
  | { t: 'string'; values?: string[] }
  | { t: 'number' }
  | { t: 'boolean' }
  | { t: 'array'; items: Shape }
  | { t: 'object'; props: Record<string, Field> }
  | { t: 'map'; values: Shape }
  | { t: 'empty' }
  | { t: 'unknown'; why: string };

export interface Field {
  shape: Shape;
  /** Required (types.ts: not `?`; CRD: in `required`). */
  always: boolean;
  /** CRD only: has a default. */
  defaulted?: boolean;
}

export interface KindShapes {
  /** The interface of each kind, reduced to its top-level fields. */
  kinds: Map<string, Shape>;
  /** Kinds in the HeraldObject union. */
  union: string[];
}

const TYPES_FILE = '/virtual/shared/api/types.ts';
const LIB_FILE = '/virtual/lib.d.ts';
// Just enough of the standard library for types.ts: no lib files to parse, so a drift
// check takes milliseconds.
const LIB = `
interface Array<T> { length: number; [n: number]: T; }
interface ReadonlyArray<T> { length: number; readonly [n: number]: T; }
interface Boolean {} interface Function {} interface CallableFunction {} interface NewableFunction {}
interface IArguments {} interface Number {} interface Object {} interface RegExp {} interface String {}
type Record<K extends keyof any, T> = { [P in K]: T };
`;

/** Shapes of the kinds declared in a types.ts source text. */
export function readTypeShapes(source: string): KindShapes {
  const files = new Map([
    [TYPES_FILE, source],
    [LIB_FILE, LIB],
  ]);
  const options: ts.CompilerOptions = { strict: true, noLib: true, target: ts.ScriptTarget.ES2022, noEmit: true };
  const host: ts.CompilerHost = {
    getSourceFile: (name, lang) => {
      const text = files.get(name);
      return text === undefined ? undefined : ts.createSourceFile(name, text, lang, true);
    },
    getDefaultLibFileName: () => LIB_FILE,
    writeFile: () => undefined,
    getCurrentDirectory: () => '/virtual',
    getCanonicalFileName: (f) => f,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    fileExists: (f) => files.has(f),
    readFile: (f) => files.get(f),
  };
  const program = ts.createProgram([LIB_FILE, TYPES_FILE], options, host);
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(TYPES_FILE);
  if (!sf) throw new Error('types.ts did not load');
  const syntax = program.getSyntacticDiagnostics(sf);
  if (syntax.length) throw new Error(`types.ts does not parse: ${ts.flattenDiagnosticMessageText(syntax[0]?.messageText ?? '', '\n')}`);

  const kinds = new Map<string, Shape>();
  let union: string[] = [];
  ts.forEachChild(sf, (node) => {
    if (ts.isInterfaceDeclaration(node)) {
      kinds.set(node.name.text, shapeOf(checker, checker.getTypeAtLocation(node), new Set()));
    }
    if (ts.isTypeAliasDeclaration(node) && node.name.text === 'HeraldObject') {
      const t = checker.getTypeAtLocation(node);
      union = (t.isUnion() ? t.types : [t]).map((m) => m.getSymbol()?.getName() ?? '?');
    }
  });
  return { kinds, union };
}

function shapeOf(checker: ts.TypeChecker, type: ts.Type, seen: Set<ts.Type>): Shape {
  if (type.isUnion()) {
    const members = type.types.filter((m) => !(m.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
    if (members.length > 0 && members.every((m) => m.flags & ts.TypeFlags.BooleanLiteral)) return { t: 'boolean' };
    if (members.length > 0 && members.every((m) => m.isStringLiteral())) {
      return { t: 'string', values: members.map((m) => (m as ts.StringLiteralType).value).sort() };
    }
    if (members.length === 1 && members[0]) return shapeOf(checker, members[0], seen);
    return { t: 'unknown', why: `union ${checker.typeToString(type)}` };
  }
  if (type.flags & ts.TypeFlags.String) return { t: 'string' };
  if (type.isStringLiteral()) return { t: 'string', values: [type.value] };
  if (type.flags & ts.TypeFlags.TemplateLiteral) return { t: 'string' };
  if (type.flags & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral)) return { t: 'number' };
  if (type.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) return { t: 'boolean' };
  if (checker.isArrayType(type)) {
    const [item] = checker.getTypeArguments(type as ts.TypeReference);
    return { t: 'array', items: item ? shapeOf(checker, item, seen) : { t: 'unknown', why: 'array of ?' } };
  }
  if (type.flags & ts.TypeFlags.Object) {
    const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
    const props = checker.getPropertiesOfType(type);
    if (index && props.length === 0) {
      return index.type.flags & ts.TypeFlags.Never ? { t: 'empty' } : { t: 'map', values: shapeOf(checker, index.type, seen) };
    }
    if (seen.has(type)) return { t: 'unknown', why: 'recursive type' };
    const inner = new Set(seen).add(type);
    const out: Record<string, Field> = {};
    for (const p of props) {
      out[p.getName()] = {
        shape: shapeOf(checker, checker.getTypeOfSymbol(p), inner),
        always: (p.getFlags() & ts.SymbolFlags.Optional) === 0,
      };
    }
    return { t: 'object', props: out };
  }
  return { t: 'unknown', why: checker.typeToString(type) };
}

type JSONSchema = Record<string, unknown>;
const isObj = (v: unknown): v is JSONSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The shape a CRD schema node describes. */
export function schemaShape(s: JSONSchema): Shape {
  switch (s.type) {
    case 'string':
      return Array.isArray(s.enum) ? { t: 'string', values: s.enum.map(String).sort() } : { t: 'string' };
    case 'integer':
    case 'number':
      return { t: 'number' };
    case 'boolean':
      return { t: 'boolean' };
    case 'array':
      return { t: 'array', items: isObj(s.items) ? schemaShape(s.items) : { t: 'unknown', why: 'no items' } };
    case 'object': {
      if (isObj(s.additionalProperties)) return { t: 'map', values: schemaShape(s.additionalProperties) };
      if (!isObj(s.properties)) return { t: 'empty' };
      const required = new Set(Array.isArray(s.required) ? s.required : []);
      const props: Record<string, Field> = {};
      for (const [k, v] of Object.entries(s.properties)) {
        if (!isObj(v)) continue;
        props[k] = { shape: schemaShape(v), always: required.has(k), defaulted: v.default !== undefined };
      }
      return { t: 'object', props };
    }
    default:
      return { t: 'unknown', why: `schema type ${String(s.type)}` };
  }
}

function describeShape(s: Shape): string {
  switch (s.t) {
    case 'string':
      return s.values ? `one of ${s.values.join('|')}` : 'string';
    case 'array':
      return `array of ${describeShape(s.items)}`;
    case 'map':
      return `map of ${describeShape(s.values)}`;
    case 'unknown':
      return `unsupported (${s.why})`;
    default:
      return s.t;
  }
}

/** Differences between a types.ts shape and a CRD shape, each naming the field. */
export function compareShapes(at: string, ts: Shape, crd: Shape, out: string[] = []): string[] {
  if (ts.t === 'unknown') {
    out.push(`${at}: types.ts has a type the check does not understand: ${ts.why}`);
    return out;
  }
  if (ts.t !== crd.t) {
    out.push(`${at}: ${describeShape(ts)} in shared/api/types.ts, ${describeShape(crd)} in the CRD`);
    return out;
  }
  if (ts.t === 'string' && crd.t === 'string') {
    if ((ts.values ?? []).join('|') !== (crd.values ?? []).join('|')) {
      out.push(`${at}: ${describeShape(ts)} in shared/api/types.ts, ${describeShape(crd)} in the CRD`);
    }
  } else if (ts.t === 'array' && crd.t === 'array') {
    compareShapes(`${at}[]`, ts.items, crd.items, out);
  } else if (ts.t === 'map' && crd.t === 'map') {
    compareShapes(`${at}{}`, ts.values, crd.values, out);
  } else if (ts.t === 'object' && crd.t === 'object') {
    for (const name of new Set([...Object.keys(ts.props), ...Object.keys(crd.props)])) {
      const a = ts.props[name];
      const b = crd.props[name];
      const here = at ? `${at}.${name}` : name;
      if (!b) out.push(`${here}: in shared/api/types.ts but not in the CRD`);
      else if (!a) out.push(`${here}: in the CRD but not in shared/api/types.ts`);
      else {
        if (a.always !== b.always && !(b.defaulted && !b.always)) {
          out.push(`${here}: ${a.always ? 'required' : 'optional'} in shared/api/types.ts, ${b.always ? 'required' : 'optional'} in the CRD`);
        }
        compareShapes(here, a.shape, b.shape, out);
      }
    }
  }
  return out;
}

/** Every difference between types.ts (source text) and the CRDs (raw objects). */
export function crdDrift(typesSource: string, crds: Record<string, unknown>[]): string[] {
  const { kinds, union } = readTypeShapes(typesSource);
  const problems: string[] = [];
  const crdKinds = new Map<string, JSONSchema>();
  for (const crd of crds) {
    const spec = isObj(crd.spec) ? crd.spec : {};
    const kind = isObj(spec.names) ? String(spec.names.kind) : '?';
    const versions = Array.isArray(spec.versions) ? spec.versions.filter(isObj) : [];
    const storage = versions.find((v) => v.storage === true);
    const schema = storage && isObj(storage.schema) && isObj(storage.schema.openAPIV3Schema) ? storage.schema.openAPIV3Schema : undefined;
    if (!schema) problems.push(`${kind}: the CRD has no storage schema`);
    else crdKinds.set(kind, schema);
  }
  for (const kind of union) if (!crdKinds.has(kind)) problems.push(`${kind}: in HeraldObject but has no CRD`);
  for (const [kind, schema] of crdKinds) {
    if (!union.includes(kind)) problems.push(`${kind}: has a CRD but is not in HeraldObject`);
    const iface = kinds.get(kind);
    if (!iface || iface.t !== 'object') {
      problems.push(`${kind}: has a CRD but no interface in shared/api/types.ts`);
      continue;
    }
    // apiVersion, kind and metadata are Kubernetes' own; spec and status are herald's.
    const pick = (s: Shape): Shape =>
      s.t === 'object'
        ? { t: 'object', props: Object.fromEntries(Object.entries(s.props).filter(([k]) => !['apiVersion', 'kind', 'metadata'].includes(k))) }
        : s;
    compareShapes(kind, pick(iface), pick(schemaShape(schema)), problems);
  }
  return problems;
}
