// The text protocol of a long-lived `nft -i` process (see nft-session.ts), as pure functions.
//
// Facts about `nft -i` (nftables 1.0.6, checked on this machine): it reads commands line by line
// without a prompt when stdin is not a terminal; one input line, with commands separated by `;`,
// is parsed and committed as one batch (all-or-nothing); an `include "<file>"` on that line joins
// the file's commands to the same batch. It reports nothing on success and writes errors to
// stderr as `[file:line:col: ]Error: <what>` followed by the input line and a caret line. So each
// batch is followed by a marker line that is a deliberate syntax error (parsed, never sent to the
// kernel): its error, echoing the marker, tells where the batch's output ends.

/** How a batch reaches nft: inline on one line, or (large or not line-safe) in a file it includes. */
export type BatchPlan = { kind: 'inline'; line: string } | { kind: 'file'; text: string };

/**
 * Past this size a batch goes through a file: nft's line editor (libedit) reads its input one
 * byte per read(2) call (a 12 KB policy diff: 12,000 system calls), while nft reads an included
 * file in large blocks.
 */
export const DEFAULT_INLINE_LIMIT = 512;

export class NftStatementError extends Error {
  constructor(
    readonly index: number,
    readonly statement: string,
    reason: string,
  ) {
    super(`nft statement ${index} ${reason}: ${statement.slice(0, 200)}`);
    this.name = 'NftStatementError';
  }
}

/** True when `#` starts a comment in `statement` (outside a double-quoted string). */
function hasComment(statement: string): boolean {
  let quoted = false;
  for (const ch of statement) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '#' && !quoted) return true;
  }
  return false;
}

/**
 * Checks each statement is one command and chooses how to send the batch. A statement with a
 * line break would split the batch into two commits; one with a comment would silently drop the
 * statements after it on the line: those batches go through a file, where neither can happen.
 */
export function planBatch(statements: readonly string[], inlineLimit = DEFAULT_INLINE_LIMIT): BatchPlan {
  if (statements.length === 0) throw new Error('an nft batch needs at least one statement');
  let lineSafe = true;
  let size = 0;
  statements.forEach((s, i) => {
    if (s.trim() === '') throw new NftStatementError(i, s, 'is empty');
    if (s.includes('\0')) throw new NftStatementError(i, s, 'contains a NUL character');
    if (/[\r\n]/.test(s) || hasComment(s)) lineSafe = false;
    size += s.length + 2;
  });
  if (lineSafe && size <= inlineLimit) return { kind: 'inline', line: statements.join('; ') };
  return { kind: 'file', text: statements.join('\n') + '\n' };
}

/** The line that includes a batch file (paths come from mkdtemp: no quote characters). */
export function includeLine(path: string): string {
  if (/["\r\n]/.test(path)) throw new Error(`nft include path must not contain quotes or line breaks: ${path}`);
  return `include "${path}"`;
}

/** The marker after batch `seq` of a session whose nonce is `nonce` (a word nft cannot parse). */
export function markerLine(nonce: string, seq: number): string {
  return `flatnet-batch-end-${nonce}-${seq}`;
}

export interface BatchOutcome {
  seq: number;
  /** What nft wrote to stderr for the batch (warnings or errors), without the marker's lines. */
  output: string;
  /** True when that output reports an error: nft committed nothing of the batch. */
  failed: boolean;
}

/** `Error:` at the start of a line or after an input location (`file:1:2-3: Error: ...`). */
const ERROR_LINE = /^(?:\S[^\n]*?: )?Error: /m;

/**
 * Splits a session's stderr into per-batch outcomes. Feed it chunks as they arrive; it returns the
 * batches whose marker has been seen in full (the error header, the marker, the caret line).
 */
export class BatchOutputParser {
  private buffer = '';

  constructor(private readonly nonce: string) {}

  /** Output that does not belong to a finished batch yet. */
  get pending(): string {
    return this.buffer;
  }

  feed(chunk: string): BatchOutcome[] {
    this.buffer += chunk;
    const done: BatchOutcome[] = [];
    const prefix = `flatnet-batch-end-${this.nonce}-`;
    for (;;) {
      const at = this.findMarker(prefix);
      if (!at) break;
      const { start, end, seq } = at;
      // The caret line under the marker must have arrived too.
      const caretEnd = this.buffer.indexOf('\n', end + 1);
      if (caretEnd < 0) break;
      // The line before the marker is the marker's own error header.
      const before = this.buffer.slice(0, Math.max(0, start - 1));
      const headerStart = before.lastIndexOf('\n') + 1;
      const header = before.slice(headerStart);
      if (!header.startsWith('Error:')) throw new Error(`nft session: unexpected output before batch marker ${seq}: ${JSON.stringify(header.slice(0, 200))}`);
      const output = before.slice(0, headerStart);
      done.push({ seq, output, failed: ERROR_LINE.test(output) });
      this.buffer = this.buffer.slice(caretEnd + 1);
    }
    return done;
  }

  /** The first complete line that is exactly a marker: its offsets and sequence number. */
  private findMarker(prefix: string): { start: number; end: number; seq: number } | undefined {
    let from = 0;
    for (;;) {
      const i = this.buffer.indexOf(prefix, from);
      if (i < 0) return undefined;
      const end = this.buffer.indexOf('\n', i);
      if (end < 0) return undefined;
      const atLineStart = i === 0 || this.buffer[i - 1] === '\n';
      const rest = this.buffer.slice(i + prefix.length, end);
      if (atLineStart && /^\d+$/.test(rest)) return { start: i, end, seq: Number(rest) };
      from = end;
    }
  }
}
