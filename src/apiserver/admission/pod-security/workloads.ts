// Where a pod spec lives in each kind PodSecurity looks at: pods themselves (enforced) and the
// pod templates of workload kinds (warned and audited only, as upstream). Pure.
import type { ResourceInfo } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/types.js';
import type { PodMeta } from './checks.js';

type Json = Record<string, unknown>;

export interface PodShape {
  meta: PodMeta;
  spec: Json;
}

const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

function fromTemplate(template: unknown): PodShape | undefined {
  const t = obj(template);
  const spec = obj(t?.spec);
  if (!spec) return undefined;
  return { meta: { annotations: (obj(t?.metadata)?.annotations as Record<string, string> | undefined) ?? {} }, spec };
}

/** The path from an object of each workload kind to its pod template. */
const TEMPLATE_OF: Record<string, (o: KubeObject) => unknown> = {
  '/replicationcontrollers': (o) => obj(o.spec)?.template,
  '/podtemplates': (o) => (o as { template?: unknown }).template,
  'apps/deployments': (o) => obj(o.spec)?.template,
  'apps/replicasets': (o) => obj(o.spec)?.template,
  'apps/statefulsets': (o) => obj(o.spec)?.template,
  'apps/daemonsets': (o) => obj(o.spec)?.template,
  'batch/jobs': (o) => obj(o.spec)?.template,
  'batch/cronjobs': (o) => obj(obj(obj(o.spec)?.jobTemplate)?.spec)?.template,
};

export function isPodResource(r: Pick<ResourceInfo, 'group' | 'plural'>): boolean {
  return r.group === '' && r.plural === 'pods';
}

export function isWorkloadResource(r: Pick<ResourceInfo, 'group' | 'plural'>): boolean {
  return `${r.group}/${r.plural}` in TEMPLATE_OF;
}

export function podShape(o: KubeObject): PodShape {
  return { meta: { annotations: o.metadata.annotations ?? {} }, spec: obj(o.spec) ?? {} };
}

/** The pod template of a workload object, or undefined when it has none (yet). */
export function templateShape(r: Pick<ResourceInfo, 'group' | 'plural'>, o: KubeObject): PodShape | undefined {
  const at = TEMPLATE_OF[`${r.group}/${r.plural}`];
  return at ? fromTemplate(at(o)) : undefined;
}

const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';

/**
 * Whether a pod update can change the pod's verdict. Pod specs are immutable except for images
 * (and fields no check reads), so as upstream: only container counts, images, seccomp annotations
 * and new or changed ephemeral containers count.
 */
export function isSignificantPodUpdate(next: KubeObject, old: KubeObject): boolean {
  const a = next.metadata.annotations ?? {};
  const b = old.metadata.annotations ?? {};
  if (a[SECCOMP_POD_ANNOTATION] !== b[SECCOMP_POD_ANNOTATION]) return true;
  const spec = obj(next.spec) ?? {};
  const oldSpec = obj(old.spec) ?? {};
  const list = (s: Json, k: string): Json[] => (Array.isArray(s[k]) ? (s[k] as unknown[]).map((c) => obj(c) ?? {}) : []);
  const changed = (c: Json, o: Json) => c.image !== o.image || a[SECCOMP_CONTAINER_ANNOTATION_PREFIX + String(c.name)] !== b[SECCOMP_CONTAINER_ANNOTATION_PREFIX + String(c.name)];
  for (const key of ['containers', 'initContainers']) {
    const now = list(spec, key);
    const before = list(oldSpec, key);
    if (now.length !== before.length) return true;
    if (now.some((c, i) => changed(c, before[i]))) return true;
  }
  const oldEphemeral = list(oldSpec, 'ephemeralContainers');
  for (const c of list(spec, 'ephemeralContainers')) {
    const o = oldEphemeral.find((x) => x.name === c.name);
    if (!o || changed(c, o)) return true;
  }
  return false;
}
