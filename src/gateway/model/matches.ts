// Route match translation shared by HTTPRoute and GRPCRoute: header and query-param matches
// (first entry of a repeated name wins, as the spec says), regular expressions checked here so
// a bad one invalidates its rule instead of failing in the proxy.
import type { HeaderMatch, QueryParamMatch } from '../config.js';
import type { Problem } from './conditions.js';
import { asArray, asRecord, asString } from './objects.js';

/** Whether `pattern` compiles as a JavaScript regular expression; the problem otherwise. */
export function regexProblem(pattern: string, where: string): Problem | undefined {
  try {
    new RegExp(`^(?:${pattern})$`);
    return undefined;
  } catch (err) {
    return { reason: 'UnsupportedValue', message: `${where}: invalid regular expression ${JSON.stringify(pattern)} (${err instanceof Error ? err.message : String(err)})` };
  }
}

export function translateNameValueMatches<T extends HeaderMatch | QueryParamMatch>(
  raw: unknown,
  where: string,
  lowerCaseNames: boolean,
): T[] | Problem {
  const out: T[] = [];
  const seen = new Set<string>();
  for (const [i, item] of asArray(raw).entries()) {
    const r = asRecord(item);
    const type = asString(r.type) ?? 'Exact';
    const rawName = asString(r.name) ?? '';
    const name = lowerCaseNames ? rawName.toLowerCase() : rawName;
    const value = asString(r.value) ?? '';
    if (type !== 'Exact' && type !== 'RegularExpression') {
      return { reason: 'UnsupportedValue', message: `${where}[${i}].type ${JSON.stringify(type)} is not Exact or RegularExpression` };
    }
    if (type === 'RegularExpression') {
      const p = regexProblem(value, `${where}[${i}].value`);
      if (p) return p;
    }
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ type, name, value } as T);
  }
  return out;
}

export function isProblem(v: unknown): v is Problem {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'reason' in v && 'message' in v;
}
