// Routes edited while traffic flows: a client in flatnet-ext sends requests at a steady rate and
// holds a WebSocket and a long in-flight request open through a Gateway while HTTPRoutes are
// applied, patched and deleted in a loop (other routes come and go, the route in use switches
// between two equivalent backends). Not one request may fail and no connection may drop. Then:
// an invalid route gets its status and a Warning event while a later valid route still works.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { connectFromExt, eventually, requestFromExt, startLab, type Lab } from '../../support/lab.js';
import { CONTROLLER_NAME, ECHO_IMAGE, condition, routeParents, type KubeObject } from './suite.js';

const NS = 'live-edit';
const GATEWAY = 'live';
let lab: Lab;
let address: string;

function echo(name: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${NS}}
spec:
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: echo
        image: ${ECHO_IMAGE}
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${NS}}
spec:
  selector: {app: ${name}}
  ports:
  - {name: http, port: 80, targetPort: 3000}
  - {name: ws, port: 8082, targetPort: 3000, appProtocol: kubernetes.io/ws}`;
}

function mainRoute(backend: string, generation: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: main, namespace: ${NS}, labels: {edit: "${generation}"}}
spec:
  parentRefs: [{name: ${GATEWAY}}]
  rules:
  - {matches: [{path: {type: PathPrefix, value: /ws}}], backendRefs: [{name: ${backend}, port: 8082}]}
  - {matches: [{path: {type: PathPrefix, value: /}}], backendRefs: [{name: ${backend}, port: 80}]}`;
}

function otherRoute(i: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other-${i}, namespace: ${NS}}
spec:
  parentRefs: [{name: ${GATEWAY}}]
  rules: [{matches: [{path: {type: PathPrefix, value: /other-${i}}}], backendRefs: [{name: green, port: 80}]}]`;
}

before(async () => {
  lab = await startLab({ nodes: 2 });
  await lab.apply(
    [
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NS}}`,
      echo('blue'),
      echo('green'),
      `apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: ${GATEWAY}, namespace: ${NS}}\nspec:\n  gatewayClassName: flatnet\n  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}]`,
      mainRoute('blue', 0),
    ].join('\n---\n'),
  );
  for (const d of ['blue', 'green']) await lab.ok(['-n', NS, 'rollout', 'status', `deployment/${d}`, '--timeout=300s']);
  address = await eventually('the Gateway address', async () => {
    const g = await lab.getJson<KubeObject>('gateway', GATEWAY, NS);
    const v = ((g?.status?.addresses as { value: string }[] | undefined) ?? [])[0]?.value;
    if (!v) throw new Error(JSON.stringify(g?.status ?? {}));
    return v;
  }, 180_000, 500);
  await eventually('the main route answering from blue', async () => {
    const ans = await requestFromExt({ address, path: '/' });
    return ans.status === 200 && (JSON.parse(ans.body) as { pod: string }).pod.startsWith('blue-');
  }, 120_000, 250);
}, { timeout: 900_000 });

after(async () => {
  await lab?.down();
}, { timeout: 300_000 });

test('routes edited continuously: zero failed requests, no dropped WebSocket or long request', { timeout: 300_000 }, async (t) => {
  const EDIT_MS = 25_000;
  const RATE_PER_S = 20;
  const failures: string[] = [];
  const seenBackends = new Map<string, number>();
  let sent = 0;
  let stop = false;

  // The WebSocket held open across every edit: a message every 200 ms must come back.
  const sock = await connectFromExt(address, 80);
  const ws = new WebSocket(`ws://${address}/ws`, { createConnection: () => sock } as never);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let wsSent = 0;
  let wsEchoed = 0;
  let wsClosed = '';
  ws.on('message', (d) => {
    if (String(d) === `msg-${wsEchoed}`) wsEchoed++;
    else failures.push(`websocket: got ${String(d)}, want msg-${wsEchoed}`);
  });
  ws.on('close', (code) => (wsClosed = `closed with ${code}`));
  ws.on('error', (err) => (wsClosed = `error ${err.message}`));
  const wsTimer = setInterval(() => {
    if (ws.readyState === WebSocket.OPEN) ws.send(`msg-${wsSent++}`);
  }, 200);

  // A long request in flight while routes change (echo answers after 20 s).
  const long = requestFromExt({ address, path: '/long?delay=20s', timeoutMs: 60_000 });

  // Steady traffic.
  const traffic = (async () => {
    const interval = 1000 / RATE_PER_S;
    const inflight: Promise<void>[] = [];
    const start = Date.now();
    while (!stop) {
      const n = sent++;
      inflight.push(
        requestFromExt({ address, path: `/steady/${n}` })
          .then((ans) => {
            if (ans.status !== 200) failures.push(`request ${n}: status ${ans.status} ${ans.body.slice(0, 120)}`);
            else {
              const pod = (JSON.parse(ans.body) as { pod: string }).pod;
              const backend = pod.split('-')[0];
              seenBackends.set(backend, (seenBackends.get(backend) ?? 0) + 1);
            }
          })
          .catch((err: Error) => void failures.push(`request ${n}: ${err.message}`)),
      );
      const due = start + (n + 1) * interval;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    }
    await Promise.all(inflight);
  })();

  // The editor: switch the main route between blue and green; add and remove other routes.
  let edits = 0;
  const editorEnd = Date.now() + EDIT_MS;
  let i = 0;
  while (Date.now() < editorEnd) {
    i++;
    await lab.apply(mainRoute(i % 2 === 1 ? 'green' : 'blue', i));
    await lab.apply(otherRoute(i));
    if (i > 2) await lab.ok(['-n', NS, 'delete', 'httproute', `other-${i - 2}`, '--wait=false']);
    await lab.ok(['-n', NS, 'patch', 'httproute', `other-${i}`, '--type', 'merge', '-p', JSON.stringify({ spec: { rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/other-${i}-patched` } }], backendRefs: [{ name: 'blue', port: 80 }] }] } })]);
    edits += 4;
  }
  stop = true;
  await traffic;
  const longAnswer = await long;
  clearInterval(wsTimer);
  await eventually('the last WebSocket messages echoed', () => wsEchoed === wsSent || !!wsClosed, 10_000, 50);
  ws.close();

  t.diagnostic(`${sent} requests (${failures.length} failed), ${edits} route edits, ${wsEchoed}/${wsSent} WebSocket messages echoed, long request ${longAnswer.status}, answers per backend ${JSON.stringify(Object.fromEntries(seenBackends))}`);
  assert.ok(edits >= 8, `the editor made ${edits} edits`);
  assert.ok(sent >= (EDIT_MS / 1000) * RATE_PER_S * 0.5, `${sent} requests sent`);
  assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed during ${edits} edits`);
  assert.equal(wsClosed, '', 'the WebSocket stayed open');
  assert.ok(wsEchoed > 50 && wsEchoed === wsSent, `WebSocket messages echoed: ${wsEchoed} of ${wsSent}`);
  assert.equal(longAnswer.status, 200, 'the long request completed');
  assert.ok((seenBackends.get('blue') ?? 0) > 0 && (seenBackends.get('green') ?? 0) > 0, `both backends served while the route switched: ${JSON.stringify(Object.fromEntries(seenBackends))}`);
});

test('an invalid route gets its status and a Warning event; a later valid route still takes effect', { timeout: 180_000 }, async () => {
  const route = (name: string, rules: string) => `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: ${name}, namespace: ${NS}}\nspec:\n  parentRefs: [{name: ${GATEWAY}}]\n  rules:\n${rules}`;
  await lab.apply(route('bad-regex', '  - {matches: [{path: {type: RegularExpression, value: "/bad/(["}}], backendRefs: [{name: blue, port: 80}]}'));
  await lab.apply(route('bad-kind', '  - {matches: [{path: {type: PathPrefix, value: /bad-kind}}], backendRefs: [{group: unknown.example.com, kind: Bucket, name: assets}]}'));
  await lab.apply(route('after-bad', '  - {matches: [{path: {type: PathPrefix, value: /after-bad}}], backendRefs: [{name: green, port: 80}]}'));
  const parentCondition = async (name: string, type: string) => {
    const r = await lab.getJson<KubeObject>('httproute', name, NS);
    const p = routeParents(r).find((x) => x.controllerName === CONTROLLER_NAME && x.parentRef.name === GATEWAY);
    return condition(p?.conditions, type);
  };
  await eventually('bad-regex Accepted=False/UnsupportedValue', async () => {
    const c = await parentCondition('bad-regex', 'Accepted');
    if (c?.status !== 'False' || c.reason !== 'UnsupportedValue') throw new Error(JSON.stringify(c));
    return true;
  });
  await eventually('bad-kind ResolvedRefs=False/InvalidKind', async () => {
    const c = await parentCondition('bad-kind', 'ResolvedRefs');
    if (c?.status !== 'False' || c.reason !== 'InvalidKind') throw new Error(JSON.stringify(c));
    return true;
  });
  await eventually('a Warning event for bad-regex', async () => {
    const events = JSON.parse(await lab.ok(['-n', NS, 'get', 'events', '--field-selector', 'involvedObject.name=bad-regex', '-o', 'json'])) as { items: { type: string; reason: string; message: string }[] };
    if (!events.items.some((e) => e.type === 'Warning')) throw new Error(JSON.stringify(events.items));
    return true;
  });
  await eventually('the valid route after the bad ones answers from green', async () => {
    const ans = await requestFromExt({ address, path: '/after-bad' });
    return ans.status === 200 && (JSON.parse(ans.body) as { pod: string }).pod.startsWith('green-');
  }, 30_000, 250);
  const badKind = await requestFromExt({ address, path: '/bad-kind' });
  assert.equal(badKind.status, 500, 'the rule whose only backend is of an unknown kind answers 500');
});
