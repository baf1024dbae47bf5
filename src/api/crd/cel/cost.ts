// The cost bound of a CEL expression on a value, computed before running it (the library has no
// cost accounting of its own): each comprehension level (all, exists, exists_one, map, filter)
// iterates at most over the longest list or map in the input, every step of the expression's tree
// runs once per iteration, and comparisons or copies touch each input node once. Limits as
// upstream's: 1,000,000 per call, 10,000,000 per request.
export const PER_CALL_LIMIT = 1_000_000;
export const PER_REQUEST_BUDGET = 10_000_000;

const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

interface AstNode {
  op: string;
  args: unknown;
}

function isAst(v: unknown): v is AstNode {
  return typeof v === 'object' && v !== null && typeof (v as AstNode).op === 'string';
}

export interface ExpressionShape {
  /** Nodes of the syntax tree. */
  nodes: number;
  /** Deepest nesting of comprehensions. */
  depth: number;
  /** The variables the expression names. */
  names: Set<string>;
}

/** The shape of a parsed expression's syntax tree. */
export function measureExpression(node: unknown, names = new Set<string>()): ExpressionShape {
  if (Array.isArray(node)) {
    let nodes = 0;
    let depth = 0;
    for (const child of node) {
      const m = measureExpression(child, names);
      nodes += m.nodes;
      depth = Math.max(depth, m.depth);
    }
    return { nodes, depth, names };
  }
  if (!isAst(node)) return { nodes: 0, depth: 0, names };
  if (node.op === 'id') {
    names.add(String(node.args));
    return { nodes: 1, depth: 0, names };
  }
  const inner = measureExpression(node.args, names);
  const args = node.args as unknown[];
  const isMacro = node.op === 'rcall' && Array.isArray(args) && MACROS.has(args[0] as string);
  return { nodes: inner.nodes + 1, depth: inner.depth + (isMacro ? 1 : 0), names };
}

function isCollection(v: unknown): v is unknown[] | Record<string, unknown> {
  return typeof v === 'object' && v !== null && !(v instanceof Date) && !(v instanceof Uint8Array);
}

/** The longest list or map (entries) and the JSON nodes in the values. */
export function inputShape(...values: unknown[]): { longest: number; nodes: number } {
  let longest = 0;
  let nodes = 0;
  const visit = (v: unknown) => {
    nodes++;
    if (!isCollection(v)) return;
    const items = Array.isArray(v) ? v : Object.values(v);
    longest = Math.max(longest, items.length);
    for (const x of items) visit(x);
  };
  for (const v of values) if (v !== undefined && v !== null) visit(v);
  return { longest, nodes };
}

/** The bound of one evaluation of an expression of `shape` on input of `input`'s shape. */
export function costBound(shape: Pick<ExpressionShape, 'nodes' | 'depth'>, input: { longest: number; nodes: number }): number {
  return shape.nodes * Math.pow(input.longest + 1, shape.depth) + input.nodes;
}
