// A real API server (test/support/server.ts) and a real agent for a node whose network namespace
// this harness creates (flatnet-t-agent-*); pods get namespaces named flatnet-t-agent-p*.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../../src/agent/agent.js';
import { R } from '../../../src/api/resources.js';
import { KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import type { Pod } from '../../../src/agent/pod-types.js';
import { startTestServer, type TestServer } from '../../support/server.js';

export const POD_PREFIX = 'flatnet-t-agent-p';

// KubeClient.watch leaves its readline interface without an 'error' listener, so stopping an
// informer (req.destroy) raises an unhandled 'aborted' error. Until src/client/client.ts handles
// it, only that error is ignored here.
process.on('uncaughtException', (err: Error & { code?: string }) => {
  if (err.message === 'aborted' && err.code === 'ECONNRESET') return;
  throw err;
});

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
}

export interface AgentHarness {
  server: TestServer;
  agent: Agent;
  nodeNetns: string;
  dataDir: string;
  client: KubeClient;
  startAgent(): Promise<Agent>;
  stop(): Promise<void>;
}

export async function startAgentHarness(nodeName: string, nodeIP: string): Promise<AgentHarness> {
  removeTestNamespaces();
  const nodeNetns = `flatnet-t-agent-${nodeName}`;
  createNodeNetns(nodeNetns, nodeIP, `u-${nodeName}`);
  const server = await startTestServer();
  const dataDir = mkdtempSync(join(tmpdir(), 'flatnet-agent-'));
  const client = new KubeClient(loadKubeconfig(server.kubeconfig));
  const h: AgentHarness = {
    server,
    agent: undefined as unknown as Agent,
    nodeNetns,
    dataDir,
    client,
    async startAgent() {
      const agent = new Agent({
        nodeName,
        client,
        netns: nodeNetns,
        overlay: 'vxlan',
        proxyMode: 'nftables',
        kubeletListen: '127.0.0.1:0',
        dataDir,
        cniPlugins: 'flatnet',
        clusterCIDR: '10.244.0.0/16',
        serviceCIDR: '10.96.0.0/16',
        clusterDNS: ['10.96.0.10'],
        clusterDomain: 'cluster.local',
        podNetnsPrefix: POD_PREFIX,
      });
      await agent.start();
      h.agent = agent;
      return agent;
    },
    async stop() {
      await h.agent?.stop(true).catch(() => undefined);
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
