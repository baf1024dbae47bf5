// What the serviceaccount controller does, pure: every active namespace has a `default`
// ServiceAccount (upstream's serviceaccounts-controller).
import type { KubeObject } from '../api/types.js';

export const DEFAULT_SERVICE_ACCOUNT_NAME = 'default';

export function namespaceIsActive(ns: KubeObject | undefined): boolean {
  return !!ns && !ns.metadata.deletionTimestamp && (ns.status as { phase?: string } | undefined)?.phase !== 'Terminating';
}

/** The ServiceAccount to create in `ns`, or undefined when there is nothing to do. */
export function missingDefaultServiceAccount(ns: KubeObject | undefined, existing: KubeObject | undefined): KubeObject | undefined {
  if (!namespaceIsActive(ns) || existing) return undefined;
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT_NAME, namespace: ns!.metadata.name } };
}
