// A real API server (test/support/server.ts) and a real agent for a node whose network namespace
// this harness creates (flatnet-t-agent-*); pods get namespaces named flatnet-t-agent-p*.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { R } from '../../../src/api/resources.js';
import { KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import type { Pod } from '../../../src/agent/pod-types.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { renderBootstrapKubeconfig, writePrivateFile } from '../../../src/agent/tls-bootstrap.js';
import { createBootstrapToken } from '../../../src/apiserver/node-identity/join.js';

export const POD_PREFIX = 'flatnet-t-agent-p';
const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');



export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}

export const UNDERLAY_NETNS = 'flatnet-t-agent-u';

/** A node namespace with eth0 on an underlay namespace (a veth pair, no root-namespace changes). */
export function createNodeNetns(name: string, ip: string, peer: string): void {
  if (!existsSync(`/var/run/netns/${UNDERLAY_NETNS}`)) {
    sh('ip', ['netns', 'add', UNDERLAY_NETNS]);
    sh('ip', ['-n', UNDERLAY_NETNS, 'link', 'add', 'br0', 'type', 'bridge']);
    sh('ip', ['-n', UNDERLAY_NETNS, 'link', 'set', 'br0', 'up']);
    sh('ip', ['-n', UNDERLAY_NETNS, 'addr', 'add', '172.31.99.1/24', 'dev', 'br0']);
  }
  if (existsSync(`/var/run/netns/${name}`)) sh('ip', ['netns', 'del', name]);
  sh('ip', ['netns', 'add', name]);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  sh('ip', ['-n', name, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', peer, 'netns', UNDERLAY_NETNS]);
  sh('ip', ['-n', UNDERLAY_NETNS, 'link', 'set', peer, 'master', 'br0', 'up']);
  sh('ip', ['-n', name, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
  sh('ip', ['-n', name, 'link', 'set', 'eth0', 'up']);
}

/** Removes every namespace this area's tests made (nodes and pods). */
export function removeTestNamespaces(): void {
  const list = sh('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]);
  for (const ns of list) {
    if (ns.startsWith('flatnet-t-agent-')) {
      try {
        for (const pid of sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        // gone
      }
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
  }
  // A pod whose namespace an agent deleted just before it was stopped (SIGTERM leaves teardowns
  // where they are) keeps its /etc/netns files: they go by name too.
  if (existsSync('/etc/netns')) {
    for (const f of readdirSync('/etc/netns')) if (f.startsWith('flatnet-t-agent-')) rmSync(join('/etc/netns', f), { recursive: true, force: true });
  }
  const utsDir = '/run/flatnet/uts';
  if (existsSync(utsDir)) {
    for (const f of readdirSync(utsDir)) {
      if (!f.startsWith('flatnet-t-agent-')) continue;
      try {
        sh('umount', [join(utsDir, f)]);
      } catch {
        // not mounted
      }
      rmSync(join(utsDir, f), { force: true });
    }
  }
}

export interface AgentProcess {
  child: ChildProcess;
  logs: string[];
  exited: Promise<number | null>;
}

export interface AgentHarness {
  server: TestServer;
  agent: AgentProcess;
  nodeNetns: string;
  dataDir: string;
  client: KubeClient;
  /** Starts `flatnet agent` (the real command) and waits until it runs. */
  startAgent(): Promise<AgentProcess>;
  /** SIGTERM: the agent leaves its pods running for the next one. */
  stopAgent(): Promise<void>;
  stop(): Promise<void>;
}

/** `agentArgs`: more flags for `flatnet agent` (for example --max-pods). */
export async function startAgentHarness(nodeName: string, nodeIP: string, opts: { agentArgs?: string[] } = {}): Promise<AgentHarness> {
  removeTestNamespaces();
  const nodeNetns = `flatnet-t-agent-${nodeName}`;
  createNodeNetns(nodeNetns, nodeIP, `u-${nodeName}`);
  // The server reaches the agent's kubelet endpoint at the node's address, through the underlay.
  const server = await startTestServer({ args: ['--kubelet-netns', UNDERLAY_NETNS] });
  const dataDir = mkdtempSync(join(tmpdir(), 'flatnet-agent-'));
  const client = new KubeClient(loadKubeconfig(server.kubeconfig));
  // The agent joins with a bootstrap token, as a lab node does; it never sees the admin token.
  const bootstrapKubeconfig = join(dataDir, 'bootstrap.kubeconfig');
  writePrivateFile(bootstrapKubeconfig, renderBootstrapKubeconfig({ server: server.url, caPem: client.connection.ca!.toString('utf8'), token: await createBootstrapToken(client, { ttlSeconds: 3600 }) }));
  const h: AgentHarness = {
    server,
    agent: undefined as unknown as AgentProcess,
    nodeNetns,
    dataDir,
    client,
    async startAgent() {
      // bin/flatnet runs the built agent (it builds when sources changed), as the lab does; its
      // CNI plugin wrappers then run the built plugins too.
      const args = [join(repo, 'bin/flatnet'), 'agent', '--node', nodeName, '--bootstrap-kubeconfig', bootstrapKubeconfig, '--kubeconfig', join(dataDir, 'kubelet.kubeconfig'), '--netns', nodeNetns, '--kubelet-listen', '0.0.0.0:10250', '--data-dir', dataDir, '--pod-netns-prefix', POD_PREFIX, '--cni-plugins', process.env.FLATNET_TEST_CNI_PLUGINS ?? 'flatnet', ...(opts.agentArgs ?? [])];
      const child = spawn('bash', args, { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
      const logs: string[] = [];
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`flatnet agent did not start within 60s:\n${logs.join('')}`)), 60_000);
        child.stderr!.on('data', (c: Buffer) => {
          logs.push(c.toString());
          if (c.toString().includes('"msg":"agent running"')) {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited.then((code) => reject(new Error(`flatnet agent exited with ${code}:\n${logs.join('')}`)));
      });
      h.agent = { child, logs, exited };
      return h.agent;
    },
    async stopAgent() {
      if (!h.agent || h.agent.child.exitCode !== null) return;
      h.agent.child.kill('SIGTERM');
      await h.agent.exited;
    },
    async stop() {
      await h.stopAgent();
      client.close();
      await server.stop();
      removeTestNamespaces();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await h.startAgent();
  return h;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export async function createPod(client: KubeClient, pod: Omit<Pod, 'apiVersion' | 'kind'>): Promise<Pod> {
  return client.create<Pod>(R.pods, { apiVersion: 'v1', kind: 'Pod', ...pod } as Pod);
}

export async function waitForPod(client: KubeClient, ns: string, name: string, pred: (p: Pod) => boolean, what: string, timeoutMs = 30_000): Promise<Pod> {
  return waitFor(`pod ${ns}/${name} ${what}`, async () => {
    const p = await client.get<Pod>(R.pods, ns, name);
    return p && pred(p) ? p : undefined;
  }, timeoutMs);
}

export const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** The sandbox record the agent keeps for a pod (netns, IP, UTS namespace). */
export function sandboxRecord(dataDir: string, uid: string): { netns: string; podIP: string } {
  return JSON.parse(readFileSync(join(dataDir, 'sandboxes', `${uid}.json`), 'utf8')) as { netns: string; podIP: string };
}
