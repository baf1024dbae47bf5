// The built-in images: an image reference is matched by its repository name (any registry,
// tag or digest), and a container of that image becomes either a built-in workload (served by the
// node runtime; its code is imported only when a container of it starts) or a process started in
// the pod (for `command:` overrides and busybox).
import { basename } from 'node:path';
import { gatewayProxyEntrypoint } from '../gateway/proxy-entrypoint.js';
import type { WorkloadMain } from './workload.js';

/**
 * A workload whose implementation is imported when a container of it starts: the agent plans
 * containers from these names alone and never loads a workload it does not run (the DNS server,
 * the web servers, the echo backend's gRPC code stay out of its memory).
 */
function loadedOnStart(load: () => Promise<WorkloadMain>): WorkloadMain {
  const main: WorkloadMain = async (ctx) => (await load())(ctx);
  loaders.set(main, load);
  return main;
}

/** How each lazily loaded workload's code is imported. */
const loaders = new Map<WorkloadMain, () => Promise<WorkloadMain>>();

/**
 * Imports the code of `image`'s workload now, so that a container of it starts without waiting
 * for that (the node runtime's PullImage: a pod's images are "pulled" while its sandbox is made).
 * Images whose containers are processes have nothing to load.
 */
export async function loadWorkload(image: BuiltinImage): Promise<void> {
  const load = image.main && loaders.get(image.main);
  if (load) await load();
}

const runAgnhost = loadedOnStart(async () => (await import('./agnhost.js')).runAgnhost);
const runPause = loadedOnStart(async () => (await import('./pause.js')).runPause);
const runNginx = loadedOnStart(async () => (await import('./web-server.js')).runNginx);
const runHttpd = loadedOnStart(async () => (await import('./web-server.js')).runHttpd);
const runDns = loadedOnStart(async () => (await import('./dns.js')).runDns);
const runEchoBasic = loadedOnStart(async () => (await import('./echo-basic.js')).runEchoBasic);

export interface BuiltinImage {
  /** The repository name users write (`agnhost`, `nginx`...). */
  name: string;
  /** Repository paths (after the registry) that mean this image. */
  repositories: string[];
  summary: string;
  /** The image's own program; absent for images whose containers are processes (busybox). */
  main?: WorkloadMain;
  /** Program names that mean the image's own program when written in `command:`. */
  entrypointNames: string[];
  /** Arguments when the pod gives neither command nor args. */
  defaultArgs: string[];
  /** For process images: the command when the pod gives none. */
  defaultCommand?: string[];
  /**
   * For process images with a fixed program (computed when the container starts): the pod's
   * args are appended to it, and a `command:` naming one of `entrypointNames` runs it too.
   */
  entrypoint?: () => string[];
}

export const BUILTIN_IMAGES: readonly BuiltinImage[] = [
  {
    name: 'agnhost',
    repositories: ['agnhost', 'e2e-test-images/agnhost', 'kubernetes-e2e-test-images/agnhost'],
    summary: 'the e2e test server: netexec, serve-hostname, porter, pause, connect',
    main: runAgnhost,
    entrypointNames: ['agnhost'],
    defaultArgs: [],
  },
  { name: 'pause', repositories: ['pause'], summary: 'holds the pod and does nothing', main: runPause, entrypointNames: ['pause'], defaultArgs: [] },
  { name: 'nginx', repositories: ['nginx', 'library/nginx', 'nginxinc/nginx-unprivileged'], summary: 'static web server on 80 ("Welcome to nginx!")', main: runNginx, entrypointNames: ['nginx'], defaultArgs: [] },
  { name: 'httpd', repositories: ['httpd', 'library/httpd'], summary: 'static web server on 80 ("It works!")', main: runHttpd, entrypointNames: ['httpd', 'httpd-foreground'], defaultArgs: [] },
  { name: 'busybox', repositories: ['busybox', 'library/busybox'], summary: "the machine's busybox applets (default command sh)", entrypointNames: [], defaultArgs: [], defaultCommand: ['sh'] },
  {
    name: 'dnsutils',
    repositories: ['tutum/dnsutils', 'e2e-test-images/jessie-dnsutils', 'jessie-dnsutils', 'infoblox/dnstools', 'nicolaka/netshoot'],
    summary: "the machine's DNS and network tools: dig, nslookup, host, curl (default command sh)",
    entrypointNames: [],
    defaultArgs: [],
    defaultCommand: ['sh'],
  },
  { name: 'flatnet/dns', repositories: ['flatnet/dns'], summary: 'the cluster DNS server', main: runDns, entrypointNames: ['dns', 'flatnet-dns'], defaultArgs: [] },
  {
    name: 'flatnet/gateway',
    repositories: ['flatnet/gateway'],
    summary: 'the Gateway API and Ingress proxy (`flatnet gateway proxy` + the container args)',
    entrypointNames: ['flatnet-gateway'],
    defaultArgs: [],
    entrypoint: gatewayProxyEntrypoint,
  },
  {
    name: 'echo-basic',
    repositories: ['gateway-api/echo-basic', 'gateway-api/conformance/echo-basic', 'k8s-staging-gateway-api/echo-basic', 'k8s-staging-ingressconformance/echoserver', 'ingressconformance/echoserver', 'ingress-controller-conformance/echoserver'],
    summary: 'the Gateway API conformance echo backend: JSON echo on 3000, h2c on 3001, /health, /status/NNN, /retry, /ws',
    main: runEchoBasic,
    entrypointNames: ['echo-basic', 'echoserver'],
    defaultArgs: [],
  },
];

export interface ImageReference {
  registry?: string;
  /** The path after the registry, without tag or digest (`e2e-test-images/agnhost`). */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits an image reference; undefined when it is not a valid reference. */
export function parseImageReference(ref: string): ImageReference | undefined {
  if (!ref || /\s/.test(ref) || ref !== ref.trim()) return undefined;
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  let registry: string | undefined;
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) registry = parts.shift();
  const repository = parts.join('/');
  if (!/^[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*$/.test(repository)) return undefined;
  if (tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(tag)) return undefined;
  return { registry, repository, tag, digest };
}

export function findBuiltinImage(ref: string): BuiltinImage | undefined {
  const parsed = parseImageReference(ref);
  if (!parsed) return undefined;
  const repo = parsed.repository;
  return BUILTIN_IMAGES.find((img) => img.repositories.some((r) => repo === r || repo.endsWith(`/${r}`)));
}

export type ContainerPlan =
  | { kind: 'builtin'; image: BuiltinImage; main: WorkloadMain; args: string[] }
  | { kind: 'process'; image: BuiltinImage; argv: string[] }
  | { kind: 'invalid'; reason: 'InvalidImageName' | 'ImageNotBuiltIn'; message: string };

export function builtinImageList(): string {
  return BUILTIN_IMAGES.map((i) => i.name).join(', ');
}

/** How a container of `image` with `command`/`args` runs. */
export function planContainer(image: string | undefined, command: string[] | undefined, args: string[] | undefined, busyboxApplets: ReadonlySet<string>): ContainerPlan {
  if (!image) return { kind: 'invalid', reason: 'InvalidImageName', message: 'the container has no image; flatnet images: ' + builtinImageList() };
  const parsed = parseImageReference(image);
  if (!parsed) return { kind: 'invalid', reason: 'InvalidImageName', message: `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format` };
  const img = findBuiltinImage(image);
  if (!img) {
    return {
      kind: 'invalid',
      reason: 'ImageNotBuiltIn',
      message: `flatnet has no container runtime and image "${image}" is not built in; built-in images: ${BUILTIN_IMAGES.map((i) => `${i.name} (${i.summary})`).join('; ')}. Use one of them; with "command:" a built-in image runs that program of this machine inside the pod.`,
    };
  }
  if (command && command.length > 0) {
    const program = basename(command[0]);
    if (img.main && img.entrypointNames.includes(program)) return { kind: 'builtin', image: img, main: img.main, args: [...command.slice(1), ...(args ?? [])] };
    if (img.entrypoint && img.entrypointNames.includes(program)) return { kind: 'process', image: img, argv: [...img.entrypoint(), ...command.slice(1), ...(args ?? [])] };
    return { kind: 'process', image: img, argv: mapToBusybox([...command, ...(args ?? [])], img, busyboxApplets) };
  }
  if (img.main) return { kind: 'builtin', image: img, main: img.main, args: args ?? img.defaultArgs };
  if (img.entrypoint) return { kind: 'process', image: img, argv: [...img.entrypoint(), ...(args ?? img.defaultArgs)] };
  const argv = args && args.length > 0 ? args : (img.defaultCommand ?? ['sh']);
  return { kind: 'process', image: img, argv: mapToBusybox(argv, img, busyboxApplets) };
}

/** In the busybox image a program that is a busybox applet runs as that applet. */
function mapToBusybox(argv: string[], img: BuiltinImage, applets: ReadonlySet<string>): string[] {
  if (img.name !== 'busybox' || argv.length === 0) return argv;
  const program = basename(argv[0]);
  if (program === 'busybox') return ['busybox', ...argv.slice(1)];
  if (applets.has(program)) return ['busybox', program, ...argv.slice(1)];
  return argv;
}

/** The program an exec runs in a container of `image` (busybox applets for busybox). */
export function execArgv(image: BuiltinImage | undefined, argv: string[], busyboxApplets: ReadonlySet<string>): string[] {
  return image ? mapToBusybox(argv, image, busyboxApplets) : argv;
}
