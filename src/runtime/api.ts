// The node runtime's API: a small, versioned, CRI-shaped protocol spoken as JSON over HTTP/1.1
// on a unix socket (`POST /v1/<Method>`, `GET /version`). This module is pure: the method
// names, the request and reply shapes, and the decoders that turn an untrusted JSON body into a
// typed request or an error naming the field that is wrong.
import type { ContainerIdentity } from '../agent/isolation-plan.js';
import type { ContainerPort } from '../agent/pod-types.js';

/** The API version this runtime and its client speak (the URL prefix). */
export const RUNTIME_API_VERSION = 'v1';
export const SUPPORTED_API_VERSIONS: readonly string[] = [RUNTIME_API_VERSION];
export const RUNTIME_NAME = 'flatnet';

export interface VersionReply {
  /** The newest API version served. */
  version: string;
  /** Every version served (a client picks one it knows). */
  supported: string[];
  runtimeName: string;
  runtimeVersion: string;
}

export interface PodSandboxConfig {
  /** The pod's UID (also the sandbox id: one sandbox per pod). */
  uid: string;
  namespace: string;
  name: string;
  /** The pod's network namespace, made by the agent's CNI call ('' for a host-network pod). */
  netns: string;
  utsPath?: string;
  podIP: string;
  hostname: string;
  /** Where the containers' log files go (<dir>/<container>/<attempt>.log). */
  logDir: string;
}

export type ContainerRun =
  /** A built-in image served inside the runtime, on sockets opened in the pod's namespace. */
  | {
      kind: 'builtin';
      image: string;
      args: string[];
      /**
       * How a workload that reads the API (flatnet/dns) reaches it: the server and CA of this
       * kubeconfig (the node's), with the pod's own ServiceAccount token (a file the agent
       * projects), never the kubeconfig's user.
       */
      api?: { kubeconfig: string; tokenFile: string };
    }
  /** A program of this machine started in its own namespaces (see isolation-plan.ts). */
  | {
      kind: 'process';
      argv: string[];
      identity: ContainerIdentity;
      hostPID: boolean;
      hostIPC: boolean;
      hidden: string[];
      serviceAccountDir?: string;
      tty: boolean;
      stdin: boolean;
      workingDir?: string;
    };

export interface ContainerConfig {
  sandboxId: string;
  name: string;
  /** How many times this container ran before (the pod's restartCount). */
  attempt: number;
  env: Record<string, string>;
  ports: Pick<ContainerPort, 'containerPort' | 'protocol' | 'name'>[];
  run: ContainerRun;
}

export type ContainerStateName = 'CREATED' | 'RUNNING' | 'EXITED';

export interface ContainerStatusReply {
  id: string;
  sandboxId: string;
  name: string;
  attempt: number;
  state: ContainerStateName;
  kind: ContainerRun['kind'];
  /** The process the runtime started (0 for a built-in workload). */
  pid: number;
  /** The container's PID 1 in its own PID namespace (exec enters it); 0 when none. */
  initPid: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  signal?: number;
  reason?: string;
  message?: string;
  logPath: string;
}

export interface SandboxStatusReply {
  id: string;
  config: PodSandboxConfig;
  state: 'READY' | 'NOTREADY';
  containers: number;
}

/** One event of the ContainerEvents stream (one JSON object per line). */
export interface ContainerEvent {
  type: 'started' | 'exited' | 'removed';
  container: ContainerStatusReply;
}

export interface Methods {
  RunPodSandbox: { request: { config: PodSandboxConfig }; reply: { sandboxId: string } };
  StopPodSandbox: { request: { sandboxId: string; graceSeconds: number }; reply: Record<string, never> };
  RemovePodSandbox: { request: { sandboxId: string }; reply: Record<string, never> };
  ListPodSandbox: { request: Record<string, never>; reply: { sandboxes: SandboxStatusReply[] } };
  CreateContainer: { request: { config: ContainerConfig }; reply: { containerId: string } };
  StartContainer: { request: { containerId: string }; reply: { container: ContainerStatusReply } };
  StopContainer: { request: { containerId: string; graceSeconds: number }; reply: { container: ContainerStatusReply } };
  RemoveContainer: { request: { containerId: string }; reply: Record<string, never> };
  ListContainers: { request: { sandboxId?: string }; reply: { containers: ContainerStatusReply[] } };
  ContainerStatus: { request: { containerId: string }; reply: { container: ContainerStatusReply } };
  /** Makes `image` ready to run (a built-in workload's code is loaded); answers its reference. */
  PullImage: { request: { image: string }; reply: { imageRef: string } };
}

export type MethodName = keyof Methods;

export const METHOD_NAMES: readonly MethodName[] = ['RunPodSandbox', 'StopPodSandbox', 'RemovePodSandbox', 'ListPodSandbox', 'CreateContainer', 'StartContainer', 'StopContainer', 'RemoveContainer', 'ListContainers', 'ContainerStatus', 'PullImage'];

/**
 * Streaming methods (not JSON replies): `GET /v1/ContainerEvents`,
 * `GET /v1/ContainerLogs?containerId=..&follow=true&tailLines=N`, and
 * `POST /v1/Attach?containerId=..&closeStdin=true` whose request body is the container's stdin
 * (its output is in its log).
 */
export const STREAM_METHODS = ['ContainerEvents', 'ContainerLogs', 'Attach'] as const;

/** A request the runtime refuses: the HTTP status and a message that names the field. */
export class RuntimeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RuntimeApiError';
  }
}

export function invalid(message: string): RuntimeApiError {
  return new RuntimeApiError(400, message);
}

/** Splits `/v1/Method` into its version and method; unknown versions and methods are errors. */
export function routeOf(path: string): { version: string; method: string } {
  const m = /^\/([^/]+)\/([A-Za-z]+)$/.exec(path);
  if (!m) throw new RuntimeApiError(404, `no such path "${path}": use /version or /${RUNTIME_API_VERSION}/<Method>`);
  const [, version, method] = m;
  if (!SUPPORTED_API_VERSIONS.includes(version)) throw new RuntimeApiError(404, `unsupported runtime API version "${version}"; this runtime speaks ${SUPPORTED_API_VERSIONS.join(', ')}`);
  if (!(METHOD_NAMES as readonly string[]).includes(method) && !(STREAM_METHODS as readonly string[]).includes(method)) {
    throw new RuntimeApiError(404, `unknown method "${method}"; methods: ${[...METHOD_NAMES, ...STREAM_METHODS].join(', ')}`);
  }
  return { version, method };
}

/** The version a client uses with a runtime that answered `reply` (or why it cannot talk to it). */
export function negotiateVersion(reply: unknown, known: readonly string[] = SUPPORTED_API_VERSIONS): string {
  const r = reply as Partial<VersionReply> | undefined;
  if (!r || typeof r !== 'object' || !Array.isArray(r.supported)) throw new Error('the node runtime answered /version without a "supported" list: not a flatnet runtime?');
  const common = known.filter((v) => r.supported!.includes(v));
  if (common.length === 0) throw new Error(`the node runtime speaks API ${r.supported.join(', ')} and this agent ${known.join(', ')}: upgrade one of them`);
  return common[common.length - 1];
}

type Json = Record<string, unknown>;

function object(v: unknown, path: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid(`${path}: must be an object`);
  return v as Json;
}

function str(o: Json, key: string, path: string, opts: { optional?: boolean; nonEmpty?: boolean } = {}): string {
  const v = o[key];
  if (v === undefined && opts.optional) return '';
  if (typeof v !== 'string') throw invalid(`${path}.${key}: must be a string`);
  if (opts.nonEmpty && v.length === 0) throw invalid(`${path}.${key}: must not be empty`);
  return v;
}

function optStr(o: Json, key: string, path: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, path);
}

function int(o: Json, key: string, path: string, min = 0, fallback?: number): number {
  const v = o[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw invalid(`${path}.${key}: must be a whole number >= ${min}`);
  return v;
}

function bool(o: Json, key: string, path: string): boolean {
  const v = o[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw invalid(`${path}.${key}: must be true or false`);
  return v;
}

function strings(o: Json, key: string, path: string, nonEmpty = false): string[] {
  const v = o[key];
  if (v === undefined && !nonEmpty) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw invalid(`${path}.${key}: must be a list of strings`);
  if (nonEmpty && v.length === 0) throw invalid(`${path}.${key}: must not be empty`);
  return v as string[];
}

function absolute(p: string, path: string): string {
  if (!p.startsWith('/')) throw invalid(`${path}: must be an absolute path (got "${p}")`);
  return p;
}

const NETNS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

export function decodeSandboxConfig(v: unknown, path = 'config'): PodSandboxConfig {
  const o = object(v, path);
  const netns = str(o, 'netns', path);
  if (netns !== '' && !NETNS_NAME.test(netns)) throw invalid(`${path}.netns: "${netns}" is not a network namespace name`);
  const utsPath = optStr(o, 'utsPath', path);
  return {
    uid: str(o, 'uid', path, { nonEmpty: true }),
    namespace: str(o, 'namespace', path, { nonEmpty: true }),
    name: str(o, 'name', path, { nonEmpty: true }),
    netns,
    ...(utsPath ? { utsPath: absolute(utsPath, `${path}.utsPath`) } : {}),
    podIP: str(o, 'podIP', path, { optional: true }),
    hostname: str(o, 'hostname', path, { optional: true }),
    logDir: absolute(str(o, 'logDir', path, { nonEmpty: true }), `${path}.logDir`),
  };
}

function decodeIdentity(v: unknown, path: string): ContainerIdentity {
  const o = object(v, path);
  const groups = o.groups;
  if (!Array.isArray(groups) || groups.some((g) => typeof g !== 'number' || !Number.isInteger(g) || g < 0)) throw invalid(`${path}.groups: must be a list of whole numbers`);
  const capabilities = strings(o, 'capabilities', path);
  for (const [i, c] of capabilities.entries()) if (!/^[A-Z_]+$/.test(c)) throw invalid(`${path}.capabilities[${i}]: "${c}" is not a capability name (upper case, without CAP_)`);
  return {
    uid: int(o, 'uid', path),
    gid: int(o, 'gid', path),
    groups: groups as number[],
    capabilities,
    noNewPrivileges: bool(o, 'noNewPrivileges', path),
    readOnlyRootFilesystem: bool(o, 'readOnlyRootFilesystem', path),
    privileged: bool(o, 'privileged', path),
  };
}

function decodeRun(v: unknown, path: string): ContainerRun {
  const o = object(v, path);
  if (o.kind === 'builtin') {
    const image = str(o, 'image', path, { nonEmpty: true });
    const args = strings(o, 'args', path);
    if (o.api === undefined) return { kind: 'builtin', image, args };
    const api = object(o.api, `${path}.api`);
    return {
      kind: 'builtin',
      image,
      args,
      api: {
        kubeconfig: absolute(str(api, 'kubeconfig', `${path}.api`, { nonEmpty: true }), `${path}.api.kubeconfig`),
        tokenFile: absolute(str(api, 'tokenFile', `${path}.api`, { nonEmpty: true }), `${path}.api.tokenFile`),
      },
    };
  }
  if (o.kind !== 'process') throw invalid(`${path}.kind: must be "builtin" or "process"`);
  const serviceAccountDir = optStr(o, 'serviceAccountDir', path);
  const workingDir = optStr(o, 'workingDir', path);
  const hidden = strings(o, 'hidden', path);
  hidden.forEach((h, i) => absolute(h, `${path}.hidden[${i}]`));
  return {
    kind: 'process',
    argv: strings(o, 'argv', path, true),
    identity: decodeIdentity(o.identity, `${path}.identity`),
    hostPID: bool(o, 'hostPID', path),
    hostIPC: bool(o, 'hostIPC', path),
    hidden,
    ...(serviceAccountDir ? { serviceAccountDir: absolute(serviceAccountDir, `${path}.serviceAccountDir`) } : {}),
    tty: bool(o, 'tty', path),
    stdin: bool(o, 'stdin', path),
    ...(workingDir ? { workingDir: absolute(workingDir, `${path}.workingDir`) } : {}),
  };
}

const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function decodeContainerConfig(v: unknown, path = 'config'): ContainerConfig {
  const o = object(v, path);
  const name = str(o, 'name', path, { nonEmpty: true });
  if (!CONTAINER_NAME.test(name)) throw invalid(`${path}.name: "${name}" is not a DNS label`);
  const env = object(o.env ?? {}, `${path}.env`);
  for (const [k, val] of Object.entries(env)) if (typeof val !== 'string') throw invalid(`${path}.env.${k}: must be a string`);
  const portsRaw = o.ports ?? [];
  if (!Array.isArray(portsRaw)) throw invalid(`${path}.ports: must be a list`);
  const ports = portsRaw.map((p, i) => {
    const po = object(p, `${path}.ports[${i}]`);
    const containerPort = int(po, 'containerPort', `${path}.ports[${i}]`, 1);
    if (containerPort > 65535) throw invalid(`${path}.ports[${i}].containerPort: must be at most 65535`);
    const protocol = optStr(po, 'protocol', `${path}.ports[${i}]`) as ContainerPort['protocol'];
    if (protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(protocol)) throw invalid(`${path}.ports[${i}].protocol: must be TCP, UDP or SCTP (got "${protocol}")`);
    const portName = optStr(po, 'name', `${path}.ports[${i}]`);
    return { containerPort, ...(protocol ? { protocol } : {}), ...(portName ? { name: portName } : {}) };
  });
  return {
    sandboxId: str(o, 'sandboxId', path, { nonEmpty: true }),
    name,
    attempt: int(o, 'attempt', path, 0, 0),
    env: env as Record<string, string>,
    ports,
    run: decodeRun(o.run, `${path}.run`),
  };
}

function id(o: Json, key: string): string {
  return str(o, key, 'request', { nonEmpty: true });
}

/** Decodes the JSON body of `method` (already parsed) into its typed request. */
export function decodeRequest<M extends MethodName>(method: M, body: unknown): Methods[M]['request'] {
  const o = object(body ?? {}, 'request');
  const out: Record<MethodName, () => unknown> = {
    RunPodSandbox: () => ({ config: decodeSandboxConfig(o.config) }),
    StopPodSandbox: () => ({ sandboxId: id(o, 'sandboxId'), graceSeconds: int(o, 'graceSeconds', 'request', 0, 30) }),
    RemovePodSandbox: () => ({ sandboxId: id(o, 'sandboxId') }),
    ListPodSandbox: () => ({}),
    CreateContainer: () => ({ config: decodeContainerConfig(o.config) }),
    StartContainer: () => ({ containerId: id(o, 'containerId') }),
    StopContainer: () => ({ containerId: id(o, 'containerId'), graceSeconds: int(o, 'graceSeconds', 'request', 0, 30) }),
    RemoveContainer: () => ({ containerId: id(o, 'containerId') }),
    ListContainers: () => (o.sandboxId === undefined ? {} : { sandboxId: id(o, 'sandboxId') }),
    ContainerStatus: () => ({ containerId: id(o, 'containerId') }),
    PullImage: () => ({ image: str(o, 'image', 'request', { nonEmpty: true }) }),
  };
  return out[method]() as Methods[M]['request'];
}

/** The container id the runtime gives a container: stable for a pod, name and attempt. */
export function containerIdOf(sandboxId: string, name: string, attempt: number): string {
  return `${sandboxId.replace(/-/g, '').slice(0, 12)}-${name}-${attempt}`;
}
