// The ServiceAccount admission rule for pods, as upstream's ServiceAccount admission plugin:
// spec.serviceAccountName (defaulted to `default`) must name a ServiceAccount of the pod's
// namespace, else the pod is forbidden. The namespace's `default` ServiceAccount, which the
// serviceaccount controller creates, is created here when a pod arrives before the controller
// has made it, so a pod created right after its namespace is not refused.
import { R } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { errors } from '../errors.js';
import { type Registry, type WriteContext, storeKey } from '../registry.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';

export function admitServiceAccount(registry: Registry, ns: string, pod: KubeObject, ctx: WriteContext): void {
  const spec = (pod.spec ?? {}) as { serviceAccountName?: string; serviceAccount?: string };
  const name = spec.serviceAccountName || DEFAULT_SERVICE_ACCOUNT;
  if (registry.store.get(storeKey(R.serviceaccounts), ns, name)) return;
  if (name === DEFAULT_SERVICE_ACCOUNT) {
    if (ctx.dryRun) return;
    try {
      registry.create(R.serviceaccounts, ns, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } }, { dryRun: false, fieldValidation: 'Ignore', fieldManager: 'flatnet-apiserver', warnings: [] });
    } catch {
      // Created meanwhile, or the namespace is going away (the pod's own create then says so).
    }
    return;
  }
  throw errors.forbidden(R.pods, pod.metadata.name ?? '', `error looking up service account ${ns}/${name}: serviceaccount "${name}" not found`);
}
