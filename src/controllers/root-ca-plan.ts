// What the root-ca-cert-publisher does, pure: every active namespace holds the ConfigMap
// `kube-root-ca.crt` with the cluster CA under `ca.crt`, kept equal to the server's CA.
import type { KubeObject } from '../api/types.js';
import { namespaceIsActive } from './serviceaccount-plan.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** The write that brings `ns`'s root CA ConfigMap in line: a create, an update, or none. */
export function rootCAWrite(ns: KubeObject | undefined, existing: KubeObject | undefined, caPem: string): { create?: KubeObject; update?: KubeObject } {
  if (!namespaceIsActive(ns)) return {};
  const name = ns!.metadata.name!;
  if (!existing) {
    return {
      create: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: ROOT_CA_CONFIGMAP, namespace: name, annotations: { 'kubernetes.io/description': DESCRIPTION } },
        data: { 'ca.crt': caPem },
      },
    };
  }
  const data = (existing.data ?? {}) as Record<string, string>;
  if (data['ca.crt'] === caPem && Object.keys(data).length === 1) return {};
  return { update: { ...existing, data: { 'ca.crt': caPem } } };
}
