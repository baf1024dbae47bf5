// `flatnet gateway proxy` as a real process against the real `flatnet server`, in the root
// namespace on loopback: it reads a GatewayClass, a Gateway, an HTTPRoute and a selector-less
// Service with a hand-written EndpointSlice with its proxy token, serves the Gateway's listener,
// and forwards curl's requests to a test HTTP server; a route edit takes effect without a
// restart; /healthz, /readyz and /metrics answer; SIGTERM ends it cleanly. The same proxy also
// starts from the in-pod environment (KUBERNETES_SERVICE_HOST/PORT, FLATNET_PROXY_TOKEN/CA).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { loadKubeconfig, renderKubeconfig } from '../../../src/client/kubeconfig.js';
import { mintProxyToken } from '../../../src/gateway/proxy-identity.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const NS = 'default';

let s: TestServer;
let work: string;
let proxyKubeconfig: string;
let token: string;
const backends: http.Server[] = [];
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => res(port));
    });
  });
}

/** Requests to /hold wait here until the test releases them. */
const held: { release: () => void }[] = [];

async function backend(name: string): Promise<number> {
  const srv = http.createServer((req, res) => {
    const answer = () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${name} ${req.method} ${req.url}\n`);
    };
    if (req.url === '/hold') held.push({ release: answer });
    else answer();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  backends.push(srv);
  return (srv.address() as net.AddressInfo).port;
}

function run(program: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

/** curl's status code and body (status 0 when the connection failed). */
async function curl(url: string): Promise<{ status: number; body: string }> {
  const r = await run('curl', ['-s', '-m', '5', '-o', '-', '-w', '\n%{http_code}', url]);
  const at = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(at + 1)) || 0, body: r.stdout.slice(0, at) };
}

/** Polls `probe` until it answers true; fails with `what` and the proxy's logs after 30 s. */
async function eventually(what: string, probe: () => Promise<boolean>, logs: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what} did not happen within 30 s; proxy logs:\n${logs()}`);
}

interface ProxyChild {
  child: ChildProcess;
  logs: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startProxy(args: string[], env: NodeJS.ProcessEnv = {}): ProxyChild {
  const out: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'gateway', 'proxy', ...args], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FLATNET_LOG: 'debug', ...env },
  });
  children.push(child);
  child.stdout!.on('data', (c: Buffer) => out.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => out.push(c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  return { child, logs: () => out.join(''), exited };
}

async function stopProxy(p: ProxyChild): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  return p.exited;
}

function gateway(name: string, port: number): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: NS },
    spec: { gatewayClassName: 'gwt-class', listeners: [{ name: 'http', protocol: 'HTTP', port, allowedRoutes: { namespaces: { from: 'Same' } } }] },
  };
}

function route(name: string, gatewayName: string, rules: unknown[]): KubeObject {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: NS }, spec: { parentRefs: [{ name: gatewayName }], rules } };
}

async function selectorlessService(name: string, targetPort: number): Promise<void> {
  await s.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { ports: [{ name: 'http', port: 80, targetPort, protocol: 'TCP' }] } });
  await s.client.create(R.endpointslices, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-manual`, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    ports: [{ name: 'http', port: targetPort, protocol: 'TCP' }],
  } as KubeObject);
}

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false });
  work = mkdtempSync(join(tmpdir(), 'gwt-proxy-'));
  token = mintProxyToken(s.dataDir, { namespace: NS, name: 'gw-proxy' });
  proxyKubeconfig = join(work, 'proxy.kubeconfig');
  writeFileSync(proxyKubeconfig, renderKubeconfig({ server: s.url, caPem: loadKubeconfig(s.kubeconfig).ca!.toString(), token }));
  await s.client.create(R.gatewayclasses, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'gwt-class' }, spec: { controllerName: 'flatnet.dev/gateway-controller' } });
  await selectorlessService('backend-a', await backend('backend-a'));
  await selectorlessService('backend-b', await backend('backend-b'));
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const b of backends) b.close();
  await s?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the proxy process serves its Gateway, follows a route edit, answers health and metrics, and stops on SIGTERM', async () => {
  const listenerPort = await freePort();
  const healthPort = await freePort();
  await s.client.create(R.gateways, gateway('gw', listenerPort));
  await s.client.create(R.httproutes, route('web', 'gw', [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'backend-a', port: 80 }] }]));

  const p = startProxy(['--gateway', `${NS}/gw`, '--kubeconfig', proxyKubeconfig, '--health-listen', `127.0.0.1:${healthPort}`, '--bind-address', '127.0.0.1']);
  const health = `http://127.0.0.1:${healthPort}`;
  await eventually('/readyz answering 200', async () => (await curl(`${health}/readyz`)).status === 200, p.logs);
  assert.equal((await curl(`${health}/healthz`)).status, 200);

  const first = await curl(`http://127.0.0.1:${listenerPort}/hello`);
  assert.equal(first.status, 200, `through the proxy: ${first.body}\n${p.logs()}`);
  assert.match(first.body, /^backend-a GET \/hello/);

  // A status write (what the controller does for every route) is not a recompute; the edit after it is followed.
  const metricValue = async (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec((await curl(`${health}/metrics`)).body)?.[1] ?? NaN);
  const recomputesBefore = await metricValue('flatnet_gateway_config_apply_seconds_count');
  const statusOnlyBefore = await metricValue('flatnet_gateway_status_only_updates_total');
  assert.equal(statusOnlyBefore, 0);
  const beforeStatus = (await s.client.get(R.httproutes, NS, 'web'))!;
  await s.client.updateStatus(R.httproutes, { ...beforeStatus, status: { parents: [{ parentRef: { name: 'gw' }, controllerName: 'example.com/other', conditions: [] }] } });
  await eventually('the status write seen by the proxy', async () => (await metricValue('flatnet_gateway_status_only_updates_total')) === 1, p.logs);
  assert.equal(await metricValue('flatnet_gateway_config_apply_seconds_count'), recomputesBefore, 'a status-only update recomputed the config');

  // The route edit: /v2 goes to backend-b, the rest still to backend-a.
  const current = (await s.client.get(R.httproutes, NS, 'web'))!;
  (current.spec as { rules: unknown[] }).rules = [
    { matches: [{ path: { type: 'PathPrefix', value: '/v2' } }], backendRefs: [{ name: 'backend-b', port: 80 }] },
    { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'backend-a', port: 80 }] },
  ];
  await s.client.update(R.httproutes, current);
  await eventually('the route edit taking effect', async () => /^backend-b GET \/v2\/x/.test((await curl(`http://127.0.0.1:${listenerPort}/v2/x`)).body), p.logs);
  assert.match((await curl(`http://127.0.0.1:${listenerPort}/v3`)).body, /^backend-a GET \/v3/);

  const metrics = await curl(`${health}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, /^process_cpu_user_seconds_total \d/m, 'prom-client process metrics');
  assert.match(metrics.body, /^flatnet_gateway_config_apply_seconds_count [1-9]/m, 'recompute+swap durations');
  assert.match(metrics.body, /^flatnet_gateway_config_applies_total\{result="applied"\} [1-9]/m);
  assert.match(p.logs(), /"component":"gateway-proxy".*"msg":"recomputed"/, 'each recompute is logged at debug level with its duration');
  assert.equal((await curl(`${health}/nope`)).status, 404);

  const exit = await stopProxy(p);
  assert.deepEqual(exit, { code: 0, signal: null }, p.logs());
  assert.equal((await curl(`http://127.0.0.1:${listenerPort}/hello`)).status, 0, 'the listener is closed after SIGTERM');
});

test('SIGTERM stops accepting and lets an in-flight request finish', async () => {
  const listenerPort = await freePort();
  const healthPort = await freePort();
  await s.client.create(R.gateways, gateway('gw-drain', listenerPort));
  await s.client.create(R.httproutes, route('web-drain', 'gw-drain', [{ backendRefs: [{ name: 'backend-a', port: 80 }] }]));
  const p = startProxy(['--gateway', `${NS}/gw-drain`, '--kubeconfig', proxyKubeconfig, '--health-listen', `127.0.0.1:${healthPort}`, '--bind-address', '127.0.0.1']);
  const health = `http://127.0.0.1:${healthPort}`;
  await eventually('/readyz answering 200', async () => (await curl(`${health}/readyz`)).status === 200, p.logs);
  const inFlight = curl(`http://127.0.0.1:${listenerPort}/hold`);
  await eventually('the backend holding the request', async () => held.length === 1, p.logs);
  p.child.kill('SIGTERM');
  await eventually('/healthz saying stopping', async () => (await curl(`${health}/healthz`)).status === 503, p.logs);
  assert.equal((await curl(`${health}/readyz`)).status, 503);
  assert.equal((await curl(`http://127.0.0.1:${listenerPort}/new`)).status, 0, 'no new connection is accepted while draining');
  held.shift()!.release();
  const answered = await inFlight;
  assert.equal(answered.status, 200);
  assert.match(answered.body, /^backend-a GET \/hold/);
  assert.deepEqual(await p.exited, { code: 0, signal: null }, p.logs());
  assert.match(p.logs(), /"msg":"stopped".*"drained":true/);
});

test('a listener port that is taken keeps the proxy not ready until it is free', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const listenerPort = (blocker.address() as net.AddressInfo).port;
  const healthPort = await freePort();
  await s.client.create(R.gateways, gateway('gw-busy', listenerPort));
  await s.client.create(R.httproutes, route('web-busy', 'gw-busy', [{ backendRefs: [{ name: 'backend-a', port: 80 }] }]));
  const p = startProxy(['--gateway', `${NS}/gw-busy`, '--kubeconfig', proxyKubeconfig, '--health-listen', `127.0.0.1:${healthPort}`, '--bind-address', '127.0.0.1']);
  const health = `http://127.0.0.1:${healthPort}`;
  await eventually('/readyz naming the port', async () => new RegExp(`ports not listening: port ${listenerPort}/tcp`).test((await curl(`${health}/readyz`)).body), p.logs);
  assert.equal((await curl(`${health}/readyz`)).status, 503);
  await new Promise<void>((r) => blocker.close(() => r()));
  await eventually('/readyz answering 200 once the port is free', async () => (await curl(`${health}/readyz`)).status === 200, p.logs);
  assert.match((await curl(`http://127.0.0.1:${listenerPort}/free`)).body, /^backend-a GET \/free/);
  assert.deepEqual(await stopProxy(p), { code: 0, signal: null }, p.logs());
});

test('in a pod the proxy connects with KUBERNETES_SERVICE_HOST/PORT, FLATNET_PROXY_TOKEN and FLATNET_PROXY_CA', async () => {
  const listenerPort = await freePort();
  const healthPort = await freePort();
  await s.client.create(R.gateways, gateway('gw-env', listenerPort));
  await s.client.create(R.httproutes, route('web-env', 'gw-env', [{ backendRefs: [{ name: 'backend-b', port: 80 }] }]));
  const api = new URL(s.url);
  const p = startProxy(['--gateway', `${NS}/gw-env`, `--health-listen=127.0.0.1:${healthPort}`, '--bind-address=127.0.0.1'], {
    KUBERNETES_SERVICE_HOST: api.hostname,
    KUBERNETES_SERVICE_PORT: api.port,
    FLATNET_PROXY_TOKEN: token,
    FLATNET_PROXY_CA: loadKubeconfig(s.kubeconfig).ca!.toString(),
  });
  await eventually('/readyz answering 200', async () => (await curl(`http://127.0.0.1:${healthPort}/readyz`)).status === 200, p.logs);
  assert.match((await curl(`http://127.0.0.1:${listenerPort}/`)).body, /^backend-b GET \//);
  assert.deepEqual(await stopProxy(p), { code: 0, signal: null }, p.logs());
});

test('with a token the server did not sign the proxy stays not ready and says why', async () => {
  const healthPort = await freePort();
  const bad = join(work, 'bad.kubeconfig');
  writeFileSync(bad, renderKubeconfig({ server: s.url, caPem: loadKubeconfig(s.kubeconfig).ca!.toString(), token: token.slice(0, -4) + 'AAAA' }));
  const p = startProxy(['--gateway', `${NS}/gw`, '--kubeconfig', bad, '--health-listen', `127.0.0.1:${healthPort}`]);
  await eventually('/healthz answering', async () => (await curl(`http://127.0.0.1:${healthPort}/healthz`)).status === 200, p.logs);
  const ready = await curl(`http://127.0.0.1:${healthPort}/readyz`);
  assert.equal(ready.status, 503);
  assert.match(ready.body, /not ready: informers have not synced/);
  assert.deepEqual(await stopProxy(p), { code: 0, signal: null }, p.logs());
});

test('usage errors name the flag', async () => {
  const cli = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'gateway', ...args]);
  const none = await cli(['proxy', '--kubeconfig', proxyKubeconfig]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /flag --gateway NS\/NAME or --ingress is required/);
  const both = await cli(['proxy', '--gateway', 'a/b', '--ingress']);
  assert.match(both.stderr, /flags --gateway and --ingress exclude each other/);
  const bad = await cli(['proxy', '--gateway', 'nonamespace']);
  assert.match(bad.stderr, /flag --gateway "nonamespace" is not NAMESPACE\/NAME/);
  const health = await cli(['proxy', '--gateway', 'a/b', '--health-listen', 'localhost']);
  assert.match(health.stderr, /flag --health-listen "localhost" is not IP:PORT/);
  const notPod = await run('env', ['-u', 'KUBERNETES_SERVICE_HOST', process.execPath, '--import', 'tsx', join(repo, 'src/cli/main.ts'), 'gateway', 'proxy', '--gateway', 'a/b']);
  assert.equal(notPod.code, 2);
  assert.match(notPod.stderr, /KUBERNETES_SERVICE_HOST.*not set \(outside a pod, pass --kubeconfig\)/);
  const unknown = await cli(['routes', '--gatway', 'x']);
  assert.match(unknown.stderr, /unknown flag --gatway/);
});

test('`flatnet gateway routes` prints the routing table each Gateway serves', async () => {
  const cli = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'gateway', 'routes', '--kubeconfig', s.kubeconfig, ...args]);
  await s.client.create(R.gateways, gateway('gw-routes', await freePort()));
  await s.client.create(R.gateways, gateway('gw-routes-2', await freePort()));
  await s.client.create(R.httproutes, route('web-routes', 'gw-routes', [{ matches: [{ path: { type: 'PathPrefix', value: '/shop' } }], backendRefs: [{ name: 'backend-b', port: 80 }] }]));
  const one = await cli(['--gateway', `${NS}/gw-routes`]);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /^Gateway default\/gw-routes\n/);
  assert.match(one.stdout, /\/shop/);
  assert.match(one.stdout, /backend-b/);
  assert.match(one.stdout, /HTTPRoute default\/web-routes/);
  const all = await cli([]);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^Gateway default\/gw-routes$/m);
  assert.match(all.stdout, /^Gateway default\/gw-routes-2$/m);
  const missing = await cli(['--gateway', `${NS}/nothing`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no Gateway default\/nothing/);

  await s.client.create(R.ingressclasses, { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'gwt-ingress' }, spec: { controller: 'flatnet.dev/ingress' } });
  await s.client.create(R.ingresses, {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'shop', namespace: NS },
    spec: { ingressClassName: 'gwt-ingress', rules: [{ host: 'shop.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'backend-a', port: { number: 80 } } } }] } }] },
  });
  const ingress = await cli(['--ingress']);
  assert.equal(ingress.code, 0, ingress.stderr);
  assert.match(ingress.stdout, /^Ingress proxy flatnet-system\/flatnet-ingress/);
  assert.match(ingress.stdout, /shop\.example/);
  assert.match(ingress.stdout, /backend-a/);
});
