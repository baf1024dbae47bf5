import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SERVICE_ACCOUNT_MOUNT_PATH, mountServiceAccountToken, shouldAutomount, tokenVolumeSource } from '../../../../src/apiserver/rbac/serviceaccount-admission.js';
import { tokenVolumeOf } from '../../../../src/agent/isolation-token.js';

type Spec = Parameters<typeof mountServiceAccountToken>[0] & { volumes?: { name: string; projected?: unknown }[] };
const fixedName = (prefix: string) => `${prefix}x7k2p`;

test('automount: the pod wins, then the ServiceAccount, then true', () => {
  assert.equal(shouldAutomount({}, undefined), true);
  assert.equal(shouldAutomount({}, { automountServiceAccountToken: false }), false);
  assert.equal(shouldAutomount({ automountServiceAccountToken: true }, { automountServiceAccountToken: false }), true);
  assert.equal(shouldAutomount({ automountServiceAccountToken: false }, { automountServiceAccountToken: true }), false);
});

test('mount: one projected volume, a read-only mount in every container and init container', () => {
  const spec: Spec = { initContainers: [{}], containers: [{ volumeMounts: [{ name: 'data', mountPath: '/data' }] }, {}], volumes: [{ name: 'data' }] };
  mountServiceAccountToken(spec, fixedName);
  const mount = { name: 'kube-api-access-x7k2p', readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH };
  assert.deepEqual(spec.initContainers![0].volumeMounts, [mount]);
  assert.deepEqual(spec.containers![0].volumeMounts, [{ name: 'data', mountPath: '/data' }, mount]);
  assert.deepEqual(spec.containers![1].volumeMounts, [mount]);
  assert.deepEqual(spec.volumes, [{ name: 'data' }, { name: 'kube-api-access-x7k2p', projected: tokenVolumeSource() }]);
  const source = tokenVolumeSource() as { defaultMode: number; sources: Record<string, unknown>[] };
  assert.equal(source.defaultMode, 420);
  assert.deepEqual(Object.keys(source.sources[0]), ['serviceAccountToken']);
  assert.deepEqual(source.sources[0].serviceAccountToken, { expirationSeconds: 3607, path: 'token' });
});

test('mount: a container that mounts something at the path keeps it; no container left, no volume', () => {
  const own = { name: 'mine', mountPath: SERVICE_ACCOUNT_MOUNT_PATH };
  const spec: Spec = { containers: [{ volumeMounts: [own] }], volumes: [{ name: 'mine' }] };
  mountServiceAccountToken(spec, fixedName);
  assert.deepEqual(spec.containers![0].volumeMounts, [own]);
  assert.deepEqual(spec.volumes, [{ name: 'mine' }]);
  const mixed: Spec = { containers: [{ volumeMounts: [own] }, {}], volumes: [{ name: 'mine' }] };
  mountServiceAccountToken(mixed, fixedName);
  assert.equal(mixed.containers![0].volumeMounts!.length, 1);
  assert.equal(mixed.containers![1].volumeMounts![0].name, 'kube-api-access-x7k2p');
  assert.equal(mixed.volumes!.length, 2);
});

test('mount: an existing kube-api-access-* volume is mounted, not added again', () => {
  const spec: Spec = { containers: [{}], volumes: [{ name: 'kube-api-access-abcde', projected: { sources: [] } }] };
  mountServiceAccountToken(spec, fixedName);
  assert.equal(spec.containers![0].volumeMounts![0].name, 'kube-api-access-abcde');
  assert.equal(spec.volumes!.length, 1);
});

test('generated names: 5 characters of the alphabet without vowels, as upstream', () => {
  for (let i = 0; i < 50; i++) {
    const spec: Spec = { containers: [{}] };
    mountServiceAccountToken(spec);
    assert.match(spec.volumes![0].name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  }
});

test('agent: the admitted volume is what the agent projects, only for containers that mount it', () => {
  const spec: Spec = { containers: [{}, { volumeMounts: [{ name: 'other', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }] }], volumes: [{ name: 'other' }] };
  mountServiceAccountToken(spec, fixedName);
  const volume = tokenVolumeOf(spec as Parameters<typeof tokenVolumeOf>[0]);
  assert.deepEqual(volume, {
    name: 'kube-api-access-x7k2p',
    files: [
      { path: 'token', kind: 'token', expirationSeconds: 3607, audience: undefined },
      { path: 'ca.crt', kind: 'configMap', configMap: 'kube-root-ca.crt', key: 'ca.crt', optional: false },
      { path: 'namespace', kind: 'field', fieldPath: 'metadata.namespace' },
    ],
  });
  assert.equal(tokenVolumeOf({ containers: [{}] }), undefined);
  // A token volume no container mounts at the standard path is not projected.
  assert.equal(tokenVolumeOf({ containers: [{ volumeMounts: [{ name: 'v', mountPath: '/elsewhere' }] }], volumes: [{ name: 'v', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }] }), undefined);
  assert.throws(() => tokenVolumeOf({ containers: [{ volumeMounts: [{ name: 'v', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }] }], volumes: [{ name: 'v', projected: { sources: [{ serviceAccountToken: { path: '../x' } }] } }] }), /path "..\/x"/);
});
