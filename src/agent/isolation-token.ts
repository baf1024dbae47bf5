// The ServiceAccount token volume a pod's containers see at /var/run/secrets/kubernetes.io/serviceaccount,
// projected as the kubelet projects it: the pod's spec names it (the ServiceAccount admission plugin
// adds the `kube-api-access-*` projected volume and a mount in each container unless
// automountServiceAccountToken is false), and its sources say what is written: a token bound to
// the pod from the TokenRequest API (path, expirationSeconds, audience), ConfigMap keys
// (kube-root-ca.crt's ca.crt) and downward API fields (metadata.namespace). The files are written
// again when 80% of the token's lifetime has passed; each is replaced by rename, so a reader never
// sees half a token. A pod without such a volume gets nothing; a container gets the directory
// only when it mounts that volume at the standard path.
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { KubeClient } from '../client/client.js';
import { SERVICE_ACCOUNT_MOUNT } from './isolation-plan.js';
import type { DataObject } from './pod-types.js';

/** What upstream's ServiceAccount admission puts in the projected token source. */
export const TOKEN_EXPIRATION_SECONDS = 3607;
/** The kubelet renews a token once 80% of its lifetime has passed. */
export const REFRESH_FRACTION = 0.8;
/** A failed renewal is retried after this long. */
export const RETRY_MS = 10_000;
/** How long the first projection waits for a missing ConfigMap (the root CA publisher may lag a new namespace). */
export const FIRST_WRITE_ATTEMPTS = 20;
export const FIRST_WRITE_RETRY_MS = 1000;

export interface TokenPod {
  namespace: string;
  name: string;
  uid: string;
  serviceAccountName: string;
}

/** One file of the projected volume. */
export type ProjectedFile =
  | { path: string; kind: 'token'; expirationSeconds: number; audience?: string }
  | { path: string; kind: 'configMap'; configMap: string; key: string; optional: boolean }
  | { path: string; kind: 'field'; fieldPath: string };

/** The token volume of a pod: its name and the files it holds. */
export interface TokenVolume {
  name: string;
  files: ProjectedFile[];
}

interface VolumeLike {
  name?: string;
  projected?: {
    sources?: {
      serviceAccountToken?: { path?: string; expirationSeconds?: number; audience?: string };
      configMap?: { name?: string; items?: { key?: string; path?: string }[]; optional?: boolean };
      downwardAPI?: { items?: { path?: string; fieldRef?: { fieldPath?: string } }[] };
      secret?: unknown;
    }[];
  };
}
interface MountingContainer {
  volumeMounts?: { name?: string; mountPath?: string }[];
}

/** A file path inside the volume: relative, without `..` (as upstream's validation requires). */
function checkedPath(path: string | undefined, where: string): string {
  if (!path || path.startsWith('/') || normalize(path).split('/').includes('..')) throw new Error(`${where}: path "${path ?? ''}" must be a relative path without ".."`);
  return normalize(path);
}

/** The projected volume with a serviceAccountToken source that some container mounts at the standard path. */
export function tokenVolumeOf(spec: { volumes?: VolumeLike[]; containers?: MountingContainer[]; initContainers?: MountingContainer[] }): TokenVolume | undefined {
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  for (const v of spec.volumes ?? []) {
    const sources = v.projected?.sources ?? [];
    if (!v.name || !sources.some((s) => s.serviceAccountToken)) continue;
    if (!containers.some((c) => mountsVolume(c, v.name!))) continue;
    const files: ProjectedFile[] = [];
    sources.forEach((s, i) => {
      const where = `volume "${v.name}" sources[${i}]`;
      if (s.serviceAccountToken) {
        const t = s.serviceAccountToken;
        files.push({ path: checkedPath(t.path, where), kind: 'token', expirationSeconds: t.expirationSeconds ?? 3600, audience: t.audience || undefined });
      } else if (s.configMap) {
        for (const item of s.configMap.items ?? []) {
          files.push({ path: checkedPath(item.path, where), kind: 'configMap', configMap: s.configMap.name ?? '', key: item.key ?? '', optional: s.configMap.optional === true });
        }
      } else if (s.downwardAPI) {
        for (const item of s.downwardAPI.items ?? []) {
          files.push({ path: checkedPath(item.path, where), kind: 'field', fieldPath: item.fieldRef?.fieldPath ?? '' });
        }
      } else {
        throw new Error(`${where}: only serviceAccountToken, configMap and downwardAPI sources are projected by flatnet`);
      }
    });
    return { name: v.name, files };
  }
  return undefined;
}

/** Whether container `c` mounts volume `name` at the standard ServiceAccount path. */
export function mountsVolume(c: MountingContainer, name: string): boolean {
  return (c.volumeMounts ?? []).some((m) => m.name === name && normalize(m.mountPath ?? '').replace(/\/$/, '') === SERVICE_ACCOUNT_MOUNT);
}

/** The downward API fields a projected file may name. */
export function podField(pod: TokenPod, fieldPath: string): string {
  switch (fieldPath) {
    case 'metadata.namespace':
      return pod.namespace;
    case 'metadata.name':
      return pod.name;
    case 'metadata.uid':
      return pod.uid;
    default:
      throw new Error(`downwardAPI fieldPath "${fieldPath}" is not projected by flatnet (use metadata.namespace, metadata.name or metadata.uid)`);
  }
}

/** Milliseconds from now until the token issued at `issuedAtMs` and expiring at `expiresAtMs` is renewed. */
export function refreshDelayMs(issuedAtMs: number, expiresAtMs: number, nowMs: number): number {
  return Math.max(0, issuedAtMs + (expiresAtMs - issuedAtMs) * REFRESH_FRACTION - nowMs);
}

/** The TokenRequest body for a token bound to the pod. */
export function tokenRequestBody(pod: TokenPod, expirationSeconds = TOKEN_EXPIRATION_SECONDS, audience?: string): KubeObject {
  return {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: { name: pod.serviceAccountName, namespace: pod.namespace },
    spec: { audiences: audience ? [audience] : [], expirationSeconds, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid } },
  } as KubeObject;
}

function writeAtomically(dir: string, path: string, data: string | Buffer): void {
  const target = join(dir, path);
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  const temp = join(dirname(target), `.${path.replace(/\//g, '_')}.tmp`);
  writeFileSync(temp, data, { mode: 0o644 });
  chmodSync(temp, 0o644);
  renameSync(temp, target);
}

/** The ConfigMap reader (the agent's node credentials may read the ConfigMaps its pods name). */
export type ConfigMapReader = (namespace: string, name: string) => Promise<DataObject | undefined>;

export class ServiceAccountTokenProjector {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Set once every file has been written. */
  written = false;

  constructor(
    private readonly client: KubeClient,
    private readonly pod: TokenPod,
    private readonly volume: TokenVolume,
    /** A directory of its own (its parents may be private; the container sees it by a bind mount). */
    readonly dir: string,
    private readonly configMap: ConfigMapReader,
    private readonly warn: (message: string) => void,
  ) {}

  /** The directory container `c` sees at the standard path, or undefined when it does not mount the volume. */
  dirFor(c: object): string | undefined {
    return this.written && mountsVolume(c as MountingContainer, this.volume.name) ? this.dir : undefined;
  }

  /**
   * Writes every file (waiting a while for a ConfigMap not published yet) and schedules renewal.
   * Throws when the files cannot be had: the caller says why in an event.
   */
  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    chmodSync(this.dir, 0o755);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.project();
        break;
      } catch (err) {
        if (this.stopped || attempt >= FIRST_WRITE_ATTEMPTS || !(err instanceof MissingConfigMapError)) throw err;
        await new Promise((resolve) => setTimeout(resolve, FIRST_WRITE_RETRY_MS));
      }
    }
    this.written = !this.stopped;
  }

  /** Writes all files once; schedules the next write at 80% of the token's lifetime. */
  private async project(): Promise<void> {
    const issuedAt = Date.now();
    let expires = Infinity;
    const contents: [string, string | Buffer][] = [];
    for (const f of this.volume.files) {
      if (f.kind === 'field') contents.push([f.path, podField(this.pod, f.fieldPath)]);
      else if (f.kind === 'configMap') {
        const value = await this.configMapValue(f);
        if (value !== undefined) contents.push([f.path, value]);
      } else {
        const tr = await this.client.create<KubeObject & { status?: { token?: string; expirationTimestamp?: string } }>(R.serviceaccounts, tokenRequestBody(this.pod, f.expirationSeconds, f.audience), { subresource: 'token' });
        const token = tr.status?.token;
        if (!token) throw new Error(`the TokenRequest for serviceaccount ${this.pod.namespace}/${this.pod.serviceAccountName} returned no token`);
        contents.push([f.path, token]);
        expires = Math.min(expires, Date.parse(tr.status?.expirationTimestamp ?? '') || issuedAt + f.expirationSeconds * 1000);
      }
    }
    if (this.stopped) return;
    for (const [path, data] of contents) writeAtomically(this.dir, path, data);
    if (Number.isFinite(expires)) this.schedule(refreshDelayMs(issuedAt, expires, Date.now()));
  }

  private async configMapValue(f: Extract<ProjectedFile, { kind: 'configMap' }>): Promise<string | Buffer | undefined> {
    const cm = await this.configMap(this.pod.namespace, f.configMap);
    const text = cm?.data?.[f.key];
    if (text !== undefined) return text;
    const binary = cm?.binaryData?.[f.key];
    if (binary !== undefined) return Buffer.from(binary, 'base64');
    if (f.optional) return undefined;
    throw new MissingConfigMapError(cm ? `configmap "${f.configMap}" has no key "${f.key}"` : `configmap "${f.configMap}" not found`);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.project().catch((err: Error) => {
        this.warn(`cannot renew the ServiceAccount token of pod ${this.pod.namespace}/${this.pod.name}: ${err.message}`);
        this.schedule(RETRY_MS);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** Stops renewing and removes the files. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

class MissingConfigMapError extends Error {}
