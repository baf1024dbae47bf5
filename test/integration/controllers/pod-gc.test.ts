// The pod garbage collector's orphan pass against a real server (quarantine shortened to 2 s, a
// pass every 200 ms): pods bound to a Node that stays deleted are marked Failed with
// DisruptionTarget (DeletionByPodGC) and deleted; pods of a Node deleted and registered again
// within the quarantine stay, and so does a pod bound to no node. The events recorder's
// aggregation and spam filter against the same server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import type { WatchEvent } from '../../../src/api/types.js';
import { InformerGroup } from '../../../src/client/shared-informers.js';
import { EventRecorder } from '../../../src/controllers/events.js';
import { PodGcController } from '../../../src/controllers/pod-gc.js';
import type { Pod } from '../../../src/controllers/types.js';
import { createLogger } from '../../../src/util/log.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { eventually } from './fake-kubelet.js';

const log = createLogger('test');
let s: TestServer;

before(async () => {
  s = await startTestServer({ controllers: false, store: 'memory' });
});
after(async () => {
  await s?.stop();
});

const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
const pod = (name: string, nodeName?: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'nginx' }] } });

test('pods of a Node that stays deleted are marked Failed (DisruptionTarget, DeletionByPodGC) and deleted; a Node back within the quarantine keeps its pods; an unbound pod stays', async () => {
  const informers = new InformerGroup(s.client);
  const gc = new PodGcController({ client: s.client, informers, events: new EventRecorder(s.client, 'pod-garbage-collector', log), log }, { periodMs: 200, quarantineMs: 2000 });
  await informers.start();
  const seen: WatchEvent<Pod>[] = [];
  const watch = s.client.watch<Pod>(R.pods, { namespace: 'default' }, (ev) => seen.push(ev));
  try {
    for (const n of ['gone', 'back']) await s.client.create(R.nodes, node(n));
    for (const [p, n] of [['on-gone', 'gone'], ['on-back', 'back'], ['unbound', undefined]] as const) await s.client.create(R.pods, pod(p, n));
    const backPod = await s.client.get(R.pods, 'default', 'on-back');
    gc.start();
    await s.client.delete(R.nodes, undefined, 'gone');
    await s.client.delete(R.nodes, undefined, 'back');
    await s.client.create(R.nodes, node('back'));
    await eventually('the pod of the deleted node collected', async () => (await s.client.get(R.pods, 'default', 'on-gone')) === undefined, 60_000);
    const marked = seen.find((e) => e.type === 'MODIFIED' && e.object.metadata.name === 'on-gone' && e.object.status?.phase === 'Failed');
    assert.ok(marked, 'the pod was marked Failed before its delete');
    assert.deepEqual(
      marked.object.status?.conditions?.filter((c) => c.type === 'DisruptionTarget').map(({ type, status, reason, message }) => ({ type, status, reason, message })),
      [{ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' }],
    );
    // Both nodes went missing at the same moment; the pass that collected on-gone found back registered again.
    await gc.tick();
    assert.equal((await s.client.get(R.pods, 'default', 'on-back'))?.metadata.uid, backPod?.metadata.uid);
    assert.ok(await s.client.get(R.pods, 'default', 'unbound'));
  } finally {
    watch.stop();
    gc.stop();
    informers.stop();
  }
});

test('a recorder on the real server: repeats of one event count on one Event, and a source reports at most a burst of 25 about one object', async () => {
  const recorder = new EventRecorder(s.client, 'spam-test', log);
  const noisy = await s.client.create(R.pods, pod('noisy'));
  const quiet = await s.client.create(R.pods, pod('quiet'));
  for (let i = 0; i < 30; i++) recorder.record(noisy, 'Warning', 'BackOff', 'Back-off restarting failed container');
  recorder.record(quiet, 'Normal', 'Pulled', 'Container image "nginx" already present on machine');
  await recorder.idle();
  const counts = await s.kubectlOk(['get', 'events', '--field-selector', 'source=spam-test', '-o', 'jsonpath={range .items[*]}{.involvedObject.name}={.count}{"\\n"}{end}']);
  assert.deepEqual(counts.trim().split('\n').sort(), ['noisy=25', 'quiet=1']);
  for (const name of ['noisy', 'quiet']) await s.client.delete(R.pods, 'default', name);
});
