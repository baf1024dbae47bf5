// The ServiceAccount token a pod's containers see at /var/run/secrets/kubernetes.io/serviceaccount
// (token, ca.crt, namespace), as the kubelet projects the `kube-api-access-*` volume: a token
// bound to the pod from the TokenRequest API (expirationSeconds 3607, as the admission plugin
// sets), rewritten when 80% of its lifetime has passed, not mounted when
// automountServiceAccountToken is false on the pod or (unset there) on the ServiceAccount.
// Files are replaced by rename, so a reader never sees half a token.
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { KubeClient } from '../client/client.js';

/** What upstream's ServiceAccount admission puts in the projected token source. */
export const TOKEN_EXPIRATION_SECONDS = 3607;
/** The kubelet renews a token once 80% of its lifetime has passed. */
export const REFRESH_FRACTION = 0.8;
/** A failed request is retried after this long. */
export const RETRY_MS = 10_000;

export interface TokenPod {
  namespace: string;
  name: string;
  uid: string;
  serviceAccountName: string;
  automountServiceAccountToken?: boolean;
}

/** Whether the pod gets the token: the pod's field wins, then the ServiceAccount's, then true. */
export function automountToken(pod: { automountServiceAccountToken?: boolean }, sa: { automountServiceAccountToken?: boolean } | undefined): boolean {
  return pod.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;
}

/** Milliseconds from now until the token issued at `issuedAtMs` and expiring at `expiresAtMs` is renewed. */
export function refreshDelayMs(issuedAtMs: number, expiresAtMs: number, nowMs: number): number {
  return Math.max(0, issuedAtMs + (expiresAtMs - issuedAtMs) * REFRESH_FRACTION - nowMs);
}

/** The TokenRequest body for a token bound to the pod. */
export function tokenRequestBody(pod: TokenPod, expirationSeconds = TOKEN_EXPIRATION_SECONDS): KubeObject {
  return {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: { name: pod.serviceAccountName, namespace: pod.namespace },
    spec: { audiences: [], expirationSeconds, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid } },
  } as KubeObject;
}

function writeAtomically(dir: string, name: string, data: string | Buffer): void {
  const temp = join(dir, `.${name}.tmp`);
  writeFileSync(temp, data, { mode: 0o644 });
  chmodSync(temp, 0o644);
  renameSync(temp, join(dir, name));
}

export class ServiceAccountTokenProjector {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Set once the first token is written. */
  written = false;

  constructor(
    private readonly client: KubeClient,
    private readonly pod: TokenPod,
    /** A directory of its own (its parents may be private; the container sees it by a bind mount). */
    readonly dir: string,
    /** The cluster CA (PEM) that in-pod clients verify the API server with. */
    private readonly caPem: string | Buffer | undefined,
    private readonly warn: (message: string) => void,
  ) {}

  /**
   * Writes the first token (when the pod mounts one); resolves false when automount is off.
   * Throws when the first token cannot be had: containers must not start without it.
   */
  async start(): Promise<boolean> {
    const sa = await this.client.get<KubeObject & { automountServiceAccountToken?: boolean }>(R.serviceaccounts, this.pod.namespace, this.pod.serviceAccountName);
    if (!automountToken(this.pod, sa)) return false;
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    chmodSync(this.dir, 0o755);
    writeAtomically(this.dir, 'namespace', this.pod.namespace);
    if (this.caPem) writeAtomically(this.dir, 'ca.crt', this.caPem);
    await this.refresh();
    this.written = true;
    return true;
  }

  private async refresh(): Promise<void> {
    const issuedAt = Date.now();
    const tr = await this.client.create<KubeObject & { status?: { token?: string; expirationTimestamp?: string } }>(R.serviceaccounts, tokenRequestBody(this.pod), { subresource: 'token' });
    const token = tr.status?.token;
    if (!token) throw new Error(`the TokenRequest for serviceaccount ${this.pod.namespace}/${this.pod.serviceAccountName} returned no token`);
    if (this.stopped) return;
    writeAtomically(this.dir, 'token', token);
    const expires = Date.parse(tr.status?.expirationTimestamp ?? '') || issuedAt + TOKEN_EXPIRATION_SECONDS * 1000;
    this.schedule(refreshDelayMs(issuedAt, expires, Date.now()));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh().catch((err: Error) => {
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
