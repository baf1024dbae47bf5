// Round trips of kubectl's batch/v1 create generators through the protobuf decoder (see protobuf.test.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtobufObject } from '../../../src/apiserver/present/index.js';
import { sendJson, startHarness, type Harness } from './kubectl-harness.js';

let h: Harness;

before(async () => {
  h = await startHarness();
  // Answer every create with the decoded object, like an API server that accepted it.
  h.handler = (req, res) => {
    if (req.method !== 'POST') return false;
    try {
      sendJson(res, 201, decodeProtobufObject(req.body));
    } catch (err) {
      sendJson(res, 400, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: (err as Error).message, reason: 'BadRequest', code: 400 });
    }
    return true;
  };
});

after(async () => {
  await h.close();
});

/** JSON without the nulls Go prints for zero times (creationTimestamp: null). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
  }
  return v;
}

/**
 * Run a real `kubectl create <generator>`, capture the protobuf body it POSTs, and compare
 * its decoding with the JSON kubectl prints for the same command with --dry-run=client.
 */
async function roundTrip(args: string[]) {
  const first = h.requests.length;
  const created = await h.kubectl(args);
  assert.equal(created.code, 0, created.stderr);
  const post = h.requests.slice(first).find((r) => r.method === 'POST');
  assert.ok(post, `kubectl ${args.join(' ')} sent no POST`);
  assert.equal(post.headers['content-type'], 'application/vnd.kubernetes.protobuf');
  assert.match(post.url, /fieldManager=kubectl-create/);
  const dash = args.includes('--') ? args.indexOf('--') : args.length;
  const dry = await h.kubectl([...args.slice(0, dash), '--dry-run=client', '-o', 'json', ...args.slice(dash)]);
  assert.equal(dry.code, 0, dry.stderr);
  const decoded = decodeProtobufObject(post.body);
  assert.deepEqual(decoded, withoutNulls(JSON.parse(dry.stdout)));
  return { decoded, url: post.url };
}


// kubectl create job / cronjob POST protobuf (batch/v1 Job and CronJob messages).
test('create job and create cronjob decode from kubectl protobuf bodies', async () => {
  const job = await roundTrip(['create', 'job', 'hello', '--image=busybox', '--', 'echo', 'hi']);
  assert.match(job.url, /^\/apis\/batch\/v1\/namespaces\/default\/jobs\?/);
  const spec = job.decoded.spec as { template: { spec: { containers: { command: string[] }[]; restartPolicy: string } } };
  assert.deepEqual(spec.template.spec.containers[0]!.command, ['echo', 'hi']);
  assert.equal(spec.template.spec.restartPolicy, 'Never');
  const cj = await roundTrip(['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/1 * * * *', '--restart=OnFailure', '--', 'date']);
  assert.match(cj.url, /^\/apis\/batch\/v1\/namespaces\/default\/cronjobs\?/);
  assert.equal((cj.decoded.spec as { schedule: string }).schedule, '*/1 * * * *');
});
