// Cost of one pass of the Gateway API route model after one new HTTPRoute (backed by an existing
// Service), at 0 / 1,000 / 3,000 routes already attached: the proxy's pass (ProxyConfig built) and
// the status controller's pass (statuses only). p50/p99 over N adds, CPU per pass.
// Run: node --import tsx bench/gateway/model-pass.ts [--adds 200] [routes...]
import { performance } from 'node:perf_hooks';
import type { KubeObject } from '../../src/api/types.js';
import { GatewayModel } from '../../src/gateway/model/state.js';
import { GATEWAY_CONTROLLER_NAME, type GatewayWorld } from '../../src/gateway/model/types.js';

const NS = 'bench';
const meta = (name: string, i = 0) => ({ name, namespace: NS, uid: `uid-${name}`, resourceVersion: '1', generation: 1, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() });

function route(i: number): KubeObject {
  return { kind: 'HTTPRoute', metadata: meta(`route-${i}`, i), spec: { parentRefs: [{ name: 'gw' }], hostnames: [i % 10 === 9 ? `*.w${i}.fill.bench.test` : `r${i}.fill.bench.test`], rules: [{ backendRefs: [{ name: 'target', port: 80 }] }] } };
}

function world(n: number): GatewayWorld {
  return {
    gatewayClasses: [{ kind: 'GatewayClass', metadata: { name: 'flatnet', generation: 1 }, spec: { controllerName: GATEWAY_CONTROLLER_NAME } }],
    gateways: [{ kind: 'Gateway', metadata: meta('gw'), spec: { gatewayClassName: 'flatnet', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } }],
    httpRoutes: Array.from({ length: n }, (_, i) => route(i)),
    grpcRoutes: [], tlsRoutes: [], tcpRoutes: [], udpRoutes: [], referenceGrants: [],
    services: [{ kind: 'Service', metadata: meta('target'), spec: { ports: [{ name: 'http', port: 80 }] } }],
    endpointSlices: [{ kind: 'EndpointSlice', metadata: { ...meta('target-x'), labels: { 'kubernetes.io/service-name': 'target' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 3000 }], endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true } }] }],
    secrets: [], namespaces: [{ kind: 'Namespace', metadata: { name: NS } }],
    infra: new Map([[`${NS}/gw`, { addresses: ['172.18.255.1'], readyReplicas: 1 }]]),
  };
}

const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
const args = process.argv.slice(2);
let adds = 200;
const sizes: number[] = [];
for (let i = 0; i < args.length; i++) if (args[i] === '--adds') adds = Number(args[++i]); else sizes.push(Number(args[i]));
for (const proxyConfigs of [true, false]) {
  for (const n of sizes.length ? sizes : [0, 1000, 3000]) {
    let w = world(n);
    const model = new GatewayModel({ proxyConfigs });
    model.compute(w);
    const times: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let k = 0; k < adds; k++) {
      w = { ...w, httpRoutes: [...w.httpRoutes, route(n + k)] };
      const t0 = performance.now();
      model.compute(w);
      times.push(performance.now() - t0);
      w = { ...w, httpRoutes: w.httpRoutes.slice(0, -1) };
      model.compute(w);
    }
    const cpu = process.cpuUsage(cpu0);
    times.sort((a, b) => a - b);
    console.log(`${proxyConfigs ? 'proxy     ' : 'controller'} ${String(n).padStart(5)} routes: add one route p50 ${q(times, 0.5).toFixed(2)} ms p99 ${q(times, 0.99).toFixed(2)} ms; cpu per compute ${((cpu.user + cpu.system) / 1000 / (2 * adds)).toFixed(2)} ms`);
  }
}
