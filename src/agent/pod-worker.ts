// One pod on this node: its sandbox, its init containers in order, then its containers; the
// status computed from them; and, when the pod is deleted, the graceful stop and teardown.
import { dirname, join } from 'node:path';
import type { KubeClient } from '../client/client.js';
import type { BackoffPolicy } from './backoff.js';
import { composeContainerEnv, expandCommand, podHostname, type EnvSources } from './container-env.js';
import { ContainerRunner, type ContainerHost } from './container-runner.js';
import { renderHostsFile } from './hosts-file.js';
import type { Container, ContainerStatus, DataObject, Pod, PodStatus, Service } from './pod-types.js';
import { computePodStatus } from './pod-status.js';
import { composePodResolvConf, renderResolvConf, type NodeDnsSettings } from './resolv-conf.js';
import type { SandboxRecord, SandboxRuntime } from './sandbox.js';
import { hiddenPaths, type IsolationPodInput } from './isolation-plan.js';
import { ServiceAccountTokenProjector, tokenVolumeOf } from './isolation-token.js';
import type { Logger } from '../util/log.js';
import type { RuntimeConnection } from '../runtime/agent-connection.js';
import type { ContainerStatusReply } from '../runtime/api.js';
import { PodStartupTrace } from './pod-startup-trace.js';
import { planContainer } from '../workloads/images.js';

export interface PodWorkerDeps {
  client: KubeClient;
  nodeName: string;
  nodeIP: string;
  nodeNetns?: string;
  sandboxes: SandboxRuntime;
  /** NetworkPolicy enforcement: a pod's address passes traffic only once admitted. */
  policy?: { admitPod(pod: Pod): Promise<void>; forgetPod(podIP: string): Promise<void> };
  logsDir: string;
  dns: NodeDnsSettings;
  busyboxApplets: ReadonlySet<string>;
  backoff?: BackoffPolicy;
  namespaceServices(namespace: string): Service[];
  masterService(): Service | undefined;
  configMap(namespace: string, name: string): Promise<DataObject | undefined>;
  secret(namespace: string, name: string): Promise<DataObject | undefined>;
  /** The pod's status changed: it is posted shortly (changes close together go in one post), or at once when `now`. */
  reportStatus(worker: PodWorker, now?: boolean): void;
  /** The node runtime that runs the containers (undefined: the agent runs them itself). */
  runtime?: RuntimeConnection;
  /** The node's kubeconfig, for built-in workloads that read the API (flatnet/dns) in the runtime. */
  kubeconfig?: string;
  event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
  log: Logger;
}

const now = () => new Date().toISOString();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class PodWorker {
  sandbox: SandboxRecord | undefined;
  readonly containers: ContainerRunner[] = [];
  readonly initContainers: ContainerRunner[] = [];
  private startTime: string | undefined;
  private sandboxError: string | undefined;
  private terminating: Promise<void> | undefined;
  /** Set by a deletion (cancel, terminate, abandon): nothing new starts for this pod. */
  private cancelled = false;
  private wake: (() => void) | undefined;
  private refs = new Map<string, DataObject | undefined>();
  private token: ServiceAccountTokenProjector | undefined;
  readonly uid: string;
  /** When each start-up step of this pod happened (logged once it is Running). */
  readonly startup = new PodStartupTrace();

  constructor(
    public pod: Pod,
    private readonly deps: PodWorkerDeps,
    /** A sandbox left by a previous agent run for this same pod. */
    private readonly adopted?: SandboxRecord,
    /** The containers the node runtime still has for this pod (newest attempt per name), to take over. */
    private readonly adoptedContainers?: ContainerStatusReply[],
  ) {
    this.uid = pod.metadata.uid ?? '';
    this.startup.mark('seen');
  }

  get key(): string {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
  }

  get isTerminating(): boolean {
    return this.cancelled;
  }

  findContainer(name: string | undefined): ContainerRunner | undefined {
    if (!name) return this.containers[0];
    return this.containers.find((c) => c.spec.name === name) ?? this.initContainers.find((c) => c.spec.name === name);
  }

  private host(): ContainerHost {
    const pod = this.pod;
    const rec = this.sandbox!;
    return {
      netns: rec.netns,
      utsPath: rec.utsPath,
      podIP: rec.podIP ?? '',
      nodeNetns: this.deps.nodeNetns,
      hostname: podHostname(pod),
      namespace: pod.metadata.namespace ?? 'default',
      podName: pod.metadata.name ?? '',
      podUid: this.uid,
      restartPolicy: pod.spec.restartPolicy ?? 'Always',
      logDir: join(this.deps.logsDir, `${pod.metadata.namespace}_${pod.metadata.name}_${this.uid}`),
      busyboxApplets: this.deps.busyboxApplets,
      client: this.deps.client,
      backoff: this.deps.backoff,
      env: (c) => this.containerEnv(c),
      refreshReferences: () => this.loadReferences().catch((err: Error) => this.deps.log.warn('cannot read env references', { pod: this.key, err: err.message })),
      changed: (readiness) => this.deps.reportStatus(this, readiness),
      startupStep: (step) => this.startup.mark(step),
      runtime: this.deps.runtime ? { connection: this.deps.runtime, sandboxId: this.uid, kubeconfig: this.deps.kubeconfig } : undefined,
      processStarted: (pid) => {
        if (this.tornDown) return; // the record is gone with its sandbox; never write it back
        rec.pids = [...(rec.pids ?? []).filter((p) => processAlive(p)), pid];
        this.deps.sandboxes.store.save(rec);
      },
      event: (type, reason, message) => this.deps.event(this.pod, type, reason, message),
      isolation: {
        pod: { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', uid: this.uid, ...(pod.spec as Pick<IsolationPodInput, 'hostPID' | 'hostIPC' | 'securityContext'>) },
        // The agent's data directory is the parent of its pods' log directory.
        hidden: hiddenPaths(dirname(this.deps.logsDir)),
        serviceAccountDir: () => undefined,
      },
    };
  }

  /** The host as container `c` sees it: the token directory only when `c` mounts the pod's token volume. */
  private hostFor(host: ContainerHost, c: Container): ContainerHost {
    return { ...host, isolation: { ...host.isolation, serviceAccountDir: () => this.token?.dirFor(c) } };
  }

  /** Projects the token volume the pod's spec names (none when automount is off) and keeps it fresh. */
  private async projectToken(): Promise<void> {
    const spec = this.pod.spec as Parameters<typeof tokenVolumeOf>[0] & { serviceAccountName?: string };
    const ns = this.pod.metadata.namespace ?? 'default';
    const tokenPod = { namespace: ns, name: this.pod.metadata.name ?? '', uid: this.uid, serviceAccountName: spec.serviceAccountName || 'default' };
    const dir = join(dirname(this.deps.logsDir), 'tokens', this.uid);
    let volumeName = 'kube-api-access';
    try {
      const volume = tokenVolumeOf(spec);
      if (!volume) return;
      volumeName = volume.name;
      this.token = new ServiceAccountTokenProjector(this.deps.client, tokenPod, volume, dir, this.deps.configMap, (message) => this.deps.log.warn(message, { pod: this.key }));
      await this.token.start();
    } catch (err) {
      // The containers start without the token rather than never (the event says why).
      this.deps.event(this.pod, 'Warning', 'FailedMount', `MountVolume.SetUp failed for volume "${volumeName}" : ${(err as Error).message}`);
      this.deps.log.warn('cannot project the ServiceAccount token', { pod: this.key, err: (err as Error).message });
    }
  }

  /** The container's environment from cached references (loaded before each start). */
  containerEnv(c: Container): Record<string, string> {
    const ns = this.pod.metadata.namespace ?? 'default';
    const src: EnvSources = {
      pod: this.pod,
      podIP: this.sandbox?.podIP,
      hostIP: this.deps.nodeIP,
      namespaceServices: this.deps.namespaceServices(ns),
      masterService: this.deps.masterService(),
      configMap: (name) => this.refs.get(`cm/${name}`),
      secret: (name) => this.refs.get(`secret/${name}`),
    };
    const env = composeContainerEnv(c, src);
    return env;
  }

  /** Fetches the ConfigMaps and Secrets the containers reference. */
  private async loadReferences(): Promise<void> {
    const ns = this.pod.metadata.namespace ?? 'default';
    const all = [...(this.pod.spec.initContainers ?? []), ...this.pod.spec.containers];
    const wanted = new Set<string>();
    for (const c of all) {
      for (const e of c.env ?? []) {
        if (e.valueFrom?.configMapKeyRef) wanted.add(`cm/${e.valueFrom.configMapKeyRef.name}`);
        if (e.valueFrom?.secretKeyRef) wanted.add(`secret/${e.valueFrom.secretKeyRef.name}`);
      }
      for (const f of c.envFrom ?? []) {
        if (f.configMapRef) wanted.add(`cm/${f.configMapRef.name}`);
        if (f.secretRef) wanted.add(`secret/${f.secretRef.name}`);
      }
    }
    for (const key of wanted) {
      const [kind, name] = key.split('/');
      this.refs.set(key, kind === 'cm' ? await this.deps.configMap(ns, name) : await this.deps.secret(ns, name));
    }
  }

  /**
   * Creates the sandbox (retrying until it exists or the set-up is cancelled) and launches the
   * containers: init containers in order, then the others, in the background. Returns once the
   * sandbox exists and the containers are launched, or once a cancellation stopped it; a CNI ADD
   * in flight always completes first, so a tear-down that follows sees the whole sandbox.
   */
  async setUp(): Promise<void> {
    const pod = this.pod;
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name ?? '';
    this.startTime = now();
    const t0 = Date.now();
    this.startup.mark('setUp', t0);
    this.deps.reportStatus(this);
    this.pullImages();
    for (let attempt = 0; !this.cancelled; attempt++) {
      try {
        if (pod.spec.hostNetwork && !this.adopted) {
          this.sandbox = this.deps.sandboxes.createHostNetwork({ uid: this.uid, namespace: ns, name }, this.deps.nodeNetns, this.deps.nodeIP);
          break;
        }
        this.sandbox = this.adopted ?? (await this.deps.sandboxes.create({ uid: this.uid, namespace: ns, name, hostname: podHostname(pod), portMappings: this.portMappings() }, (step) => this.startup.mark(step)));
        this.sandboxError = undefined;
        break;
      } catch (err) {
        this.sandboxError = `Failed to create pod sandbox: ${(err as Error).message}`;
        this.deps.event(pod, 'Warning', 'FailedCreatePodSandBox', this.sandboxError);
        this.deps.log.warn('sandbox creation failed', { pod: this.key, err: (err as Error).message });
        this.deps.reportStatus(this);
        const leftover = this.deps.sandboxes.store.list().find((r) => r.uid === this.uid);
        if (leftover) await this.deps.sandboxes.destroy(leftover).catch(() => undefined);
        await this.pause(Math.min(1000 * 2 ** attempt, 30_000));
      }
    }
    if (this.cancelled || !this.sandbox) return;
    if (!this.sandbox.hostNetwork && this.sandbox.podIP && this.deps.policy) {
      // The pod's containers start only once the policies that select it are in the kernel.
      await this.deps.policy.admitPod({ ...pod, status: { ...pod.status, podIP: this.sandbox.podIP, podIPs: [{ ip: this.sandbox.podIP }] } });
    }
    if (this.cancelled) return;
    this.startup.mark('admitted');
    const sandboxMs = Date.now() - t0;
    this.writeEtcFiles();
    await this.loadReferences().catch((err: Error) => this.deps.log.warn('cannot read env references', { pod: this.key, err: err.message }));
    if (this.cancelled) return;
    await this.projectToken();
    if (this.cancelled) return;
    this.startup.mark('token');
    if (this.deps.runtime) await this.registerWithRuntime(this.deps.runtime);
    if (this.cancelled) return;
    this.startup.mark('runtimeSandbox');
    const host = this.host();
    for (const c of pod.spec.initContainers ?? []) this.initContainers.push(new ContainerRunner(this.withExpandedCommand(c), this.hostFor(host, c), true));
    const firstReason = this.initContainers.length > 0 ? 'PodInitializing' : 'ContainerCreating';
    for (const c of pod.spec.containers) this.containers.push(new ContainerRunner(this.withExpandedCommand(c), this.hostFor(host, c), false, firstReason));
    this.deps.reportStatus(this);
    if (this.adoptedContainers && this.adoptedContainers.length > 0) return this.adoptContainers(this.adoptedContainers);
    void this.runContainers(t0, sandboxMs);
  }

  /**
   * Asks the node runtime to pull the images of the pod's built-in workloads while the sandbox is
   * made (as the kubelet has images pulled before it starts containers): their code is then loaded
   * when the containers start. A runtime that cannot (an older one) loads it at the start instead.
   */
  private pullImages(): void {
    const runtime = this.deps.runtime;
    if (!runtime || this.adopted) return;
    const images = new Set<string>();
    for (const c of [...(this.pod.spec.initContainers ?? []), ...this.pod.spec.containers]) {
      if (c.image && planContainer(c.image, c.command, c.args, this.deps.busyboxApplets).kind === 'builtin') images.add(c.image);
    }
    for (const image of images) void runtime.client.call('PullImage', { image }).catch(() => undefined);
  }

  /** Tells the node runtime about the sandbox (retried while it does not answer, until cancelled). */
  private async registerWithRuntime(runtime: RuntimeConnection): Promise<void> {
    const rec = this.sandbox!;
    const config = {
      uid: this.uid,
      namespace: this.pod.metadata.namespace ?? 'default',
      name: this.pod.metadata.name ?? '',
      netns: rec.netns,
      ...(rec.utsPath ? { utsPath: rec.utsPath } : {}),
      podIP: rec.podIP ?? '',
      hostname: podHostname(this.pod),
      logDir: join(this.deps.logsDir, `${this.pod.metadata.namespace}_${this.pod.metadata.name}_${this.uid}`),
    };
    for (let attempt = 0; !this.cancelled; attempt++) {
      try {
        await runtime.client.call('RunPodSandbox', { config });
        return;
      } catch (err) {
        this.deps.log.warn('the node runtime refused the sandbox; retrying', { pod: this.key, err: (err as Error).message });
        await this.pause(Math.min(500 * 2 ** attempt, 10_000));
      }
    }
  }

  /**
   * After an agent restart: the runtime's containers are taken over. Init containers are done
   * once a regular container exists; a container the runtime does not have starts now.
   */
  private adoptContainers(found: ContainerStatusReply[]): void {
    const byName = new Map(found.map((c) => [c.name, c]));
    const mainStarted = this.containers.some((r) => byName.has(r.spec.name));
    if (!mainStarted) return void this.runContainers(Date.now(), 0);
    for (const init of this.initContainers) {
      const c = byName.get(init.spec.name);
      if (c) init.adopt(c);
    }
    for (const r of this.containers) {
      const c = byName.get(r.spec.name);
      if (c) r.adopt(c);
      else r.start();
    }
    this.deps.log.info('pod adopted from the node runtime', { pod: this.key, containers: found.map((c) => `${c.name}#${c.attempt}:${c.state}`) });
  }

  /** Init containers to completion in order, then every container; stops at a cancellation. */
  private async runContainers(t0: number, sandboxMs: number): Promise<void> {
    for (const init of this.initContainers) {
      if (!(await this.runToCompletion(init))) return;
    }
    if (this.cancelled) return;
    for (const c of this.containers) c.start();
    this.deps.log.info('pod started', { pod: this.key, podIP: this.sandbox?.podIP, sandboxMs, startMs: Date.now() - t0 });
  }

  /** Waits `ms`, or less when the set-up is cancelled meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** Stops the set-up at its next step: no new sandbox attempt, no container started. */
  cancel(): void {
    this.cancelled = true;
    this.wake?.();
    this.wake = undefined;
  }

  /** Runs an init container until it exits 0 (it restarts itself on failure unless Never). */
  private async runToCompletion(init: ContainerRunner): Promise<boolean> {
    const neverRestart = (this.pod.spec.restartPolicy ?? 'Always') === 'Never';
    if (this.cancelled) return false;
    let exit = init.nextExit();
    init.start();
    while (!this.cancelled) {
      const result = await exit;
      if (result.exitCode === 0) return true;
      if (neverRestart) return false;
      exit = init.nextExit();
    }
    return false;
  }

  /** Statuses of containers that do not exist yet: waiting, with the sandbox error if any. */
  private placeholderStatuses(specs: Container[]): ContainerStatus[] {
    return specs.map((c) => ({
      name: c.name,
      state: { waiting: this.sandboxError ? { reason: 'ContainerCreating', message: this.sandboxError } : { reason: 'ContainerCreating' } },
      lastState: {},
      ready: false,
      restartCount: 0,
      image: c.image ?? '',
      imageID: '',
      started: false,
    }));
  }

  private withExpandedCommand(c: Container): Container {
    // $(VAR) in command/args refers to the container's own env values (literal or downward API).
    const literal: Record<string, string> = {};
    for (const e of c.env ?? []) if (e.value !== undefined) literal[e.name] = e.value;
    return { ...c, command: expandCommand(c.command, literal), args: expandCommand(c.args, literal) };
  }

  private portMappings(): SandboxRecord['portMappings'] {
    const out: NonNullable<SandboxRecord['portMappings']> = [];
    for (const c of this.pod.spec.containers) {
      for (const p of c.ports ?? []) {
        if (p.hostPort) out.push({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: (p.protocol ?? 'TCP').toLowerCase(), ...(p.hostIP ? { hostIP: p.hostIP } : {}) });
      }
    }
    return out.length > 0 ? out : undefined;
  }

  private writeEtcFiles(): void {
    const pod = this.pod;
    if (this.sandbox?.hostNetwork) {
      // The node's own files serve a host-network pod; they are not ours to rewrite.
      if (pod.spec.dnsPolicy === 'ClusterFirstWithHostNet' || pod.spec.dnsPolicy === 'None') {
        this.deps.event(pod, 'Warning', 'DNSConfigForming', `dnsPolicy ${pod.spec.dnsPolicy} is not applied to hostNetwork pods by flatnet: they share the node's /etc/resolv.conf`);
      }
      return;
    }
    const ns = pod.metadata.namespace ?? 'default';
    const { conf, warnings } = composePodResolvConf({ namespace: ns, dnsPolicy: pod.spec.dnsPolicy, hostNetwork: pod.spec.hostNetwork, dnsConfig: pod.spec.dnsConfig }, this.deps.dns);
    for (const w of warnings) this.deps.event(pod, 'Warning', w.split(':')[0], w);
    this.deps.sandboxes.writeEtcFiles(this.sandbox!.netns, {
      resolvConf: renderResolvConf(conf),
      hosts: renderHostsFile({
        podIPs: this.sandbox!.podIP ? [this.sandbox!.podIP] : [],
        hostname: podHostname(pod),
        subdomain: pod.spec.subdomain,
        namespace: ns,
        clusterDomain: this.deps.dns.clusterDomain,
        hostAliases: pod.spec.hostAliases,
      }),
    });
  }

  status(previous?: PodStatus): PodStatus {
    return computePodStatus({
      restartPolicy: this.pod.spec.restartPolicy,
      sandboxReady: this.sandbox?.podIP !== undefined && !this.cancelled && !this.released,
      initStatuses: this.sandbox && this.containers.length > 0 ? this.initContainers.map((c) => ({ ...c.status })) : this.placeholderStatuses(this.pod.spec.initContainers ?? []).map((s) => s),
      initContainerCount: (this.pod.spec.initContainers ?? []).length,
      statuses: this.containers.length > 0 ? this.containers.map((c) => ({ ...c.status })) : this.placeholderStatuses(this.pod.spec.containers),
      podIP: this.sandbox?.podIP,
      hostIP: this.deps.nodeIP,
      startTime: this.startTime,
      previous: previous?.conditions,
      now: now(),
    });
  }

  private released = false;
  private tornDown = false;

  /**
   * A pod that finished (Succeeded/Failed) gives its address back, as the kubelet does: CNI DEL
   * and the namespace go; its status (with podIP) and logs stay until the pod is deleted.
   */
  async releaseSandbox(): Promise<void> {
    if (this.released || !this.sandbox || this.cancelled) return;
    this.released = true;
    await this.destroySandbox(this.sandbox);
  }

  /** CNI DEL and the namespace go; then the address stops being admitted by the policy enforcer. */
  private async destroySandbox(rec: SandboxRecord): Promise<void> {
    this.tornDown = true;
    this.token?.stop();
    // The runtime's containers go first (they run in the namespace CNI DEL is about to remove).
    await this.deps.runtime?.client.call('RemovePodSandbox', { sandboxId: this.uid }).catch((err: Error) => this.deps.log.warn('runtime sandbox removal failed', { pod: this.key, err: err.message }));
    await this.deps.sandboxes.destroy(rec).catch((err: Error) => this.deps.log.warn('sandbox teardown failed', { pod: this.key, err: err.message }));
    if (rec.podIP && !rec.hostNetwork) await this.deps.policy?.forgetPod(rec.podIP).catch((err: Error) => this.deps.log.warn('policy forget failed', { pod: this.key, err: err.message }));
  }

  /** Leaves the pod to a later agent: its processes keep running, in-process workloads end. */
  abandon(): void {
    this.cancel();
    this.terminating ??= Promise.resolve();
    for (const c of [...this.initContainers, ...this.containers]) c.abandon();
  }

  /**
   * Stops every container (SIGTERM, grace, SIGKILL) and removes the sandbox. The pod lifecycle
   * calls it once, after the set-up returned; later calls share the first one's work.
   */
  terminate(graceSeconds: number): Promise<void> {
    this.cancel();
    this.terminating ??= (async () => {
      await Promise.all([...this.initContainers, ...this.containers].map((c) => c.stop(graceSeconds)));
      const rec = this.sandbox ?? this.deps.sandboxes.store.list().find((r) => r.uid === this.uid);
      if (rec && !this.released) await this.destroySandbox(rec);
    })();
    return this.terminating;
  }
}
