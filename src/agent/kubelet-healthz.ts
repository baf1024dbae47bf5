// The kubelet's health: the runtime checks behind the node's Ready condition (is the node runtime
// connected and answering; can pod sandboxes be made: the sandbox records writable, network
// namespaces usable, the CNI config in place), run on a timer and again at once when the runtime
// connection changes, and the kubelet's plain-HTTP /healthz (ping, log, syncloop) on localhost
// (10248 by default, inside the node's namespace), unauthenticated as upstream serves it.
import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HealthChecks, logCheck, pingCheck, type HealthCheck } from '../apiserver/health.js';
import { listenTcp } from '../workloads/sockets.js';
import type { Logger } from '../util/log.js';
import type { RuntimeHealth } from '../runtime/agent-connection.js';
import { parseListen } from './kubelet-server.js';

const run = promisify(execFile);

export const DEFAULT_HEALTHZ_LISTEN = '127.0.0.1:10248';
/** How often the runtime is checked (the node's Ready condition follows). */
export const RUNTIME_CHECK_MS = 5_000;
/** The syncloop check fails when the runtime check loop has not completed for this long. */
export const SYNC_LOOP_LIMIT_MS = 5 * 60_000;

export interface RuntimeHealthInputs {
  /** Where sandbox records are written. */
  sandboxDir: string;
  /** The CNI network config the sandboxes are networked with (undefined: a network given in code). */
  cniConfig?: string;
}

/** The runtime's errors, worded as the kubelet words them in the Ready condition; [] = healthy. */
export async function runtimeErrors(inputs: RuntimeHealthInputs): Promise<string[]> {
  const errors: string[] = [];
  const probe = join(inputs.sandboxDir, '.health-probe');
  try {
    writeFileSync(probe, String(Date.now()));
    rmSync(probe, { force: true });
  } catch (err) {
    errors.push(`container runtime not ready: RuntimeReady=false reason:SandboxRecordsUnwritable message:cannot write ${inputs.sandboxDir}: ${(err as Error).message}`);
  }
  try {
    await run('ip', ['netns', 'list'], { timeout: 10_000 });
  } catch (err) {
    errors.push(`container runtime not ready: RuntimeReady=false reason:NetnsUnavailable message:ip netns list failed: ${(err as Error).message.split('\n')[0]}`);
  }
  if (inputs.cniConfig !== undefined && !existsSync(inputs.cniConfig)) {
    errors.push(`container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni config ${inputs.cniConfig} is missing`);
  }
  return errors;
}

/**
 * The node runtime connection's state as the kubelet words it: a runtime that does not answer is
 * "container runtime is down" (here with the reason), as the kubelet's runtime state reports it.
 */
export function runtimeConnectionErrors(health: RuntimeHealth | undefined): string[] {
  if (!health || health.up) return [];
  return [`container runtime is down: ${health.reason}`];
}

/**
 * Checks the runtime every RUNTIME_CHECK_MS and reports its errors; its completions feed syncloop.
 * refresh() reports again at once with the connection's current state (the slower checks keep
 * their last result), so a runtime that dies or stops answering turns the node NotReady within
 * the connection's detection time, not the next tick.
 */
export class RuntimeHealthLoop {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastCompleted = Date.now();
  private checked: string[] = [];

  constructor(
    private readonly inputs: RuntimeHealthInputs,
    private readonly report: (errors: string[]) => void,
    /** The node runtime connection's health (undefined: containers run in the agent). */
    private readonly connection: () => RuntimeHealth | undefined = () => undefined,
  ) {}

  start(): void {
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.checked = await runtimeErrors(this.inputs);
    this.refresh();
    this.lastCompleted = Date.now();
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), RUNTIME_CHECK_MS);
  }

  /** Reports the connection's state now with the last results of the other checks. */
  refresh(): void {
    if (this.stopped) return;
    this.report([...runtimeConnectionErrors(this.connection()), ...this.checked]);
  }

  /** The kubelet's `syncloop` check. */
  readonly syncLoopCheck: HealthCheck = {
    name: 'syncloop',
    check: () => {
      const late = Date.now() - this.lastCompleted;
      if (late > SYNC_LOOP_LIMIT_MS) throw new Error(`sync Loop took longer than ${SYNC_LOOP_LIMIT_MS / 60_000}m0s, kubelet has been unhealthy: last completed ${Math.round(late / 1000)}s ago`);
    },
  };

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/** The kubelet's /healthz listener (plain HTTP, GET only, no credentials: it says only ok or not). */
export class KubeletHealthz {
  private listener: net.Server | undefined;
  private readonly server: http.Server;
  readonly checks: HealthChecks;

  constructor(
    private readonly opts: { listen: string; netns?: string; syncLoop: HealthCheck; log: Logger },
  ) {
    this.checks = new HealthChecks().addLivenessCheck(pingCheck).addLivenessCheck(logCheck()).addLivenessCheck(opts.syncLoop);
    this.server = http.createServer((req, res) => void this.onRequest(req, res));
  }

  async listen(): Promise<{ host: string; port: number }> {
    const { host, port } = parseListen(this.opts.listen);
    this.listener = await listenTcp(this.opts.netns ?? '', host, port);
    this.listener.on('connection', (sock: net.Socket) => this.server.emit('connection', sock));
    return { host, port: (this.listener.address() as net.AddressInfo).port };
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const m = /^\/healthz(\/.*)?$/.exec(url.pathname);
    const plain = { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' };
    if (!m) {
      res.writeHead(404, plain).end('404 page not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, plain).end('method not allowed\n');
      return;
    }
    const answer = await this.checks.answer('healthz', m[1], url.searchParams);
    if (answer.failures.length > 0) this.opts.log.warn('healthz check failed', { failed: answer.failures });
    if (answer.status === 404) {
      res.writeHead(404, plain).end('404 page not found\n');
      return;
    }
    res.writeHead(answer.status, plain).end(answer.body);
  }

  close(): void {
    this.listener?.close();
    this.server.close();
    this.server.closeAllConnections();
  }
}
