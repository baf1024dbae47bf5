// Flow events in a real lab, read with `flatnet flows` (CLI -> API server -> every node's agent):
// a connection NetworkPolicy denies shows as a drop naming the policy and direction, a Service
// connection as translated to the endpoint the kernel chose, a connection to a Service without
// endpoints as rejected, and a burst of connections from a pod is accounted for: delivered plus
// shed (buffer, kernel) covers every connection sent. The agents' /metrics (through the API
// server's node proxy) count the policy drops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, run, startLab, type Lab } from '../../support/lab.js';
import { requireFreeLab, requireRoot, requireTool } from '../../support/prerequisites.js';
import type { FlowStreamItem, NodeStatusLine } from '../../../src/flows/cluster-client.js';
import type { FlowEvent } from '../../../src/flows/types.js';

const NS = 'flows';
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';

const manifests = `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${NS}, labels: {app: client}}
spec:
  containers: [{name: c, image: ${AGNHOST}, args: [netexec, --http-port=8081]}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ${NS}, labels: {app: web}}
spec:
  containers: [{name: c, image: ${AGNHOST}, args: [netexec, --http-port=8080]}]
---
apiVersion: v1
kind: Pod
metadata: {name: locked, namespace: ${NS}, labels: {app: locked}}
spec:
  containers: [{name: c, image: ${AGNHOST}, args: [netexec, --http-port=8080]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: ${NS}}
spec:
  selector: {app: nobody}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-locked, namespace: ${NS}}
spec:
  podSelector: {matchLabels: {app: locked}}
  policyTypes: [Ingress]
  ingress: []
`;

// Connections paced at RATE/s from inside the pod; connect only (the SYN is what conntrack sees).
const BURST = `
import socket, sys, time, json
host, port, count, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
made = failed = 0
start = time.perf_counter()
for i in range(count):
    due = start + i / rate
    now = time.perf_counter()
    if due > now:
        time.sleep(due - now)
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.close()
        made += 1
    except OSError:
        failed += 1
print(json.dumps({"made": made, "failed": failed, "seconds": time.perf_counter() - start}))
`;

// The CLI of the build `flatnet up` made (bin/flatnet would rebuild first whenever a source is newer).
const CLI = new URL('../../../dist/src/cli/main.js', import.meta.url).pathname;
const flatnetFlows = (lab: Lab, args: string[]) => run(process.execPath, [CLI, 'flows', ...args], { env: lab.env, timeoutMs: 60_000 });

async function flows(lab: Lab, args: string[]): Promise<FlowStreamItem[]> {
  const r = await flatnetFlows(lab, ['-o', 'json', ...args]);
  if (r.code !== 0) throw new Error(`flatnet flows ${args.join(' ')} failed (exit ${r.code}): ${r.stderr}${r.stdout.slice(0, 500)}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as FlowStreamItem);
}

const onlyFlows = (items: FlowStreamItem[]) => items.flatMap((i) => ('flow' in i ? [i.flow] : []));
const statuses = (items: FlowStreamItem[]) => items.flatMap((i) => ('node_status' in i ? [i.node_status] : []));

test('flow events: policy drops, Service translation, no-endpoint rejects, a burst accounted for', { timeout: 900_000 }, async (t) => {
  requireRoot('the lab creates network namespaces');
  requireFreeLab();
  requireTool('conntrack', 'Debian package conntrack');
  requireTool('tcpdump', 'Debian package tcpdump');
  requireTool('/usr/bin/python3', 'Debian package python3 (the agents run their conntrack event reader with it)');
  const lab = await startLab({ nodes: 2 });
  t.after(() => lab.down());
  await lab.apply(manifests);
  await lab.ok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/client', 'pod/web', 'pod/locked', '--timeout=180s']);
  const pods = JSON.parse(await lab.ok(['-n', NS, 'get', 'pods', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { nodeName: string }; status: { podIP: string } }[] };
  const pod = (name: string) => pods.items.find((p) => p.metadata.name === name)!;
  const svcIP = async (name: string) => (await lab.ok(['-n', NS, 'get', 'svc', name, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  const webIP = await svcIP('web');
  const emptyIP = await svcIP('empty');
  await eventually(
    'the web Service has its endpoint',
    async () => {
      const slices = await lab.ok(['-n', NS, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json']);
      if (!slices.includes(`"${pod('web').status.podIP}"`)) throw new Error(`no endpoint ${pod('web').status.podIP} in ${slices}`);
      return true;
    },
    120_000,
  );
  const exec = (...cmd: string[]) => lab.kubectl(['-n', NS, 'exec', 'client', '--', ...cmd]);

  await t.test('a denied connection is a drop naming the policy and the direction', async () => {
    const started = Date.now();
    const curl = exec('curl', '-sS', '-o', '/dev/null', '--max-time', '2', `http://${pod('locked').status.podIP}:8080/`);
    const drop = await eventually(
      'a dropped flow to flows/locked',
      async () => onlyFlows(await flows(lab, ['--namespace', NS, '--pod', 'locked', '--verdict', 'dropped'])).find((f) => f.policy !== undefined),
      30_000,
      100,
    );
    const seenAfterMs = Date.now() - Math.max(started, Date.parse(drop.time));
    t.diagnostic(`drop visible through flatnet flows ${seenAfterMs} ms after the kernel logged it (each poll runs the CLI)`);
    assert.notEqual((await curl).code, 0, 'the connection is denied');
    assert.equal(drop.verdict, 'dropped');
    assert.deepEqual(drop.source.identity, { kind: 'pod', namespace: NS, name: 'client', node: pod('client').spec.nodeName });
    assert.equal(drop.destination.port, 8080);
    assert.deepEqual(drop.policy?.policies, [`${NS}/deny-locked`]);
    assert.equal(drop.policy?.direction, 'ingress');
    assert.equal(drop.policy?.defaultDeny, true);
    assert.equal(drop.node, pod('locked').spec.nodeName, 'the ingress drop happens on the destination pod\'s node');
    const text = await flatnetFlows(lab, ['--namespace', NS, '--verdict', 'dropped']);
    assert.match(text.stdout, /flows\/client:\d+ -> flows\/locked:8080 DROPPED TCP ingress default deny \(flows\/deny-locked\)/);
  });

  await t.test('a Service connection is translated to the endpoint the kernel chose', async () => {
    const r = await exec('curl', '-sS', '--max-time', '5', `http://${webIP}/hostname`);
    assert.equal(r.code, 0, r.stderr);
    const f = await eventually(
      'a translated flow for Service flows/web',
      async () => onlyFlows(await flows(lab, ['--service', `${NS}/web`, '--pod', `${NS}/client`, '--verdict', 'translated'])).find((e) => e.destination.ip === webIP),
      30_000,
      100,
    );
    assert.deepEqual(f.service, { namespace: NS, name: 'web', port: 'http' });
    assert.deepEqual(f.destination.identity, { kind: 'service', namespace: NS, name: 'web' });
    assert.equal(f.destination.port, 80);
    assert.deepEqual(f.endpoint, { ip: pod('web').status.podIP, port: 8080, identity: { kind: 'pod', namespace: NS, name: 'web', node: pod('web').spec.nodeName } });
    assert.equal(f.node, pod('client').spec.nodeName, 'DNAT happens on the client\'s node');
  });

  await t.test('a connection to a Service without endpoints is rejected', async () => {
    const r = await exec('curl', '-sS', '--max-time', '5', `http://${emptyIP}/`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /refused|Couldn't connect to server/i, 'the proxy rejects with a TCP reset');
    const f = await eventually(
      'a rejected flow for Service flows/empty',
      async () => onlyFlows(await flows(lab, ['--service', 'empty', '--namespace', NS, '--verdict', 'rejected']))[0],
      30_000,
      100,
    );
    assert.deepEqual(f.service, { namespace: NS, name: 'empty', port: 'http' });
    assert.equal(f.source.identity.kind, 'pod');
    assert.match(f.summary, /no endpoints/);
  });

  await t.test('the agents\' metrics count drops per policy', async () => {
    const node = pod('locked').spec.nodeName;
    const text = await lab.ok(['get', '--raw', `/api/v1/nodes/${node}/proxy/metrics`]);
    assert.match(text, new RegExp(`flatnet_flows_policy_drops_total\\{namespace="${NS}",policy="deny-locked",direction="ingress"\\} [1-9]`));
    assert.match(text, /flatnet_flows_shed_total|flatnet_flows_total\{/);
  });

  await t.test('a burst of connections is all accounted for: delivered + shed = sent', async () => {
    const node = pod('client').spec.nodeName;
    const before = statuses(await flows(lab, ['--node', node, '--last', '1'])).find((s) => s.node === node && !s.error) as NodeStatusLine;
    assert.ok(before, `node ${node} answers`);
    const since = new Date().toISOString();
    const r = await run('kubectl', ['-n', NS, 'exec', 'client', '--', 'python3', '-c', BURST, webIP, '80', '10000', '1000'], { env: lab.env, timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    const load = JSON.parse(r.stdout) as { made: number; failed: number; seconds: number };
    const sent = load.made + load.failed;
    t.diagnostic(`sent ${sent} connections in ${load.seconds.toFixed(1)} s (${(sent / load.seconds).toFixed(0)}/s; ${load.failed} failed)`);
    let last = -1;
    let delivered: FlowEvent[] = [];
    let after: NodeStatusLine | undefined;
    // Until the count stops growing (the node's readers drained what the kernel reported).
    await eventually(
      'the burst\'s events to settle',
      async () => {
        const items = await flows(lab, ['--node', node, '--pod', `${NS}/client`, '--service', `${NS}/web`, '--verdict', 'translated', '--since', since]);
        delivered = onlyFlows(items);
        after = statuses(items).find((s) => s.node === node);
        const settled = delivered.length === last;
        last = delivered.length;
        return settled;
      },
      120_000,
      2000,
    );
    const shed = after!.shed!.connections - before.shed!.connections;
    const kernel = after!.kernelLosses!.conntrack - before.kernelLosses!.conntrack;
    t.diagnostic(`delivered ${delivered.length}, shed from the buffer ${shed}, conntrack overruns ${kernel}`);
    // No per-event identity check: the kernel's conntrack id is a 32-bit hash, so two of 10,000
    // connections share one in about one run of 90 (the birthday bound; CI saw it once). A reader
    // that repeated events shows instead as more events than connections, or, with nothing shed,
    // as a count that is not exact.
    assert.ok(delivered.length <= sent, `never more events than connections: ${delivered.length} events for ${sent} connections`);
    if (kernel > 0) assert.fail(`the kernel dropped conntrack events (${kernel} ENOBUFS overruns, each one or more events): delivered ${delivered.length} + shed ${shed} of ${sent}`);
    assert.ok(delivered.length + shed >= sent, `delivered ${delivered.length} + shed ${shed} must cover the ${sent} connections sent`);
    if (shed === 0) assert.equal(delivered.length, sent);
  });
});
