// How a `command:` container is isolated, as a pure plan from the pod and container specs: the
// namespaces it gets (mount with private propagation, PID unless hostPID, IPC; the pod's network
// and UTS namespaces are shared by its containers), the mounts made in its own mount namespace
// (tmpfs over the node's and the server's secrets, a private /dev/shm, the ServiceAccount token
// directory, a read-only root), and the user, groups and capabilities from securityContext.
// The plan is a command line for util-linux (`unshare`, `nsenter`, `setpriv`) and `tini` as the
// container's PID 1 (it forwards signals and reaps orphans, as `docker run --init`).
import { shellQuote } from './container-process.js';

/** The capabilities containerd gives a container that is not privileged. */
export const DEFAULT_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID',
  'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
] as const;

/** Every capability Linux 6.x knows (a privileged container keeps them all). */
export const ALL_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID',
  'SETPCAP', 'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW',
  'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT',
  'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD',
  'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG',
  'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
] as const;

/** Where in-pod clients look for the ServiceAccount token (client-go's in-cluster config). */
export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The same directory through the /var/run -> /run link (the mount target must be a real path). */
export const SERVICE_ACCOUNT_MOUNT_TARGET = '/run/secrets/kubernetes.io/serviceaccount';

/** Paths holding credentials of the machine (and other pods' files) that no container sees, whatever the node's data dir. */
export const ALWAYS_HIDDEN = ['/root', '/home', '/etc/kubernetes', '/etc/netns', '/var/lib/flatnet', '/var/lib/kubelet', '/run/flatnet'];

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  supplementalGroups?: number[];
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
}

export interface IsolationPodInput {
  namespace: string;
  name: string;
  uid: string;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
}

export interface IsolationContainerInput {
  name: string;
  securityContext?: SecurityContext;
}

/** The process identity and privileges of a container. */
export interface ContainerIdentity {
  uid: number;
  gid: number;
  groups: number[];
  /** Capability names without the CAP_ prefix, upper case, in kernel order. */
  capabilities: string[];
  noNewPrivileges: boolean;
  readOnlyRootFilesystem: boolean;
  /** securityContext.privileged: every capability, the host's /dev and /sys, a writable root. */
  privileged: boolean;
}

/** The kubelet refuses to create the container (a CreateContainerConfigError). */
export class ContainerSecurityError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

/** The kubelet's name for a pod in messages: name_namespace(uid). */
export function podDescription(pod: IsolationPodInput): string {
  return `${pod.name}_${pod.namespace}(${pod.uid})`;
}

function normaliseCapability(name: string): string {
  return name.toUpperCase().replace(/^CAP_/, '');
}

/**
 * The capability set as containerd computes it: the default set (all when privileged), plus
 * `add` (ALL adds every one), minus `drop` (ALL drops every one not explicitly added).
 */
export function capabilitySet(privileged: boolean, caps: SecurityContext['capabilities']): string[] {
  if (privileged) return [...ALL_CAPABILITIES];
  const add = (caps?.add ?? []).map(normaliseCapability);
  const drop = (caps?.drop ?? []).map(normaliseCapability);
  for (const name of [...add, ...drop]) {
    if (name !== 'ALL' && !(ALL_CAPABILITIES as readonly string[]).includes(name)) {
      throw new ContainerSecurityError(`unknown capability "${name}" in securityContext.capabilities`);
    }
  }
  const set = new Set<string>(add.includes('ALL') ? ALL_CAPABILITIES : DEFAULT_CAPABILITIES);
  for (const a of add) if (a !== 'ALL') set.add(a);
  if (drop.includes('ALL')) {
    for (const c of [...set]) if (!add.includes(c)) set.delete(c);
  }
  for (const d of drop) if (d !== 'ALL' && !add.includes(d)) set.delete(d);
  return ALL_CAPABILITIES.filter((c) => set.has(c));
}

/**
 * The user, groups and capabilities of a container: the container's securityContext wins over
 * the pod's; without an image there is no image user, so the default user is root (uid 0,
 * gid 0). runAsNonRoot is enforced with the kubelet's messages.
 */
export function containerIdentity(pod: IsolationPodInput, container: IsolationContainerInput): ContainerIdentity {
  const psc = pod.securityContext ?? {};
  const csc = container.securityContext ?? {};
  const uid = csc.runAsUser ?? psc.runAsUser ?? 0;
  const gid = csc.runAsGroup ?? psc.runAsGroup ?? 0;
  const nonRoot = csc.runAsNonRoot ?? psc.runAsNonRoot ?? false;
  for (const [field, v] of [['runAsUser', uid], ['runAsGroup', gid]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 2147483647) throw new ContainerSecurityError(`securityContext.${field}: ${v} is not a valid id (0 to 2147483647)`);
  }
  if (nonRoot) {
    const explicit = csc.runAsUser ?? psc.runAsUser;
    if (explicit === 0) throw new ContainerSecurityError(`container's runAsUser breaks non-root policy (pod: "${podDescription(pod)}", container: ${container.name})`);
    if (explicit === undefined) throw new ContainerSecurityError(`container has runAsNonRoot and image will run as root (pod: "${podDescription(pod)}", container: ${container.name})`);
  }
  const privileged = csc.privileged === true;
  const groups = [...new Set([...(csc.runAsGroup !== undefined || psc.runAsGroup !== undefined ? [gid] : []), ...(psc.supplementalGroups ?? [])])];
  return {
    uid,
    gid,
    groups,
    capabilities: capabilitySet(privileged, csc.capabilities),
    noNewPrivileges: csc.allowPrivilegeEscalation === false,
    readOnlyRootFilesystem: csc.readOnlyRootFilesystem === true,
    privileged,
  };
}

/**
 * The directories to hide from containers: the node's data directory, the lab's (and so the
 * server's) data directory when the node's sits in its `nodes/` folder, and ALWAYS_HIDDEN.
 */
export function hiddenPaths(agentDataDir: string | undefined): string[] {
  const out = new Set<string>();
  if (agentDataDir) {
    const dir = agentDataDir.replace(/\/+$/, '');
    out.add(dir);
    const parts = dir.split('/');
    if (parts.length >= 3 && parts[parts.length - 2] === 'nodes') out.add(parts.slice(0, -2).join('/') || '/');
  }
  for (const p of ALWAYS_HIDDEN) out.add(p);
  // A path inside another hidden path is covered already (and would not exist once that is).
  const all = [...out].filter((p) => p !== '/');
  return all.filter((p) => !all.some((q) => q !== p && p.startsWith(q + '/'))).sort();
}

/** setpriv's arguments that switch to the container's identity. */
export function setprivArgs(id: ContainerIdentity): string[] {
  const caps = id.capabilities.map((c) => `+${c.toLowerCase()}`).join(',');
  const bounding = caps ? `-all,${caps}` : '-all';
  const args = ['setpriv', `--reuid=${id.uid}`, `--regid=${id.gid}`];
  args.push(id.groups.length > 0 ? `--groups=${id.groups.join(',')}` : '--clear-groups');
  args.push(`--bounding-set=${bounding}`, '--inh-caps=-all');
  if (id.noNewPrivileges) args.push('--no-new-privs');
  return args;
}

export interface ContainerLaunchInput {
  /** The pod's network namespace name ('' for a host-network pod of an agent in the root namespace). */
  netns: string;
  utsPath?: string;
  hostPID: boolean;
  hostIPC: boolean;
  identity: ContainerIdentity;
  hidden: string[];
  /** A directory with token, ca.crt and namespace to show at SERVICE_ACCOUNT_MOUNT. */
  serviceAccountDir?: string;
  argv: string[];
  tty: boolean;
}

/** Device nodes a container gets, bound from the host (as the OCI runtime spec's default devices). */
export const CONTAINER_DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];
/** Where the container's /dev is assembled before it is moved over /dev (hidden afterwards). */
export const DEV_STAGING = '/run/flatnet/container-dev';
/** Directories that stay writable in a container whose root is read-only (unless readOnlyRootFilesystem). */
export const WRITABLE_DIRS = ['/tmp', '/var/tmp'];

/**
 * The shell run as root inside the new namespaces before the switch to the container's user:
 * the token, a minimal /dev (no host disks) with its own devpts and /dev/shm, read-only
 * /proc/sys, /proc/sysrq-trigger and /sys, the secrets covered, and the host's root file system
 * read-only (a container has no image, so the root it sees is the machine's) with /tmp and
 * /var/tmp writable unless readOnlyRootFilesystem. A privileged container keeps the host's /dev,
 * /sys and a writable root.
 */
export function mountScript(input: Pick<ContainerLaunchInput, 'hidden' | 'serviceAccountDir' | 'identity' | 'hostIPC' | 'hostPID'>): string {
  const privileged = input.identity.privileged;
  const q = (p: string) => shellQuote([p]);
  const lines = ['set -e'];
  if (input.serviceAccountDir) {
    // Bound before the data directories are covered: the mount keeps its source reachable.
    lines.push(`mkdir -p ${q(SERVICE_ACCOUNT_MOUNT_TARGET)}`);
    // mount(8) applies the options of a bind with a second, remounting call itself.
    lines.push(`mount --bind -o ro,nosuid,nodev,noexec ${q(input.serviceAccountDir)} ${q(SERVICE_ACCOUNT_MOUNT_TARGET)}`);
  }
  if (!privileged) {
    const d = DEV_STAGING;
    lines.push(`mkdir -p ${d}`, `mount -t tmpfs -o nosuid,noexec,mode=0755,size=64k flatnet-dev ${d}`);
    lines.push(`for n in ${CONTAINER_DEVICES.join(' ')}; do : > ${d}/$n; mount --bind /dev/$n ${d}/$n; done`);
    lines.push(`mkdir ${d}/pts ${d}/shm`, `mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,nosuid,noexec devpts ${d}/pts`);
    lines.push(input.hostIPC ? `mount --bind /dev/shm ${d}/shm` : `mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=65536k shm ${d}/shm`);
    lines.push(`ln -s pts/ptmx ${d}/ptmx`, `ln -s /proc/self/fd ${d}/fd`, `ln -s /proc/self/fd/0 ${d}/stdin`, `ln -s /proc/self/fd/1 ${d}/stdout`, `ln -s /proc/self/fd/2 ${d}/stderr`);
    lines.push(`mount --move ${d} /dev`);
    lines.push('mount -o remount,bind,ro,nosuid,nodev,noexec /sys');
    if (!input.hostPID) {
      // The container's own /proc (mounted by unshare): its kernel knobs stay read-only.
      for (const p of ['/proc/sys', '/proc/sysrq-trigger']) lines.push(`if [ -e ${p} ]; then mount --bind -o ro ${p} ${p}; fi`);
    }
  } else if (!input.hostIPC) {
    lines.push('mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=65536k shm /dev/shm');
  }
  const readOnlyRoot = !privileged || input.identity.readOnlyRootFilesystem;
  // The writable directories are bound first: a bind does not carry the covers made later.
  if (readOnlyRoot && !input.identity.readOnlyRootFilesystem) for (const w of WRITABLE_DIRS) lines.push(`if [ -d ${w} ]; then mount --bind ${w} ${w}; fi`);
  for (const p of input.hidden) {
    lines.push(`if [ -d ${q(p)} ]; then mount -t tmpfs -o ro,size=4k,mode=0755,nosuid,nodev,noexec flatnet-hidden ${q(p)}; fi`);
  }
  if (readOnlyRoot) lines.push('mount -o remount,bind,ro /');
  lines.push('exec "$@"');
  return lines.join('\n');
}

/** The program the container's user runs: tini as PID 1 in its own PID namespace, `script` for a TTY. */
function userCommand(input: Pick<ContainerLaunchInput, 'argv' | 'tty' | 'hostPID'>): string[] {
  const inner = input.tty ? ['script', '-qfec', shellQuote(input.argv), '/dev/null'] : input.argv;
  return input.hostPID ? inner : ['tini', '--', ...inner];
}

/** The whole command line that starts an isolated container. */
export function containerLaunchArgv(input: ContainerLaunchInput): string[] {
  const net = input.netns ? ['ip', 'netns', 'exec', input.netns] : [];
  const uts = input.utsPath ? ['nsenter', `--uts=${input.utsPath}`, '--'] : [];
  const unshare = ['unshare', '--mount', '--propagation', 'private'];
  if (!input.hostIPC) unshare.push('--ipc');
  if (!input.hostPID) unshare.push('--pid', '--fork', '--mount-proc', '--kill-child');
  return [...net, ...uts, ...unshare, '--', 'sh', '-c', mountScript(input), 'flatnet-container-init', ...setprivArgs(input.identity), '--', ...userCommand(input)];
}

/**
 * A command run inside a running container (exec, exec probes): nsenter into the namespaces of
 * its PID 1 (mount, PID, IPC, UTS, network), then the container's identity.
 */
export function execInContainerArgv(initPid: number, input: { hostPID: boolean; identity: ContainerIdentity; argv: string[]; tty: boolean }): string[] {
  const ns = ['nsenter', `--target=${initPid}`, '--mount', '--ipc', '--uts', '--net'];
  if (!input.hostPID) ns.push('--pid');
  const inner = input.tty ? ['script', '-qfec', shellQuote(input.argv), '/dev/null'] : input.argv;
  return [...ns, '--', ...setprivArgs(input.identity), '--', ...inner];
}

/**
 * A command run beside a built-in workload (which lives in the agent, outside any container
 * namespace): only the pod's network and UTS namespaces, as root.
 */
export function podNamespacesArgv(input: { netns: string; utsPath?: string; argv: string[]; tty: boolean }): string[] {
  const inner = input.tty ? ['script', '-qfec', shellQuote(input.argv), '/dev/null'] : input.argv;
  const uts = input.utsPath ? ['nsenter', `--uts=${input.utsPath}`, '--'] : [];
  const net = input.netns ? ['ip', 'netns', 'exec', input.netns] : [];
  return [...net, ...uts, ...inner];
}
