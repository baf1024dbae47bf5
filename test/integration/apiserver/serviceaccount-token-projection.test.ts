// The agent's projection of the token volume the ServiceAccount admission plugin adds, against a
// real server with its controllers: the files of the pod's `kube-api-access-*` volume (a bound
// token that authenticates as the pod's ServiceAccount, the cluster CA from kube-root-ca.crt that
// verifies the server, the namespace), read from the pod as the server stored it; a pod with
// automountServiceAccountToken false has no such volume and gets nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { KubeClient } from '../../../src/client/client.js';
import { ServiceAccountTokenProjector, tokenVolumeOf } from '../../../src/agent/isolation-token.js';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;
let dir: string;

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: true });
  dir = mkdtempSync(join(tmpdir(), 'sa-proj-'));
});
after(async () => {
  await s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function createPod(name: string, extra: Record<string, unknown> = {}): Promise<KubeObject> {
  return s.client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra } } as KubeObject);
}

test('the admitted volume is projected: a token of the pod\'s ServiceAccount, the CA that verifies the server, the namespace', async () => {
  const pod = await createPod('proj');
  const spec = pod.spec as Parameters<typeof tokenVolumeOf>[0];
  const volume = tokenVolumeOf(spec);
  assert.ok(volume, 'the pod has a token volume a container mounts');
  const out = join(dir, 'proj');
  const projector = new ServiceAccountTokenProjector(
    s.client,
    { namespace: 'default', name: 'proj', uid: pod.metadata.uid!, serviceAccountName: 'default' },
    volume,
    out,
    (ns, name) => s.client.get(R.configmaps, ns, name),
    (m) => assert.fail(m),
  );
  try {
    await projector.start();
    assert.equal(projector.dirFor(spec.containers![0]), out);
    assert.equal(projector.dirFor({ volumeMounts: [] }), undefined, 'a container that does not mount the volume gets nothing');
    assert.equal(readFileSync(join(out, 'namespace'), 'utf8'), 'default');
    assert.equal(statSync(join(out, 'token')).mode & 0o777, 0o644);
    const cm = await s.client.get<KubeObject & { data?: Record<string, string> }>(R.configmaps, 'default', 'kube-root-ca.crt');
    const ca = readFileSync(join(out, 'ca.crt'), 'utf8');
    assert.equal(ca, cm?.data?.['ca.crt']);
    // An in-pod client with exactly these files reaches the server as the ServiceAccount.
    const inPod = new KubeClient({ server: s.url, ca: Buffer.from(ca), token: readFileSync(join(out, 'token'), 'utf8') });
    const review = await inPod.request<{ status: { userInfo: { username: string; extra?: Record<string, string[]> } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    assert.equal(review.status.userInfo.username, 'system:serviceaccount:default:default');
    assert.deepEqual(review.status.userInfo.extra?.['authentication.kubernetes.io/pod-name'], ['proj']);
  } finally {
    projector.stop();
  }
});

test('automountServiceAccountToken false: the pod has no token volume, so nothing is projected', async () => {
  const pod = await createPod('quiet', { automountServiceAccountToken: false });
  assert.equal(tokenVolumeOf(pod.spec as Parameters<typeof tokenVolumeOf>[0]), undefined);
});
