// Registers this node with the API server and keeps it alive: the Node object and its status
// (every 10s or on change) and the heartbeat Lease in kube-node-lease (renewed every 10s).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { isAlreadyExists, isNotFound, type KubeClient } from '../client/client.js';
import type { Logger } from '../util/log.js';
import type { EventRecorder } from '../controllers/events.js';
import { checkPodCIDRAfterRegistration, leaseOwnerFix, podCIDROf, registerNodeAgain, watchPodCIDR } from './node-reregistration.js';
import { goArch, microTime, nodeLease, nodeMetadata, nodeReadyEvent, nodeStatus, type NodeCondition, type NodeFacts } from './node-status.js';

export const HEARTBEAT_MS = 10_000;

function readFirst(paths: string[]): string {
  for (const p of paths) if (existsSync(p)) return readFileSync(p, 'utf8').trim();
  return '';
}

function osImage(): string {
  const text = readFirst(['/etc/os-release', '/usr/lib/os-release']);
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return m ? m[1] : 'Linux';
}

/** The node's IPv4 address: eth0 of its namespace, or the first non-loopback one of this host. */
export function detectNodeIP(netns: string | undefined): string {
  if (netns) {
    const out = execFileSync('ip', ['-n', netns, '-j', '-4', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' });
    const parsed = JSON.parse(out) as { addr_info?: { local: string }[] }[];
    const ip = parsed[0]?.addr_info?.[0]?.local;
    if (!ip) throw new Error(`node namespace ${netns} has no IPv4 address on eth0; pass --node-ip`);
    return ip;
  }
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export function hostFacts(nodeName: string, nodeIP: string, kubeletEndpoint: string): NodeFacts {
  return {
    nodeName,
    nodeIP,
    arch: goArch(process.arch),
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    kernelVersion: os.release(),
    osImage: osImage(),
    machineID: readFirst(['/etc/machine-id']) || nodeName,
    bootID: readFirst(['/proc/sys/kernel/random/boot_id']),
    kubeletEndpoint,
    networkReady: false,
    // Until the first runtime check has seen the pod network's CNI config, the node is not Ready,
    // with the kubelet's words for a runtime whose network plugin has not started yet.
    runtimeErrors: [CNI_NOT_INITIALIZED],
  };
}

/** The Ready condition's message from a kubelet whose runtime has no CNI network yet (as `kubectl get nodes` shows it on a fresh node). */
export const CNI_NOT_INITIALIZED = 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized';

export class NodeRegistration {
  private timer: NodeJS.Timeout | undefined;
  private node: KubeObject | undefined;
  private lastConditions: NodeCondition[] | undefined;
  private stopped = false;
  private readonly stopping = new AbortController();
  /** Status posts run one at a time, in the order of the changes they carry. */
  private posting: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: KubeClient,
    readonly facts: NodeFacts,
    private readonly log: Logger,
    /** The kubelet's recorder, for NodeReady/NodeNotReady (counted when they repeat). */
    private readonly events: EventRecorder,
  ) {}

  /**
   * Creates the Node (or, when it exists, brings its labels and annotations up to date, as the
   * kubelet tries the create first) and starts the heartbeats. Resolves once the first status is
   * posted (its answer carries the pod CIDR the node IPAM controller gave meanwhile); the
   * Lease renewal that follows it runs on.
   */
  async register(): Promise<KubeObject> {
    const meta = nodeMetadata(this.facts);
    let node: KubeObject;
    try {
      node = await this.client.create(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: meta, spec: {} });
      this.log.info('registered node', { node: this.facts.nodeName });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      node = await this.client.patch(R.nodes, undefined, this.facts.nodeName, { metadata: { labels: meta.labels, annotations: meta.annotations } });
    }
    this.node = node;
    this.lastConditions = ((node.status as { conditions?: NodeCondition[] } | undefined)?.conditions) ?? undefined;
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    return this.node;
  }

  /** The Node as the API server last answered (labels, taints, status), for admission. */
  get current(): KubeObject | undefined {
    return this.node;
  }

  /** Waits until the controller gave this node a pod CIDR (watching the Node, so it is taken the moment it is written). */
  async waitForPodCIDR(): Promise<string> {
    const node = this.facts.nodeName;
    const known = podCIDROf(this.node);
    if (known) return known;
    if (this.stopped) throw new Error('stopped');
    const waiting = setInterval(() => this.log.info('waiting for the node controller to give this node spec.podCIDR', { node }), 10_000);
    try {
      return await watchPodCIDR(this.client, node, this.stopping.signal);
    } finally {
      clearInterval(waiting);
    }
  }

  setNetworkReady(ready: boolean, message?: string): void {
    if (this.facts.networkReady === ready && this.facts.networkMessage === message) return;
    this.facts.networkReady = ready;
    this.facts.networkMessage = message;
    void this.heartbeat();
  }

  /** The runtime's errors (none = healthy): the node's Ready condition follows at once. */
  setRuntimeErrors(errors: string[]): void {
    const before = this.facts.runtimeErrors ?? [];
    if (before.length === errors.length && before.every((e, i) => e === errors[i])) return;
    this.facts.runtimeErrors = errors;
    void this.heartbeat();
  }

  /**
   * Posts the facts as they are now and renews the Lease (queued behind a post in flight, so no
   * change is skipped). Resolves once the status is posted; the Lease renewal follows it.
   */
  private heartbeat(): Promise<void> {
    const facts: NodeFacts = { ...this.facts, runtimeErrors: [...(this.facts.runtimeErrors ?? [])] };
    const now = new Date();
    const posted = this.posting.then(() => this.postStatus(facts, now));
    this.posting = posted.then(() => this.renewLeaseOrWarn(now));
    return posted;
  }

  private async postStatus(facts: NodeFacts, now: Date): Promise<void> {
    if (this.stopped) return;
    try {
      let status = nodeStatus(facts, now.toISOString().replace(/\.\d{3}Z$/, 'Z'), this.lastConditions);
      let updated: KubeObject;
      try {
        updated = await this.client.patch(R.nodes, undefined, facts.nodeName, { status }, 'merge', { subresource: 'status' });
      } catch (err) {
        // The Node was deleted while this agent runs: register it again, as the kubelet does (node-reregistration.ts).
        if (!isNotFound(err)) throw err;
        const running = podCIDROf(this.node);
        this.node = await registerNodeAgain(this.client, facts, this.log);
        this.lastConditions = undefined;
        void checkPodCIDRAfterRegistration(this.client, facts.nodeName, running, this.log, this.stopping.signal);
        status = nodeStatus(facts, now.toISOString().replace(/\.\d{3}Z$/, 'Z'), undefined);
        updated = await this.client.patch(R.nodes, undefined, facts.nodeName, { status }, 'merge', { subresource: 'status' });
      }
      this.node = updated;
      const wasReady = this.lastConditions?.find((c) => c.type === 'Ready')?.status;
      this.lastConditions = status.conditions as NodeCondition[];
      const ready = this.lastConditions.find((c) => c.type === 'Ready');
      if (ready && ready.status !== wasReady) {
        if (ready.status === 'True') this.log.info('node is ready');
        else this.log.warn('node is not ready', { reason: ready.reason, message: ready.message });
        this.events.submit(nodeReadyEvent(facts.nodeName, ready.status === 'True', now));
      }
    } catch (err) {
      this.log.warn('node status update failed', { err: (err as Error).message });
    }
  }

  private async renewLeaseOrWarn(now: Date): Promise<void> {
    if (this.stopped) return;
    try {
      await this.renewLease(microTime(now));
    } catch (err) {
      this.log.warn('lease renewal failed', { err: (err as Error).message });
    }
  }

  private async renewLease(now: string): Promise<void> {
    const lease = nodeLease(this.facts.nodeName, this.node?.metadata.uid, now);
    const existing = await this.client.get(R.leases, 'kube-node-lease', this.facts.nodeName);
    if (!existing) {
      try {
        await this.client.create(R.leases, lease);
      } catch (err) {
        if (!isAlreadyExists(err) && !isNotFound(err)) throw err;
      }
      return;
    }
    const owner = leaseOwnerFix(existing, this.node);
    await this.client.patch(R.leases, 'kube-node-lease', this.facts.nodeName, { spec: lease.spec, ...(owner ? { metadata: owner } : {}) });
  }

  stop(): void {
    this.stopped = true;
    this.stopping.abort(new Error('stopped'));
    if (this.timer) clearInterval(this.timer);
  }
}
