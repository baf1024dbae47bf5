// The ServiceAccount admission plugin for pod creates, as kube-apiserver 1.32's: the pod's
// ServiceAccount (spec.serviceAccountName, defaulted to `default`) must exist in its namespace,
// else the pod is forbidden; unless automountServiceAccountToken is false (the pod's field wins,
// then the ServiceAccount's) every container and init container that mounts nothing at
// /var/run/secrets/kubernetes.io/serviceaccount gets the `kube-api-access-<5 random>` projected
// volume there (a bound token, the cluster CA from `kube-root-ca.crt`, the namespace); a pod
// without imagePullSecrets gets its ServiceAccount's. Ephemeral containers are added later by
// another subresource, which this plugin does not mutate (as upstream). The namespace's `default`
// ServiceAccount, which the serviceaccount controller creates, is created here when a pod
// arrives before the controller has made it, so a pod created right after its namespace is not
// refused. Mirror pods are not mutated (flatnet has none; upstream leaves them alone too).
import { R } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { errors } from '../errors.js';
import { type Registry, type WriteContext, storeKey } from '../registry.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
/** Where client-go's in-cluster configuration reads token, ca.crt and namespace. */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The prefix of the projected volume's name; a volume already named so is reused. */
export const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
/** The token lifetime the plugin asks for (an hour and 7 seconds, upstream's warn-only marker). */
export const TOKEN_EXPIRATION_SECONDS = 3607;
/** The annotation that marks a kubelet's mirror of a static pod. */
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}
interface ContainerLike {
  volumeMounts?: VolumeMount[];
}
interface PodSpecLike {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  volumes?: { name: string }[];
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
  imagePullSecrets?: { name?: string }[];
}
interface ServiceAccountLike {
  automountServiceAccountToken?: boolean;
  imagePullSecrets?: { name?: string }[];
}

/** The characters upstream's random name suffixes use (no vowels, no 0, 1 or 3). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** `prefix` and 5 random suffix characters, as upstream's SimpleNameGenerator (not a secret: math/rand there too). */
export function randomVolumeName(prefix: string): string {
  let s = prefix;
  for (let i = 0; i < 5; i++) s += SUFFIX_ALPHABET[Math.floor(Math.random() * SUFFIX_ALPHABET.length)];
  return s;
}

/** Whether the pod gets the token: the pod's field wins, then the ServiceAccount's, then true. */
export function shouldAutomount(spec: { automountServiceAccountToken?: boolean }, sa: { automountServiceAccountToken?: boolean } | undefined): boolean {
  return spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;
}

/** The projected volume source the plugin adds (explicit defaultMode 420, as upstream sets it). */
export function tokenVolumeSource(): Record<string, unknown> {
  return {
    defaultMode: 0o644,
    sources: [
      { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  };
}

/**
 * Adds the token volume and its read-only mount to `spec` in place: every init container and
 * container without a mount at SERVICE_ACCOUNT_MOUNT_PATH gets one; the volume is added when a
 * container needed it and no volume named `kube-api-access-*` exists (that one is mounted instead).
 */
export function mountServiceAccountToken(spec: PodSpecLike, nameVolume: (prefix: string) => string = randomVolumeName): void {
  const existing = (spec.volumes ?? []).find((v) => typeof v?.name === 'string' && v.name.startsWith(TOKEN_VOLUME_PREFIX));
  const volumeName = existing?.name ?? nameVolume(TOKEN_VOLUME_PREFIX);
  let needed = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if (!c || typeof c !== 'object') continue;
    if ((c.volumeMounts ?? []).some((m) => m?.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
    (c.volumeMounts ??= []).push({ name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH });
    needed = true;
  }
  if (needed && !existing) (spec.volumes ??= []).push({ name: volumeName, projected: tokenVolumeSource() } as { name: string });
}

export function admitServiceAccount(registry: Registry, ns: string, pod: KubeObject, ctx: WriteContext): void {
  if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
  const spec = (pod.spec ??= {}) as PodSpecLike;
  if (!spec.serviceAccountName) spec.serviceAccountName = DEFAULT_SERVICE_ACCOUNT;
  const sa = serviceAccountOf(registry, ns, spec.serviceAccountName, ctx);
  if (sa === 'missing') {
    throw errors.forbidden(R.pods, pod.metadata.name ?? '', `error looking up service account ${ns}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`);
  }
  if (shouldAutomount(spec, sa)) mountServiceAccountToken(spec);
  const pullSecrets = (sa?.imagePullSecrets ?? []).filter((s) => s?.name).map((s) => ({ name: s.name }));
  if ((spec.imagePullSecrets ?? []).length === 0 && pullSecrets.length > 0) spec.imagePullSecrets = pullSecrets;
}

/**
 * The pod's ServiceAccount; undefined for a `default` one not made yet (created here, or left to
 * the controller on a dry run); 'missing' when another name does not exist.
 */
function serviceAccountOf(registry: Registry, ns: string, name: string, ctx: WriteContext): ServiceAccountLike | undefined | 'missing' {
  const found = registry.store.get(storeKey(R.serviceaccounts), ns, name);
  if (found) return found.obj as ServiceAccountLike;
  if (name !== DEFAULT_SERVICE_ACCOUNT) return 'missing';
  if (ctx.dryRun) return undefined;
  try {
    registry.create(R.serviceaccounts, ns, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } }, { dryRun: false, fieldValidation: 'Ignore', fieldManager: 'flatnet-apiserver', warnings: [] });
  } catch {
    // Created meanwhile, or the namespace is going away (the pod's own create then says so).
  }
  return registry.store.get(storeKey(R.serviceaccounts), ns, name)?.obj as ServiceAccountLike | undefined;
}
