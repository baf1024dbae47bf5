// Pods (upstream pkg/registry/core/pod): status starts as Pending, a pod's ServiceAccount is
// admitted on create, a DELETE of a scheduled pod is graceful and answers with the pod. Pods have
// no metadata.generation in Kubernetes 1.32 (it came with 1.33).
import type { KubeObject } from '../../api/types.js';
import { admitPodDefaults } from '../../api/validation/defaults/pod.js';
import { admitServiceAccount } from '../rbac/serviceaccount-admission.js';
import type { DeleteOptions } from '../registry.js';
import { defaultStrategy } from './default.js';
import { podQosClass, statusUpdateResetting } from './status.js';
import type { ResourceStrategy } from './types.js';

/** Seconds a pod gets when neither the DELETE nor its spec says (spec.terminationGracePeriodSeconds' default). */
const DEFAULT_TERMINATION_GRACE_SECONDS = 30;

/**
 * CheckGracefulDelete: the DELETE's gracePeriodSeconds, else the pod's own; an unscheduled or
 * finished pod goes at once; a negative period becomes 1 second, never an immediate delete.
 */
export function podGracePeriod(pod: KubeObject, options: DeleteOptions): number {
  const spec = (pod.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  let period = options.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS;
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') period = 0;
  if (period < 0) period = 1;
  return period;
}

export const podStrategy: ResourceStrategy = {
  ...defaultStrategy,
  returnsDeletedObject: true,
  prepareForCreate(_r, obj) {
    obj.status = { phase: 'Pending' };
  },
  applyDefaults(r, obj, creating) {
    defaultStrategy.applyDefaults(r, obj, creating);
    // An update keeps what admission set when the pod was created (a body without it gets it again).
    if (!creating) admitPodDefaults(obj as unknown as Record<string, unknown>);
  },
  admitCreate(env, ns, obj, ctx) {
    admitPodDefaults(obj as unknown as Record<string, unknown>);
    admitServiceAccount(env.registry, ns, obj, ctx);
  },
  // pods/status: spec and ownerReferences stay (old kubelets corrupted them); labels, annotations
  // and finalizers are the request's.
  prepareForStatusUpdate: statusUpdateResetting(['spec', 'ownerReferences'], podQosClass),
  gracePeriod: podGracePeriod,
};
