// The rewrite plugin's `name` rules as a pure function: the question name a chain of rules turns
// a name into (rules run in order; a matching `stop` rule ends the chain), and how owner names in
// the answer are written back so the client sees the name it asked for.
import type { RewriteRule } from '../corefile/config.js';
import { compileRegex } from '../corefile/config.js';

export interface CompiledRewrite {
  rule: RewriteRule;
  regex?: RegExp;
  answerRegex?: RegExp;
}

export function compileRewrites(rules: RewriteRule[]): CompiledRewrite[] {
  return rules.map((rule) => ({
    rule,
    regex: rule.match === 'regex' ? compileRegex(rule.from, rule.line) : undefined,
    answerRegex: rule.answer ? compileRegex(rule.answer.from, rule.line) : undefined,
  }));
}

/** Names here are fully qualified with the trailing dot and lower case, as CoreDNS compares them. */
export function fqdn(name: string): string {
  return name.endsWith('.') ? name.toLowerCase() : `${name.toLowerCase()}.`;
}

/** RE2 replacement groups `{1}` -> their captures. */
function expand(template: string, m: RegExpExecArray): string {
  return template.replace(/\{(\d+)\}/g, (_, n: string) => m[Number(n)] ?? '');
}

function applyOne(c: CompiledRewrite, name: string): string | undefined {
  const { rule } = c;
  switch (rule.match) {
    case 'exact':
      return name === fqdn(rule.from) ? fqdn(rule.to) : undefined;
    case 'prefix':
      return name.startsWith(rule.from) ? rule.to + name.slice(rule.from.length) : undefined;
    case 'suffix': {
      const from = fqdn(rule.from);
      return name.endsWith(from) ? name.slice(0, name.length - from.length) + fqdn(rule.to) : undefined;
    }
    case 'substring':
      return name.includes(rule.from) ? name.replace(rule.from, rule.to) : undefined;
    case 'regex': {
      const m = (c.regex as RegExp).exec(name);
      return m ? fqdn(expand(rule.to, m)) : undefined;
    }
  }
}

export interface RewriteResult {
  /** The name to look up (fully qualified). */
  name: string;
  /** The rules that fired, for the answer's write-back. */
  applied: CompiledRewrite[];
}

/** Runs the rules over a fully qualified name. */
export function rewriteName(rules: CompiledRewrite[], name: string): RewriteResult {
  let cur = name;
  const applied: CompiledRewrite[] = [];
  for (const c of rules) {
    const next = applyOne(c, cur);
    if (next === undefined) continue;
    cur = fqdn(next);
    applied.push(c);
    if (c.rule.mode === 'stop') break;
  }
  return { name: cur, applied };
}

/**
 * The owner name a client should see for an answer record: the asked name where the record is at
 * the rewritten name (`answer auto`), or what an `answer name` regex makes of it.
 */
export function answerOwner(owner: string, asked: string, rewritten: string, applied: CompiledRewrite[]): string {
  const o = fqdn(owner);
  for (const c of applied) {
    if (c.answerRegex && c.rule.answer) {
      const m = c.answerRegex.exec(o);
      if (m) return fqdn(expand(c.rule.answer.to, m));
    }
  }
  return o === rewritten ? asked : o;
}
