// `flatnet runtime`: the node runtime of one node, until SIGINT/SIGTERM. It keeps its
// containers running while the agent restarts; it stops them only when it is stopped itself.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '../cli/flags.js';
import { stopNetnsBrokers } from '../linux/netns-socket.js';
import { createLogger } from '../util/log.js';
import { NodeRuntime } from './node-runtime.js';
import { RuntimeServer } from './server.js';
import { RuntimeStateFile } from './state-file.js';

const HELP = `usage: flatnet runtime --data-dir DIR [--socket PATH]

  --data-dir DIR   the node's data directory; the runtime keeps DIR/runtime/ (0700): its state
                   file and, by default, its socket
  --socket PATH    the API's unix socket (default DIR/runtime/runtime.sock). It is created 0600 in
                   a 0700 directory: its file permissions are the API's authentication (root only)
  --stop-grace S   seconds each container gets to stop when the runtime itself is stopped (default 10)

The runtime owns the node's containers: built-in workloads run inside it on sockets opened in
each pod's network namespace, \`command:\` containers are its child processes. The agent drives it
over the socket (API v1: Version, RunPodSandbox, StopPodSandbox, RemovePodSandbox, ListPodSandbox,
CreateContainer, StartContainer, StopContainer, RemoveContainer, ListContainers, ContainerStatus,
ContainerEvents, ContainerLogs). Run it in the node's network namespace, as the agent.
`;

/** The socket a node's runtime listens on, by default. */
export function defaultRuntimeSocket(dataDir: string): string {
  return join(dataDir, 'runtime', 'runtime.sock');
}

function packageVersion(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [resolve(here, '../../package.json'), resolve(here, '../../../package.json')]) {
    try {
      return (JSON.parse(readFileSync(p, 'utf8')) as { version?: string }).version ?? 'unknown';
    } catch {
      // next
    }
  }
  return 'unknown';
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const flags = parseFlags(args, { values: { 'data-dir': undefined, socket: undefined, 'stop-grace': '10' } });
  const dataDir = flags.values['data-dir'];
  if (!dataDir) {
    process.stderr.write(`flatnet runtime: --data-dir is required\n\n${HELP}`);
    return 2;
  }
  const grace = Number(flags.values['stop-grace']);
  if (!Number.isInteger(grace) || grace < 0) {
    process.stderr.write(`flatnet runtime: --stop-grace must be a whole number of seconds (got "${flags.values['stop-grace']}")\n`);
    return 2;
  }
  const log = createLogger('runtime', { dataDir });
  const runtime = new NodeRuntime(new RuntimeStateFile(join(dataDir, 'runtime', 'state.json')), log);
  // A built-in workload's stray exception ends its container, never the runtime.
  process.on('uncaughtException', (err) => {
    if (!runtime.uncaught(err)) log.error('uncaught exception outside any container', { err: err.stack ?? err.message });
  });
  process.on('unhandledRejection', (reason) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    if (!runtime.uncaught(err)) log.error('unhandled rejection outside any container', { err: err.stack ?? err.message });
  });
  runtime.recover();
  const socketPath = flags.values.socket ?? defaultRuntimeSocket(dataDir);
  const server = new RuntimeServer(runtime, { socketPath, runtimeVersion: packageVersion(), log });
  await server.listen();
  log.info('node runtime serving', { socket: socketPath, containers: runtime.listContainers().length });
  await new Promise<void>((resolveStop) => {
    process.once('SIGTERM', resolveStop);
    process.once('SIGINT', resolveStop);
  });
  log.info('stopping the node runtime and its containers', { graceSeconds: grace });
  await server.close();
  await runtime.shutdown(grace);
  runtime.flushState();
  stopNetnsBrokers();
  return 0;
}
