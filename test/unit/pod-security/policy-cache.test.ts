// PodSecurity admission keeps the policies it parsed by the values of a namespace's policy labels:
// a label changed in place, added, emptied or removed must select the new policy at the next pod
// write, and two label sets that differ only outside the policy labels share one policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLATNET_DEFAULTS, policyLabelsKey } from '../../../src/apiserver/admission/pod-security/policy.js';
import { PodSecurityAdmission } from '../../../src/apiserver/admission/pod-security/admission.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { ApiStatusError } from '../../../src/apiserver/errors.js';

const P = 'pod-security.kubernetes.io/';

const plainPod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'plain', namespace: 'ns' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
const hostPod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'host', namespace: 'ns' }, spec: { hostNetwork: true, containers: [{ name: 'c', image: 'busybox' }] } };

/** The status code a create of `pod` gets (201 when admitted), with its warnings. */
function admitted(psa: PodSecurityAdmission, pod: KubeObject): { code: number; warnings: string[]; message?: string } {
  const warnings: string[] = [];
  try {
    psa.admit(R.pods, 'ns', structuredClone(pod), undefined, warnings);
    return { code: 201, warnings };
  } catch (err) {
    assert.ok(err instanceof ApiStatusError, String(err));
    return { code: err.status.code ?? 0, warnings, message: err.status.message };
  }
}

test('a namespace label changed in place selects the new policy at the next pod write', () => {
  const labels: Record<string, string> = { 'kubernetes.io/metadata.name': 'ns' };
  const psa = new PodSecurityAdmission({ namespaceLabels: () => labels, podsIn: () => [] }, FLATNET_DEFAULTS);
  // flatnet's default: baseline refuses host namespaces, admits a plain pod.
  assert.equal(admitted(psa, hostPod).code, 403);
  assert.equal(admitted(psa, plainPod).code, 201);
  labels[`${P}enforce`] = 'privileged';
  labels[`${P}warn`] = 'privileged';
  labels[`${P}audit`] = 'privileged';
  assert.equal(admitted(psa, hostPod).code, 201);
  labels[`${P}enforce`] = 'restricted';
  const restricted = admitted(psa, plainPod);
  assert.equal(restricted.code, 403);
  assert.match(restricted.message ?? '', /violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
  labels[`${P}enforce-version`] = 'v1.0';
  assert.match(admitted(psa, plainPod).message ?? '', /violates PodSecurity "restricted:v1.0": runAsNonRoot != true/);
  // An unreadable level fails closed; removing the labels goes back to the default.
  labels[`${P}enforce`] = '';
  assert.equal(admitted(psa, plainPod).code, 403);
  for (const mode of ['enforce', 'warn', 'audit']) {
    delete labels[`${P}${mode}`];
    delete labels[`${P}${mode}-version`];
  }
  assert.equal(admitted(psa, plainPod).code, 201);
  assert.equal(admitted(psa, hostPod).code, 403);
});

test('the key of a label set tells absent, empty and set policy labels apart and ignores other labels', () => {
  const sets: (Record<string, string> | undefined)[] = [undefined, {}, { [`${P}enforce`]: '' }, { [`${P}enforce`]: 'baseline' }, { [`${P}enforce-version`]: 'baseline' }, { [`${P}warn`]: 'baseline' }];
  const keys = sets.map(policyLabelsKey);
  // undefined (no namespace) and {} select the same policy; every other set differs from all.
  assert.equal(new Set(keys.slice(1)).size, keys.length - 1);
  assert.equal(policyLabelsKey({ app: 'x', [`${P}audit`]: 'restricted' }), policyLabelsKey({ [`${P}audit`]: 'restricted', team: 'y' }));
  // Values that would run together when concatenated stay apart.
  assert.notEqual(policyLabelsKey({ [`${P}enforce`]: 'a', [`${P}enforce-version`]: 'b' }), policyLabelsKey({ [`${P}enforce`]: 'ab' }));
});
