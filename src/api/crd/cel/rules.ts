// x-kubernetes-validations: the CEL rules of a CRD version's schema, compiled once per schema into
// a tree that mirrors the schema's properties, additionalProperties and items (only where some
// rule lies below), and evaluated against a custom resource as kube-apiserver does: each rule sees
// its node's value as `self`; a transition rule (one that names `oldSelf`) runs only on update and
// only where the old value correlates (object properties, map values, items of list-type map by
// their keys); a failure names the node (plus the rule's fieldPath) with the rule's message,
// messageExpression or `failed rule: <rule>`, and its reason. Evaluation is bounded: each call is
// checked against a cost ceiling computed from the rule's size, its nested comprehensions and the
// size of its input, and the whole object against upstream's per-request budget. On update, a
// failed rule that does not name oldSelf is not an error when its node (or, if the node does not
// correlate, its nearest correlated ancestor) is unchanged from the old object (ratcheting); it is
// handed back as a ratcheted failure, which upstream returns as a Warning header.
import type { ParseResult } from '@marcbachmann/cel-js';
import type { FieldError, FieldErrorType } from '../../validation/index.js';
import type { JSONSchemaProps } from '../types.js';
import { childSchema, toCelValue } from './values.js';
import { celEnvironment, celSource, optionalOldSelf } from './library.js';
import { costBound, inputShape, measureExpression, PER_CALL_LIMIT, PER_REQUEST_BUDGET } from './cost.js';
import { correlateField, itemCorrelator, unchanged, type Correlated } from '../ratchet.js';

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

interface CompiledRule {
  rule: ValidationRule;
  program: ParseResult;
  message?: ParseResult;
  transition: boolean;
  /** What its cost bound is computed from. */
  shape: { nodes: number; depth: number };
  fieldPath: string;
}

/** The rules of one schema node and the nodes below it that carry rules. */
export interface RuleNode {
  schema: JSONSchemaProps;
  rules: CompiledRule[];
  properties?: Map<string, RuleNode>;
  additional?: RuleNode;
  items?: RuleNode;
}

const REASONS: Record<string, FieldErrorType> = {
  FieldValueInvalid: 'FieldValueInvalid',
  FieldValueForbidden: 'FieldValueForbidden',
  FieldValueRequired: 'FieldValueRequired',
  FieldValueDuplicate: 'FieldValueDuplicate',
};
function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}

function shown(rule: ValidationRule): string {
  return JSON.stringify(rule.rule);
}

/**
 * A rule's fieldPath (`.a.b`, `.a['b.c']`: no list indexes, as upstream allows) turned into this
 * server's field path suffix, if every step names a field the schema below the rule declares.
 */
function fieldPathSuffix(path: string, s: JSONSchemaProps): string | undefined {
  let out = '';
  let rest = path;
  let at: JSONSchemaProps | undefined = s;
  while (rest.length > 0) {
    const step = /^\.([A-Za-z_][A-Za-z0-9_-]*)/.exec(rest) ?? /^\['([^'\\]*)'\]/.exec(rest);
    if (!step) return undefined;
    at = childSchema(at, step[1]);
    if (!at) return undefined;
    out += step[0].startsWith('.') ? `.${step[1]}` : `[${step[1]}]`;
    rest = rest.slice(step[0].length);
  }
  return out;
}

class Compiler {
  readonly errors: FieldError[] = [];

  node(s: JSONSchemaProps, at: string, correlatable: boolean): RuleNode | undefined {
    if (typeof s !== 'object' || s === null) return undefined;
    const rules = this.rules(s, at, correlatable);
    const node: RuleNode = { schema: s, rules };
    let below = false;
    if (s.properties && typeof s.properties === 'object') {
      for (const [name, p] of Object.entries(s.properties)) {
        const child = this.node(p, `${at}.properties[${name}]`, correlatable);
        if (!child) continue;
        (node.properties ??= new Map()).set(name, child);
        below = true;
      }
    }
    if (typeof s.additionalProperties === 'object' && s.additionalProperties !== null) {
      node.additional = this.node(s.additionalProperties, `${at}.additionalProperties`, correlatable);
      below ||= node.additional !== undefined;
    }
    if (typeof s.items === 'object' && s.items !== null && !Array.isArray(s.items)) {
      const keyed = s['x-kubernetes-list-type'] === 'map';
      node.items = this.node(s.items, `${at}.items`, correlatable && keyed);
      below ||= node.items !== undefined;
    }
    return rules.length > 0 || below ? node : undefined;
  }

  private rules(s: JSONSchemaProps, at: string, correlatable: boolean): CompiledRule[] {
    const list = s['x-kubernetes-validations'];
    if (list === undefined) return [];
    const where = `${at}.x-kubernetes-validations`;
    if (!Array.isArray(list)) {
      this.errors.push({ type: 'FieldValueTypeInvalid', field: where, message: 'Invalid value: must be a list of validation rules' });
      return [];
    }
    const out: CompiledRule[] = [];
    list.forEach((raw: unknown, i) => {
      const compiled = this.rule(raw, s, `${where}[${i}]`, correlatable);
      if (compiled) out.push(compiled);
    });
    return out;
  }

  private rule(raw: unknown, s: JSONSchemaProps, at: string, correlatable: boolean): CompiledRule | undefined {
    const rule = raw as ValidationRule;
    if (typeof raw !== 'object' || raw === null || typeof rule.rule !== 'string' || rule.rule.trim() === '') {
      this.errors.push({ type: 'FieldValueRequired', field: `${at}.rule`, message: 'Required value: rule is not specified' });
      return undefined;
    }
    const bad = (field: string, why: string) => this.errors.push({ type: 'FieldValueInvalid', field: `${at}.${field}`, message: `Invalid value: ${shown(rule)}: ${why}` });
    if (rule.message !== undefined && (typeof rule.message !== 'string' || /[\r\n]/.test(rule.message) || rule.message.trim() === '')) {
      this.errors.push({ type: 'FieldValueInvalid', field: `${at}.message`, message: `Invalid value: ${JSON.stringify(rule.message)}: message must be a non-empty string without line breaks` });
    }
    if (rule.reason !== undefined && !(rule.reason in REASONS)) {
      this.errors.push({ type: 'FieldValueNotSupported', field: `${at}.reason`, message: `Unsupported value: ${JSON.stringify(rule.reason)}: supported values: ${Object.keys(REASONS).map((r) => JSON.stringify(r)).join(', ')}` });
    }
    const suffix = rule.fieldPath === undefined ? '' : typeof rule.fieldPath === 'string' ? fieldPathSuffix(rule.fieldPath, s) : undefined;
    if (suffix === undefined) {
      this.errors.push({ type: 'FieldValueInvalid', field: `${at}.fieldPath`, message: `Invalid value: ${JSON.stringify(rule.fieldPath)}: fieldPath must be a path of .name and ['key'] steps to a field the schema declares` });
    }
    const env = celEnvironment();
    const source = celSource(rule.rule);
    const checked = env.check(source);
    if (!checked.valid) {
      bad('rule', `compilation failed: ${firstLine(checked.error)}`);
      return undefined;
    }
    if (checked.type !== 'bool' && checked.type !== 'dyn') {
      bad('rule', `compilation failed: rule must evaluate to a bool, not ${checked.type}`);
      return undefined;
    }
    const program = env.parse(source);
    const m = measureExpression(program.ast);
    const transition = m.names.has('oldSelf');
    if (transition && !correlatable && !rule.optionalOldSelf) {
      bad('rule', 'oldSelf cannot be used on the uncorrelatable portion of the schema (inside a list that is not x-kubernetes-list-type: map)');
      return undefined;
    }
    let message: ParseResult | undefined;
    if (rule.messageExpression !== undefined) {
      const messageSource = typeof rule.messageExpression === 'string' ? celSource(rule.messageExpression) : undefined;
      const mc = messageSource === undefined ? undefined : env.check(messageSource);
      if (!mc?.valid || (mc.type !== 'string' && mc.type !== 'dyn') || messageSource === undefined) {
        this.errors.push({ type: 'FieldValueInvalid', field: `${at}.messageExpression`, message: `Invalid value: ${JSON.stringify(rule.messageExpression)}: messageExpression compilation failed: ${mc?.valid === false ? firstLine(mc.error) : 'must evaluate to a string'}` });
      } else message = env.parse(messageSource);
    }
    return { rule, program, message, transition, shape: { nodes: m.nodes, depth: m.depth }, fieldPath: suffix ?? '' };
  }
}

/** Compiles every rule of a schema; errors name the rule's place under `at` (the CRD's field path to the schema). */
export function compileSchemaRules(schema: JSONSchemaProps | undefined, at = 'openAPIV3Schema'): { tree?: RuleNode; errors: FieldError[] } {
  if (!schema) return { errors: [] };
  const c = new Compiler();
  const tree = c.node(schema, at, true);
  return { tree, errors: c.errors };
}

/** A node's path plus a rule's fieldPath; the object as a whole has no path, which upstream prints as <nil>. */
function fieldOf(at: string, suffix: string): string {
  const path = at === '' ? suffix.replace(/^\./, '') : at + suffix;
  return path === '' ? '<nil>' : path;
}

function typeName(s: JSONSchemaProps): string {
  if (s['x-kubernetes-int-or-string']) return 'string';
  return s.type ?? 'object';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function listMapKey(item: unknown, keys: string[]): string | undefined {
  if (!isObject(item)) return undefined;
  return JSON.stringify(keys.map((k) => item[k] ?? null), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Whether the nearest correlated part at or above a node is unchanged (computed once, when a rule fails). */
type RatchetScope = () => boolean;

function scopeOf(schema: JSONSchemaProps, value: unknown, corr: Correlated): RatchetScope {
  let result: boolean | undefined;
  return () => (result ??= !corr.changed && unchanged(schema, value, corr.value));
}

class Evaluator {
  readonly errors: FieldError[] = [];
  /** Failures that ratcheting allowed (the value failed the rule before and is unchanged). */
  readonly ratcheted: FieldError[] = [];
  private spent = 0;
  private exhausted = false;

  /**
   * `value` and `old` are already CEL values (toCelValue keeps the JSON's shape); `old` is oldSelf's
   * correlation, `corr` ratcheting's (which also correlates list items by index) and `scope` the
   * ratcheting verdict of the nearest correlated ancestor.
   */
  walk(node: RuleNode, value: unknown, old: unknown, at: string, corr?: Correlated, parentScope?: RatchetScope): void {
    if (this.exhausted || value === undefined || value === null) return;
    const scope = corr ? scopeOf(node.schema, value, corr) : parentScope;
    if (node.rules.length > 0) this.evaluate(node, value, old, at, scope);
    if (node.properties && isObject(value)) {
      for (const [name, child] of node.properties) this.walk(child, value[name], isObject(old) ? old[name] : undefined, at === '' ? name : `${at}.${name}`, correlateField(corr, name), scope);
    }
    if (node.additional && isObject(value)) {
      for (const [key, v] of Object.entries(value)) this.walk(node.additional, v, isObject(old) ? old[key] : undefined, `${at}[${key}]`, correlateField(corr, key), scope);
    }
    if (node.items && Array.isArray(value)) {
      const correlate = itemCorrelator(node.schema, corr);
      const keys = node.schema['x-kubernetes-list-map-keys'];
      const oldByKey = new Map<string, unknown>();
      if (node.schema['x-kubernetes-list-type'] === 'map' && Array.isArray(keys) && Array.isArray(old)) {
        for (const o of old) {
          const k = listMapKey(o, keys);
          if (k !== undefined) oldByKey.set(k, o);
        }
      }
      value.forEach((item, i) => {
        const k = Array.isArray(keys) ? listMapKey(item, keys) : undefined;
        this.walk(node.items!, item, k === undefined ? undefined : oldByKey.get(k), `${at}[${i}]`, correlate(item, i), scope);
      });
    }
  }

  private evaluate(node: RuleNode, value: unknown, old: unknown, at: string, scope: RatchetScope | undefined): void {
    const self = value;
    const input = inputShape(value, old);
    for (const r of node.rules) {
      if (r.transition && old === undefined && !r.rule.optionalOldSelf) continue;
      const cost = costBound(r.shape, input);
      if (cost > PER_CALL_LIMIT || this.spent + cost > PER_REQUEST_BUDGET) {
        const why = cost > PER_CALL_LIMIT ? `rule evaluation would exceed the cost limit of ${PER_CALL_LIMIT} for this value: ${shown(r.rule)}` : 'validation failed due to running out of cost budget, no further validation rules will be run';
        this.errors.push({ type: 'FieldValueInvalid', field: fieldOf(at, ''), message: `Invalid value: "${typeName(node.schema)}": ${why}` });
        if (cost <= PER_CALL_LIMIT) this.exhausted = true;
        if (this.exhausted) return;
        continue;
      }
      this.spent += cost;
      const vars: Record<string, unknown> = { self };
      if (r.transition) vars.oldSelf = r.rule.optionalOldSelf ? optionalOldSelf(old) : old;
      let ok: unknown;
      try {
        ok = r.program(vars);
      } catch (err) {
        this.errors.push({ type: 'FieldValueInvalid', field: fieldOf(at, r.fieldPath), message: `Invalid value: "${typeName(node.schema)}": rule evaluation error: ${firstLine(err)}` });
        continue;
      }
      if (ok === true) continue;
      // ratcheting: the value failed this rule before and is unchanged
      (!r.transition && scope?.() ? this.ratcheted : this.errors).push(this.failure(r, node, vars, at));
    }
  }

  private failure(r: CompiledRule, node: RuleNode, vars: Record<string, unknown>, at: string): FieldError {
    let message = r.rule.message ?? `failed rule: ${r.rule.rule}`;
    if (r.message) {
      try {
        const m = r.message(vars);
        if (typeof m === 'string' && m.trim() !== '' && !/[\r\n]/.test(m)) message = m;
      } catch {
        // upstream falls back to the rule's message when messageExpression fails
      }
    }
    const type = REASONS[r.rule.reason ?? 'FieldValueInvalid'] ?? 'FieldValueInvalid';
    const field = fieldOf(at, r.fieldPath);
    const shownType = `"${typeName(node.schema)}"`;
    switch (type) {
      case 'FieldValueForbidden':
        return { type, field, message: `Forbidden: ${message}` };
      case 'FieldValueRequired':
        return { type, field, message: `Required value: ${message}` };
      case 'FieldValueDuplicate':
        return { type, field, message: `Duplicate value: ${shownType}: ${message}` };
      default:
        return { type, field, message: `Invalid value: ${shownType}: ${message}` };
    }
  }
}

/**
 * The rule failures of a custom resource (without metadata but name/generateName, as upstream
 * gives the root rules), against its old version on update; `rootChanged`: the root counts as
 * changed for ratcheting (its metadata changed). Failures that ratcheting allowed go to `ratcheted`.
 */
export function validateRules(tree: RuleNode | undefined, obj: Record<string, unknown>, old?: Record<string, unknown>, rootChanged = false, ratcheted?: FieldError[]): FieldError[] {
  if (!tree) return [];
  const e = new Evaluator();
  // Converted once; the walk hands each rule its node's part of the converted tree.
  const oldValue = old === undefined ? undefined : toCelValue(old, tree.schema);
  e.walk(tree, toCelValue(obj, tree.schema), oldValue, '', old === undefined ? undefined : { value: oldValue, changed: rootChanged });
  ratcheted?.push(...e.ratcheted);
  return e.errors;
}
