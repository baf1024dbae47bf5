// The Gateway API route model at 0 / 1,000 / 3,000 HTTPRoutes on one Gateway (one Service each,
// two hostnames and two rules per route), as every proxy pod and the status controller pay it on
// each watch event:
//   - full: computeGatewayState (everything from scratch), ms per compute;
//   - incremental: GatewayModel.compute after adding one HTTPRoute (with its Service and
//     EndpointSlice) to a world it has already computed, p50/p99 over 200 adds.
// Scenario A: every route has its own exact hostnames (plus the Gateway-wide '*.example.com'
// listener). Scenario B: one route in 10 also brings a '*.example.com' catch-all, whose entries
// every more specific virtual host must list after its own (the spec's hostname precedence).
// Wall times include waiting for the CPU on a busy machine; "cpu" is the process CPU time per
// compute (mean), the better figure when other work shares the cores.
// Run: node --import tsx bench/gateway/model.ts [routes...]  (or the compiled dist/bench/gateway/model.js)
import { performance } from 'node:perf_hooks';
import type { KubeObject } from '../../src/api/types.js';
import { computeGatewayState, GatewayModel } from '../../src/gateway/model/state.js';
import { GATEWAY_CONTROLLER_NAME, type GatewayWorld } from '../../src/gateway/model/types.js';

const NS = 'bench';

function meta(name: string, i = 0) {
  return { name, namespace: NS, uid: `uid-${name}`, resourceVersion: '1', generation: 1, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() };
}

/** Route i with its Service and EndpointSlice; `wildcard`: its second hostname is '*.example.com'. */
function routeObjects(i: number, wildcard: boolean): { service: KubeObject; slice: KubeObject; route: KubeObject } {
  return {
    service: { kind: 'Service', metadata: meta(`svc-${i}`), spec: { ports: [{ name: 'http', port: 80 }] } },
    slice: {
      kind: 'EndpointSlice',
      metadata: { ...meta(`svc-${i}-x`), labels: { 'kubernetes.io/service-name': `svc-${i}` } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [1, 2, 3].map((n) => ({ addresses: [`10.${(i >> 8) & 255}.${i & 255}.${n}`], conditions: { ready: true } })),
    },
    route: {
      kind: 'HTTPRoute',
      metadata: meta(`route-${i}`, i),
      spec: {
        parentRefs: [{ name: 'gw' }],
        hostnames: [`app-${i}.example.com`, wildcard ? '*.example.com' : `www.app-${i}.example.com`],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: `/api/${i}` } }, { headers: [{ name: 'x-route', value: String(i) }] }], backendRefs: [{ name: `svc-${i}`, port: 80 }] },
          { filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-r', value: String(i) }] } }], backendRefs: [{ name: `svc-${i}`, port: 80 }] },
        ],
      },
    },
  };
}

function worldWith(routes: number, scenario: 'A' | 'B'): GatewayWorld {
  const services: KubeObject[] = [];
  const endpointSlices: KubeObject[] = [];
  const httpRoutes: KubeObject[] = [];
  for (let i = 0; i < routes; i++) {
    const o = routeObjects(i, scenario === 'B' && i % 10 === 0);
    services.push(o.service);
    endpointSlices.push(o.slice);
    httpRoutes.push(o.route);
  }
  return {
    gatewayClasses: [{ kind: 'GatewayClass', metadata: { name: 'flatnet', generation: 1 }, spec: { controllerName: GATEWAY_CONTROLLER_NAME } }],
    gateways: [{ kind: 'Gateway', metadata: meta('gw'), spec: { gatewayClassName: 'flatnet', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }, { name: 'wild', port: 80, protocol: 'HTTP', hostname: '*.example.com' }] } }],
    httpRoutes,
    grpcRoutes: [],
    tlsRoutes: [],
    tcpRoutes: [],
    udpRoutes: [],
    referenceGrants: [],
    services,
    endpointSlices,
    secrets: [],
    namespaces: [{ kind: 'Namespace', metadata: { name: NS } }],
    infra: new Map([[`${NS}/gw`, { addresses: ['172.18.255.1'], readyReplicas: 1 }]]),
  };
}

function hostsOf(state: ReturnType<typeof computeGatewayState>): number {
  const p = state.gateways.get(`${NS}/gw`)!.config.ports[0];
  return p && p.kind === 'http' ? p.hosts.length : 0;
}

/** Process CPU time (all threads, garbage collection included) in ms. */
function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function full(n: number, scenario: 'A' | 'B'): void {
  const w = worldWith(n, scenario);
  for (let i = 0; i < 5; i++) computeGatewayState(w); // warm up
  const times: number[] = [];
  let hosts = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    hosts = hostsOf(computeGatewayState(w));
    times.push(performance.now() - t0);
  }
  const cpu = cpuMs(process.cpuUsage(cpu0)) / 20;
  times.sort((a, b) => a - b);
  console.log(
    `${scenario} ${String(n).padStart(5)} HTTPRoutes  full:        p50 ${quantile(times, 0.5).toFixed(2)} ms  min ${times[0].toFixed(2)} ms  cpu ${cpu.toFixed(2)} ms  (${hosts} virtual hosts)`,
  );
}

function incremental(n: number, scenario: 'A' | 'B', adds: number): void {
  let w = worldWith(n, scenario);
  const model = new GatewayModel();
  model.compute(w);
  const times: number[] = [];
  let hosts = 0;
  let cpu = 0;
  for (let k = 0; k < adds; k++) {
    const i = n + k;
    const o = routeObjects(i, scenario === 'B' && i % 10 === 0);
    // As an informer hands over its lists: new arrays, the unchanged objects as they were.
    w = { ...w, services: [...w.services, o.service], endpointSlices: [...w.endpointSlices, o.slice], httpRoutes: [...w.httpRoutes, o.route] };
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const s = model.compute(w);
    cpu += cpuMs(process.cpuUsage(cpu0));
    times.push(performance.now() - t0);
    hosts = hostsOf(s);
  }
  times.sort((a, b) => a - b);
  console.log(
    `${scenario} ${String(n).padStart(5)} HTTPRoutes  incremental: p50 ${quantile(times, 0.5).toFixed(2)} ms  p99 ${quantile(times, 0.99).toFixed(2)} ms  cpu ${(cpu / adds).toFixed(2)} ms  (${adds} adds, one route each; ${hosts} virtual hosts at the end)`,
  );
}

const sizes = process.argv.slice(2).map(Number).filter((x) => Number.isFinite(x));
for (const scenario of ['A', 'B'] as const) {
  for (const n of sizes.length > 0 ? sizes : [0, 1000, 3000]) {
    full(n, scenario);
    if (n > 0) incremental(n, scenario, 200);
  }
}
