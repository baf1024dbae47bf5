// Stands in for node agents in the controllers' integration tests: registers Nodes (Ready, with
// a Lease it renews), and gives pods bound to them an IP and the Ready condition through the
// status subresource; finishes the deletion of terminating pods as a kubelet would.
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { isConflict, isNotFound, type KubeClient } from '../../../src/client/client.js';
import { WorkQueue } from '../../../src/controllers/queue.js';
import type { Pod } from '../../../src/controllers/types.js';
import { createLogger } from '../../../src/util/log.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const microNow = () => new Date().toISOString().replace('Z', '000Z');

export class FakeKubelet {
  private pods = new Map<string, Pod>();
  private readonly queue: WorkQueue;
  private polling: NodeJS.Timeout | undefined;
  private readonly ips = new Map<string, number>();
  private readonly notReady = new Set<string>();
  private renewing: NodeJS.Timeout | undefined;
  private silent = new Set<string>();

  constructor(
    private readonly client: KubeClient,
    readonly nodes: string[],
  ) {
    this.queue = new WorkQueue('fake-kubelet', (key) => this.syncPod(key), createLogger('fake-kubelet'), { workers: 16 });
  }

  /** Polls pods (no watch: stopping a watch of src/client throws an uncaught 'aborted' today). */
  private async poll(): Promise<void> {
    try {
      const list = await this.client.list<Pod>(R.pods);
      this.pods = new Map(list.items.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
      for (const [key, p] of this.pods) if (p.spec.nodeName && this.nodes.includes(p.spec.nodeName)) this.queue.add(key);
    } catch {
      // next round
    }
    if (this.polling) this.polling = setTimeout(() => void this.poll(), 150);
  }

  async start(): Promise<void> {
    for (const name of this.nodes) await this.register(name);
    this.queue.start();
    this.polling = setTimeout(() => void this.poll(), 0);
    this.renewing = setInterval(() => void this.renewLeases(), 2000);
    this.renewing.unref();
  }

  stop(): void {
    if (this.renewing) clearInterval(this.renewing);
    this.queue.stop();
    if (this.polling) clearTimeout(this.polling);
    this.polling = undefined;
  }

  /** Stop renewing this node's Lease (as if its agent died). */
  goSilent(node: string): void {
    this.silent.add(node);
  }

  /** Registers a Ready Node taking `pods` pods (its capacity and allocatable, as a kubelet's --max-pods). */
  /** Registers (or updates) node `name`, allocatable `pods` and any other `resources` (cpu, memory…). */
  async register(name: string, labels: Record<string, string> = {}, pods = 110, resources: Record<string, string> = {}): Promise<void> {
    const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...labels } } };
    const status = {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now(), lastTransitionTime: now() }],
      addresses: [{ type: 'InternalIP', address: `172.18.0.${10 + this.nodes.indexOf(name)}` }, { type: 'Hostname', address: name }],
      capacity: { pods: String(pods), ...resources },
      allocatable: { pods: String(pods), ...resources },
    };
    // The node IPAM controller may write the new Node (its podCIDR) between our create and this
    // status update: on a conflict, read it again and retry, as a kubelet does.
    for (let attempt = 0; ; attempt++) {
      const made = (await this.client.get(R.nodes, undefined, name)) ?? (await this.client.create(R.nodes, node));
      try {
        await this.client.updateStatus(R.nodes, { ...made, status });
        break;
      } catch (err) {
        if (!isConflict(err) || attempt >= 10) throw err;
      }
    }
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microNow() } };
    const existing = await this.client.get(R.leases, 'kube-node-lease', name);
    if (existing) await this.client.update(R.leases, { ...existing, spec: lease.spec });
    else await this.client.create(R.leases, lease);
  }

  private async renewLeases(): Promise<void> {
    for (const name of this.nodes) {
      if (this.silent.has(name)) continue;
      try {
        const lease = await this.client.get(R.leases, 'kube-node-lease', name);
        if (lease) await this.client.update(R.leases, { ...lease, spec: { ...(lease.spec as object), renewTime: microNow() } });
      } catch {
        // next round
      }
    }
  }

  /** Make a pod's Ready condition follow `ready` from now on. */
  async setReady(namespace: string, name: string, ready: boolean): Promise<void> {
    const key = `${namespace}/${name}`;
    if (ready) this.notReady.delete(key);
    else this.notReady.add(key);
    this.queue.add(key);
  }

  private async syncPod(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const pod = this.pods.get(key);
    if (!pod || !pod.spec.nodeName || this.silent.has(pod.spec.nodeName)) return;
    try {
      if (pod.metadata.deletionTimestamp) {
        await this.client.delete(R.pods, namespace, name, { gracePeriodSeconds: 0 });
        return;
      }
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return; // finished pods stay finished, as on a node
      const ready = this.notReady.has(key) ? 'False' : 'True';
      const ip = pod.status?.podIP ?? this.allocateIP(pod.spec.nodeName);
      const current = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      if (pod.status?.podIP && current === ready && pod.status.phase === 'Running') return;
      const conditions = [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now() },
        { type: 'Initialized', status: 'True', lastTransitionTime: now() },
        { type: 'ContainersReady', status: ready, lastTransitionTime: now() },
        { type: 'Ready', status: ready, lastTransitionTime: now() },
      ];
      await this.client.updateStatus(R.pods, { ...pod, status: { ...(pod.status ?? {}), phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: '172.18.0.10', conditions } });
    } catch (err) {
      if (isNotFound(err)) return;
      if (isConflict(err)) throw err; // the queue retries
      throw err;
    }
  }

  private allocateIP(node: string): string {
    const n = (this.ips.get(node) ?? 1) + 1;
    this.ips.set(node, n);
    const i = this.nodes.indexOf(node);
    return `10.${240 + i}.${Math.floor(n / 250)}.${n % 250}`;
  }
}

/** Polls `check` until it answers a value (not undefined/false) or the time is up. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** A real server with its controllers on the memory store, and a fake kubelet playing nodes n1 and n2. */
export async function startClusterWithFakeKubelet(): Promise<{ server: TestServer; kubelet: FakeKubelet }> {
  const server = await startTestServer({ controllers: true, store: 'memory' });
  const kubelet = new FakeKubelet(server.client, ['n1', 'n2']);
  await kubelet.start();
  return { server, kubelet };
}
