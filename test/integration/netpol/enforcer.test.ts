// The enforcer end to end on one node: the real API server and kubectl, the enforcer's
// informers, a real node namespace with pods, real packets. Covers the seeds' policies
// (default deny, allow-frontend-to-backend, DNS egress, metadata ipBlock except), a pod that is
// never reachable under default deny from its first moment, policy updates (the delay is
// reported), and established connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPolicyEnforcer, type PolicyEnforcer } from '../../../src/netpol/enforcer.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { NODE_NAME, POD_CIDR, podIp } from '../../unit/netpol/fixtures/topology.js';
import { PolicyNetLab } from './netlab.js';
import { requireRoot } from '../../support/prerequisites.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pods of this test and the lab slot (namespace and address) each one uses. */
const PODS = {
  frontend: { ns: 'production', slot: 'x/a', labels: { app: 'frontend', tier: 'frontend' } },
  backend: { ns: 'production', slot: 'x/b', labels: { app: 'backend', tier: 'backend' } },
  monitoring: { ns: 'production', slot: 'x/c', labels: { app: 'monitoring' } },
  web: { ns: 'production', slot: 'y/a', labels: { app: 'web' } },
  dns: { ns: 'kube-system', slot: 'y/b', labels: { 'k8s-app': 'kube-dns' } },
  newpod: { ns: 'production', slot: 'y/c', labels: { app: 'new' } },
  opened: { ns: 'open', slot: 'z/a', labels: { app: 'opened' } },
} as const;
type PodName = keyof typeof PODS;

function podManifest(name: PodName): KubeObject {
  const p = PODS[name];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: p.ns, name, labels: { ...p.labels } },
    spec: { nodeName: NODE_NAME, containers: [{ name: 'main', image: 'agnhost', ports: [{ name: 'http', containerPort: 80 }] }] },
  };
}

async function kubectlOk(server: TestServer, args: string[], input?: string): Promise<string> {
  const r = await server.kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Creates the pod through the API and reports its address in status, as the agent would. */
async function createPod(server: TestServer, name: PodName): Promise<KubeObject> {
  const created = await server.client.create(R.pods, podManifest(name));
  const ip = podIp(PODS[name].slot);
  created.status = { phase: 'Running', podIP: ip, podIPs: [{ ip }] };
  return server.client.updateStatus(R.pods, created);
}

/** Polls until `probe` answers `want` (deadline generous: this is no timing test). */
async function eventually(probe: () => Promise<boolean>, want: boolean, what: string, deadlineMs = 15_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < deadlineMs) {
    if ((await probe()) === want) return performance.now() - started;
    await sleep(20);
  }
  throw new Error(`${what}: still ${want ? 'denied' : 'allowed'} after ${deadlineMs} ms`);
}

const SEED_001 = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all-ingress
  namespace: production
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  ingress: []
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-frontend-to-backend
  namespace: production
spec:
  podSelector:
    matchLabels:
      app: backend
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: frontend
    ports:
    - protocol: TCP
      port: 8080
`;

const SEED_003_EGRESS = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-dns
  namespace: production
spec:
  podSelector: {}
  policyTypes:
  - Egress
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          name: kube-system
    ports:
    - protocol: UDP
      port: 53
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-external-dns
  namespace: production
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes:
  - Egress
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          name: kube-system
    ports:
    - protocol: UDP
      port: 53
  - to:
    - ipBlock:
        cidr: 0.0.0.0/0
        except:
        - 169.254.169.254/32
    ports:
    - protocol: TCP
      port: 443
`;

test('policy enforcer with the API server and real packets', async (t) => {
  requireRoot('network namespaces, nftables');
  const lab = new PolicyNetLab(`n${process.pid % 100000}`);
  const running: { server?: TestServer; enforcer?: PolicyEnforcer } = {};
  t.after(async () => {
    await running.enforcer?.stop();
    await running.server?.stop();
    lab.tearDown();
  });
  lab.setUp();
  for (const name of Object.keys(PODS) as PodName[]) lab.addPod(PODS[name].slot);
  const netns = (name: PodName) => lab.podNetns(PODS[name].slot);
  const ip = (name: PodName) => podIp(PODS[name].slot);
  await lab.serve(netns('frontend'), 'frontend', { tcp: [80] });
  await lab.serve(netns('backend'), 'backend', { tcp: [8080, 80] });
  await lab.serveEcho(netns('backend'), 9000);
  await lab.serve(netns('monitoring'), 'monitoring', { tcp: [80] });
  await lab.serve(netns('web'), 'web', { tcp: [80] });
  await lab.serve(netns('dns'), 'dns', { udp: [53], tcp: [53] });
  await lab.serve(netns('newpod'), 'newpod', { tcp: [80] });
  await lab.serve(netns('opened'), 'opened', { tcp: [80] });
  await lab.serve(lab.ext, 'external', { tcp: [443] });

  const server = await startTestServer({ controllers: false });
  running.server = server;
  await kubectlOk(server, ['create', 'namespace', 'production']);
  await kubectlOk(server, ['create', 'namespace', 'open']);
  await kubectlOk(server, ['create', 'namespace', 'kube-system']).catch(() => '');
  await kubectlOk(server, ['label', 'namespace', 'production', 'name=production']);
  await kubectlOk(server, ['label', 'namespace', 'kube-system', 'name=kube-system', '--overwrite']);
  for (const name of ['frontend', 'backend', 'monitoring', 'web', 'dns'] as PodName[]) await createPod(server, name);

  const enforcer = await startPolicyEnforcer(server.client, { nodeName: NODE_NAME, netns: lab.node, podCIDR: POD_CIDR });
  running.enforcer = enforcer;
  const tcp = (from: PodName, to: string, port: number, timeoutMs = 300) => lab.tcpProbe(netns(from), to, port, timeoutMs);

  await t.test('without policies every pod reaches every pod (the informer admitted them)', async () => {
    await eventually(() => tcp('frontend', ip('backend'), 8080), true, 'frontend -> backend:8080');
    assert.equal(await tcp('monitoring', ip('backend'), 8080), true);
    assert.equal(await tcp('backend', ip('frontend'), 80), true);
  });

  await t.test('seed: deny-all-ingress plus allow-frontend-to-backend (kubectl apply)', async (st) => {
    await kubectlOk(server, ['apply', '-f', '-'], SEED_001);
    await eventually(() => tcp('monitoring', ip('backend'), 8080), false, 'monitoring -> backend:8080');
    assert.equal(await tcp('frontend', ip('backend'), 8080), true, 'frontend -> backend:8080 is allowed');
    assert.equal(await tcp('frontend', ip('backend'), 80), false, 'frontend -> backend:80 is not in the allow rule');
    assert.equal(await tcp('backend', ip('frontend'), 80), false, 'backend -> frontend:80 (deny-all-ingress)');
    assert.equal(await tcp('frontend', ip('web'), 80), false, 'frontend -> web:80 (deny-all-ingress)');
    st.diagnostic('monitoring -> backend denied, frontend -> backend:8080 allowed');
  });

  await t.test('a policy update is enforced; the delay from kubectl apply to the first allowed connection is reported', async (st) => {
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const allow = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-monitoring-${i}, namespace: production}
spec:
  podSelector: {matchLabels: {app: backend}}
  ingress: [{from: [{podSelector: {matchLabels: {app: monitoring}}}], ports: [{port: 8080}]}]
`;
      assert.equal(await tcp('monitoring', ip('backend'), 8080), false);
      const started = performance.now();
      await kubectlOk(server, ['apply', '-f', '-'], allow);
      const applied = performance.now();
      await eventually(() => tcp('monitoring', ip('backend'), 8080, 25), true, 'monitoring -> backend:8080 after the allow policy');
      delays.push(performance.now() - applied);
      void started;
      await kubectlOk(server, ['delete', 'networkpolicy', '-n', 'production', `allow-monitoring-${i}`]);
      await eventually(() => tcp('monitoring', ip('backend'), 8080, 100), false, 'monitoring -> backend:8080 after deleting the allow policy');
    }
    delays.sort((a, b) => a - b);
    st.diagnostic(`kubectl apply returned -> first allowed connection: min ${delays[0].toFixed(1)} ms, median ${delays[2].toFixed(1)} ms, max ${delays[4].toFixed(1)} ms`);
  });

  await t.test('established connections survive a policy that would refuse them as new (implementation-defined; ours keeps them)', async () => {
    const allowEcho = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-echo, namespace: production}
spec:
  podSelector: {matchLabels: {app: backend}}
  ingress: [{from: [{podSelector: {matchLabels: {app: monitoring}}}], ports: [{port: 9000}]}]
`;
    await kubectlOk(server, ['apply', '-f', '-'], allowEcho);
    await eventually(() => tcp('monitoring', ip('backend'), 9000), true, 'monitoring -> backend:9000');
    const conn = await lab.openConnection(netns('monitoring'), ip('backend'), 9000);
    try {
      assert.equal(await conn.exchange('before'), true);
      await kubectlOk(server, ['delete', 'networkpolicy', '-n', 'production', 'allow-echo']);
      await eventually(() => tcp('monitoring', ip('backend'), 9000, 100), false, 'new connection monitoring -> backend:9000 after delete');
      assert.equal(await conn.exchange('after'), true, 'the established connection still carries data');
    } finally {
      conn.close();
    }
  });

  await t.test('seed: DNS egress allowance and the metadata ipBlock except', async () => {
    assert.equal(await lab.udpProbe(netns('web'), ip('dns'), 53), true, 'before: web -> dns udp/53');
    assert.equal(await tcp('web', '169.254.169.254', 443), true, 'before: web -> 169.254.169.254:443');
    await kubectlOk(server, ['apply', '-f', '-'], SEED_003_EGRESS);
    await eventually(() => tcp('web', '169.254.169.254', 443), false, 'web -> metadata 169.254.169.254:443');
    assert.equal(await tcp('web', '192.0.2.10', 443), true, 'web -> 192.0.2.10:443 (inside 0.0.0.0/0, not excepted)');
    assert.equal(await lab.udpProbe(netns('web'), ip('dns'), 53), true, 'web -> kube-system dns udp/53');
    assert.equal(await tcp('web', ip('dns'), 53), false, 'web -> dns tcp/53 is not allowed');
    assert.equal(await lab.udpProbe(netns('monitoring'), ip('dns'), 53), true, 'monitoring -> dns udp/53 (allow-dns)');
    assert.equal(await tcp('monitoring', '192.0.2.10', 443), false, 'monitoring has only the DNS egress');
    assert.equal(await tcp('frontend', ip('backend'), 8080), false, 'frontend egress is now limited to DNS');
  });

  await t.test('a new pod under default deny never answers, from its first moment; a pod without policy answers once admitted', async (st) => {
    // The source (kube-system/dns) has no policy; newpod's namespace has deny-all-ingress.
    // Both pods' namespaces already have their address and a listening server (the worst case:
    // the workload is up before the enforcer knows the pod). Probing starts before the API
    // knows either pod and goes on after admission.
    const outcomes: { newpod: boolean[]; opened: boolean[] } = { newpod: [], opened: [] };
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const [a, b] = await Promise.all([tcp('dns', ip('newpod'), 80, 50), tcp('dns', ip('opened'), 80, 50)]);
        outcomes.newpod.push(a);
        outcomes.opened.push(b);
      }
    })();
    try {
    // A few rounds before the API knows the pods (a loaded machine may take a while per round).
    await eventually(async () => outcomes.opened.length >= 3, true, 'three probe rounds before admission');
    const beforeAdmit = outcomes.opened.length;
    assert.ok(beforeAdmit > 0 && outcomes.opened.every((v) => !v), 'before admission the open pod is unreachable too (not admitted)');
    const newpod = await createPod(server, 'newpod');
    const opened = await createPod(server, 'opened');
    await enforcer.admitPod(newpod);
    await enforcer.admitPod(opened);
    await eventually(async () => outcomes.opened.slice(beforeAdmit).some(Boolean), true, 'the pod without policy after admission');
    await sleep(500);
    } finally {
      probing = false;
      await prober;
    }
    assert.equal(outcomes.newpod.filter(Boolean).length, 0, `newpod answered ${outcomes.newpod.filter(Boolean).length} of ${outcomes.newpod.length} probes`);
    st.diagnostic(`newpod: 0 of ${outcomes.newpod.length} probes answered; opened: first answer after admission`);
  });

  await t.test('forgetPod takes the address back', async () => {
    assert.equal(await tcp('dns', ip('opened'), 80, 3000), true);
    await enforcer.forgetPod(ip('opened'));
    assert.equal(await tcp('dns', ip('opened'), 80), false);
  });
});
