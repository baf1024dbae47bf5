// Command-line values of the A/B benches: `--name value`, with a fallback or required.

/** The value after `--name`, else `fallback`; fails naming the flag when neither is there. */
export function argument(name: string, fallback?: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const v = at >= 0 ? process.argv[at + 1] : fallback;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}
