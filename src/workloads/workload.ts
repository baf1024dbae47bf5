// What a built-in workload is: the server of an image (agnhost, nginx, pause...) that runs
// inside the agent process, on sockets opened inside the pod's network namespace, instead of
// a process per container.
import type { ContainerPort } from '../agent/pod-types.js';
import type { KubeClient } from '../client/client.js';

export interface WorkloadContext {
  /** The pod's network namespace (a name from `ip netns list`). */
  netns: string;
  podIP: string;
  hostname: string;
  namespace: string;
  podName: string;
  /** Arguments after the image's entrypoint (for agnhost: the subcommand and its flags). */
  args: string[];
  env: Record<string, string>;
  ports: ContainerPort[];
  client?: KubeClient;
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface RunningWorkload {
  /** Resolves with the exit code when the workload ends by itself or after stop(). */
  exited: Promise<number>;
  /** Ends the workload (SIGTERM-like); exited then resolves (with 0 unless it failed). */
  stop(): void;
}

export type WorkloadMain = (ctx: WorkloadContext) => Promise<RunningWorkload>;

/** An error that ends a workload at start: the container terminates with this message. */
export class WorkloadStartError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'WorkloadStartError';
  }
}

/** A helper for workloads made of servers: stop() closes them all and resolves exited with 0. */
export function servingWorkload(closers: (() => void)[]): RunningWorkload & { exit(code: number): void } {
  let finish!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (finish = resolve));
  let done = false;
  const exit = (code: number) => {
    if (done) return;
    done = true;
    for (const close of closers) {
      try {
        close();
      } catch {
        // already closed
      }
    }
    finish(code);
  };
  return { exited, stop: () => exit(0), exit };
}

/** Parses Go-flag style arguments: --name=value, --name value, -name=value, --bool (names in `booleans`). */
export function parseGoFlags(args: string[], booleans: string[] = []): { flags: Map<string, string[]>; positionals: string[] } {
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    let name: string;
    let value: string;
    if (eq !== -1) {
      name = body.slice(0, eq);
      value = body.slice(eq + 1);
    } else if (booleans.includes(body)) {
      name = body;
      value = 'true';
    } else {
      name = body;
      // As Go's flag packages do, a non-boolean flag takes the next argument, even "-1".
      value = args[i + 1] !== undefined ? args[++i] : 'true';
    }
    const list = flags.get(name) ?? [];
    list.push(value);
    flags.set(name, list);
  }
  return { flags, positionals };
}

export function flagValue(flags: Map<string, string[]>, name: string, fallback: string): string {
  const v = flags.get(name);
  return v && v.length > 0 ? v[v.length - 1] : fallback;
}

export function flagBool(flags: Map<string, string[]>, name: string, fallback: boolean): boolean {
  const v = flags.get(name);
  if (!v || v.length === 0) return fallback;
  return v[v.length - 1] !== 'false';
}
