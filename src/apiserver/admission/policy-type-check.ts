// The type check of a ValidatingAdmissionPolicy's expressions against the kinds it matches, as
// upstream's ValidatingAdmissionPolicy status controller writes it to status.typeChecking: the kinds
// come from matchConstraints.resourceRules without wildcards (rules with a `*` group or version are
// skipped, as are `*` and subresource resources; at most 10 kinds, sorted by group, version, kind);
// each validation's expression and messageExpression is checked against each kind, and what fails
// becomes one expressionWarning per field (`spec.validations[0].expression`) whose text names the
// kind as Go prints it, then cel-go's issue format:
//   apps/v1, Kind=Deployment: ERROR: <input>:1:12: undefined field 'replica'
//    | object.spec.replica > 1
//    | ...........^
// What is checked: field selections on `object` and `oldObject` (through list items, map values,
// indexes and the comprehension macros) must name fields of the kind's schema. Other type errors
// (operators on mismatched types) are not found: the CEL library here has no typed object schemas.
import type { ASTNode } from '@marcbachmann/cel-js';
import { admissionCelEnvironment } from '../../api/crd/cel/library.js';
import { fieldsOf, type FieldType } from '../../api/schema/index.js';
import { isObject } from '../../api/patch/json-value.js';
import type { KubeObject } from '../../api/types.js';

export interface ExpressionWarning {
  fieldRef: string;
  warning: string;
}

/** A kind a policy matches and its schema (undefined: a kind without a schema, which is not checked). */
export interface CheckedKind {
  group: string;
  version: string;
  kind: string;
  type: FieldType | undefined;
}

/** Finds the kind served at group/version/resource (undefined when nothing serves it). */
export type KindResolver = (group: string, version: string, resource: string) => CheckedKind | undefined;

const MAX_TYPES_TO_CHECK = 10;
const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The kinds to check, as upstream's typesToCheck picks them. */
export function kindsToCheck(policy: KubeObject, resolve: KindResolver): CheckedKind[] {
  const spec = isObject(policy.spec) ? policy.spec : {};
  const match = isObject(spec.matchConstraints) ? spec.matchConstraints : {};
  const found = new Map<string, CheckedKind>();
  for (const rule of Array.isArray(match.resourceRules) ? match.resourceRules : []) {
    if (!isObject(rule)) continue;
    const groups = strings(rule.apiGroups);
    const versions = strings(rule.apiVersions);
    if (groups.some((g) => g.includes('*')) || versions.some((v) => v.includes('*'))) continue;
    const resources = strings(rule.resources).filter((r) => !/[*/]/.test(r));
    let count = 0;
    for (const group of [...groups].sort()) {
      for (const version of [...versions].sort()) {
        for (const resource of [...resources].sort()) {
          const k = resolve(group, version, resource);
          if (!k) continue;
          found.set(`${k.group}/${k.version}/${k.kind}`, k);
          if (++count === MAX_TYPES_TO_CHECK) return sortKinds([...found.values()]);
        }
      }
    }
  }
  return sortKinds([...found.values()]);
}

function sortKinds(kinds: CheckedKind[]): CheckedKind[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return kinds.sort((a, b) => cmp(a.group, b.group) || cmp(a.version, b.version) || cmp(a.kind, b.kind));
}

interface Issue {
  offset: number;
  message: string;
}

interface Node {
  op: string;
  args: unknown;
  pos?: number;
}

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as Node).op === 'string';

/** The field selections of `expression` that the schema `root` of `object`/`oldObject` does not declare. */
export function undefinedFields(expression: string, root: FieldType): Issue[] {
  let ast: ASTNode;
  try {
    ast = admissionCelEnvironment().parse(expression).ast;
  } catch {
    return []; // does not parse: the policy's own validation reports it
  }
  const issues: Issue[] = [];
  const typeOf = (n: unknown, scope: Map<string, FieldType | undefined>): FieldType | undefined => {
    if (Array.isArray(n)) {
      for (const x of n) typeOf(x, scope);
      return undefined;
    }
    if (!isNode(n)) return undefined;
    const args = n.args as unknown[];
    switch (n.op) {
      case 'id':
        if (scope.has(String(n.args))) return scope.get(String(n.args));
        return n.args === 'object' || n.args === 'oldObject' ? root : undefined;
      case '.':
      case '?.': {
        const target = typeOf(args[0], scope);
        const field = String(args[1]);
        if (target?.t === 'object') {
          const fields = fieldsOf(target);
          if (Object.hasOwn(fields, field)) return fields[field];
          // the selection's position is its dot, as cel-go reports it
          const at = n.pos ?? 0;
          issues.push({ offset: Math.max(0, expression.lastIndexOf('.', at)), message: `undefined field '${field}'` });
          return undefined;
        }
        return target?.t === 'map' ? target.value : undefined;
      }
      case '[]':
      case '[?]': {
        const target = typeOf(args[0], scope);
        typeOf(args[1], scope);
        if (target?.t === 'list') return target.item;
        return target?.t === 'map' ? target.value : undefined;
      }
      case 'rcall': {
        const [name, target, callArgs] = args as [string, unknown, unknown[]];
        const t = typeOf(target, scope);
        if (MACROS.has(name) && Array.isArray(callArgs) && isNode(callArgs[0]) && callArgs[0].op === 'id') {
          const inner = new Map(scope);
          inner.set(String(callArgs[0].args), t?.t === 'list' ? t.item : t?.t === 'map' ? { t: 'scalar', kind: 'string' } : undefined);
          for (const x of callArgs.slice(1)) typeOf(x, inner);
          return undefined;
        }
        typeOf(callArgs, scope);
        return undefined;
      }
      default:
        typeOf(n.args, scope);
        return undefined;
    }
  };
  typeOf(ast, new Map());
  return issues;
}

/** An issue in cel-go's display form: position, message, the source line and a caret under the column. */
export function formatIssue(expression: string, issue: Issue): string {
  const before = expression.slice(0, issue.offset);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const column = [...expression.slice(lineStart, issue.offset)].length;
  const source = (expression.split('\n')[line - 1] ?? '').replace(/\t/g, ' ');
  return `ERROR: <input>:${line}:${column + 1}: ${issue.message}\n | ${source}\n | ${'.'.repeat(column)}^`;
}

function checkExpression(expression: string, kinds: CheckedKind[]): string {
  const results: string[] = [];
  for (const k of kinds) {
    if (!k.type) continue;
    const issues = undefinedFields(expression, k.type);
    if (issues.length > 0) results.push(`${k.group}/${k.version}, Kind=${k.kind}: ${issues.map((i) => formatIssue(expression, i)).join('\n')}\n`);
  }
  return results.join('\n');
}

/** The expression warnings of a policy (empty when every expression checks against every matched kind). */
export function typeCheckPolicy(policy: KubeObject, resolve: KindResolver): ExpressionWarning[] {
  const kinds = kindsToCheck(policy, resolve);
  const spec = isObject(policy.spec) ? policy.spec : {};
  const warnings: ExpressionWarning[] = [];
  if (kinds.length === 0) return warnings;
  (Array.isArray(spec.validations) ? spec.validations : []).forEach((v: unknown, i) => {
    const validation = isObject(v) ? v : {};
    for (const field of ['expression', 'messageExpression'] as const) {
      const text = validation[field];
      if (typeof text !== 'string' || text === '') continue;
      const warning = checkExpression(text, kinds);
      if (warning !== '') warnings.push({ fieldRef: `spec.validations[${i}].${field}`, warning });
    }
  });
  return warnings;
}
