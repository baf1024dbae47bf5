// The CEL environments in which CustomResourceDefinition validation rules (x-kubernetes-validations)
// and ValidatingAdmissionPolicy expressions compile and run: the CEL standard library of @marcbachmann/cel-js (macros, has(), matches (also as a function),
// startsWith, split, lowerAscii, upperAscii, trim, indexOf, substring, join, timestamps) plus the Kubernetes
// extension functions that library lacks and rules commonly use (strings: replace, reverse,
// charAt; regex: matches, find, findAll, all on RE2 (re2.ts); lists: isSorted, sum, min, max, indexOf,
// lastIndexOf; URLs: isURL) and, from typed-libraries.ts, quantity(), ip()/cidr() with isIP/isCIDR, and
// format. Every rule sees `self` and, in transition rules, `oldSelf`. Not offered (a rule naming them
// fails to compile, saying so): authorizer checks and the quantity mul/div functions of 1.34.
import { Environment, Optional, serialize, type ASTNode } from '@marcbachmann/cel-js';
import { registerTypedLibraries } from './typed-libraries.js';
import { re2FindAll, re2Test } from '../re2.js';

/** Upstream's structural limits on a rule's syntax tree are far above any real rule; these bound a hostile one. */
const LIMITS = { maxAstNodes: 2_000, maxDepth: 64, maxListElements: 1_000, maxMapEntries: 1_000, maxCallArguments: 32 };

type Comparable = bigint | number | string | boolean;

function compare(a: Comparable, b: Comparable): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function extreme(list: Comparable[], sign: 1 | -1, what: string): Comparable {
  if (list.length === 0) throw new Error(`${what} called on an empty list`);
  return list.reduce((best, x) => (compare(x, best) * sign > 0 ? x : best));
}

function sum(list: (bigint | number)[]): bigint | number {
  if (list.length === 0) return 0n;
  if (list.every((x) => typeof x === 'bigint')) return (list as bigint[]).reduce((a, b) => a + b, 0n);
  return list.reduce<number>((a, b) => a + Number(b), 0);
}

function celEquals(a: unknown, b: unknown): boolean {
  return JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) === JSON.stringify(b, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
}

function isURL(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol.length > 1;
  } catch {
    return false;
  }
}

/** The Kubernetes functions every CEL environment of the server offers, on a fresh environment with `variables` (all dyn). */
function kubernetesEnvironment(variables: string[]): Environment {
  let env = new Environment({ homogeneousAggregateLiterals: false, enableOptionalTypes: true, limits: LIMITS });
  for (const v of variables) env = env.registerVariable(v, 'dyn');
  return registerTypedLibraries(env)
    // cel-go compares an optional with null (never equal: `format.x().validate(s) == null`, used by
    // the Gateway API CRDs) and with another optional (equal when both are empty or hold equal values)
    .registerOperator('optional<dyn> == null', () => false)
    .registerOperator('optional<dyn> == optional<dyn>', (a: Optional<unknown>, b: Optional<unknown>) => (a.hasValue() && b.hasValue() ? celEquals(a.value(), b.value()) : a.hasValue() === b.hasValue()))
    .registerFunction('matches(string, string): bool', (s: string, re: string) => re2Test(re, s))
    .registerFunction('string.replace(string, string): string', (s: string, from: string, to: string) => s.split(from).join(to))
    .registerFunction('string.replace(string, string, int): string', (s: string, from: string, to: string, n: bigint) => {
      if (n < 0n) return s.split(from).join(to);
      let out = s;
      let at = 0;
      for (let i = 0n; i < n; i++) {
        const j = out.indexOf(from, at);
        if (j < 0) break;
        out = out.slice(0, j) + to + out.slice(j + from.length);
        at = j + to.length;
      }
      return out;
    })
    .registerFunction('string.reverse(): string', (s: string) => [...s].reverse().join(''))
    .registerFunction('string.charAt(int): string', (s: string, i: bigint) => {
      const chars = [...s];
      if (i < 0n || i > BigInt(chars.length)) throw new Error(`index out of range: ${i}`);
      return chars[Number(i)] ?? '';
    })
    .registerFunction('string.find(string): string', (s: string, re: string) => re2FindAll(re, s, 1)[0] ?? '')
    .registerFunction('string.findAll(string): list<string>', (s: string, re: string) => re2FindAll(re, s))
    .registerFunction('string.findAll(string, int): list<string>', (s: string, re: string, n: bigint) => re2FindAll(re, s, n < 0n ? -1 : Number(n > 1_000_000n ? 1_000_000n : n)))
    .registerFunction('isURL(string): bool', isURL)
    .registerFunction('list.isSorted(): bool', (l: Comparable[]) => l.every((x, i) => i === 0 || compare(l[i - 1], x) <= 0))
    .registerFunction('list.sum(): dyn', sum)
    .registerFunction('list.min(): dyn', (l: Comparable[]) => extreme(l, -1, 'min'))
    .registerFunction('list.max(): dyn', (l: Comparable[]) => extreme(l, 1, 'max'))
    .registerFunction('list.indexOf(dyn): int', (l: unknown[], x: unknown) => BigInt(l.findIndex((y) => celEquals(x, y))))
    .registerFunction('list.lastIndexOf(dyn): int', (l: unknown[], x: unknown) => {
      for (let i = l.length - 1; i >= 0; i--) if (celEquals(x, l[i])) return BigInt(i);
      return -1n;
    });
}

interface PlainNode {
  op: string;
  args: unknown;
}

function isNode(v: unknown): v is PlainNode {
  return typeof v === 'object' && v !== null && typeof (v as PlainNode).op === 'string';
}

/**
 * A copy of the tree with every has(e.f) whose operand does not start at a variable turned into
 * `"f" in e`, and every s.matches(re) into matches(s, re) (the library's own method uses JS RegExp).
 */
function rewrite(n: unknown): { node: unknown; changed: boolean } {
  if (Array.isArray(n)) {
    const parts = n.map(rewrite);
    return { node: parts.map((p) => p.node), changed: parts.some((p) => p.changed) };
  }
  if (!isNode(n)) return { node: n, changed: false };
  const args = n.args as unknown[];
  if (n.op === 'call' && args[0] === 'has' && Array.isArray(args[1]) && args[1].length === 1) {
    const operand = args[1][0] as PlainNode;
    let root = operand;
    while (root.op === '.') root = (root.args as PlainNode[])[0];
    if (operand.op === '.' && root.op !== 'id') {
      const [target, field] = operand.args as [unknown, string];
      return { node: { op: 'in', args: [{ op: 'value', args: field }, rewrite(target).node] }, changed: true };
    }
  }
  if (n.op === 'rcall' && args[0] === 'matches' && Array.isArray(args[2]) && args[2].length === 1) {
    return { node: { op: 'call', args: ['matches', [rewrite(args[1]).node, rewrite(args[2][0]).node]] }, changed: true };
  }
  const inner = rewrite(n.args);
  return { node: { op: n.op, args: inner.node }, changed: inner.changed };
}

/**
 * The rule as this library compiles it. Its has() accepts only a selection rooted at a variable,
 * where CEL allows any operand (`has(self[0].matches)`, used by the Gateway API CRDs); on the maps a
 * custom resource is made of, has(e.f) is `"f" in e`, so those calls are rewritten. Its built-in
 * string.matches() runs JS RegExp; calls to it become the RE2 matches(s, re). A rule with no such
 * call is returned as written.
 */
export function celSource(rule: string, env: Environment = celEnvironment()): string {
  if (!rule.includes('has(') && !rule.includes('matches(')) return rule;
  let ast: ASTNode;
  try {
    ast = env.parse(rule).ast;
  } catch {
    return rule; // the compile step reports the syntax error on the rule as written
  }
  const r = rewrite(ast);
  return r.changed ? serialize(r.node as ASTNode) : rule;
}

let rules: Environment | undefined;
let admission: Environment | undefined;
let admissionWithoutParams: Environment | undefined;

/** The environment of CRD validation rules: `self` and `oldSelf` (registration is done once; parsing does not change it). */
export function celEnvironment(): Environment {
  rules ??= kubernetesEnvironment(['self', 'oldSelf']);
  return rules;
}

/**
 * The environment of ValidatingAdmissionPolicy expressions: the request's objects, the request,
 * variables and, for a policy with a paramKind, params (without one, upstream does not declare
 * `params`: an expression naming it does not compile).
 */
export function admissionCelEnvironment(hasParams = true): Environment {
  if (!hasParams) {
    admissionWithoutParams ??= kubernetesEnvironment(['object', 'oldObject', 'request', 'namespaceObject', 'variables']);
    return admissionWithoutParams;
  }
  admission ??= kubernetesEnvironment(['object', 'oldObject', 'request', 'params', 'namespaceObject', 'variables']);
  return admission;
}

/** oldSelf of a rule with optionalOldSelf: an optional that is empty on create. */
export function optionalOldSelf(old: unknown): Optional<unknown> {
  return old === undefined ? Optional.none() : Optional.of(old);
}
