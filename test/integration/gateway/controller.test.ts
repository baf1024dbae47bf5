// The gateway controller inside the real `flatnet server` (memory store, a LoadBalancer pool, no
// agents: proxy pods do not run; later a fake kubelet marks them Ready): GatewayClass and Gateway statuses, the
// proxy Deployment/Service/Secret each Gateway gets, listener changes updating the Service in
// place, route status.parents shared with another controller, garbage collection with the
// Gateway, the DefaultIngressClass admission rule and Ingress addresses. Driven through the API
// and the real kubectl.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { verifyProxyToken } from '../../../src/gateway/proxy-identity.js';
import { GATEWAY_CONTROLLER_NAME } from '../../../src/gateway/model/types.js';
import { installServedClasses } from '../../../src/lab/addons.js';
import { FakeKubelet, eventually } from '../controllers/fake-kubelet.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const POOL = '172.31.254.0/28';
let s: TestServer;
let kubelet: FakeKubelet | undefined;

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: true, args: ['--load-balancer-pool', POOL] });
});

after(async () => {
  kubelet?.stop();
  await s?.stop();
});

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}\n--- server logs:\n${s.logs().slice(-4000)}`);
  return r.stdout;
}

const apply = (yaml: string) => kubectl(['apply', '-f', '-'], yaml);
const conditionOf = (obj: KubeObject | undefined, type: string) => ((obj?.status as any)?.conditions ?? []).find((c: any) => c.type === type);
const get = (r: (typeof R)[keyof typeof R], ns: string | undefined, name: string) => s.client.get(r, ns, name);

function gatewayYaml(name: string, listeners: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: default}
spec:
  gatewayClassName: flatnet
  listeners:
${listeners}`;
}

test('flatnet up installs the served classes, idempotently', async () => {
  await installServedClasses(s.client);
  await installServedClasses(s.client);
  const gcs = (await s.client.list(R.gatewayclasses)).items.map((c) => [c.metadata.name, (c.spec as any).controllerName]);
  assert.deepEqual(gcs.sort(), [
    ['flatnet', GATEWAY_CONTROLLER_NAME],
    ['nginx', GATEWAY_CONTROLLER_NAME],
  ]);
  const nginx = await get(R.gatewayclasses, undefined, 'nginx');
  assert.match((nginx!.spec as any).description, /NGINX Gateway Fabric/);
  const ics = await s.client.list(R.ingressclasses);
  const byName = Object.fromEntries(ics.items.map((c) => [c.metadata.name, c]));
  assert.equal((byName.flatnet!.spec as any).controller, 'flatnet.dev/ingress');
  assert.equal(byName.flatnet!.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'], 'true');
  assert.equal((byName.nginx!.spec as any).controller, 'k8s.io/ingress-nginx');
});

test('our GatewayClasses become Accepted; a class of another controller is left alone', async () => {
  await apply(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: someone-else}
spec: {controllerName: example.com/other}`);
  for (const name of ['flatnet', 'nginx']) {
    const accepted = await eventually(`GatewayClass ${name} Accepted`, async () => {
      const c = conditionOf(await get(R.gatewayclasses, undefined, name), 'Accepted');
      return c?.status === 'True' && c;
    });
    assert.equal(accepted.observedGeneration, 1);
    assert.ok(accepted.lastTransitionTime);
  }
  // Give the controller a pass over the foreign class (a label change is an event), then check it was not touched.
  await kubectl(['label', 'gatewayclass', 'someone-else', 'seen=yes']);
  await eventually('the flatnet class still Accepted after another pass', async () => conditionOf(await get(R.gatewayclasses, undefined, 'flatnet'), 'Accepted')?.status === 'True');
  assert.equal(conditionOf(await get(R.gatewayclasses, undefined, 'someone-else'), 'Accepted'), undefined);
});

test('a Gateway gets its proxy Deployment, LoadBalancer Service and token Secret, owned by the Gateway', async () => {
  await apply(
    gatewayYaml(
      'web',
      `  - {name: http, port: 80, protocol: HTTP}
  - {name: http-alt, port: 80, protocol: HTTP, hostname: alt.example.com}
  - {name: dns, port: 53, protocol: UDP}`,
    ),
  );
  const gw = (await get(R.gateways, 'default', 'web'))!;
  const dep = await eventually('Deployment web-flatnet', () => get(R.deployments, 'default', 'web-flatnet'));
  const svc = await eventually('Service web-flatnet', () => get(R.services, 'default', 'web-flatnet'));
  const secret = await eventually('Secret web-flatnet-proxy-token', () => get(R.secrets, 'default', 'web-flatnet-proxy-token'));
  for (const o of [dep, svc, secret]) {
    assert.deepEqual(o.metadata.ownerReferences, [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'web', uid: gw.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(o.metadata.labels?.['gateway.networking.k8s.io/gateway-name'], 'web');
    assert.equal(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'flatnet');
  }
  const d = dep as any;
  assert.equal(d.spec.replicas, 1);
  const c = d.spec.template.spec.containers[0];
  assert.equal(c.image, 'flatnet/gateway');
  assert.deepEqual(c.args, ['--gateway', 'default/web']);
  const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.valueFrom?.secretKeyRef ?? e.value]));
  assert.deepEqual(env.FLATNET_PROXY_TOKEN, { name: 'web-flatnet-proxy-token', key: 'token' });
  assert.deepEqual(env.FLATNET_PROXY_CA, { name: 'web-flatnet-proxy-token', key: 'ca.crt' });
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.readinessProbe.httpGet.port, 15021);
  const sv = svc as any;
  assert.equal(sv.spec.type, 'LoadBalancer');
  assert.deepEqual(
    sv.spec.ports.map((p: any) => [p.port, p.targetPort, p.protocol]),
    [
      [53, 53, 'UDP'],
      [80, 80, 'TCP'],
    ],
  );
  assert.deepEqual(sv.spec.selector, d.spec.selector.matchLabels);
  assert.equal((secret as any).type, 'Opaque');
  const token = Buffer.from((secret as any).data.token, 'base64').toString('utf8');
  assert.equal(verifyProxyToken(s.dataDir, token)?.username, 'system:serviceaccount:default:web-flatnet');
  assert.equal(Buffer.from((secret as any).data['ca.crt'], 'base64').toString('utf8'), readFileSync(join(s.dataDir, 'ca.crt'), 'utf8'));
  // The pool gives the Service an address.
  await eventually('web-flatnet LoadBalancer address', async () => ((await get(R.services, 'default', 'web-flatnet'))?.status as any)?.loadBalancer?.ingress?.[0]?.ip);
});

test('Gateway status: addresses, Accepted, Programmed and listeners at the current generation', async () => {
  const svc = (await get(R.services, 'default', 'web-flatnet'))!;
  const ip = (svc.status as any).loadBalancer.ingress[0].ip as string;
  const gw = await eventually('Gateway web status', async () => {
    const g = await get(R.gateways, 'default', 'web');
    const st = g?.status as any;
    return st?.listeners?.length === 3 && st.addresses?.some((a: any) => a.value === ip) && conditionOf(g, 'Accepted') && conditionOf(g, 'Programmed') && g;
  });
  const st = gw.status as any;
  assert.deepEqual(st.addresses, [{ type: 'IPAddress', value: ip }]);
  assert.equal(conditionOf(gw, 'Accepted').status, 'True');
  // No agents run the proxy pod: nothing is ready, so the Gateway is not Programmed yet.
  assert.equal(conditionOf(gw, 'Programmed').status, 'False');
  for (const c of st.conditions) assert.equal(c.observedGeneration, gw.metadata.generation);
  assert.deepEqual(st.listeners.map((l: any) => l.name).sort(), ['dns', 'http', 'http-alt']);
  const out = await kubectl(['get', 'gateway', 'web']);
  assert.match(out, new RegExp(`web\\s+flatnet\\s+${ip.replace(/\./g, '\\.')}\\s+False`));
});

test('listener changes update the Service ports in place: same object, same cluster IP and address', async () => {
  const before = (await get(R.services, 'default', 'web-flatnet'))!;
  await apply(
    gatewayYaml(
      'web',
      `  - {name: http, port: 80, protocol: HTTP}
  - {name: tcp, port: 5432, protocol: TCP}`,
    ),
  );
  const after = await eventually('Service ports 80 and 5432', async () => {
    const sv = await get(R.services, 'default', 'web-flatnet');
    const ports = ((sv?.spec as any)?.ports ?? []).map((p: any) => `${p.protocol}/${p.port}`);
    return ports.join(',') === 'TCP/80,TCP/5432' && sv;
  });
  assert.equal(after.metadata.uid, before.metadata.uid);
  assert.equal((after.spec as any).clusterIP, (before.spec as any).clusterIP);
  assert.deepEqual((after.status as any).loadBalancer, (before.status as any).loadBalancer);
  const port80 = (p: any[]) => p.find((x) => x.port === 80).nodePort;
  assert.equal(port80((after.spec as any).ports), port80((before.spec as any).ports), 'the node port of a port that stays is kept');
  const dep = await eventually('Deployment container ports follow', async () => {
    const d = await get(R.deployments, 'default', 'web-flatnet');
    const ports = (d?.spec as any)?.template.spec.containers[0].ports.map((p: any) => p.containerPort);
    return ports?.includes(5432) && !ports.includes(53) && d;
  });
  assert.ok(dep);
  const gw = await eventually('Gateway status follows the new generation', async () => {
    const g = await get(R.gateways, 'default', 'web');
    return (g?.status as any)?.listeners?.length === 2 && conditionOf(g, 'Accepted')?.observedGeneration === g!.metadata.generation && g;
  });
  assert.equal(gw.metadata.generation, 2);
});

test('once its proxy pod is Ready (a fake kubelet plays the node), the Gateway is Programmed', async () => {
  kubelet = new FakeKubelet(s.client, ['n1']);
  await kubelet.start();
  const gw = await eventually('Gateway web Programmed', async () => {
    const g = await get(R.gateways, 'default', 'web');
    return conditionOf(g, 'Programmed')?.status === 'True' && g;
  });
  const dep = (await get(R.deployments, 'default', 'web-flatnet'))!;
  // The listener change above rolled the Deployment: old and new pods may both be ready for a moment.
  assert.ok((dep.status as any).readyReplicas >= 1);
  assert.equal(conditionOf(gw, 'Programmed').observedGeneration, gw.metadata.generation);
  assert.match(await kubectl(['get', 'gateway', 'web']), /web\s+flatnet\s+\S+\s+True/);
  const metrics = await s.client.request<string>('GET', '/metrics');
  assert.match(metrics, /^flatnet_gateway_proxies\{kind="gateway"\} 1$/m);
  const writes = metrics.match(/^flatnet_gateway_status_writes_total\{kind="Gateway"\} (\d+)$/m);
  assert.ok(writes && Number(writes[1]) >= 3, `Gateway status writes in /metrics: ${writes?.[0]}`);
});

test("an HTTPRoute gets our status.parents entry; another controller's entry stays untouched", async () => {
  await apply(`apiVersion: v1
kind: Service
metadata: {name: backend, namespace: default}
spec:
  selector: {app: backend}
  ports: [{port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: default}
spec:
  parentRefs: [{name: web}]
  rules:
  - backendRefs: [{name: backend, port: 8080}]`);
  const route = await eventually('HTTPRoute parents', async () => {
    const r = await get(R.httproutes, 'default', 'shop');
    const ours = ((r?.status as any)?.parents ?? []).find((p: any) => p.controllerName === GATEWAY_CONTROLLER_NAME);
    return ours && r;
  });
  const ours = (route.status as any).parents.find((p: any) => p.controllerName === GATEWAY_CONTROLLER_NAME);
  assert.equal(ours.parentRef.name, 'web');
  const accepted = ours.conditions.find((c: any) => c.type === 'Accepted');
  assert.equal(accepted.status, 'True');
  assert.equal(accepted.observedGeneration, 1);

  // Another implementation writes its own entry next to ours.
  const foreign = {
    parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'elsewhere' },
    controllerName: 'example.com/other',
    conditions: [{ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners', message: 'theirs', observedGeneration: 1, lastTransitionTime: '2020-01-01T00:00:00Z' }],
  };
  await eventually('the foreign entry written', async () => {
    const fresh = (await get(R.httproutes, 'default', 'shop'))!;
    await s.client.updateStatus(R.httproutes, { ...fresh, status: { parents: [...(fresh.status as any).parents, foreign] } }); // a conflict throws: tried again
    return true;
  });

  // A spec change: our entry moves to generation 2, theirs is kept byte for byte.
  await kubectl(['patch', 'httproute', 'shop', '--type=merge', '-p', '{"spec":{"hostnames":["shop.example.com"]}}']);
  const updated = await eventually('our entry at generation 2', async () => {
    const r = await get(R.httproutes, 'default', 'shop');
    const o = ((r?.status as any)?.parents ?? []).find((p: any) => p.controllerName === GATEWAY_CONTROLLER_NAME);
    return o?.conditions.find((c: any) => c.type === 'Accepted')?.observedGeneration === 2 && r;
  });
  assert.deepEqual(
    (updated.status as any).parents.find((p: any) => p.controllerName === 'example.com/other'),
    foreign,
  );
  const ours2 = (updated.status as any).parents.find((p: any) => p.controllerName === GATEWAY_CONTROLLER_NAME);
  assert.equal(ours2.conditions.find((c: any) => c.type === 'Accepted').lastTransitionTime, accepted.lastTransitionTime, 'unchanged status and reason keep the transition time');

  // The route leaves our Gateway: our entry goes, theirs stays.
  await kubectl(['patch', 'httproute', 'shop', '--type=merge', '-p', '{"spec":{"parentRefs":[{"name":"not-ours"}]}}']);
  const left = await eventually('our entry removed', async () => {
    const r = await get(R.httproutes, 'default', 'shop');
    const parents = (r?.status as any)?.parents ?? [];
    return !parents.some((p: any) => p.controllerName === GATEWAY_CONTROLLER_NAME) && r;
  });
  assert.deepEqual((left.status as any).parents, [foreign]);
});

test('a route status another writer wipes is written again; routes nothing changed for are not rewritten', async () => {
  await apply(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: restore, namespace: default}
spec:
  parentRefs: [{name: web}]
  rules:
  - backendRefs: [{name: backend, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bystander, namespace: default}
spec:
  parentRefs: [{name: web}]
  rules:
  - backendRefs: [{name: backend, port: 8080}]`);
  const ourEntry = (r: KubeObject | undefined) => ((r?.status as any)?.parents ?? []).find((p: any) => p.controllerName === GATEWAY_CONTROLLER_NAME);
  const bystander = await eventually('bystander has our entry', async () => {
    const r = await get(R.httproutes, 'default', 'bystander');
    return ourEntry(r) && r;
  });
  const first = await eventually('restore has our entry', async () => {
    const r = await get(R.httproutes, 'default', 'restore');
    return ourEntry(r) && r;
  });
  // Several passes have checked both routes by now; another writer empties one status.
  await s.client.updateStatus(R.httproutes, { ...first, status: { parents: [] } });
  const back = await eventually('our entry written again', async () => ourEntry(await get(R.httproutes, 'default', 'restore')));
  assert.equal(back.parentRef.name, 'web');
  assert.equal(back.conditions.find((c: any) => c.type === 'Accepted')?.status, 'True');
  const after = await get(R.httproutes, 'default', 'bystander');
  assert.equal(after?.metadata.resourceVersion, bystander.metadata.resourceVersion, 'a route nothing changed for was written again');
  await kubectl(['delete', 'httproute', 'restore', 'bystander']);
});

test('routes created and deleted in a burst: attachedRoutes and every route status converge (status writes never wait on their own echo)', async () => {
  const attached = async () => ((await get(R.gateways, 'default', 'web'))?.status as any)?.listeners?.find((l: any) => l.name === 'http')?.attachedRoutes as number | undefined;
  // The base is the routes that exist now: the previous test's deletions may not be counted yet.
  const base = await eventually('attachedRoutes of http equal to the routes that exist', async () => {
    const routes = (await s.client.list(R.httproutes, { namespace: 'default' })).items;
    const expected = routes.filter((r) => ((r.spec as any)?.parentRefs ?? []).some((p: any) => p.name === 'web' && (p.sectionName ?? 'http') === 'http')).length;
    const n = await attached();
    return n === expected ? { n } : undefined;
  });
  const names = Array.from({ length: 30 }, (_, i) => `burst-${i}`);
  const routeObject = (name: string): KubeObject => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'default' },
    spec: { parentRefs: [{ name: 'web', sectionName: 'http' }], hostnames: [`${name}.example.com`], rules: [{ backendRefs: [{ name: 'backend', port: 8080 }] }] },
  });
  await Promise.all(names.map((n) => s.client.create(R.httproutes, routeObject(n))));
  await eventually(`attachedRoutes = ${base.n + names.length}`, async () => (await attached()) === base.n + names.length);
  await eventually('every burst route Accepted by us', async () => {
    for (const n of names) {
      const r = await get(R.httproutes, 'default', n);
      const ours = ((r?.status as any)?.parents ?? []).find((p: any) => p.controllerName === GATEWAY_CONTROLLER_NAME);
      if (ours?.conditions?.find((c: any) => c.type === 'Accepted')?.status !== 'True') return false;
    }
    return true;
  });
  await Promise.all(names.map((n) => s.client.delete(R.httproutes, 'default', n)));
  await eventually(`attachedRoutes back to ${base.n}`, async () => (await attached()) === base.n);
});

test('deleting the Gateway deletes its proxy objects (garbage collection)', async () => {
  await kubectl(['delete', 'gateway', 'web']);
  await eventually('proxy objects gone', async () => {
    const left = await Promise.all([get(R.deployments, 'default', 'web-flatnet'), get(R.services, 'default', 'web-flatnet'), get(R.secrets, 'default', 'web-flatnet-proxy-token')]);
    return left.every((o) => o === undefined);
  });
});

test("a same-named Deployment the Gateway does not own is left alone with a Warning; tokens that stop verifying are re-minted; a class change moves the proxy", async () => {
  await kubectl(['create', 'deployment', 'api-flatnet', '--image=busybox']);
  await apply(gatewayYaml('api', '  - {name: http, port: 8080, protocol: HTTP}'));
  const warning = await eventually('ProvisioningFailed event on Gateway api', async () => {
    const evs = (await s.client.list(R.events, { namespace: 'default' })).items as any[];
    return evs.find((e) => e.involvedObject?.kind === 'Gateway' && e.involvedObject?.name === 'api' && e.reason === 'ProvisioningFailed');
  });
  assert.match(warning.message, /Deployment default\/api-flatnet exists and is not controlled by this Gateway/);
  assert.equal((await get(R.deployments, 'default', 'api-flatnet'))!.metadata.ownerReferences, undefined);
  assert.equal(await get(R.services, 'default', 'api-flatnet'), undefined);

  await kubectl(['delete', 'deployment', 'api-flatnet']);
  const dep = await eventually('the Gateway\'s own Deployment', async () => {
    const d = await get(R.deployments, 'default', 'api-flatnet');
    return d?.metadata.ownerReferences?.[0]?.kind === 'Gateway' && d;
  });
  assert.equal((dep.spec as any).template.spec.containers[0].image, 'flatnet/gateway');

  const secret = await eventually('token Secret', () => get(R.secrets, 'default', 'api-flatnet-proxy-token'));
  await s.client.update(R.secrets, { ...secret, data: { ...(secret as any).data, token: Buffer.from('not-a-token').toString('base64') } });
  await eventually('a token that verifies again', async () => {
    const sec = await get(R.secrets, 'default', 'api-flatnet-proxy-token');
    const token = Buffer.from((sec as any)?.data?.token ?? '', 'base64').toString('utf8');
    return verifyProxyToken(s.dataDir, token)?.username === 'system:serviceaccount:default:api-flatnet';
  });

  await kubectl(['patch', 'gateway', 'api', '--type=merge', '-p', '{"spec":{"gatewayClassName":"nginx"}}']);
  await eventually('proxy moved to api-nginx', async () => {
    const [oldDep, oldSvc, newDep, newSvc] = await Promise.all([
      get(R.deployments, 'default', 'api-flatnet'),
      get(R.services, 'default', 'api-flatnet'),
      get(R.deployments, 'default', 'api-nginx'),
      get(R.services, 'default', 'api-nginx'),
    ]);
    return !oldDep && !oldSvc && newDep && newSvc;
  });
  await kubectl(['delete', 'gateway', 'api']);
});

const ing = (name: string, annotations = '') => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ${name}, namespace: default${annotations}}
spec:
  defaultBackend: {service: {name: backend, port: {number: 8080}}}`;

test('DefaultIngressClass admission: a class-less Ingress gets the default class, unless the legacy annotation names one', async () => {
  await apply(ing('plain'));
  assert.equal(((await get(R.ingresses, 'default', 'plain'))!.spec as any).ingressClassName, 'flatnet');
  await apply(ing('legacy', ', annotations: {kubernetes.io/ingress.class: nginx}'));
  assert.equal(((await get(R.ingresses, 'default', 'legacy'))!.spec as any).ingressClassName, undefined);
  await kubectl(['delete', 'ingress', 'legacy']);
});

test('an Ingress of a served class gets the ingress proxy and its LoadBalancer address in status', async () => {
  const dep = await eventually('flatnet-system/flatnet-ingress Deployment', () => get(R.deployments, 'flatnet-system', 'flatnet-ingress'));
  assert.deepEqual((dep.spec as any).template.spec.containers[0].args, ['--ingress']);
  const secret = await eventually('ingress proxy token Secret', () => get(R.secrets, 'flatnet-system', 'flatnet-ingress-proxy-token'));
  const token = Buffer.from((secret as any).data.token, 'base64').toString('utf8');
  assert.equal(verifyProxyToken(s.dataDir, token)?.username, 'system:serviceaccount:flatnet-system:flatnet-ingress');
  const svc = await eventually('ingress proxy address', async () => {
    const sv = await get(R.services, 'flatnet-system', 'flatnet-ingress');
    return (sv?.status as any)?.loadBalancer?.ingress?.[0]?.ip && sv;
  });
  assert.deepEqual(
    (svc.spec as any).ports.map((p: any) => p.port),
    [80, 443],
  );
  const ip = (svc.status as any).loadBalancer.ingress[0].ip;
  await eventually('Ingress status address', async () => ((await get(R.ingresses, 'default', 'plain'))?.status as any)?.loadBalancer?.ingress?.[0]?.ip === ip);
  assert.match(await kubectl(['get', 'ingress', 'plain']), new RegExp(`plain\\s+flatnet\\s+\\*\\s+${ip.replace(/\./g, '\\.')}\\s+80`));

  // A Warning from the Ingress model is recorded once, however many passes report it.
  await apply(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: lost, namespace: default}
spec:
  defaultBackend: {service: {name: missing, port: {number: 80}}}`);
  const warningsOf = async (name: string) =>
    (await s.client.list(R.events, { namespace: 'default', fieldSelector: `involvedObject.kind=Ingress,involvedObject.name=${name}` })).items.filter((e: any) => e.type === 'Warning');
  const first = await eventually('a Warning event about Ingress lost', async () => {
    const w = await warningsOf('lost');
    return w.length > 0 && w;
  });
  await kubectl(['label', 'ingress', 'lost', 'pass=1']);
  await kubectl(['label', 'ingress', 'lost', 'pass=2', '--overwrite']);
  // A later Ingress getting its address means the passes for the labels have run (one worker, in order).
  await apply(ing('marker'));
  await eventually('marker Ingress address', async () => ((await get(R.ingresses, 'default', 'marker'))?.status as any)?.loadBalancer?.ingress?.[0]?.ip === ip);
  const again = await warningsOf('lost');
  assert.deepEqual(
    again.map((e: any) => `${e.reason}: ${e.message}`).sort(),
    first.map((e: any) => `${e.reason}: ${e.message}`).sort(),
  );
  await kubectl(['delete', 'ingress', 'lost', 'marker']);

  // The last served Ingress gone: the ingress proxy goes too.
  await kubectl(['delete', 'ingress', 'plain']);
  await eventually('ingress proxy removed', async () => (await get(R.deployments, 'flatnet-system', 'flatnet-ingress')) === undefined && (await get(R.services, 'flatnet-system', 'flatnet-ingress')) === undefined);
});
