// Namespace labels to policies, the `--pod-security-default` flag, and the admission decisions
// over a world of namespaces and pods held in plain maps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLATNET_DEFAULTS, UPSTREAM_DEFAULTS, parseDefaultPolicy, policyFromLabels, systemNamespaceLabels } from '../../../src/apiserver/admission/pod-security/policy.js';
import { PodSecurityAdmission } from '../../../src/apiserver/admission/pod-security/admission.js';
import { isSignificantPodUpdate } from '../../../src/apiserver/admission/pod-security/workloads.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { ApiStatusError } from '../../../src/apiserver/errors.js';

const P = 'pod-security.kubernetes.io/';

test('labels select levels and versions over the defaults', () => {
  const { policy, errors } = policyFromLabels({ [`${P}enforce`]: 'restricted', [`${P}enforce-version`]: 'v1.30', [`${P}audit`]: 'baseline' }, UPSTREAM_DEFAULTS);
  assert.deepEqual(errors, []);
  assert.deepEqual(policy.enforce, { level: 'restricted', version: 30 });
  assert.deepEqual(policy.audit, { level: 'baseline', version: 'latest' });
  // warn follows a stricter explicit enforce level when not set itself.
  assert.deepEqual(policy.warn, { level: 'restricted', version: 30 });
});

test('without labels the defaults apply; an explicit warn label is kept', () => {
  assert.deepEqual(policyFromLabels(undefined, FLATNET_DEFAULTS).policy, FLATNET_DEFAULTS);
  const { policy } = policyFromLabels({ [`${P}enforce`]: 'restricted', [`${P}warn`]: 'privileged' }, UPSTREAM_DEFAULTS);
  assert.equal(policy.warn.level, 'privileged');
});

test('bad labels are errors naming the label, and an unreadable enforce level fails closed', () => {
  const { policy, errors } = policyFromLabels({ [`${P}enforce`]: 'Baseline', [`${P}audit-version`]: 'v2.0' }, UPSTREAM_DEFAULTS);
  assert.equal(policy.enforce.level, 'restricted');
  assert.deepEqual(errors, [
    { field: `metadata.labels[${P}enforce]`, value: 'Baseline', message: 'must be one of privileged, baseline, restricted' },
    { field: `metadata.labels[${P}audit-version]`, value: 'v2.0', message: "must be 'latest' or of the form 'v1.x'" },
  ]);
});

test('--pod-security-default: one level for all modes, or mode=level[:version] pairs', () => {
  assert.deepEqual(parseDefaultPolicy('restricted'), { enforce: { level: 'restricted', version: 'latest' }, audit: { level: 'restricted', version: 'latest' }, warn: { level: 'restricted', version: 'latest' } });
  assert.deepEqual(parseDefaultPolicy('enforce=baseline, warn=restricted:v1.29'), { enforce: { level: 'baseline', version: 'latest' }, audit: { level: 'privileged', version: 'latest' }, warn: { level: 'restricted', version: 29 } });
  assert.throws(() => parseDefaultPolicy('enforce=strict'), /the enforce level must be one of privileged, baseline, restricted/);
  assert.throws(() => parseDefaultPolicy('block=baseline'), /"block" is not a mode/);
  assert.throws(() => parseDefaultPolicy('warn=baseline:1.30'), /the warn version must be 'latest' or of the form 'v1.x'/);
});

test('kube-system is labelled privileged for every mode; other namespaces get nothing', () => {
  assert.deepEqual(systemNamespaceLabels('kube-system'), { [`${P}enforce`]: 'privileged', [`${P}audit`]: 'privileged', [`${P}warn`]: 'privileged' });
  assert.deepEqual(systemNamespaceLabels('default'), {});
});

// ---- admission decisions over plain data ----

function world(namespaces: Record<string, Record<string, string>>, pods: KubeObject[] = []) {
  return new PodSecurityAdmission({ namespaceLabels: (ns) => namespaces[ns], podsIn: (ns) => pods.filter((p) => p.metadata.namespace === ns) }, FLATNET_DEFAULTS);
}
const pod = (name: string, spec: Record<string, unknown>, owner?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ns', ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: owner, controller: true }] } : {}) },
  spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec },
});

test('pods: enforce refuses with 403; workloads only warn', () => {
  const psa = world({ ns: {} });
  const warnings: string[] = [];
  assert.throws(
    () => psa.admit(R.pods, 'ns', pod('p', { hostPID: true }), undefined, warnings),
    (e: unknown) => e instanceof ApiStatusError && e.code === 403 && e.message === 'pods "p" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostPID=true)',
  );
  assert.deepEqual(warnings, [], 'a refused request carries no warnings');
  const deployment: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'ns' }, spec: { template: { spec: { hostPID: true, containers: [{ name: 'c', image: 'x' }] } } } };
  psa.admit(R.deployments, 'ns', deployment, undefined, warnings);
  assert.deepEqual(warnings, ['would violate PodSecurity "baseline:latest": host namespaces (hostPID=true)']);
});

test('pod updates are re-evaluated only when an image or a seccomp annotation changes', () => {
  const before = pod('p', { hostPID: true });
  const relabelled = { ...before, metadata: { ...before.metadata, labels: { a: 'b' } } };
  assert.equal(isSignificantPodUpdate(relabelled, before), false);
  const image = pod('p', { hostPID: true, containers: [{ name: 'c', image: 'httpd' }] });
  assert.equal(isSignificantPodUpdate(image, before), true);
  const psa = world({ ns: {} });
  psa.admit(R.pods, 'ns', relabelled, before, []);
  assert.throws(() => psa.admit(R.pods, 'ns', image, before, []), /violates PodSecurity/);
});

test('a stricter enforce label warns about existing pods, one line per reason, naming the first pod', () => {
  const pods = [pod('z-host', { hostNetwork: true }), pod('a-host', { hostNetwork: true }, 'rs1'), pod('b-host', { hostNetwork: true }, 'rs1'), pod('ok', {}), pod('priv', { containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] })];
  const psa = world({}, pods);
  const ns = (labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns', labels } });
  const warnings: string[] = [];
  psa.admit(R.namespaces, '', ns({ [`${P}enforce`]: 'baseline' }), ns({ [`${P}enforce`]: 'privileged' }), warnings);
  assert.deepEqual(warnings, [
    'existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest"',
    'a-host (and 2 other pods): host namespaces',
    'priv: privileged',
  ]);
  const relaxed: string[] = [];
  psa.admit(R.namespaces, '', ns({ [`${P}enforce`]: 'privileged' }), ns({ [`${P}enforce`]: 'baseline' }), relaxed);
  assert.deepEqual(relaxed, []);
});

test('namespace labels: invalid ones are refused on create, and on update unless already there unchanged', () => {
  const psa = world({});
  const ns = (labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', labels } });
  assert.throws(() => psa.admit(R.namespaces, '', ns({ [`${P}warn`]: 'nope' }), undefined, []), (e: unknown) => e instanceof ApiStatusError && e.code === 422 && /metadata.labels\[pod-security.kubernetes.io\/warn\]: Invalid value: "nope"/.test(e.message));
  // An existing bad label does not block unrelated updates.
  psa.admit(R.namespaces, '', ns({ [`${P}warn`]: 'nope', other: '1' }), ns({ [`${P}warn`]: 'nope' }), []);
});
