// Starts the real `flatnet server` as a child process on an ephemeral port with a temporary data
// directory, and runs the real kubectl against it. Integration tests of every area use this.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../../src/client/client.js';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
/** How long a test server may take to say `serving` before the test gives up on it. */
const START_LIMIT_S = 120;

export interface TestServerOptions {
  store?: 'memory' | 'sqlite';
  /** Reuse this data directory (it is not removed at stop). */
  dataDir?: string;
  /** Start the controllers too (default: true when src/controllers/index.ts exists). */
  controllers?: boolean;
  /** Extra `flatnet server` flags. */
  args?: string[];
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestServer {
  url: string;
  kubeconfig: string;
  dataDir: string;
  client: KubeClient;
  /** Runs the real kubectl with this server's kubeconfig and a private cache dir. */
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  /** kubectl that must succeed (exit 0): its stdout; the assertion names the command and its output. */
  kubectlOk(args: string[], input?: string): Promise<string>;
  /** kubectl that must fail (exit != 0): its stderr. */
  kubectlFails(args: string[], input?: string): Promise<string>;
  /** Stops the server (SIGTERM) and starts it again on the same port and data directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** What the server process wrote to stderr (its logs), for failure messages. */
  logs(): string;
}

interface Running {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

function launch(args: string[], logs: string[]): Promise<Running> {
  // FLATNET_SERVER_NODE_ARGS adds node flags to the server process (e.g. --cpu-prof for the bench).
  const nodeArgs = (process.env.FLATNET_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(repo, 'src/cli/main.ts'), 'server', ...args], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FLATNET_LOG: process.env.FLATNET_LOG ?? 'info' },
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return new Promise((resolvePromise, reject) => {
    let buffered = '';
    // A liveness bound, not a timing assertion: the server exits or says `serving`; under the
    // suite's load its start-up (tsx compiling on the fly) has taken more than 30 s.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`flatnet server did not start within ${START_LIMIT_S}s:\n${logs.join('')}`));
    }, START_LIMIT_S * 1000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      logs.push(text);
      buffered += text;
      const m = buffered.match(/"msg":"serving","url":"(https:\/\/[^"]+)"/);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        child.stderr!.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
        resolvePromise({ child, url: m[1], exited });
      }
    };
    child.stderr!.on('data', onData);
    child.stdout!.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`flatnet server exited with code ${code} before serving:\n${logs.join('')}`));
    });
  });
}

async function terminate(r: Running): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  r.child.kill('SIGTERM');
  const killer = setTimeout(() => r.child.kill('SIGKILL'), 10_000);
  await r.exited;
  clearTimeout(killer);
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'flatnet-test-'));
  const cacheDir = mkdtempSync(join(tmpdir(), 'flatnet-kcache-'));
  const controllers = opts.controllers ?? existsSync(join(repo, 'src/controllers/index.ts'));
  const logs: string[] = [];
  const baseArgs = ['--data-dir', dataDir, '--store', opts.store ?? 'sqlite', `--controllers=${controllers}`, ...(opts.args ?? [])];
  let running = await launch(['--listen', '127.0.0.1:0', ...baseArgs], logs);
  const port = new URL(running.url).port;
  const kubeconfig = join(dataDir, 'admin.kubeconfig');
  let client = new KubeClient(loadKubeconfig(kubeconfig));

  const server: TestServer = {
    url: running.url,
    kubeconfig,
    dataDir,
    get client() {
      return client;
    },
    kubectl(args: string[], input?: string): Promise<KubectlResult> {
      return new Promise((res, rej) => {
        const child = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
        child.on('error', rej);
        child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(input ?? '');
      });
    },
    async kubectlOk(args: string[], input?: string): Promise<string> {
      const r = await this.kubectl(args, input);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
      return r.stdout;
    },
    async kubectlFails(args: string[], input?: string): Promise<string> {
      const r = await this.kubectl(args, input);
      assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} should have failed:\n${r.stdout}`);
      return r.stderr;
    },
    async restart() {
      await terminate(running);
      running = await launch(['--listen', `127.0.0.1:${port}`, ...baseArgs], logs);
      client.close();
      client = new KubeClient(loadKubeconfig(kubeconfig));
    },
    async stop() {
      client.close();
      await terminate(running);
      rmSync(cacheDir, { recursive: true, force: true });
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
    logs: () => logs.join(''),
  };
  return server;
}
