// Regular expressions as Kubernetes runs them: RE2 syntax and semantics (Go's regexp: (?i) flags,
// \pL classes, no lookaround or backreferences) with matching in time linear in the input, so a
// hostile pattern or input in a CRD schema `pattern` or a CEL matches()/find()/findAll() cannot stall
// the server. re2js is a pure-JavaScript port of RE2; its syntax errors are worded as Go's.
import { RE2JS } from 're2js';

const CACHE_LIMIT = 2_000;
const compiled = new Map<string, RE2JS>();

/** The compiled pattern (kept for reuse; the cache is emptied when it grows past its limit). */
export function re2(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    if (compiled.size >= CACHE_LIMIT) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

/** Why `pattern` is not a valid RE2 expression (Go's message), or undefined when it is. */
export function re2SyntaxError(pattern: string): string | undefined {
  try {
    re2(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Whether `pattern` matches anywhere in `s` (CEL matches(), schema `pattern`). */
export function re2Test(pattern: string, s: string): boolean {
  return re2(pattern).test(s);
}

/**
 * The first `limit` (all when negative) non-overlapping matches of `pattern` in `s`; as Go's
 * FindAllString, an empty match right after the previous match is not one.
 */
export function re2FindAll(pattern: string, s: string, limit = -1): string[] {
  const out: string[] = [];
  if (limit === 0) return out;
  const m = re2(pattern).matcher(s);
  let previousEnd = -1;
  while (m.find()) {
    const start = m.start();
    const end = m.end();
    if (!(start === end && start === previousEnd)) out.push(m.group(0) ?? '');
    previousEnd = end;
    if (out.length === limit) break;
  }
  return out;
}
