// Reads `flatnet policy matrix` text back into cells, so tests can compare it with the web view's
// tables cell by cell.
export interface ParsedMatrix {
  pods: string[];
  tables: { protocol: string; port: number; rows: string[][] }[];
}

export function parseMatrixText(text: string): ParsedMatrix {
  const blocks = text.trim().split(/\n\s*\n/);
  const legend = blocks.find((b) => b.startsWith('destinations:'));
  if (!legend) throw new Error(`no destinations legend in:\n${text}`);
  const pods = legend
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[1]);
  const tables = blocks
    .filter((b) => /^(TCP|UDP|SCTP)\/\d+/.test(b))
    .map((b) => {
      const lines = b.split('\n');
      const m = /^(TCP|UDP|SCTP)\/(\d+)/.exec(lines[0])!;
      const rows = lines.slice(2).map((l) => l.trim().split(/\s+/).slice(1));
      return { protocol: m[1], port: Number(m[2]), rows };
    });
  return { pods, tables };
}
