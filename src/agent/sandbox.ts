// Pod sandboxes: a network namespace per pod (`flatnet-pod-<uid prefix>`), networked by the
// CNI runtime, with the pod's resolv.conf and hosts under /etc/netns/<netns>/ so that every
// `ip netns exec` into it sees them. Each sandbox is recorded under the data directory so a
// restarted agent finds and adopts or removes it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../linux/exec.js';
import { coalescedIpBatch } from '../cni/ip-batch-coalescer.js';
import { netnsDirShared, netnsOps } from '../runtime/netns-ops.js';

/** Runs a kernel tool through src/linux (its failure names the command and its stderr). */
const run = (cmd: string, args: string[]) => runCommand([cmd, ...args]);

/** The part of the CNI runtime (src/cni/runtime.ts) the agent uses. */
export interface PodNetworkRuntime {
  add(req: PodNetworkRequest): Promise<{ ips?: { address: string }[] }>;
  del(req: PodNetworkRequest): Promise<unknown>;
  /** ADD brings `lo` up in the pod namespace (a loopback plugin): the sandbox then leaves it alone. */
  readonly configuresLoopback?: boolean;
}

export interface PodNetworkRequest {
  containerId: string;
  netnsPath: string;
  ifName: string;
  podNamespace: string;
  podName: string;
  podUid: string;
  portMappings?: { hostPort: number; containerPort: number; protocol: string; hostIP?: string }[];
}

export interface SandboxRecord {
  uid: string;
  namespace: string;
  name: string;
  netns: string;
  containerId: string;
  podIP?: string;
  /** A bind-mounted UTS namespace holding the pod's hostname, shared by its processes. */
  utsPath?: string;
  /** A hostNetwork pod: it runs in the node's namespace (netns '' = this host's own). */
  hostNetwork?: boolean;
  /** Process ids of its containers (to end them after an agent restart, for hostNetwork pods). */
  pids?: number[];
  portMappings?: PodNetworkRequest['portMappings'];
  createdAt: string;
}

export const UTS_DIR = '/run/flatnet/uts';

export const POD_NETNS_PREFIX = 'flatnet-pod-';

export function sandboxNetnsName(uid: string, prefix = POD_NETNS_PREFIX): string {
  return `${prefix}${uid.replace(/-/g, '').slice(0, 12)}`;
}

export function netnsPath(netns: string): string {
  return `/var/run/netns/${netns}`;
}

export function etcDir(netns: string): string {
  return `/etc/netns/${netns}`;
}

/** The IPv4 address without its prefix length, from a CNI result. */
export function podIPFromResult(result: { ips?: { address: string }[] }): string | undefined {
  const first = result.ips?.find((ip) => !ip.address.includes(':')) ?? result.ips?.[0];
  return first?.address.split('/')[0];
}

export class SandboxStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  save(rec: SandboxRecord): void {
    writeFileSync(join(this.dir, `${rec.uid}.json`), JSON.stringify(rec, null, 2));
  }
  remove(uid: string): void {
    rmSync(join(this.dir, `${uid}.json`), { force: true });
  }
  list(): SandboxRecord[] {
    const out: SandboxRecord[] = [];
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith('.json')) continue;
      try {
        out.push(JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as SandboxRecord);
      } catch {
        // a half-written record: ignore
      }
    }
    return out;
  }
}

/** At most `limit` tasks at once; the rest wait their turn in order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export class SandboxRuntime {
  // Each CNI ADD/DEL runs a few kernel tools (and exec'd plugins are processes): a burst of new
  // pods must not start hundreds at once.
  // Their node-side `ip` work is shared by the ADDs that wait together (ip-batch-coalescer.ts).
  private readonly cniSlots = new Semaphore(16);

  constructor(
    private readonly network: PodNetworkRuntime,
    readonly store: SandboxStore,
    private readonly netnsPrefix = POD_NETNS_PREFIX,
  ) {}

  /** Creates the pod's sandbox; `step` is told as each part of it is in place. */
  async create(pod: { uid: string; namespace: string; name: string; hostname: string; portMappings?: PodNetworkRequest['portMappings'] }, step: (s: 'netns' | 'uts' | 'cniSlot' | 'cni') => void = () => undefined): Promise<SandboxRecord> {
    const netns = sandboxNetnsName(pod.uid, this.netnsPrefix);
    const rec: SandboxRecord = {
      uid: pod.uid,
      namespace: pod.namespace,
      name: pod.name,
      netns,
      containerId: `flatnet-${pod.uid}`,
      portMappings: pod.portMappings,
      createdAt: new Date().toISOString(),
    };
    this.store.save(rec);
    await this.createNetworkNamespace(netns);
    step('netns');
    rec.utsPath = await this.createUtsNamespace(netns, pod.hostname);
    step('uts');
    this.store.save(rec);
    const result = await this.cniSlots.run(() => {
      step('cniSlot');
      return this.network.add(this.request(rec));
    });
    step('cni');
    rec.podIP = podIPFromResult(result);
    if (!rec.podIP) throw new Error(`the CNI result for pod ${pod.namespace}/${pod.name} has no IP address`);
    this.store.save(rec);
    return rec;
  }

  /** A hostNetwork pod's "sandbox": the node's own namespace and address; nothing to create. */
  createHostNetwork(pod: { uid: string; namespace: string; name: string }, nodeNetns: string | undefined, nodeIP: string): SandboxRecord {
    const rec: SandboxRecord = { uid: pod.uid, namespace: pod.namespace, name: pod.name, netns: nodeNetns ?? '', containerId: `flatnet-${pod.uid}`, podIP: nodeIP, hostNetwork: true, createdAt: new Date().toISOString() };
    this.store.save(rec);
    return rec;
  }

  /**
   * The pod's network namespace with `lo` up: made by this thread through the netns-ops addon
   * (no process) once /run/netns is the shared mount `ip netns add` makes it; otherwise the
   * namespaces of a burst of pods are made by one `ip` process.
   */
  private async createNetworkNamespace(netns: string): Promise<void> {
    const path = netnsPath(netns);
    const ops = netnsOps();
    if (!existsSync(path)) {
      if (ops && netnsDirShared()) ops.createNetns(path);
      else await coalescedIpBatch(undefined, [`netns add ${netns}`]);
    }
    if (this.network.configuresLoopback) return;
    if (ops) ops.linkUp(path, 'lo');
    else await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  }

  /** The pod's UTS namespace holding its hostname, pinned by a bind mount (the addon, or `unshare`). */
  private async createUtsNamespace(netns: string, hostname: string): Promise<string> {
    mkdirSync(UTS_DIR, { recursive: true });
    const path = join(UTS_DIR, netns);
    if (existsSync(path)) await run('umount', [path]).catch(() => undefined);
    writeFileSync(path, '');
    const ops = netnsOps();
    if (ops) ops.createUts(path, hostname);
    else await run('unshare', [`--uts=${path}`, 'busybox', 'hostname', hostname]);
    return path;
  }

  writeEtcFiles(netns: string, files: { resolvConf: string; hosts: string }): void {
    const dir = etcDir(netns);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'resolv.conf'), files.resolvConf);
    writeFileSync(join(dir, 'hosts'), files.hosts);
  }

  private request(rec: SandboxRecord): PodNetworkRequest {
    return {
      containerId: rec.containerId,
      netnsPath: netnsPath(rec.netns),
      ifName: 'eth0',
      podNamespace: rec.namespace,
      podName: rec.name,
      podUid: rec.uid,
      portMappings: rec.portMappings,
    };
  }

  /** Removes the sandbox: CNI DEL, the namespace, its /etc/netns files and the record. */
  async destroy(rec: SandboxRecord): Promise<void> {
    if (rec.hostNetwork) {
      this.store.remove(rec.uid);
      return;
    }
    let cniError: Error | undefined;
    try {
      await this.cniSlots.run(() => this.network.del(this.request(rec)));
    } catch (err) {
      cniError = err as Error;
    }
    if (existsSync(netnsPath(rec.netns))) await coalescedIpBatch(undefined, [`netns del ${rec.netns}`]).catch(() => undefined);
    rmSync(etcDir(rec.netns), { recursive: true, force: true });
    if (rec.utsPath && existsSync(rec.utsPath)) {
      await run('umount', [rec.utsPath]).catch(() => undefined);
      rmSync(rec.utsPath, { force: true });
    }
    this.store.remove(rec.uid);
    if (cniError) throw cniError;
  }
}

/**
 * A pod's UTS namespace is pinned by a bind mount in UTS_DIR named after the pod's network
 * namespace (created right after it). One whose network namespace is gone was left by an agent
 * that stopped without tearing its pods down: each such mount pins a namespace and makes every
 * new mount namespace (each isolated container) dearer to copy. Unmounts and removes them; call
 * it only when no agent of this machine is creating pods (`flatnet down`).
 */
export async function removeOrphanUtsNamespaces(): Promise<string[]> {
  if (!existsSync(UTS_DIR)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(UTS_DIR)) {
    if (existsSync(netnsPath(name))) continue;
    const path = join(UTS_DIR, name);
    await run('umount', [path]).catch(() => undefined);
    rmSync(path, { force: true });
    removed.push(name);
  }
  return removed;
}
