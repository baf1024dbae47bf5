// The scale subresource of a custom resource: an autoscaling/v1 Scale read from and written to the
// paths its CRD names (specReplicasPath, statusReplicasPath, labelSelectorPath), as
// kube-apiserver maps them; a missing replicas value reads as 0, a missing selector as "".
import type { KubeObject } from '../../api/types.js';
import { customResourceOf } from './resource.js';

function segments(path: string): string[] {
  return path.replace(/^\./, '').split('.').filter(Boolean);
}

function read(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const s of segments(path)) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[s];
  }
  return v;
}

/** The Scale of a custom resource with a scale subresource, or undefined for any other resource. */
export function customScaleOf(r: object, obj: KubeObject): KubeObject | undefined {
  const scale = customResourceOf(r)?.scale;
  if (!scale) return undefined;
  const spec = read(obj, scale.specReplicasPath);
  const status = read(obj, scale.statusReplicasPath);
  const selector = scale.labelSelectorPath ? read(obj, scale.labelSelectorPath) : undefined;
  const m = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: typeof spec === 'number' ? spec : 0 },
    status: { replicas: typeof status === 'number' ? status : 0, selector: typeof selector === 'string' ? selector : '' },
  };
}

/** Writes `replicas` at the CRD's specReplicasPath (creating the objects on the way); false for a built-in. */
export function setCustomScaleReplicas(r: object, obj: KubeObject, replicas: number): boolean {
  const scale = customResourceOf(r)?.scale;
  if (!scale) return false;
  const path = segments(scale.specReplicasPath);
  let at = obj as unknown as Record<string, unknown>;
  for (const s of path.slice(0, -1)) {
    const next = at[s];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) at[s] = {};
    at = at[s] as Record<string, unknown>;
  }
  at[path[path.length - 1]] = replicas;
  return true;
}
