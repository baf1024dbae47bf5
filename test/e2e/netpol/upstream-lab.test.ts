// The 48 upstream NetworkPolicy e2e cases (our fixtures in test/unit/netpol/fixtures) against a
// real two-node lab, once per overlay: namespaces x, y, z with pods a, b, c spread over both
// nodes, each serving TCP and UDP on 80 and 81 with agnhost netexec. Every case's policies are
// applied with kubectl (steps in order, relabels with `kubectl label`), and every ordered pair of
// the case's pods is probed with real connections made from inside the source pod's network
// namespace, until the observed table equals the expected one or a bounded time has passed.
// SCTP probes are skipped: this kernel has no SCTP support (the unit and integration tests cover
// the rules).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type * as net from 'node:net';
import { requireFreeLab, requireRoot } from '../../support/prerequisites.js';
import { sandboxNetnsName } from '../../../src/agent/sandbox.js';
import { connectInNetns, listenInNetns, stopNetnsBrokers } from '../../../src/linux/netns-socket.js';
import type { KubeObject } from '../../../src/api/types.js';
import { upstreamCases, type CaseStep } from '../../unit/netpol/fixtures/upstream-e2e.js';
import { expectedTable, formatTable, tableDiff } from '../../unit/netpol/fixtures/reachability.js';
import { ALL_PODS, NAMESPACES, podIp } from '../../unit/netpol/fixtures/topology.js';

const repo = new URL('../../../', import.meta.url).pathname;
const flatnet = join(repo, 'bin/flatnet');
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';
const PROBE_TIMEOUT_MS = 500;
const CONVERGE_MS = 15_000;


/** Objects as a JSON stream (one object after another) for `kubectl apply -f -`. */
const stream = (docs: object[]) => docs.map((d) => JSON.stringify(d)).join('\n');

// Sync points: policies and labels reach each node's agent through watches, so a probe made just
// after `kubectl apply` can still see the previous state (and pass when that state happens to equal
// the expected table). After a case's changes, a marker policy in its own namespace is flipped
// (created or deleted, isolating or freeing two sentinel pods, one per node), and the test waits
// until both nodes enforce the flip: the changes made before it have then reached both agents.
const MARKER_NS = 'marker';
const SENTINELS = [['sentinel-1', 'node-1'], ['sentinel-2', 'node-2']] as const;
const markerPolicy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: MARKER_NS, name: 'marker' }, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [] } };

/** x/a on node-1, x/b on node-2, x/c on node-1, y/a on node-2 ...: every namespace spans both nodes. */
const nodeOf = (ref: string) => `node-${(ALL_PODS.indexOf(ref) % 2) + 1}`;

function workloads(): string {
  const docs: object[] = NAMESPACES.map((ns) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ns } } }));
  for (const ref of ALL_PODS) {
    const [ns, name] = ref.split('/');
    docs.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: ns, name, labels: { pod: name } },
      spec: {
        nodeName: nodeOf(ref),
        containers: [80, 81].map((port) => ({
          name: `cont-${port}`,
          image: AGNHOST,
          args: ['netexec', `--http-port=${port}`, `--udp-port=${port}`],
          ports: [
            { name: `serve-${port}-tcp`, containerPort: port, protocol: 'TCP' },
            { name: `serve-${port}-udp`, containerPort: port, protocol: 'UDP' },
          ],
        })),
      },
    });
  }
  docs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: MARKER_NS } });
  for (const [name, node] of SENTINELS) {
    docs.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: MARKER_NS, name, labels: { role: 'sentinel' } },
      spec: { nodeName: node, containers: [{ name: 'serve', image: AGNHOST, args: ['netexec', '--http-port=80'] }] },
    });
  }
  return stream(docs);
}

async function tcpProbe(netns: string, ip: string, port: number): Promise<boolean> {
  let sock: net.Socket | undefined;
  try {
    sock = await connectInNetns(netns, ip, port, PROBE_TIMEOUT_MS);
    return true;
  } catch {
    return false;
  } finally {
    sock?.destroy();
  }
}

async function udpProbe(netns: string, ip: string, port: number): Promise<boolean> {
  const socket = await listenInNetns(netns, { host: '0.0.0.0', port: 0, type: 'udp4' });
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    socket.once('message', (msg) => done(msg.length > 0));
    socket.once('error', () => done(false));
    socket.send('hostname', port, ip, (err) => err && done(false));
  });
}

async function runLab(t: TestContext, overlay: 'vxlan' | 'host-gw'): Promise<void> {
  const started = Date.now();
  const dataDir = join(mkdtempSync(join(tmpdir(), `flatnet-e2e-upstream-${overlay}-`)), 'data');
  t.after(() => {
    stopNetnsBrokers();
    spawnSync(flatnet, ['down', '--data-dir', dataDir], { encoding: 'utf8' });
    rmSync(dirname(dataDir), { recursive: true, force: true });
  });
  const up = spawnSync(flatnet, ['up', '--nodes', '2', '--overlay', overlay, '--data-dir', dataDir], { encoding: 'utf8', timeout: 240_000 });
  assert.equal(up.status, 0, up.stdout + up.stderr);
  const env = { ...process.env, KUBECONFIG: `${dataDir}/admin.kubeconfig` };
  const ok = (args: string[], input?: string) => {
    const r = spawnSync('kubectl', args, { encoding: 'utf8', env, input, timeout: 120_000 });
    assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };

  ok(['apply', '-f', '-'], workloads());
  for (const ns of [...NAMESPACES, MARKER_NS]) ok(['-n', ns, 'wait', '--for=condition=Ready', 'pod', '--all', '--timeout=180s']);

  // Each pod's address, its network namespace (named from its uid as the agent names it) and node.
  const ips = new Map<string, string>();
  const netnsOf = new Map<string, string>();
  for (const ns of NAMESPACES) {
    const list = JSON.parse(ok(['-n', ns, 'get', 'pods', '-o', 'json'])) as { items: KubeObject[] };
    for (const pod of list.items) {
      const ref = `${ns}/${pod.metadata.name}`;
      const spec = pod.spec as { nodeName?: string };
      const status = pod.status as { podIP?: string };
      assert.equal(spec.nodeName, nodeOf(ref), `${ref} runs on its pinned node`);
      assert.ok(status.podIP, `${ref} has an address`);
      ips.set(ref, status.podIP);
      netnsOf.set(ref, sandboxNetnsName(String(pod.metadata.uid)));
    }
  }
  assert.equal(ips.size, ALL_PODS.length);
  const sentinels = JSON.parse(ok(['-n', MARKER_NS, 'get', 'pods', '-o', 'json'])) as { items: KubeObject[] };
  const sentinel = new Map(sentinels.items.map((p) => [String(p.metadata.name), { ip: String((p.status as { podIP?: string }).podIP), netns: sandboxNetnsName(String(p.metadata.uid)) }]));
  const [s1, s2] = SENTINELS.map(([name]) => sentinel.get(name)!);
  let markerOn = false;
  /** Flips the marker policy and waits until both nodes enforce it (sentinel-1 <-> sentinel-2 across nodes). */
  const sync = async (where: string) => {
    markerOn = !markerOn;
    if (markerOn) ok(['apply', '-f', '-'], stream([markerPolicy]));
    else ok(['-n', MARKER_NS, 'delete', 'networkpolicy', 'marker']);
    const deadline = Date.now() + CONVERGE_MS;
    const reached = async () => (await Promise.all([tcpProbe(s1.netns, s2.ip, 80), tcpProbe(s2.netns, s1.ip, 80)])).every((open) => open === !markerOn);
    while (!(await reached())) {
      assert.ok(Date.now() < deadline, `${overlay}, ${where}: the marker policy (${markerOn ? 'created' : 'deleted'}) was not enforced by both nodes within ${CONVERGE_MS} ms`);
      await new Promise((r) => setTimeout(r, 20)); // let the event loop run (broker exits, timers)
    }
  };
  t.diagnostic(`${overlay}: lab and pods ready in ${((Date.now() - started) / 1000).toFixed(1)}s; ${ALL_PODS.map((r) => `${r}=${ips.get(r)}@${nodeOf(r)}`).join(' ')}`);

  // The fixtures' ipBlocks name the fixture addresses; in the lab they are the pods' real ones.
  const fixtureToReal = new Map(ALL_PODS.map((ref) => [podIp(ref), ips.get(ref)!]));
  const realize = (p: KubeObject) =>
    JSON.parse(JSON.stringify(p).replace(/\b10\.244\.1\.\d+(?=\/32\b)/g, (ip) => fixtureToReal.get(ip) ?? ip)) as KubeObject;

  // Extra labels set by the previous step, so that a step's labels replace them.
  const extraKeys = new Map<string, Set<string>>();
  const setLabels = (kind: 'pod' | 'namespace', key: string, ns: string | undefined, name: string, want: Record<string, string>) => {
    const had = extraKeys.get(key) ?? new Set<string>();
    const args = [...Object.entries(want).map(([k, v]) => `${k}=${v}`), ...[...had].filter((k) => !(k in want)).map((k) => `${k}-`)];
    if (args.length > 0) ok([...(ns ? ['-n', ns] : []), 'label', kind, name, '--overwrite', ...args]);
    extraKeys.set(key, new Set(Object.keys(want)));
  };
  const applyLabels = (step: CaseStep) => {
    for (const ns of NAMESPACES) setLabels('namespace', `ns:${ns}`, undefined, ns, step.namespaceLabels?.[ns] ?? {});
    for (const ref of ALL_PODS) {
      const [ns, name] = ref.split('/');
      setLabels('pod', ref, ns, name, step.podLabels?.[ref] ?? {});
    }
  };

  const probeTable = async (pods: string[], protocol: 'TCP' | 'UDP', port: number) => {
    const pairs = pods.flatMap((from) => pods.filter((to) => to !== from).map((to) => [from, to] as const));
    const results = await Promise.all(
      pairs.map(([from, to]) => (protocol === 'TCP' ? tcpProbe(netnsOf.get(from)!, ips.get(to)!, port) : udpProbe(netnsOf.get(from)!, ips.get(to)!, port))),
    );
    const observed = new Map(pairs.map(([from, to], i) => [`${from}->${to}`, results[i]]));
    return (from: string, to: string) => observed.get(`${from}->${to}`) ?? false;
  };

  /** Probes until the table equals the expected one or CONVERGE_MS pass; asserts equality with both tables shown. */
  const converge = async (pods: string[], protocol: 'TCP' | 'UDP', port: number, expected: Map<string, boolean>, where: string) => {
    const deadline = Date.now() + CONVERGE_MS;
    let seen = await probeTable(pods, protocol, port);
    while (tableDiff(expected, seen).length > 0 && Date.now() < deadline) seen = await probeTable(pods, protocol, port);
    const expectedText = formatTable(pods, (from, to) => expected.get(`${from}->${to}`));
    assert.deepEqual(tableDiff(expected, seen), [], `${overlay}, ${where}, ${protocol}/${port}\nexpected:\n${expectedText}\nobserved:\n${formatTable(pods, seen)}`);
  };
  const allAllowed = expectedTable(ALL_PODS, []);

  // Without policies, every pod reaches every other on every port (also across nodes).
  await t.test('baseline: all pairs connect without policies', async () => {
    for (const [protocol, port] of [['TCP', 80], ['TCP', 81], ['UDP', 80], ['UDP', 81]] as const) await converge(ALL_PODS, protocol, port, allAllowed, 'no policies');
  });

  for (const c of upstreamCases) {
    await t.test(c.name, async (st) => {
      // A clean start: no policies, no step labels, and TCP open between all pods again, so that a
      // case's table is not met by the previous case's leftover state.
      for (const ns of NAMESPACES) ok(['-n', ns, 'delete', 'networkpolicy', '--all']);
      applyLabels({ policies: [], probes: [] });
      await sync('reset');
      await Promise.all([converge(ALL_PODS, 'TCP', 80, allAllowed, 'reset'), converge(ALL_PODS, 'TCP', 81, allAllowed, 'reset')]);
      let previous: KubeObject[] = [];
      for (const [stepIndex, step] of c.steps.entries()) {
        applyLabels(step);
        const names = new Set(step.policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
        for (const gone of previous.filter((p) => !names.has(`${p.metadata.namespace}/${p.metadata.name}`))) {
          ok(['-n', String(gone.metadata.namespace), 'delete', 'networkpolicy', String(gone.metadata.name)]);
        }
        if (step.policies.length > 0) ok(['apply', '-f', '-'], stream(step.policies.map(realize)));
        previous = step.policies;
        await sync(`step ${stepIndex + 1}`);
        for (const probe of step.probes) {
          if (probe.protocol === 'SCTP') {
            st.diagnostic(`step ${stepIndex + 1}: SCTP/${probe.port} not probed: this kernel has no SCTP support (rules are compiled and unit-tested)`);
            continue;
          }
          await converge(c.pods, probe.protocol, probe.port, expectedTable(c.pods, probe.expect), `step ${stepIndex + 1}`);
        }
      }
    });
  }
  t.diagnostic(`${overlay}: done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

test('upstream NetworkPolicy e2e cases in a real lab, vxlan overlay', { timeout: 900_000 }, async (t) => {
  requireRoot('it starts a flatnet lab: network namespaces, nftables');
  requireFreeLab();
  await runLab(t, 'vxlan');
});

test('upstream NetworkPolicy e2e cases in a real lab, host-gw overlay', { timeout: 900_000 }, async (t) => {
  requireRoot('it starts a flatnet lab: network namespaces, nftables');
  requireFreeLab();
  await runLab(t, 'host-gw');
});
