// The node agent: registers the node, sets up its pod network (overlay, CNI, service proxy),
// runs the pods bound to it as sandboxes with process or built-in containers, reports their
// status, and serves the kubelet endpoint for logs, exec, attach and port-forward.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { R } from '../api/resources.js';
import { KubeClient, isConflict, isNotFound } from '../client/client.js';
import { sharedInformer, type SharedInformer } from '../client/shared-informers.js';
import { renderConflist } from '../cni/conflist.js';
import { installPluginWrappersAsync } from '../cni/install.js';
import { createCniRuntime } from '../cni/runtime.js';
import { startOverlay, type OverlayMode } from '../overlay/index.js';
import { startServiceProxy } from '../proxy/index.js';
import { startPolicyEnforcer, type PolicyEnforcer } from '../netpol/enforcer.js';
import { createLogger, type Logger } from '../util/log.js';
import { KubeletServer, parseListen } from './kubelet-server.js';
import { FlowCollector } from '../flows/agent-flows.js';
import { NodeRegistration, detectNodeIP, hostFacts } from './node-registration.js';
import { nodeServingCertificate, privateDir } from './tls-bootstrap.js';
import type { Pod, PodStatus, Service } from './pod-types.js';
import { sharedInFlight } from './shared-reads.js';
import { PodWorker, type PodWorkerDeps } from './pod-worker.js';
import { PodLifecycles } from './pod-lifecycle-driver.js';
import { NODE_AFFINITY, admitPod, isActive, rejectedStatus } from './pod-admission.js';
import { nodeResources } from './node-status.js';
import type { Node } from '../controllers/types.js';
import { EventRecorder } from '../controllers/events.js';
import { DEFAULT_HEALTHZ_LISTEN, KubeletHealthz, RuntimeHealthLoop } from './kubelet-healthz.js';
import { parseResolvConf, type NodeDnsSettings } from './resolv-conf.js';
import { SandboxRuntime, SandboxStore, type PodNetworkRuntime, type SandboxRecord } from './sandbox.js';
import { RuntimeConnection } from '../runtime/agent-connection.js';
import type { ContainerStatusReply } from '../runtime/api.js';

export interface AgentOptions {
  nodeName: string;
  client: KubeClient;
  /** The node's network namespace; undefined = this process's namespace. */
  netns?: string;
  nodeIP?: string;
  overlay: OverlayMode;
  proxyMode: 'nftables' | 'iptables';
  kubeletListen: string;
  dataDir: string;
  /** Where the node's serving certificate and key are kept (default <dataDir>/pki). */
  certDir?: string;
  cniPlugins: 'flatnet' | 'reference';
  clusterCIDR: string;
  serviceCIDR: string;
  clusterDNS: string[];
  clusterDomain: string;
  /** Turn off the parts owned by other components (tests of the pod runtime alone). */
  serviceProxy?: boolean;
  networkPolicy?: boolean;
  /** A pod network to use instead of the CNI conflist (tests). */
  podNetwork?: PodNetworkRuntime;
  /** Prefix of pod namespace names (default flatnet-pod-; tests use their own). */
  podNetnsPrefix?: string;
  /** The kubelet's /healthz (plain HTTP, in the node's namespace; default 127.0.0.1:10248; '' = none). */
  healthzListen?: string;
  /** The node runtime's unix socket (flatnet runtime): containers run there and outlive this agent. */
  runtimeSocket?: string;
  /** The pods this node takes (--max-pods): its capacity and allocatable `pods` (default 110). */
  maxPods?: number;
}

/** How long a pod's status change waits for the changes that follow it before it is posted. */
const STATUS_BATCH_MS = 25;

interface Stoppable {
  stop(): unknown;
}

export function busyboxApplets(): Set<string> {
  try {
    return new Set(execFileSync('busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((l) => l.length > 0));
  } catch {
    return new Set();
  }
}

export class Agent {
  readonly log: Logger;
  /** The worker serving each pod name (namespace/name), for the kubelet endpoint and status. */
  private readonly workers = new Map<string, PodWorker>();
  /** Every pod this node holds, by UID, until its lifecycle forgets it. */
  private readonly byUid = new Map<string, PodWorker>();
  /** One state machine per pod UID: its operations run one at a time, in order. */
  readonly lifecycles = new PodLifecycles({
    setUp: (uid) => this.byUid.get(uid)?.setUp() ?? Promise.resolve(),
    release: (uid) => this.byUid.get(uid)?.releaseSandbox() ?? Promise.resolve(),
    cancelSetUp: (uid) => this.byUid.get(uid)?.cancel(),
    tearDown: (uid, grace) => this.tearDown(uid, grace),
    confirmDeletion: async (uid) => {
      const worker = this.byUid.get(uid);
      if (worker) await this.confirmDeletion(worker.pod);
    },
    forget: (uid) => this.forget(uid),
    failed: (uid, action, err) => this.log.error(`pod ${action} failed`, { pod: this.byUid.get(uid)?.key, uid, err: err.message }),
  });
  private readonly stoppables: Stoppable[] = [];
  private policy: PolicyEnforcer | undefined;
  private pods: SharedInformer<Pod> | undefined;
  private services: SharedInformer<Service> | undefined;
  private registration: NodeRegistration | undefined;
  private kubelet: KubeletServer | undefined;
  private sandboxes: SandboxRuntime | undefined;
  private runtimeHealth: RuntimeHealthLoop | undefined;
  private runtime: RuntimeConnection | undefined;
  private healthz: KubeletHealthz | undefined;
  private runtimeProblems = '';
  private readonly statusTimers = new Map<string, NodeJS.Timeout>();
  private readonly statusInFlight = new Map<string, Promise<void>>();
  private readonly lastStatus = new Map<string, string>();
  /** Pods admission turned away (their Failed status may not be back yet), and pods waiting for a fresh Node to be admitted. */
  private readonly rejected = new Set<string>();
  private readonly admitting = new Set<string>();
  private readonly applets = busyboxApplets();
  private readonly flows: FlowCollector;
  /** The kubelet's event recorder: source.host and reportingInstance are the node name. */
  private readonly events: EventRecorder;
  nodeIP = '';
  podCIDR = '';
  kubeletAddress = '';

  constructor(readonly opts: AgentOptions) {
    this.log = createLogger('agent', { node: opts.nodeName });
    this.flows = new FlowCollector(opts.client, { nodeName: opts.nodeName, netns: opts.netns });
    this.events = new EventRecorder(opts.client, 'kubelet', this.log, { host: opts.nodeName, instance: opts.nodeName });
  }

  private get client(): KubeClient {
    return this.opts.client;
  }

  async start(): Promise<void> {
    const o = this.opts;
    privateDir(o.dataDir);
    this.nodeIP = o.nodeIP ?? detectNodeIP(o.netns);
    // The API server reaches the kubelet endpoint at the node's address, inside the node's namespace.
    const listenHost = parseListen(o.kubeletListen).host;
    const wildcard = listenHost === '0.0.0.0' || listenHost === '::';
    const names = wildcard || listenHost === this.nodeIP ? [this.nodeIP] : [this.nodeIP, listenHost];
    // What needs no pod CIDR starts now, while the node registers and its overlay comes up; no pod starts before all of it is up.
    const podCIDRIndependent = this.startPodCIDRIndependent();
    podCIDRIndependent.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    // The plugin executables other runtimes would exec (this agent calls its plugins in-process): built meanwhile, off the way of its pods.
    const pluginWrappers = this.installPluginWrappers();
    pluginWrappers.catch(() => undefined); // awaited below
    const serveKubelet = async () => {
      const serving = await nodeServingCertificate(this.client, o.nodeName, names, o.certDir ?? join(o.dataDir, 'pki'), this.log);
      this.kubelet = new KubeletServer({
        listen: o.kubeletListen,
        netns: o.netns,
        tls: serving,
        log: this.log,
        pods: { find: (ns, name) => this.workers.get(`${ns}/${name}`), busyboxApplets: this.applets },
        flows: this.flows,
      });
      const addr = await this.kubelet.listen();
      return `${wildcard ? this.nodeIP : addr.host}:${addr.port}`;
    };
    const register = async (kubeletAddress: string) => {
      this.kubeletAddress = kubeletAddress;
      this.registration = new NodeRegistration(this.client, { ...hostFacts(o.nodeName, this.nodeIP, kubeletAddress), maxPods: o.maxPods }, this.log, this.events);
      await this.registration.register();
    };
    const fixedPort = parseListen(o.kubeletListen).port;
    let kubeletServing: Promise<unknown> = Promise.resolve();
    if (fixedPort === 0) await register(await serveKubelet());
    else {
      // The endpoint's address is known before it listens: the Node registers and gets its pod CIDR while the serving certificate is asked for (as the kubelet does); no pod starts before it serves.
      kubeletServing = serveKubelet();
      kubeletServing.catch(() => undefined); // awaited below
      await register(`${wildcard ? this.nodeIP : listenHost}:${fixedPort}`);
    }
    this.podCIDR = await this.registration!.waitForPodCIDR();
    this.log.info('node has a pod CIDR', { podCIDR: this.podCIDR, nodeIP: this.nodeIP, kubelet: this.kubeletAddress });
    // Before any pod starts (awaited below): from then on a pod address is dropped until its policy state is in place.
    const policy = o.networkPolicy !== false ? startPolicyEnforcer(this.client, { nodeName: o.nodeName, netns: o.netns, podCIDR: this.podCIDR }) : undefined;
    policy?.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    const mtu = await this.startOverlay();
    const network = o.podNetwork ?? this.cniRuntime(mtu);
    this.sandboxes = new SandboxRuntime(network, new SandboxStore(join(o.dataDir, 'sandboxes')), o.podNetnsPrefix);
    await this.startHealth();
    if (policy) {
      this.policy = await policy;
      this.stoppables.push(this.policy);
    }
    await kubeletServing;
    const pods = await podCIDRIndependent;
    this.runtimeHealth?.refresh();
    await this.adoptOrCleanSandboxes(pods.list());
    pods.addHandlers({
      add: (p) => this.sync(p),
      update: (p) => this.sync(p),
      delete: (p) => this.onDeleted(p),
    });
    await pluginWrappers;
    this.log.info('agent running', { node: o.nodeName, pods: this.workers.size, kubelet: this.kubeletAddress });
  }

  /** The service proxy, the flow collector, the Service and Pod informers and the runtime connection, together; the Pod informer when synced. */
  private async startPodCIDRIndependent(): Promise<SharedInformer<Pod>> {
    const o = this.opts;
    const proxy = async () => {
      if (o.serviceProxy === false) return;
      this.stoppables.push(await startServiceProxy(this.client, { nodeName: o.nodeName, netns: o.netns, mode: o.proxyMode, nodeIPs: [this.nodeIP], clusterCIDR: o.clusterCIDR, serviceCIDR: o.serviceCIDR }));
    };
    const flows = async () => {
      await this.flows.start();
      this.stoppables.push(this.flows);
    };
    const runtime = async () => {
      if (!o.runtimeSocket) return;
      this.runtime = new RuntimeConnection(o.runtimeSocket, this.log);
      this.runtime.onHealthChange(() => this.runtimeHealth?.refresh());
      await this.runtime.open();
    };
    this.services = sharedInformer<Service>(this.client, R.services);
    const pods = (this.pods = sharedInformer<Pod>(this.client, R.pods, { fieldSelector: `spec.nodeName=${o.nodeName}` }));
    await Promise.all([proxy(), flows(), this.services.start(), pods.start(), runtime()]);
    return pods;
  }

  /** The runtime checks behind the node's Ready condition, and the kubelet's /healthz. */
  private async startHealth(): Promise<void> {
    const o = this.opts;
    this.runtimeHealth = new RuntimeHealthLoop({ sandboxDir: join(o.dataDir, 'sandboxes'), cniConfig: o.podNetwork ? undefined : join(o.dataDir, 'cni', '10-flatnet.conflist') }, (errors) => {
      const text = errors.join('; ');
      if (text !== this.runtimeProblems) {
        if (errors.length > 0) this.log.warn('the node runtime is not ready', { errors });
        else if (this.runtimeProblems) this.log.info('the node runtime is ready again');
        this.runtimeProblems = text;
      }
      this.registration?.setRuntimeErrors(errors);
    }, () => this.runtime?.health());
    this.runtimeHealth.start();
    const listen = o.healthzListen ?? DEFAULT_HEALTHZ_LISTEN;
    if (listen === '') return;
    this.healthz = new KubeletHealthz({ listen, netns: o.netns, syncLoop: this.runtimeHealth.syncLoopCheck, log: this.log });
    try {
      const addr = await this.healthz.listen();
      this.log.info('serving healthz', { address: `${addr.host}:${addr.port}`, netns: o.netns });
    } catch (err) {
      this.log.warn('cannot serve the kubelet healthz; continuing without it', { listen, err: (err as Error).message });
      this.healthz = undefined;
    }
  }

  private async startOverlay(): Promise<number> {
    const o = this.opts;
    const overlay = await startOverlay(this.client, { nodeName: o.nodeName, netns: o.netns, mode: o.overlay, underlayDevice: 'eth0', podCIDR: this.podCIDR, clusterCIDR: o.clusterCIDR });
    this.stoppables.push(overlay);
    this.registration!.setNetworkReady(true);
    return overlay.mtu;
  }

  private cniRuntime(mtu: number): PodNetworkRuntime {
    const o = this.opts;
    const cniDir = join(o.dataDir, 'cni');
    mkdirSync(cniDir, { recursive: true });
    const conflistPath = join(cniDir, '10-flatnet.conflist');
    writeFileSync(conflistPath, JSON.stringify(renderConflist({ podCIDR: this.podCIDR, mtu, plugins: o.cniPlugins, dataDir: o.dataDir }), null, 2));
    const binDirs = o.cniPlugins === 'flatnet' ? [join(cniDir, 'bin')] : ['/usr/lib/cni', '/opt/cni/bin'];
    const runtime = createCniRuntime({ conflistPath, binDirs, hostNetns: o.netns, cacheDir: join(cniDir, 'cache') });
    // The bridge is made now, while the rest of the node comes up: the first pods' ADDs find it (they wait for it if it is still being made).
    runtime.prepare().catch((err: Error) => this.log.warn('cannot make the pod bridge ahead of the first pod; its first ADD will', { err: err.message }));
    return runtime;
  }

  /** flatnet's plugin executables in <dataDir>/cni/bin, for runtimes that exec them (none when the network is given in code or the reference plugins serve). */
  private async installPluginWrappers(): Promise<void> {
    const o = this.opts;
    if (o.podNetwork || o.cniPlugins !== 'flatnet') return;
    await installPluginWrappersAsync(join(o.dataDir, 'cni', 'bin'));
  }

  private nodeDns(): NodeDnsSettings {
    const candidates = this.opts.netns ? [`/etc/netns/${this.opts.netns}/resolv.conf`, '/etc/resolv.conf'] : ['/etc/resolv.conf'];
    const file = candidates.find((p) => existsSync(p));
    const host = parseResolvConf(file ? readFileSync(file, 'utf8') : '');
    return { clusterDomain: this.opts.clusterDomain, clusterDNS: this.opts.clusterDNS, host };
  }

  private workerDeps(): PodWorkerDeps {
    return {
      client: this.client,
      nodeName: this.opts.nodeName,
      nodeIP: this.nodeIP,
      nodeNetns: this.opts.netns,
      sandboxes: this.sandboxes!,
      policy: this.policy,
      logsDir: join(this.opts.dataDir, 'pods'),
      dns: this.nodeDns(),
      busyboxApplets: this.applets,
      namespaceServices: (ns) => (this.services?.list() ?? []).filter((s) => s.metadata.namespace === ns),
      masterService: () => this.services?.get('default', 'kubernetes'),
      configMap: sharedInFlight((ns: string, name: string) => this.client.get(R.configmaps, ns, name), (ns, name) => `${ns}/${name}`),
      secret: (ns, name) => this.client.get(R.secrets, ns, name),
      reportStatus: (w, now) => this.scheduleStatus(w, now),
      event: (pod, type, reason, message) => this.recordEvent(pod, type, reason, message),
      log: this.log,
      runtime: this.runtime,
      kubeconfig: existsSync(join(this.opts.dataDir, 'kubelet.kubeconfig')) ? join(this.opts.dataDir, 'kubelet.kubeconfig') : undefined,
    };
  }

  /** On start: sandboxes of pods still here are kept (their containers restart); others go. */
  private async adoptOrCleanSandboxes(pods: Pod[]): Promise<void> {
    const byUid = new Map(pods.map((p) => [p.metadata.uid, p]));
    const keep = (rec: SandboxRecord, pod: Pod | undefined): pod is Pod => {
      const phase = pod?.status?.phase;
      const sandboxExists = rec.hostNetwork || existsSync(`/var/run/netns/${rec.netns}`);
      return pod !== undefined && !pod.metadata.deletionTimestamp && !!rec.podIP && phase !== 'Succeeded' && phase !== 'Failed' && sandboxExists;
    };
    // With a node runtime the containers of kept pods are taken over; the rest are removed there.
    const kept = this.sandboxes!.store.list().filter((rec) => keep(rec, byUid.get(rec.uid)));
    const adoptable = await this.runtime?.reconcile(kept.map((rec) => ({ uid: rec.uid, containerNames: [...(byUid.get(rec.uid)!.spec.initContainers ?? []), ...byUid.get(rec.uid)!.spec.containers].map((c) => c.name) })));
    for (const rec of this.sandboxes!.store.list()) {
      if (!this.runtime) await this.killLeftoverProcesses(rec);
      const pod = byUid.get(rec.uid);
      if (keep(rec, pod)) {
        this.log.info('adopting the sandbox of a previous run', { pod: `${rec.namespace}/${rec.name}`, podIP: rec.podIP });
        this.startWorker(pod, rec, adoptable?.adopt.get(rec.uid) ?? []);
      } else {
        this.log.info('removing a sandbox left by a previous run', { pod: `${rec.namespace}/${rec.name}` });
        await this.sandboxes!.destroy(rec).catch((err: Error) => this.log.warn('cannot remove leftover sandbox', { netns: rec.netns, err: err.message }));
      }
    }
    // The rest are admitted oldest first, as the kubelet sorts the pods it sees at start.
    const oldestFirst = [...pods].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
    for (const pod of oldestFirst) this.sync(pod);
  }

  private async killLeftoverProcesses(rec: SandboxRecord): Promise<void> {
    if (rec.hostNetwork) {
      // The node's namespace holds more than this pod: end only the recorded process groups.
      for (const pid of rec.pids ?? []) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      return;
    }
    if (!existsSync(`/var/run/netns/${rec.netns}`)) return;
    let pids: number[];
    try {
      pids = execFileSync('ip', ['netns', 'pids', rec.netns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    } catch {
      return;
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  private startWorker(pod: Pod, adopted?: SandboxRecord, adoptedContainers?: ContainerStatusReply[]): PodWorker {
    const worker = new PodWorker(pod, this.workerDeps(), adopted, adoptedContainers);
    this.workers.set(worker.key, worker);
    this.byUid.set(worker.uid, worker);
    this.lifecycles.send(worker.uid, { type: 'sync' });
    return worker;
  }

  private sync(pod: Pod): void {
    if (!this.sandboxes) return;
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    let worker = this.workers.get(key);
    if (worker && worker.uid !== pod.metadata.uid) {
      // Same name, new pod: the old one is gone.
      this.workers.delete(key);
      this.lifecycles.send(worker.uid, { type: 'delete', graceSeconds: 0, confirm: false });
      worker = undefined;
    }
    if (pod.metadata.deletionTimestamp) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
      const uid = pod.metadata.uid ?? '';
      if (this.byUid.has(uid)) {
        this.byUid.get(uid)!.pod = pod;
        this.lifecycles.send(uid, { type: 'delete', graceSeconds: grace, confirm: true });
      } else void this.confirmDeletion(pod);
      return;
    }
    if (!worker) {
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') return; // finished in an earlier run
      const uid = pod.metadata.uid ?? '';
      if (this.rejected.has(uid) || this.admitting.has(uid)) return;
      this.admit(pod);
      return;
    }
    worker.pod = pod;
  }

  /**
   * Starts the pod if the node takes it (pod-admission.ts), or fails it as the kubelet rejects a
   * pod. A node affinity misfit is checked again against the Node fetched now (its labels may be
   * newer than the copy of the last status post), as the kubelet does.
   */
  private admit(pod: Pod, freshNode?: Node): void {
    const uid = pod.metadata.uid ?? '';
    const node = freshNode ?? (this.registration?.current as Node | undefined) ?? { metadata: { name: this.opts.nodeName } };
    const active = [...this.byUid.values()].filter((w) => isActive(w.pod)).map((w) => w.pod);
    const verdict = admitPod(pod, node, active, this.allocatable());
    if (verdict.admit) {
      this.startWorker(pod);
      return;
    }
    if (verdict.reason === NODE_AFFINITY && !freshNode) {
      this.admitting.add(uid);
      void this.client
        .get<Node>(R.nodes, undefined, this.opts.nodeName)
        .catch(() => undefined)
        .then((fetched) => {
          if (!this.admitting.delete(uid)) return; // deleted meanwhile
          const latest = this.pods?.get(pod.metadata.namespace, pod.metadata.name ?? '') ?? pod;
          if (latest.metadata.uid !== uid || latest.metadata.deletionTimestamp || this.byUid.has(uid)) return;
          this.admit(latest, fetched ?? node);
        });
      return;
    }
    this.reject(pod, verdict.reason, verdict.message);
  }

  /** The node's allocatable as this agent reports it (registered before any pod is watched). */
  private allocatable(): Record<string, string> {
    return nodeResources(this.registration!.facts);
  }

  private reject(pod: Pod, reason: string, message: string): void {
    const uid = pod.metadata.uid ?? '';
    this.rejected.add(uid);
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    this.log.warn('pod rejected at admission', { pod: key, uid, reason, message });
    this.recordEvent(pod, 'Warning', reason, message);
    void (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.client.patch(R.pods, pod.metadata.namespace, pod.metadata.name ?? '', { metadata: { uid }, status: rejectedStatus(reason, message) }, 'merge', { subresource: 'status' });
          return;
        } catch (err) {
          if (isNotFound(err) || isConflict(err) || attempt >= 5 || !this.rejected.has(uid)) {
            if (!isNotFound(err) && !isConflict(err)) this.log.warn('cannot post the rejected pod status', { pod: key, err: (err as Error).message });
            return;
          }
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
    })();
  }

  private onDeleted(pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    this.rejected.delete(uid);
    this.admitting.delete(uid);
    if (this.byUid.has(uid)) this.lifecycles.send(uid, { type: 'delete', graceSeconds: 0, confirm: false });
  }

  /** Stops the pod's containers and removes its sandbox (the lifecycle runs this once per pod). */
  private async tearDown(uid: string, graceSeconds: number): Promise<void> {
    const worker = this.byUid.get(uid);
    if (!worker) return;
    this.log.info('stopping pod', { pod: worker.key, graceSeconds });
    this.clearStatus(worker);
    await worker.terminate(graceSeconds);
  }

  /** The pod is gone from this node: no worker, no status timers. */
  private forget(uid: string): void {
    const worker = this.byUid.get(uid);
    if (!worker) return;
    this.byUid.delete(uid);
    if (this.workers.get(worker.key) === worker) this.workers.delete(worker.key);
    this.clearStatus(worker);
  }

  private clearStatus(worker: PodWorker): void {
    const timer = this.statusTimers.get(worker.key);
    if (timer && this.workers.get(worker.key) === worker) {
      clearTimeout(timer);
      this.statusTimers.delete(worker.key);
    }
    if (this.workers.get(worker.key) === worker) this.lastStatus.delete(worker.key);
  }

  private async confirmDeletion(pod: Pod): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
        return;
      } catch (err) {
        if (isNotFound(err) || isConflict(err)) return;
        if (attempt >= 5) {
          this.log.warn('cannot complete pod deletion', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: (err as Error).message });
          return;
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  /**
   * Posts the pod's status after STATUS_BATCH_MS, so that changes close together (a container
   * created, started, running) go in one post; `now` (a readiness flip, which Endpoints and the
   * Services wait for, as the kubelet's status manager sends it) posts at once.
   */
  private scheduleStatus(worker: PodWorker, now = false): void {
    const pending = this.statusTimers.get(worker.key);
    if (pending && !now) return;
    if (pending) clearTimeout(pending);
    this.statusTimers.set(
      worker.key,
      setTimeout(() => {
        this.statusTimers.delete(worker.key);
        const previous = this.statusInFlight.get(worker.key) ?? Promise.resolve();
        const next = previous.then(() => this.pushStatus(worker));
        this.statusInFlight.set(worker.key, next);
        void next.finally(() => {
          if (this.statusInFlight.get(worker.key) === next) this.statusInFlight.delete(worker.key);
        });
      }, now ? 0 : STATUS_BATCH_MS),
    );
  }

  private async pushStatus(worker: PodWorker): Promise<void> {
    if (this.workers.get(worker.key) !== worker || worker.isTerminating) return;
    const status: PodStatus = worker.status(worker.pod.status);
    const body = JSON.stringify(status);
    if (this.lastStatus.get(worker.key) === body) return;
    const reportsRunning = status.phase === 'Running' && !worker.startup.has('statusSent');
    if (reportsRunning) worker.startup.mark('statusSent');
    try {
      const updated = await this.client.patch<Pod>(R.pods, worker.pod.metadata.namespace, worker.pod.metadata.name ?? '', { status }, 'merge', { subresource: 'status' });
      if (updated.metadata.uid === worker.uid) worker.pod = { ...worker.pod, status: updated.status };
      this.lastStatus.set(worker.key, body);
      if (reportsRunning) {
        worker.startup.mark('statusAcked');
        this.log.info('observed pod startup', { pod: worker.key, uid: worker.uid, at: worker.startup.toJSON() });
      }
      if (status.phase === 'Succeeded' || status.phase === 'Failed') this.lifecycles.send(worker.uid, { type: 'finished' });
    } catch (err) {
      if (!isNotFound(err)) {
        this.log.warn('pod status update failed; retrying', { pod: worker.key, err: (err as Error).message });
        setTimeout(() => this.scheduleStatus(worker), 1000);
      }
    }
  }

  /** A kubelet event on the pod, counted on the first one when it repeats (events.ts). */
  private recordEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.record({ ...pod, apiVersion: 'v1', kind: 'Pod' }, type, reason, message);
  }

  /** Pods this agent runs now (for tests and status). */
  runningPods(): PodWorker[] {
    return [...this.workers.values()];
  }

  /** Leaves the pods to the next agent: processes keep running, in-process workloads end. */
  abandonPods(): void {
    this.kubelet?.close();
    for (const w of this.byUid.values()) w.abandon();
    this.workers.clear();
    this.byUid.clear();
  }

  /** Stops watching and serving; the pods keep running unless `stopPods`. */
  async stop(stopPods = false): Promise<void> {
    this.pods?.stop();
    this.services?.stop();
    this.registration?.stop();
    this.kubelet?.close();
    this.runtimeHealth?.stop();
    this.runtime?.stop();
    this.healthz?.close();
    for (const t of this.statusTimers.values()) clearTimeout(t);
    if (stopPods) {
      for (const uid of this.byUid.keys()) this.lifecycles.send(uid, { type: 'delete', graceSeconds: 0, confirm: false });
      await this.lifecycles.settled();
    } else for (const w of this.byUid.values()) w.abandon();
    this.workers.clear();
    this.byUid.clear();
    for (const s of this.stoppables.reverse()) await s.stop();
  }
}
