// `flatnet up --ha` end to end, in one lab: 3 etcd members (TLS with client certificates, on
// root-namespace loopback addresses) and 2 API servers sharing one CA, agents given both servers.
// Faults under client traffic, with every acknowledged write recorded: kill -9 of one etcd member
// (writes and a watch go on; the supervisor restarts it and it rejoins), kill -9 of the API server
// holding the controller lease (a new holder takes over, a Deployment scale is reconciled, a new
// pod runs and serves). The lab runs the BGP overlay (`--ha --overlay bgp`): nodes on two underlay
// segments joined only by the BIRD route reflector, pod traffic between nodes on BGP-learned routes.
// A Node deleted with its agent running comes back: certificate revoked, new one with the bootstrap
// token, Node registered again, Ready, BGP session and pod traffic back. `down` leaves the root
// namespace as it was. Run under the lab lock.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient, isAlreadyExists } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject, WatchEvent } from '../../../src/api/types.js';
import { listNetns } from '../../../src/linux/netns.js';
import { isLabNetns, type LabState } from '../../../src/lab/plan.js';
import { SHARED_SERVER_FILES, type HaServer } from '../../../src/lab/ha-plan.js';
import { etcdMemberStatus, serverOfIdentity } from '../../../src/lab/ha-status.js';
import { findLabProcesses, isAlive, readPid } from '../../../src/lab/processes.js';
import { CONTROLLER_LEASE } from '../../../src/controllers/leader-election-plan.js';
import { requireFreeLab, requireRoot } from '../../support/prerequisites.js';
import { eventually as labEventually } from '../../support/lab.js';

const repo = new URL('../../../', import.meta.url).pathname;
const flatnet = join(repo, 'bin/flatnet');
const NS = 'ha-test';
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeout = 300_000): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** The root namespace's network state, without counters and lifetimes that move on their own. */
function rootSnapshot(): string {
  const strip = (json: string) => JSON.stringify(JSON.parse(json), (k, v) => (['valid_life_time', 'preferred_life_time', 'stats', 'stats64'].includes(k) ? undefined : v));
  return [
    strip(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })),
    strip(execFileSync('ip', ['-j', 'address', 'show'], { encoding: 'utf8' })),
    execFileSync('ip', ['route', 'show', 'table', 'all'], { encoding: 'utf8' }),
    execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' }),
  ].join('\n---\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** test/support/lab.ts's eventually with this file's patience (an HA lab under load is slow). */
const eventually = <T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 120_000): Promise<T> => labEventually(what, fn, timeoutMs, 500);

let dataDir: string;
let state: LabState;
let before0: string;
const clients = new Map<string, KubeClient>();

function client(s: HaServer): KubeClient {
  let c = clients.get(s.name);
  if (!c) clients.set(s.name, (c = new KubeClient(loadKubeconfig(s.kubeconfig))));
  return c;
}
const servers = () => state.plan.ha!.servers;
const pidOf = (name: string) => readPid(join(state.plan.paths.pids, `${name}.pid`));

/** Creates ConfigMaps one after another through the servers in turn of preference, moving to the next on a failure; records what was acknowledged. */
function startWriter(prefer: HaServer[]): { acked: string[]; failures: string[]; stop(): Promise<void> } {
  const acked: string[] = [];
  const failures: string[] = [];
  let stopped = false;
  let n = 0;
  let at = 0;
  const loop = (async () => {
    while (!stopped) {
      const name = `w-${Date.now()}-${n++}`;
      const s = prefer[at % prefer.length];
      try {
        await client(s).create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data: { n: String(n) } });
        acked.push(name);
      } catch (err) {
        failures.push(`${s.name}: ${(err as Error).message.split('\n')[0]}`);
        at++;
        await sleep(200);
      }
    }
  })();
  return {
    acked,
    failures,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

async function leaseHolder(via: HaServer): Promise<string | undefined> {
  const lease = (await client(via).get(R.leases, CONTROLLER_LEASE.namespace, CONTROLLER_LEASE.name)) as (KubeObject & { spec?: { holderIdentity?: string } }) | undefined;
  return lease?.spec?.holderIdentity;
}

async function assertAllPresent(acked: string[], via: HaServer): Promise<void> {
  const names = new Set((await client(via).list(R.configmaps, { namespace: NS })).items.map((c) => c.metadata.name));
  const lost = acked.filter((a) => !names.has(a));
  assert.deepEqual(lost, [], `acknowledged writes lost: ${lost.length} of ${acked.length}`);
}

before(() => {
  requireRoot('it starts a flatnet lab: network namespaces, nftables');
  requireFreeLab();
  if (!existsSync('/usr/bin/etcd')) throw new Error('/usr/bin/etcd is missing: `up --ha` runs Debian etcd-server (apt-get install etcd-server, or scripts/ensure-deps)');
  dataDir = join(mkdtempSync(join(tmpdir(), 'flatnet-e2e-ha-')), 'data');
  before0 = rootSnapshot();
  const up = run(flatnet, ['up', '--ha', '--overlay', 'bgp', '--nodes', '2', '--data-dir', dataDir, '--timeout', '240']);
  if (up.code !== 0) {
    run(flatnet, ['down', '--data-dir', dataDir]);
    throw new Error(`flatnet up --ha failed (exit ${up.code}):\n${up.out}${up.err}`);
  }
  state = JSON.parse(readFileSync(join(dataDir, 'lab.json'), 'utf8')) as LabState;
});

after(() => {
  for (const c of clients.values()) c.close();
  if (dataDir && existsSync(join(dataDir, 'lab.json'))) run(flatnet, ['down', '--data-dir', dataDir]);
  if (dataDir) rmSync(join(dataDir, '..'), { recursive: true, force: true });
});

test('up --ha: 3 healthy etcd members with one leader, 2 ready API servers, the lease held; secrets private and shared; etcd unreachable without a client certificate or from the lab', async () => {
  const ha = state.plan.ha!;
  const st = run(flatnet, ['status', '--data-dir', dataDir]);
  assert.equal(st.code, 0, st.out + st.err);
  assert.match(st.out, /etcd: 3\/3 members healthy/);
  assert.equal(st.out.match(/healthy, leader/g)?.length, 1, st.out);
  assert.match(st.out, /server +https:\/\/127\.0\.0\.1:6443 .*: ready/);
  assert.match(st.out, /server-2 +https:\/\/127\.0\.0\.1:6444 .*: ready/);
  assert.match(st.out, /controller lease kube-system\/kube-controller-manager: held by server(-2)? \(/);
  // The two servers share the CA and signing keys (copied by `up`) and are private.
  for (const f of SHARED_SERVER_FILES) assert.ok(readFileSync(join(ha.servers[0].dataDir, f)).equals(readFileSync(join(ha.servers[1].dataDir, f))), f);
  for (const d of [dataDir, ha.etcd.dir, ha.etcd.pkiDir, ha.servers[1].dataDir, ...ha.etcd.members.map((m) => m.dataDir)]) assert.equal(statSync(d).mode & 0o777, 0o700, d);
  const keys = execFileSync('find', [dataDir, '-name', '*.key', '-o', '-name', 'admin.token'], { encoding: 'utf8' }).trim().split('\n');
  assert.ok(keys.length >= 10, keys.join(' '));
  for (const k of keys) assert.equal(statSync(k).mode & 0o077, 0, k);
  // etcd: refused without a client certificate, answers with the API servers' one.
  const m = ha.etcd.members[0];
  const bare = run('curl', ['-sS', '--max-time', '5', '--cacert', ha.etcd.caFile, `${m.clientUrl}/health`]);
  assert.notEqual(bare.code, 0, `etcd answered a client without a certificate: ${bare.out}`);
  const withCert = run('curl', ['-sS', '--max-time', '5', '--cacert', ha.etcd.caFile, '--cert', ha.etcd.clientCertFile, '--key', ha.etcd.clientKeyFile, `${m.clientUrl}/health`]);
  assert.match(withCert.out, /"health":"true"/, withCert.err);
  // Nothing in the lab reaches etcd: not a node namespace (its loopback is its own), not the outside client at the switch.
  for (const [ns, url] of [['flatnet-node-node-1', `${m.clientUrl}/health`], ['flatnet-ext', 'https://172.18.0.1:2379/health']]) {
    const r = run('ip', ['netns', 'exec', ns, 'curl', '-sS', '--max-time', '3', '-k', '--cert', ha.etcd.clientCertFile, '--key', ha.etcd.clientKeyFile, url]);
    assert.notEqual(r.code, 0, `${ns} reached etcd at ${url}: ${r.out}`);
  }
  // Both servers are one API: a write through one is read through the other.
  await client(ha.servers[0]).create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await eventually('the namespace through server-2', () => client(ha.servers[1]).get(R.namespaces, undefined, NS));
});

type PodObject = KubeObject & { spec: { nodeName?: string }; status?: { phase?: string; podIP?: string } };

/** A netexec pod bound to `node`, Running with an address. */
async function netexecOn(name: string, node: string): Promise<PodObject> {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app: name } }, spec: { nodeName: node, containers: [{ name: 'web', image: AGNHOST, args: ['netexec', '--http-port=8080'] }] } };
  // Retried: a kept-alive connection the server closed while the test waited can fail the first write (EPIPE).
  await eventually(`pod ${name} created`, () => client(servers()[0]).create(R.pods, pod).then(() => true, (err: unknown) => {
    if (isAlreadyExists(err)) return true;
    throw err;
  }));
  return eventually(`pod ${name} Running on ${node}`, async () => {
    const p = (await client(servers()[0]).get(R.pods, NS, name)) as PodObject | undefined;
    return p?.status?.phase === 'Running' && p.status.podIP ? p : undefined;
  });
}

/** Pod `from` asks pod `to` for its hostname (agnhost /dial): traffic from pod to pod, answered through the node of `from`. */
function dialPodToPod(nodeNetns: string, from: PodObject, to: PodObject): string | undefined {
  const url = `http://${from.status!.podIP}:8080/dial?request=hostname&protocol=http&host=${to.status!.podIP}&port=8080&tries=1`;
  const r = run('ip', ['netns', 'exec', nodeNetns, 'curl', '-sS', '--max-time', '10', url]);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.out) as { responses?: string[] }).responses?.[0];
}

/** The route `cidr` in a node's namespace as the kernel has it (protocol, gateway). */
function nodeRoute(nodeNetns: string, cidr: string): { protocol?: string; gateway?: string } | undefined {
  const out = run('ip', ['-n', nodeNetns, '-j', 'route', 'show', cidr]).out;
  return (JSON.parse(out || '[]') as { protocol?: string; gateway?: string }[])[0];
}

async function podCIDROf(node: string): Promise<string> {
  const n = (await client(servers()[0]).get(R.nodes, undefined, node)) as (KubeObject & { spec?: { podCIDR?: string } }) | undefined;
  assert.ok(n?.spec?.podCIDR, `${node} has a pod CIDR`);
  return n.spec.podCIDR;
}

let podA: PodObject;
let podB: PodObject;

test('--ha --overlay bgp: each node learns the other pod CIDR by BGP (via the router on its own segment); pod-to-pod traffic across the segments flows on those routes', async () => {
  const [n1, n2] = state.plan.nodes;
  assert.notEqual(n1.segment?.gateway, n2.segment?.gateway, 'the nodes are on two underlay segments');
  const st = run(flatnet, ['bgp', 'status', '--kubeconfig', state.plan.kubeconfig]);
  assert.equal(st.code, 0, st.out + st.err);
  for (const n of [n1, n2]) assert.match(st.out, new RegExp(`${n.name} +${n.segment!.gateway.replace(/\./g, '\\.')} +64512 +Established`), st.out);
  const [cidr1, cidr2] = await Promise.all([podCIDROf(n1.name), podCIDROf(n2.name)]);
  for (const [n, other] of [[n1, cidr2], [n2, cidr1]] as const) {
    const route = await eventually(`${n.name}: a BGP route to ${other}`, () => {
      const r = nodeRoute(n.netns, other);
      return r?.protocol === 'bgp' ? r : undefined;
    }, 60_000);
    assert.equal(route.gateway, n.segment!.gateway, `${n.name} reaches ${other} through the router on its segment`);
  }
  podA = await netexecOn('bgp-a', n1.name);
  podB = await netexecOn('bgp-b', n2.name);
  assert.equal(await eventually('bgp-a -> bgp-b', () => dialPodToPod(n1.netns, podA, podB), 60_000), 'bgp-b');
  assert.equal(await eventually('bgp-b -> bgp-a', () => dialPodToPod(n2.netns, podB, podA), 60_000), 'bgp-a');
});

test('kubectl delete node with its agent running: its certificate is revoked, the agent gets a new one with its bootstrap token and registers the Node again; Ready, Lease owned by the new Node, BGP and pod traffic back', async () => {
  const n2 = state.plan.nodes[1];
  const admin = client(servers()[0]);
  const old = await admin.get(R.nodes, undefined, n2.name);
  assert.ok(old?.metadata.uid);
  const del = run('kubectl', ['--kubeconfig', state.plan.kubeconfig, 'delete', 'node', n2.name]);
  assert.equal(del.code, 0, del.err);
  const again = await eventually(`${n2.name} registered again and Ready`, async () => {
    const n = await admin.get(R.nodes, undefined, n2.name);
    const ready = (n?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    return n && n.metadata.uid !== old.metadata.uid && ready ? n : undefined;
  }, 180_000);
  const log = readFileSync(join(state.plan.paths.logs, `agent-${n2.name}.log`), 'utf8');
  assert.match(log, /refuses the node client certificate \(401 Unauthorized\)/);
  assert.ok((log.match(/node client certificate issued/g) ?? []).length >= 2, 'a second node client certificate, issued with the bootstrap token');
  assert.match(log, /the Node object is gone \(deleted\); registering the node again/);
  await eventually('the node Lease owned by the new Node', async () => {
    const lease = await admin.get(R.leases, 'kube-node-lease', n2.name);
    return (lease?.metadata as { ownerReferences?: { uid?: string }[] } | undefined)?.ownerReferences?.some((r) => r.uid === again.metadata.uid);
  });
  const st = await eventually(`${n2.name}'s BGP session Established again`, () => {
    const r = run(flatnet, ['bgp', 'status', '--kubeconfig', state.plan.kubeconfig]);
    return new RegExp(`${n2.name} +\\S+ +64512 +Established`).test(r.out) && r.out;
  });
  assert.ok(st);
  // The pods bound to the node keep running (the Node is back before anything would remove them) and still talk across the segments.
  assert.equal(await eventually('bgp-a -> bgp-b after the re-registration', () => dialPodToPod(state.plan.nodes[0].netns, podA, podB), 60_000), 'bgp-b');
});

test('kill -9 of the etcd leader: writes and a watch go on, nothing acknowledged is lost, the supervisor restarts the member and it rejoins', async () => {
  const ha = state.plan.ha!;
  const statuses = await Promise.all(ha.etcd.members.map((m) => etcdMemberStatus(ha, m)));
  const leader = statuses.find((s) => s.leader);
  assert.ok(leader, JSON.stringify(statuses));
  const watcher = ha.servers[1];
  const listed = await client(watcher).list(R.configmaps, { namespace: NS });
  const seen = new Set<string>();
  const watch = client(watcher).watch(R.configmaps, { namespace: NS, resourceVersion: listed.metadata.resourceVersion }, (ev: WatchEvent) => {
    if (ev.type === 'ADDED') seen.add(ev.object.metadata.name!);
  });
  let watchEnded: unknown = null;
  void watch.done.then((e) => (watchEnded = e ?? 'ended'));
  const writer = startWriter([ha.servers[1], ha.servers[0]]);
  try {
    await eventually('writes before the fault', () => writer.acked.length >= 10);
    const pid = pidOf(leader.name)!;
    process.kill(pid, 'SIGKILL');
    const killedAt = writer.acked.length;
    await eventually('30 more acknowledged writes after the kill', () => writer.acked.length >= killedAt + 30);
    await eventually(`${leader.name} restarted by the supervisor`, () => {
      const now = pidOf(leader.name);
      return now !== undefined && now !== pid && isAlive(now);
    });
    await eventually(`${leader.name} healthy again`, async () => (await etcdMemberStatus(ha, ha.etcd.members.find((m) => m.name === leader.name)!)).healthy);
  } finally {
    await writer.stop();
  }
  await assertAllPresent(writer.acked, watcher);
  await eventually('every acknowledged write in the watch', () => writer.acked.every((a) => seen.has(a)), 30_000);
  assert.equal(watchEnded, null, 'the watch never ended');
  watch.stop();
  const st = run(flatnet, ['status', '--data-dir', dataDir]);
  assert.match(st.out, /etcd: 3\/3 members healthy/, st.out);
});

// The supervisor restarts the killed server within a second, so the new holder is whichever
// candidate wins once the dead holder's lease expires: the other server or the restarted one.
test('kill -9 of the API server holding the controller lease: a new holder takes over, a Deployment scale is reconciled, a new pod runs and serves, nothing acknowledged is lost', async () => {
  const ha = state.plan.ha!;
  const holder = await leaseHolder(ha.servers[0]);
  assert.ok(holder, 'the controller lease is held');
  const leaderServer = serverOfIdentity(servers(), holder)!;
  assert.ok(leaderServer, `holder ${holder} names a server`);
  const other = servers().find((s) => s !== leaderServer)!;
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: AGNHOST, args: ['netexec', '--http-port=8080'] }] } },
    },
  };
  await client(other).create(R.deployments, deployment);
  const runningPods = async (via: HaServer) =>
    (await client(via).list(R.pods, { namespace: NS, labelSelector: 'app=web' })).items.filter(
      (p) => (p as { status?: { phase?: string; podIP?: string } }).status?.phase === 'Running' && !p.metadata.deletionTimestamp,
    ) as (KubeObject & { status: { podIP?: string }; spec: { nodeName?: string } })[];
  await eventually('the first web pod Running', async () => (await runningPods(other)).length === 1);

  const writer = startWriter([other, leaderServer]);
  try {
    await eventually('writes before the fault', () => writer.acked.length >= 10);
    const pid = pidOf(leaderServer.name)!;
    process.kill(pid, 'SIGKILL');
    const killedAt = writer.acked.length;
    await eventually('a new controller lease holder', async () => {
      const now = await leaseHolder(other);
      return now !== undefined && now !== holder;
    });
    await client(other).patch(R.deployments, NS, 'web', { spec: { replicas: 3 } }, 'merge');
    const pods = await eventually('3 web pods Running after the scale', async () => {
      const p = await runningPods(other);
      return p.length === 3 && p.every((x) => x.status.podIP) ? p : undefined;
    }, 180_000);
    for (const p of pods) {
      const answer = await eventually(`pod ${p.metadata.name} serving`, () => {
        const r = run('ip', ['netns', 'exec', 'flatnet-node-node-1', 'curl', '-sS', '--max-time', '5', `http://${p.status.podIP}:8080/hostname`]);
        return r.code === 0 && r.out.trim();
      }, 60_000);
      assert.equal(answer, p.metadata.name);
    }
    assert.ok(writer.acked.length > killedAt, 'writes went on after the kill');
  } finally {
    await writer.stop();
  }
  await assertAllPresent(writer.acked, other);
  const st = run(flatnet, ['status', '--data-dir', dataDir]);
  assert.match(st.out, /controller lease kube-system\/kube-controller-manager: held by server/, st.out);
});

test('down stops every process (etcd included), deletes the namespaces and the data; the root namespace is as before up', () => {
  const down = run(flatnet, ['down', '--data-dir', dataDir]);
  assert.equal(down.code, 0, down.out + down.err);
  assert.deepEqual(listNetns().filter(isLabNetns), []);
  assert.deepEqual(findLabProcesses(dataDir), []);
  assert.equal(existsSync(dataDir), false);
  assert.equal(rootSnapshot(), before0, 'the root namespace links, addresses, routes and nftables ruleset are unchanged');
});
