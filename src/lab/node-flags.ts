// V8 flags for the lab's long-running Node.js processes. The API server, the agents and the
// supervisor are small daemons: a young generation of 1 MiB semi-spaces instead of V8's default
// of up to 16 MiB keeps what a burst of allocation touched from staying resident (bench/up: the
// server's PSS at rest 55-58 MiB with it, 81-87 without). The node runtimes keep V8's default: they
// serve cluster DNS and the built-in workloads, where a bigger young generation means fewer
// scavenges per query, and the flag measured no gain for them.
// FLATNET_LAB_NODE_FLAGS (space-separated) replaces the flags of every process, to measure others.

export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** Whether the lab process `name` (server, agent-<node>, runtime-<node>, supervisor) runs as a small daemon. */
function isSmallDaemon(name: string): boolean {
  return !name.startsWith('runtime-');
}

/** The V8/Node flags the lab process `name` runs with. */
export function labNodeFlags(name: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const override = env.FLATNET_LAB_NODE_FLAGS;
  if (override !== undefined) return override.split(/\s+/).filter(Boolean);
  return isSmallDaemon(name) ? [...DAEMON_NODE_FLAGS] : [];
}

/** `command` (node, its flags, the script) with `flags` added right after the node binary; a command that does not run node is left as it is. */
export function withNodeFlags(command: readonly string[], flags: readonly string[]): string[] {
  const [program, ...rest] = command;
  if (program !== process.execPath && !/(^|\/)node$/.test(program ?? '')) return [...command];
  return [program, ...flags, ...rest];
}
