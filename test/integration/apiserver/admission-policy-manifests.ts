// Manifests the ValidatingAdmissionPolicy integration tests apply with kubectl (JSON on stdin).
export const policy = (name: string, spec: Record<string, unknown>) => JSON.stringify({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name }, spec });
export const binding = (name: string, spec: Record<string, unknown>) => JSON.stringify({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name }, spec });
export const configMap = (name: string, ns: string, data: Record<string, string>, labels: Record<string, string> = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels }, data });
/** Match rules for ConfigMap creates and updates. */
export const configMapRules = { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE', 'UPDATE'] }] };
