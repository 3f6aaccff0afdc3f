// x-kubernetes-validations: rules compiled once per CRD with @marcbachmann/cel-js and
// evaluated the way apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go does:
// `self` is the value at the rule's node, typed by the schema (integer → int, number →
// double, date-time → timestamp, objects and maps → maps, lists → lists); rules that
// mention `oldSelf` (transition rules) run only on update and only where the old value
// correlates (object properties, map keys, list-type=map items by key); failures are
// field errors at the node (or at `fieldPath`), valued by the node's schema type, with
// `message`, `messageExpression` or "failed rule: <rule>"; on update a rule that does not
// use oldSelf is skipped where the value did not change (ratcheting).
import { Optional, type Environment, type ParseResult } from '@marcbachmann/cel-js';
import { newRuleEnvironment } from './cel-library.js';
import { duplicate, forbidden, invalid, required, type FieldError } from './schema-errors.js';
import {
  correlateItem,
  deepEqual,
  isObject,
  mapValueSchema,
  Path,
  type JSONObject,
  type Schema,
  type ValidationRule,
} from './schema-structural.js';

/** Kubernetes' MaxEvaluatedMessageExpressionSizeBytes. */
const MAX_MESSAGE_EXPRESSION_BYTES = 5 * 1024;

interface CompiledRule {
  rule: ValidationRule;
  program: ParseResult;
  messageProgram?: ParseResult;
  /** The rule reads `oldSelf`. */
  transition: boolean;
  /** `fieldPath` as field.Path prints it, relative to the rule's node. */
  fieldPath: string;
}

export class RuleCompileError extends Error {
  readonly code = 'RuleCompileError';
}

const environments = new Map<boolean, Environment>();
function environment(optionalOldSelf: boolean): Environment {
  let env = environments.get(optionalOldSelf);
  if (!env) {
    env = newRuleEnvironment(optionalOldSelf);
    environments.set(optionalOldSelf, env);
  }
  return env;
}

/** Whether an AST mentions the identifier `name` (cel-js AST nodes are `{op, args}`). */
function mentions(node: unknown, name: string): boolean {
  if (Array.isArray(node)) return node.some((n) => mentions(n, name));
  if (typeof node !== 'object' || node === null) return false;
  const n = node as { op?: unknown; args?: unknown };
  if (n.op === 'id') return n.args === name;
  return mentions(n.args, name);
}

/**
 * `.a.b`, `.a['b.c']` → `a.b`, `a[b.c]`: the subset of JSONPath Kubernetes accepts in
 * fieldPath (property names and quoted keys, no list indices).
 */
export function normalizeFieldPath(fieldPath: string): string {
  let out = '';
  let rest = fieldPath.trim();
  while (rest) {
    let m = /^\.([A-Za-z_$][A-Za-z0-9_$-]*)/.exec(rest);
    if (m) {
      out += out ? `.${m[1]}` : m[1];
      rest = rest.slice(m[0].length);
      continue;
    }
    m = /^\[\s*'((?:[^'\\]|\\.)*)'\s*\]/.exec(rest);
    if (m) {
      out += `[${(m[1] ?? '').replace(/\\(.)/g, '$1')}]`;
      rest = rest.slice(m[0].length);
      continue;
    }
    throw new RuleCompileError(`fieldPath ${JSON.stringify(fieldPath)}: not a valid path (use .name or ['key'])`);
  }
  return out;
}

function compileRule(rule: ValidationRule, at: string): CompiledRule {
  const env = environment(rule.optionalOldSelf === true);
  const compile = (expr: string, what: string, want: string): ParseResult => {
    let program: ParseResult;
    try {
      program = env.parse(expr);
    } catch (e) {
      throw new RuleCompileError(`${at}: ${what} ${JSON.stringify(expr)}: compilation failed: ${(e as Error).message}`);
    }
    const checked = program.check();
    if (!checked.valid) {
      throw new RuleCompileError(
        `${at}: ${what} ${JSON.stringify(expr)}: compilation failed: ${checked.error?.message ?? 'type error'}`,
      );
    }
    if (checked.type !== want && checked.type !== 'dyn') {
      throw new RuleCompileError(`${at}: ${what} ${JSON.stringify(expr)}: must evaluate to ${want}, not ${checked.type}`);
    }
    return program;
  };
  const program = compile(rule.rule, 'rule', 'bool');
  const compiled: CompiledRule = {
    rule,
    program,
    transition: mentions(program.ast, 'oldSelf'),
    fieldPath: rule.fieldPath ? normalizeFieldPath(rule.fieldPath) : '',
  };
  if (rule.messageExpression) compiled.messageProgram = compile(rule.messageExpression, 'messageExpression', 'string');
  if (rule.optionalOldSelf && !compiled.transition) {
    throw new RuleCompileError(`${at}: optionalOldSelf may only be set on a rule that uses oldSelf`);
  }
  return compiled;
}

/** The rules of one CRD version's schema, compiled. */
export class RuleSet {
  private readonly rules = new Map<Schema, CompiledRule[]>();
  /** Nodes whose subtree holds at least one rule; the walk skips the others. */
  private readonly hasRules = new Set<Schema>();

  constructor(readonly schema: Schema) {
    this.compile(schema, 'openAPIV3Schema');
  }

  get size(): number {
    let n = 0;
    for (const r of this.rules.values()) n += r.length;
    return n;
  }

  private compile(s: Schema, at: string): boolean {
    let any = false;
    const own = s['x-kubernetes-validations'];
    if (own?.length) {
      this.rules.set(
        s,
        own.map((r, i) => compileRule(r, `${at}.x-kubernetes-validations[${i}]`)),
      );
      any = true;
    }
    for (const [k, p] of Object.entries(s.properties ?? {})) any = this.compile(p, `${at}.properties[${k}]`) || any;
    const addl = mapValueSchema(s);
    if (addl) any = this.compile(addl, `${at}.additionalProperties`) || any;
    if (s.items) any = this.compile(s.items, `${at}.items`) || any;
    if (any) this.hasRules.add(s);
    return any;
  }

  /** Evaluates every rule against `obj` (and `old` on update). */
  validate(obj: JSONObject, old?: JSONObject): FieldError[] {
    const errors: FieldError[] = [];
    this.walk(this.schema, obj, old, old !== undefined, Path.root, false, true, errors);
    return errors;
  }

  private walk(
    s: Schema,
    v: unknown,
    old: unknown,
    hasOld: boolean,
    path: Path,
    ratcheted: boolean,
    isRoot: boolean,
    errors: FieldError[],
  ): void {
    if (v === null || v === undefined || !this.hasRules.has(s)) return;
    const unchanged = ratcheted || (hasOld && deepEqual(v, old));
    for (const rule of this.rules.get(s) ?? []) {
      if (rule.transition && !hasOld && !rule.rule.optionalOldSelf) continue;
      if (unchanged && !rule.transition) continue;
      this.evaluate(rule, s, v, old, hasOld, path, isRoot, errors);
    }
    if (Array.isArray(v) && s.items) {
      const items = s.items;
      v.forEach((item, i) => {
        const o = correlateItem(s, item, old, i);
        // Only list-type=map items correlate for transition rules; sets only ratchet.
        const correlated = o.found && s['x-kubernetes-list-type'] === 'map';
        const itemUnchanged = unchanged || (o.found && deepEqual(item, o.value));
        this.walk(items, item, o.value, correlated, path.index(i), itemUnchanged, false, errors);
      });
      return;
    }
    if (!isObject(v)) return;
    const addl = mapValueSchema(s);
    const oldObj = hasOld && isObject(old) ? old : undefined;
    for (const [key, val] of Object.entries(v)) {
      if (isRoot && key === 'metadata') continue;
      const hasOldChild = oldObj !== undefined && Object.prototype.hasOwnProperty.call(oldObj, key);
      const prop = s.properties?.[key];
      if (prop) this.walk(prop, val, oldObj?.[key], hasOldChild, path.child(key), unchanged, false, errors);
      else if (addl) this.walk(addl, val, oldObj?.[key], hasOldChild, path.key(key), unchanged, false, errors);
    }
  }

  private evaluate(
    rule: CompiledRule,
    s: Schema,
    v: unknown,
    old: unknown,
    hasOld: boolean,
    path: Path,
    isRoot: boolean,
    errors: FieldError[],
  ): void {
    const type = s.type ?? '';
    const self = toCEL(s, v, isRoot);
    const oldValue = hasOld ? toCEL(s, old, isRoot) : undefined;
    const oldSelf = rule.rule.optionalOldSelf ? (hasOld ? Optional.of(oldValue) : Optional.none()) : oldValue;
    const ctx = { self, oldSelf };
    let result: unknown;
    try {
      result = rule.program(ctx);
    } catch (e) {
      errors.push(invalid(path.field, type, runtimeErrorDetail(e, rule.rule)));
      return;
    }
    if (result === true) return;
    if (typeof result !== 'boolean') {
      errors.push(invalid(path.field, type, `rule did not evaluate to a bool: ${ruleText(rule.rule)}`));
      return;
    }
    const detail = this.message(rule, ctx);
    const at = path.append(rule.fieldPath).field;
    switch (rule.rule.reason) {
      case 'FieldValueForbidden':
        errors.push(forbidden(at, detail));
        break;
      case 'FieldValueRequired':
        errors.push(required(at, detail));
        break;
      case 'FieldValueDuplicate':
        errors.push(duplicate(at, type));
        break;
      default:
        errors.push(invalid(at, type, detail));
    }
  }

  /** messageExpression, falling back to message / "failed rule" when it errs or is unusable. */
  private message(rule: CompiledRule, ctx: Record<string, unknown>): string {
    if (rule.messageProgram) {
      try {
        const m: unknown = rule.messageProgram(ctx);
        if (typeof m === 'string') {
          const t = m.trim();
          if (t && !/[\r\n]/.test(t) && Buffer.byteLength(t) <= MAX_MESSAGE_EXPRESSION_BYTES) return t;
        }
      } catch {
        // As Kubernetes: a failing messageExpression is logged and the static message used.
      }
    }
    return rule.rule.message?.trim() ? rule.rule.message.trim() : `failed rule: ${ruleText(rule.rule)}`;
  }
}

function ruleText(rule: ValidationRule): string {
  return rule.rule.trim();
}

/** The detail Kubernetes gives for a rule that errs at runtime. */
function runtimeErrorDetail(e: unknown, rule: ValidationRule): string {
  const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
  if (/no matching overload|no such overload/i.test(msg)) {
    return `'no such overload': call arguments did not match a supported operator, function or macro signature for rule: ${ruleText(rule)}`;
  }
  const noKey = /^No such key: (.*)$/i.exec(msg);
  const text = noKey ? `no such key: ${noKey[1]}` : msg;
  return `${text} evaluating rule: ${ruleText(rule)}`;
}

/** A JSON value as a CEL value, typed by its schema. */
export function toCEL(s: Schema | undefined, v: unknown, isRoot = false): unknown {
  if (v === null || v === undefined) return null;
  if (!s) return untypedToCEL(v);
  if (typeof v === 'number') {
    const asInt = s.type === 'integer' || s['x-kubernetes-int-or-string'] || !s.type;
    return asInt && Number.isInteger(v) ? BigInt(v) : v;
  }
  if (typeof v === 'string') {
    if ((s.format === 'date-time' || s.format === 'datetime') && !Number.isNaN(Date.parse(v))) return new Date(v);
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => toCEL(s.items, x));
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    const addl = mapValueSchema(s);
    for (const [k, x] of Object.entries(v)) {
      if (isRoot && k === 'metadata') {
        // Rules see only metadata.name and metadata.generateName.
        if (isObject(x)) {
          const meta: Record<string, unknown> = {};
          if (typeof x.name === 'string') meta.name = x.name;
          if (typeof x.generateName === 'string') meta.generateName = x.generateName;
          out[k] = meta;
        }
        continue;
      }
      const sub = s.properties?.[k] ?? addl;
      out[k] = sub ? toCEL(sub, x) : untypedToCEL(x);
    }
    return out;
  }
  return v;
}

function untypedToCEL(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(untypedToCEL);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, untypedToCEL(x)]));
  return v;
}
