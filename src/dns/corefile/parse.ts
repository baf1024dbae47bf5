// The Corefile's syntax (the Caddyfile dialect CoreDNS reads), as a pure function of its text:
// server blocks, each with its keys (zones with optional ports) and its directives; a directive
// is a name, arguments on the same line, and an optional `{ ... }` block of sub-directives
// (one per line, nested blocks allowed). `#` starts a comment, "double quotes" group words (inside
// them `\` escapes the next character). Every node keeps its line number for error messages.

export class CorefileError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`Corefile line ${line}: ${reason}`);
    this.name = 'CorefileError';
  }
}

export interface Token {
  text: string;
  line: number;
  /** True when the token was written in quotes (so `"{"` is a word, not a brace). */
  quoted: boolean;
  /** True when a line break separates this token from the one before it. */
  newline: boolean;
}

export interface Directive {
  name: string;
  args: string[];
  line: number;
  block?: Directive[];
}

export interface ServerBlockSyntax {
  keys: { text: string; line: number }[];
  line: number;
  directives: Directive[];
}

/** Splits Corefile text into tokens. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  let sawNewline = true;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '\n') {
      line++;
      sawNewline = true;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    const startLine = line;
    if (c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= n) throw new CorefileError(startLine, 'a quoted string is not closed (missing ")');
        const d = text[i];
        if (d === '\\' && i + 1 < n) {
          s += text[i + 1];
          if (text[i + 1] === '\n') line++;
          i += 2;
          continue;
        }
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\n') line++;
        s += d;
        i++;
      }
      tokens.push({ text: s, line: startLine, quoted: true, newline: sawNewline });
      sawNewline = false;
      continue;
    }
    // Outside quotes a backslash is an ordinary character (regexes such as `\.` stay intact),
    // and `#` starts a comment even inside a word.
    let s = '';
    while (i < n) {
      const d = text[i];
      if (d === ' ' || d === '\t' || d === '\r' || d === '\n' || d === '#') break;
      s += d;
      i++;
    }
    tokens.push({ text: s, line: startLine, quoted: false, newline: sawNewline });
    sawNewline = false;
  }
  return tokens;
}

const isOpen = (t: Token | undefined) => t !== undefined && !t.quoted && t.text === '{';
const isClose = (t: Token | undefined) => t !== undefined && !t.quoted && t.text === '}';

/** Parses a whole Corefile into server blocks. */
export function parseCorefile(text: string): ServerBlockSyntax[] {
  const tokens = tokenize(text);
  const blocks: ServerBlockSyntax[] = [];
  let i = 0;
  while (i < tokens.length) {
    const first = tokens[i];
    if (isClose(first)) throw new CorefileError(first.line, 'unexpected "}" without an open block');
    if (isOpen(first)) throw new CorefileError(first.line, 'unexpected "{": a server block starts with its zones, for example ".:53 {"');
    const keys: { text: string; line: number }[] = [];
    // Keys: every token up to "{" on the block's first line.
    while (i < tokens.length && !isOpen(tokens[i])) {
      const t = tokens[i];
      if (isClose(t)) throw new CorefileError(t.line, 'unexpected "}" without an open block');
      if (keys.length > 0 && t.newline) {
        if (blocks.length === 0) break; // a file without braces: one server block, directives follow
        throw new CorefileError(keys[0].line, `server block "${keys.map((k) => k.text).join(' ')}" has no "{" on its line`);
      }
      if (t.text === 'import') throw new CorefileError(t.line, 'import is not supported by flatnet: write the snippet inline');
      if (t.text.startsWith('(') && t.text.endsWith(')')) throw new CorefileError(t.line, `snippets (${t.text}) are not supported by flatnet: write the snippet inline`);
      // Commas separate keys ("a.org, b.org {"), as spaces do.
      for (const k of t.text.split(',')) if (k !== '') keys.push({ text: k, line: t.line });
      i++;
    }
    if (keys.length === 0) throw new CorefileError(first.line, 'a server block needs at least one zone before "{"');
    if (i >= tokens.length || !isOpen(tokens[i])) {
      // No braces: the rest of the file is this one block's directives.
      const { directives, next } = parseDirectives(tokens, i, undefined);
      if (next < tokens.length) throw new CorefileError(tokens[next].line, `unexpected "${tokens[next].text}"`);
      blocks.push({ keys, line: keys[0].line, directives });
      break;
    }
    const open = tokens[i];
    const { directives, next } = parseDirectives(tokens, i + 1, open.line);
    blocks.push({ keys, line: keys[0].line, directives });
    i = next;
  }
  return blocks;
}

/**
 * Directives from `start` up to the matching "}" (openedAt set) or the end of the tokens. Returns
 * the index after the closing brace.
 */
function parseDirectives(tokens: Token[], start: number, openedAt: number | undefined): { directives: Directive[]; next: number } {
  const directives: Directive[] = [];
  let i = start;
  for (;;) {
    const t = tokens[i];
    if (t === undefined) {
      if (openedAt !== undefined) throw new CorefileError(openedAt, 'the "{" opened here is never closed');
      return { directives, next: i };
    }
    if (isClose(t)) {
      if (openedAt === undefined) throw new CorefileError(t.line, 'unexpected "}" without an open block');
      return { directives, next: i + 1 };
    }
    if (isOpen(t)) throw new CorefileError(t.line, 'unexpected "{": a block belongs after a directive name on the same line');
    const d: Directive = { name: t.text, args: [], line: t.line };
    i++;
    while (i < tokens.length && !tokens[i].newline && !isOpen(tokens[i]) && !isClose(tokens[i])) {
      d.args.push(tokens[i].text);
      i++;
    }
    if (isOpen(tokens[i]) && !tokens[i].newline) {
      const inner = parseDirectives(tokens, i + 1, tokens[i].line);
      d.block = inner.directives;
      i = inner.next;
    } else if (isOpen(tokens[i])) {
      throw new CorefileError(tokens[i].line, `"{" must be on the same line as "${d.name}"`);
    }
    directives.push(d);
  }
}
