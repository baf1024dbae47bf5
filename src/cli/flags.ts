// A small flag parser for flatnet's commands: --name value, --name=value, --bool, positionals.
// Unknown flags are an error that names the flag and lists the known ones.

export interface FlagSpec {
  /** Flag names (without --) that take a value, with their defaults (undefined = no default). */
  values?: Record<string, string | undefined>;
  /** Flag names that are booleans: a list (each false unless given), or names with their defaults. */
  booleans?: string[] | Record<string, boolean>;
}

export interface ParsedFlags {
  values: Record<string, string | undefined>;
  booleans: Record<string, boolean>;
  positionals: string[];
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseFlags(args: string[], spec: FlagSpec): ParsedFlags {
  const values: Record<string, string | undefined> = { ...(spec.values ?? {}) };
  const booleans: Record<string, boolean> = Array.isArray(spec.booleans) ? Object.fromEntries(spec.booleans.map((b) => [b, false])) : { ...spec.booleans };
  const positionals: string[] = [];
  const known = () => [...Object.keys(spec.values ?? {}), ...Object.keys(booleans)].map((n) => `--${n}`).join(', ') || 'none';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (Object.hasOwn(booleans, name)) {
      booleans[name] = eq === -1 ? true : parseBoolean(name, arg.slice(eq + 1));
    } else if (spec.values && name in spec.values) {
      const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new UsageError(`flag --${name} needs a value`);
      values[name] = value;
    } else {
      throw new UsageError(`unknown flag --${name} (known flags: ${known()})`);
    }
  }
  return { values, booleans, positionals };
}

/** The values Go's strconv.ParseBool (and so kubectl's and kube-apiserver's flags) accept. */
const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

function parseBoolean(name: string, value: string): boolean {
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new UsageError(`flag --${name} takes true or false, not ${JSON.stringify(value)}`);
}

/** The value of a flag that must be set. */
export function required(flags: ParsedFlags, name: string): string {
  const v = flags.values[name];
  if (v === undefined || v === '') throw new UsageError(`flag --${name} is required`);
  return v;
}
