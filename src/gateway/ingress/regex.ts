// nginx's `~*` locations and `(?i)` rewrites are case-insensitive regular expressions. The proxy
// compiles HttpMatch and RegexReplace patterns without flags, so the translation makes the
// pattern itself case-insensitive: every letter outside a character class becomes `[xX]`, every
// character class gets the other case of its letters. Escapes (`\d`, `\u00E9`, `\p{Lu}`,
// `\k<name>`) and group syntax (`(?<name>`, `(?:`) are copied as they are. One difference remains:
// a backreference matches the captured text in its own case only.

const LETTER = /[a-z]/i;

function swapCase(c: string): string {
  const lower = c.toLowerCase();
  return c === lower ? c.toUpperCase() : lower;
}

/** The length of the escape sequence starting at `src[i]` (a backslash). */
function escapeLength(src: string, i: number): number {
  const next = src[i + 1];
  if (next === undefined) return 1;
  if (next === 'u') {
    if (src[i + 2] === '{') {
      const end = src.indexOf('}', i + 3);
      return end < 0 ? 2 : end - i + 1;
    }
    return Math.min(6, src.length - i);
  }
  if (next === 'x') return Math.min(4, src.length - i);
  if (next === 'c') return Math.min(3, src.length - i);
  if ((next === 'p' || next === 'P') && src[i + 2] === '{') {
    const end = src.indexOf('}', i + 3);
    return end < 0 ? 2 : end - i + 1;
  }
  if (next === 'k' && src[i + 2] === '<') {
    const end = src.indexOf('>', i + 3);
    return end < 0 ? 2 : end - i + 1;
  }
  return 2;
}

/** The body of a character class (between `[` and `]`, without a leading `^`) with both cases. */
function caseInsensitiveClass(body: string): string {
  let extra = '';
  let i = 0;
  const atoms: { text: string; char?: string }[] = [];
  while (i < body.length) {
    if (body[i] === '\\') {
      const n = escapeLength(body, i);
      atoms.push({ text: body.slice(i, i + n) });
      i += n;
    } else {
      atoms.push({ text: body[i]!, char: body[i] });
      i++;
    }
  }
  for (let a = 0; a < atoms.length; a++) {
    const atom = atoms[a]!;
    const dash = atoms[a + 1];
    const end = atoms[a + 2];
    if (atom.char !== undefined && dash?.char === '-' && end?.char !== undefined) {
      // A range: add the other case only when both ends are letters of the same case.
      const from = atom.char;
      const to = end.char;
      if (LETTER.test(from) && LETTER.test(to) && (from === from.toLowerCase()) === (to === to.toLowerCase())) {
        extra += `${swapCase(from)}-${swapCase(to)}`;
      }
      a += 2;
      continue;
    }
    if (atom.char !== undefined && LETTER.test(atom.char)) extra += swapCase(atom.char);
  }
  return body + extra;
}

/** `source` rewritten to match case-insensitively without the `i` flag. */
export function caseInsensitiveSource(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      const n = escapeLength(source, i);
      out += source.slice(i, i + n);
      i += n;
    } else if (c === '[') {
      let j = i + 1;
      let negated = '';
      if (source[j] === '^') {
        negated = '^';
        j++;
      }
      const start = j;
      // A `]` right at the start of a class is a literal in PCRE, but closes an empty class in
      // JavaScript: follow JavaScript, since the proxy compiles with it.
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? escapeLength(source, j) : 1;
      out += `[${negated}${caseInsensitiveClass(source.slice(start, j))}]`;
      i = j + 1;
    } else if (c === '(' && source[i + 1] === '?') {
      // Group syntax: (?: (?= (?! (?<= (?<! (?<name>
      if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
        const end = source.indexOf('>', i + 3);
        const n = end < 0 ? 3 : end - i + 1;
        out += source.slice(i, i + n);
        i += n;
      } else {
        const n = source[i + 2] === '<' ? 4 : 3;
        out += source.slice(i, i + n);
        i += n;
      }
    } else if (c === '{') {
      // A quantifier {n,m}: digits and a comma only.
      const end = source.indexOf('}', i);
      const n = end < 0 ? 1 : end - i + 1;
      out += source.slice(i, i + n);
      i += n;
    } else if (LETTER.test(c)) {
      out += `[${c}${swapCase(c)}]`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Whether a path holds characters that only make sense in a regular expression (as ingress-nginx decides). */
export function hasRegexCharacters(path: string): boolean {
  return /[\^$*+?()[\]{}|\\]/.test(path);
}

/** The error text when `source` is not a valid JavaScript regular expression, else undefined. */
export function regexError(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
