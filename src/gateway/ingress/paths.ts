// Ingress paths -> HttpMatch, and the order nginx tries them in.
//   Exact                  -> Exact (case-sensitive, trailing slash significant)
//   Prefix                 -> PathPrefix on whole path elements, trailing slash ignored
//   ImplementationSpecific -> PathPrefix, or with use-regex (or rewrite-target) a regular expression
//                             matched case-insensitively from the start of the path, as nginx `~* "^path"`;
//                             in that mode a Prefix path holding regex characters is a regex too, as
//                             in nginx (a plain Prefix path keeps its whole-element meaning).
import type { HttpMatch } from '../config.js';
import { caseInsensitiveSource, hasRegexCharacters, regexError } from './regex.js';

export type IngressPathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface IngressPathMatch {
  match: HttpMatch;
  /**
   * Sort key: the length of the path as matched (Prefix without trailing slashes), so the longest
   * path wins and Exact beats Prefix of the same path.
   */
  length: number;
  /** 1 Exact, 2 Prefix, 3 regular expression: the tie-break at equal length. */
  rank: number;
}

/** nginx-style start-anchored, case-insensitive regex as a pattern the proxy anchors at both ends. */
export function nginxRegexSource(path: string): string {
  return `(?:${caseInsensitiveSource(path)}).*`;
}

/** The HttpMatch of one Ingress path; throws an Error naming the problem when the path is unusable. */
export function ingressPathMatch(path: string | undefined, pathType: string | undefined, regex: boolean): IngressPathMatch {
  const p = path === undefined || path === '' ? '/' : path;
  const match = (type: HttpMatch['path']['type'], value: string): HttpMatch => ({ path: { type, value }, headers: [], queryParams: [] });
  if (pathType === 'Exact') {
    if (!p.startsWith('/')) throw new Error(`path "${p}" must start with "/"`);
    return { match: match('Exact', p), length: p.length, rank: 1 };
  }
  const asRegex = regex && (pathType === 'ImplementationSpecific' || (pathType === 'Prefix' && hasRegexCharacters(p)));
  if (!asRegex && (pathType === 'Prefix' || pathType === 'ImplementationSpecific')) {
    if (!p.startsWith('/')) throw new Error(`path "${p}" must start with "/"`);
    const trimmed = p.replace(/\/+$/, '');
    return { match: match('PathPrefix', trimmed === '' ? '/' : trimmed), length: trimmed.length, rank: 2 };
  }
  if (asRegex) {
    const source = nginxRegexSource(p);
    const err = regexError(source);
    if (err) throw new Error(`path "${p}" is not a valid regular expression: ${err}`);
    return { match: match('RegularExpression', source), length: p.length, rank: 3 };
  }
  throw new Error(`pathType "${pathType ?? ''}" is not Exact, Prefix or ImplementationSpecific`);
}
