// The kubectl verbs that need the controllers, with the real kubectl against a real `flatnet
// server` and a fake kubelet: create deployment, wait --for=condition, expose, describe svc with
// its endpoints, get endpointslices, get -o wide, edit (a strategic merge patch) and delete.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../../support/server.js';
import { R } from '../../../src/api/resources.js';
import type { Pod } from '../../../src/controllers/types.js';
import { FakeKubelet, eventually } from './fake-kubelet.js';

let server: TestServer;
let kubelet: FakeKubelet;
const scratch = mkdtempSync(join(tmpdir(), 'flatnet-verbs-'));

before(async () => {
  server = await startTestServer({ controllers: true, store: 'sqlite' });
  kubelet = new FakeKubelet(server.client, ['n1', 'n2']);
  await kubelet.start();
});

after(async () => {
  kubelet?.stop();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function kubectl(...args: string[]): Promise<string> {
  const r = await server.kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

async function readyPodIPs(selector: string): Promise<string[]> {
  const pods = (await server.client.list<Pod>(R.pods, { namespace: 'default', labelSelector: selector })).items;
  return pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.podIP).map((p) => p.status!.podIP!).sort();
}

test('create deployment, wait for Available and Ready, expose, describe svc and get endpointslices', async () => {
  assert.match(await kubectl('create', 'deployment', 'shop', '--image=nginx', '--replicas=2', '--port=8080'), /deployment.apps\/shop created/);
  assert.match(await kubectl('wait', '--for=condition=Available', 'deployment/shop', '--timeout=60s'), /deployment.apps\/shop condition met/);
  const waited = await kubectl('wait', '--for=condition=Ready', 'pod', '-l', 'app=shop', '--timeout=60s');
  assert.equal(waited.match(/condition met/g)?.length, 2, waited);

  assert.match(await kubectl('expose', 'deployment', 'shop', '--port=80', '--target-port=8080'), /service\/shop exposed/);
  const svc = await server.client.get(R.services, 'default', 'shop');
  assert.deepEqual((svc!.spec as { selector: unknown }).selector, { app: 'shop' });

  const ips = await readyPodIPs('app=shop');
  assert.equal(ips.length, 2);
  const described = await eventually('describe svc lists both endpoints', async () => {
    const out = await kubectl('describe', 'svc', 'shop');
    return ips.every((ip) => out.includes(`${ip}:8080`)) && out;
  });
  assert.match(described, /Name:\s+shop/);
  assert.match(described, /Selector:\s+app=shop/);
  assert.match(described, /Port:\s+<unset>\s+80\/TCP/);
  assert.match(described, /TargetPort:\s+8080\/TCP/);

  const slices = await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=shop');
  assert.match(slices, /NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE/);
  const row = slices.split('\n').find((l) => l.startsWith('shop-'));
  assert.ok(row, slices);
  assert.match(row, /^shop-[a-z0-9]{5}\s+IPv4\s+8080\s+/);
  for (const ip of ips) assert.ok(row.includes(ip), `slice row names ${ip}: ${row}`);

  const wide = await kubectl('get', 'pods', '-l', 'app=shop', '-o', 'wide');
  assert.match(wide, /NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/);
  // READY counts containerStatuses, which the fake kubelet does not write; IP and NODE are the wide columns.
  for (const ip of ips) assert.match(wide, new RegExp(`\\sRunning\\s+0\\s+\\S+\\s+${ip.replace(/\./g, '\\.')}\\s+n[12]\\s+<none>\\s+<none>`), wide);
});

test('kubectl edit sends a strategic merge patch that merges containers by name', async () => {
  // The editor rewrites the image of the one container and the replica count in the file kubectl hands it.
  const editor = join(scratch, 'editor.sh');
  writeFileSync(editor, '#!/bin/sh\nsed -i -e "s/image: nginx$/image: nginx:1.27/" -e "s/replicas: 2$/replicas: 3/" "$1"\n');
  chmodSync(editor, 0o755);
  const before = await server.client.get(R.deployments, 'default', 'shop');
  process.env.KUBE_EDITOR = editor;
  try {
    assert.match(await kubectl('edit', 'deployment', 'shop'), /deployment.apps\/shop edited/);
  } finally {
    delete process.env.KUBE_EDITOR;
  }
  const dep = await server.client.get(R.deployments, 'default', 'shop');
  const spec = dep!.spec as { replicas: number; template: { spec: { containers: { name: string; image: string; ports: { containerPort: number }[] }[] } } };
  assert.equal(spec.replicas, 3);
  assert.equal(spec.template.spec.containers.length, 1);
  assert.equal(spec.template.spec.containers[0]!.image, 'nginx:1.27');
  assert.equal(spec.template.spec.containers[0]!.ports[0]!.containerPort, 8080, 'the untouched fields of the container are kept');
  // The edit bumps the generation; the controller's revision annotation may bump it once more, as
  // upstream's Deployment strategy counts annotation changes too.
  assert.ok(dep!.metadata.generation! > before!.metadata.generation!, `generation ${before!.metadata.generation} -> ${dep!.metadata.generation}`);
  assert.ok(
    (dep!.metadata.managedFields as { manager: string; operation: string }[]).some((m) => m.manager === 'kubectl-edit' && m.operation === 'Update'),
    `kubectl-edit owns the edited fields: ${JSON.stringify(dep!.metadata.managedFields)}`,
  );
  await kubectl('rollout', 'status', 'deployment/shop', '--timeout=60s');
  assert.equal((await readyPodIPs('app=shop')).length, 3);
});

test('delete svc and deployment: the slices and pods go with them', async () => {
  assert.match(await kubectl('delete', 'svc', 'shop'), /service "shop" deleted/);
  await eventually('slices of shop gone', async () => (await server.client.list(R.endpointslices, { namespace: 'default', labelSelector: 'kubernetes.io/service-name=shop' })).items.length === 0);
  assert.match(await kubectl('delete', 'deployment', 'shop'), /deployment.apps "shop" deleted/);
  await eventually('pods of shop gone', async () => (await server.client.list(R.pods, { namespace: 'default', labelSelector: 'app=shop' })).items.length === 0);
});
