// The `kubernetes` Service with two API servers on one real etcd (controllers on, so one of them
// holds the controller lease): its Endpoints and EndpointSlices list both servers, each of which
// keeps its own endpoint Lease renewed; a server killed with SIGKILL drops out once its Lease
// expires (15 s), and one stopped cleanly drops out at once (it deletes its Lease).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { startEtcd, type EtcdMember } from '../../unit/store/etcd-member.js';

let etcd: EtcdMember;
before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

/** "ip:port" of every address the kubernetes Endpoints and EndpointSlices list, sorted. */
async function listed(s: TestServer): Promise<{ endpoints: string[]; slices: string[]; targetPort: unknown }> {
  const ep = await s.client.get(R.endpoints, 'default', 'kubernetes');
  const endpoints = ((ep?.subsets ?? []) as { addresses?: { ip: string }[]; ports?: { port: number }[] }[]).flatMap((sub) => (sub.addresses ?? []).map((a) => `${a.ip}:${sub.ports?.[0]?.port}`));
  const sliceList = await s.client.list(R.endpointslices, { namespace: 'default', labelSelector: 'kubernetes.io/service-name=kubernetes' });
  const slices = sliceList.items.flatMap((sl: KubeObject) => ((sl.endpoints ?? []) as { addresses: string[] }[]).map((e) => `${e.addresses[0]}:${(sl.ports as { port: number }[])[0].port}`));
  const svc = await s.client.get(R.services, 'default', 'kubernetes');
  return { endpoints: endpoints.sort(), slices: slices.sort(), targetPort: (svc?.spec as { ports: { targetPort: unknown }[] }).ports[0].targetPort };
}

async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The pid of the server process serving `s` (its command line names its data dir). */
function serverPid(s: TestServer): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.includes('server') && cmd[cmd.indexOf('--data-dir') + 1] === s.dataDir) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no server process for ${s.dataDir}`);
}

const hostPort = (s: TestServer) => new URL(s.url).host;

test('both API servers are listed; a killed one drops out after its lease expires, a stopped one at once', async () => {
  const onEtcd = { controllers: true, args: ['--store', 'etcd', '--etcd-servers', etcd.url] };
  const [one, two] = await Promise.all([startTestServer(onEtcd), startTestServer(onEtcd)]);
  let three: TestServer | undefined;
  try {
    const both = [hostPort(one), hostPort(two)].sort();
    const seen = await eventually('both servers in the kubernetes endpoints', async () => {
      const l = await listed(one);
      // Two ports on one address: the Service names its target port, each slice carries its number.
      // (A server starting beside the other may briefly write the Service for itself alone; the
      // controller puts it back, so the three settle together.)
      return JSON.stringify(l.endpoints) === JSON.stringify(both) && JSON.stringify(l.slices) === JSON.stringify(both) && l.targetPort === 'https' ? l : undefined;
    });
    assert.equal(seen.targetPort, 'https');
    // The same through the other server.
    assert.deepEqual((await listed(two)).endpoints, both);
    const leases = await one.client.list(R.leases, { namespace: 'kube-system', labelSelector: 'flatnet.dev/apiserver-endpoint=true' });
    assert.deepEqual(leases.items.map((l) => (l.spec as { holderIdentity: string }).holderIdentity).sort(), both);

    // kill -9 the second: no clean stop, so it leaves only when its lease runs out.
    process.kill(serverPid(two), 'SIGKILL');
    const killedAt = Date.now();
    const alone = await eventually('the killed server gone from the endpoints', async () => {
      const l = await listed(one);
      return JSON.stringify(l.endpoints) === JSON.stringify([hostPort(one)]) && JSON.stringify(l.slices) === JSON.stringify([hostPort(one)]) ? l : undefined;
    });
    const waited = Date.now() - killedAt;
    assert.equal(alone.targetPort, Number(new URL(one.url).port), 'one server left: the Service targets its port again');
    // It cannot have gone before its last renewal ran out (renewed at most 5 s before the kill, 15 s lease).
    assert.ok(waited >= 9_000, `removed ${waited} ms after the kill, before its lease could have expired`);

    // A third server joins, then stops cleanly: it deletes its lease and leaves at once.
    three = await startTestServer(onEtcd);
    const withThree = [hostPort(one), hostPort(three)].sort();
    await eventually('the third server listed', async () => (JSON.stringify((await listed(one)).endpoints) === JSON.stringify(withThree) ? true : undefined));
    await three.stop();
    three = undefined;
    await eventually('the stopped server gone', async () => (JSON.stringify((await listed(one)).endpoints) === JSON.stringify([hostPort(one)]) ? true : undefined), 8_000);
  } finally {
    await three?.stop();
    await two.stop().catch(() => undefined);
    await one.stop();
  }
});
