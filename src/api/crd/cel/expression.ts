// One CEL expression compiled for later evaluation: checked for its result type, parsed once, and
// measured for its cost bound. Used by ValidatingAdmissionPolicy expressions (CRD rules have their
// own walk in rules.ts).
import type { Environment, ParseResult } from '@marcbachmann/cel-js';
import { celSource } from './library.js';
import { measureExpression } from './cost.js';

export interface CompiledExpression {
  source: string;
  program: ParseResult;
  shape: { nodes: number; depth: number };
}

/** The expression compiled, or why it does not compile (`want`: the result type it must have). */
export function compileExpression(env: Environment, expression: string, want: 'bool' | 'string' | 'any'): CompiledExpression | { error: string } {
  const source = celSource(expression, env);
  const checked = env.check(source);
  if (!checked.valid) return { error: `compilation failed: ${String(checked.error?.message ?? '').split('\n')[0]}` };
  if (want !== 'any' && checked.type !== want && checked.type !== 'dyn') return { error: `must evaluate to ${want}, not ${checked.type}` };
  const program = env.parse(source);
  const m = measureExpression(program.ast);
  return { source: expression, program, shape: { nodes: m.nodes, depth: m.depth } };
}
