// Cost of one pass of the Gateway API route model after one new HTTPRoute (backed by an existing
// Service), at 0 / 1,000 / 3,000 routes already attached, for the proxy's pass (ProxyConfig
// built) and the status controller's pass (statuses only), two ways in the same rounds:
//   - incremental: the GatewayModel each caller keeps, told the world with one more route;
//   - full: the same world computed from scratch (computeGatewayState, what a pass cost before
//     the model was kept up to date, and what the incremental result must equal).
// Rounds alternate the two, so both see the same machine. Two hostname mixes: 'exact' (one
// hostname per route) and 'wild' (every tenth route has a wildcard hostname). p50/p99 over N adds
// (wall time), and CPU per pass (process CPU time, garbage collection included).
// Run: node --import tsx bench/gateway/model-pass.ts [--adds 200] [--full-every 10] [routes...]
import assert from 'node:assert/strict';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { KubeObject } from '../../src/api/types.js';
import { computeGatewayState, GatewayModel } from '../../src/gateway/model/state.js';
import { GATEWAY_CONTROLLER_NAME, type GatewayWorld } from '../../src/gateway/model/types.js';

const NS = 'bench';
const meta = (name: string, i = 0) => ({ name, namespace: NS, uid: `uid-${name}`, resourceVersion: '1', generation: 1, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() });

type Mix = 'exact' | 'wild';

function route(i: number, mix: Mix): KubeObject {
  const host = mix === 'wild' && i % 10 === 9 ? `*.w${i}.fill.bench.test` : `r${i}.fill.bench.test`;
  return { kind: 'HTTPRoute', metadata: meta(`route-${i}`, i), spec: { parentRefs: [{ name: 'gw' }], hostnames: [host], rules: [{ backendRefs: [{ name: 'target', port: 80 }] }] } };
}

function world(n: number, mix: Mix): GatewayWorld {
  return {
    gatewayClasses: [{ kind: 'GatewayClass', metadata: { name: 'flatnet', generation: 1 }, spec: { controllerName: GATEWAY_CONTROLLER_NAME } }],
    gateways: [{ kind: 'Gateway', metadata: meta('gw'), spec: { gatewayClassName: 'flatnet', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } }],
    httpRoutes: Array.from({ length: n }, (_, i) => route(i, mix)),
    grpcRoutes: [], tlsRoutes: [], tcpRoutes: [], udpRoutes: [], referenceGrants: [],
    services: [{ kind: 'Service', metadata: meta('target'), spec: { ports: [{ name: 'http', port: 80 }] } }],
    endpointSlices: [{ kind: 'EndpointSlice', metadata: { ...meta('target-x'), labels: { 'kubernetes.io/service-name': 'target' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 3000 }], endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true } }] }],
    secrets: [], namespaces: [{ kind: 'Namespace', metadata: { name: NS } }],
    infra: new Map([[`${NS}/gw`, { addresses: ['172.18.255.1'], readyReplicas: 1 }]]),
  };
}

const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

const args = process.argv.slice(2);
let adds = 200;
let fullEvery = 10;
const sizes: number[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--adds') adds = Number(args[++i]);
  else if (args[i] === '--full-every') fullEvery = Number(args[++i]);
  else sizes.push(Number(args[i]));
}
if (!Number.isInteger(adds) || adds < 1) throw new Error('--adds must be a whole number >= 1');
if (!Number.isInteger(fullEvery) || fullEvery < 1) throw new Error('--full-every must be a whole number >= 1');

console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the start; ${adds} adds per row; a from-scratch pass every ${fullEvery} adds (interleaved), checked equal to the incremental one`);
for (const proxyConfigs of [true, false]) {
  for (const mix of ['exact', 'wild'] as const) {
    for (const n of sizes.length ? sizes : [0, 1000, 3000]) {
      let w = world(n, mix);
      const model = new GatewayModel({ proxyConfigs });
      model.compute(w);
      const inc: number[] = [];
      const full: number[] = [];
      let incCpu = 0;
      let fullCpu = 0;
      for (let k = 0; k < adds; k++) {
        w = { ...w, httpRoutes: [...w.httpRoutes, route(n + k, mix)] };
        let c0 = process.cpuUsage();
        let t0 = performance.now();
        const state = model.compute(w);
        inc.push(performance.now() - t0);
        incCpu += cpuMs(process.cpuUsage(c0));
        if (k % fullEvery === 0) {
          c0 = process.cpuUsage();
          t0 = performance.now();
          const reference = computeGatewayState(w);
          full.push(performance.now() - t0);
          fullCpu += cpuMs(process.cpuUsage(c0));
          if (proxyConfigs) assert.deepStrictEqual(state, reference, `the incremental pass differs from the full one at ${n} routes, add ${k}`);
          else assert.deepStrictEqual(state.routes, reference.routes);
        }
        // The route goes again (a pass of its own, not timed): every add starts from n routes.
        w = { ...w, httpRoutes: w.httpRoutes.slice(0, -1) };
        model.compute(w);
      }
      inc.sort((a, b) => a - b);
      full.sort((a, b) => a - b);
      const who = proxyConfigs ? 'proxy     ' : 'controller';
      console.log(
        `${who} ${mix.padEnd(5)} ${String(n).padStart(5)} routes, add one: incremental p50 ${q(inc, 0.5).toFixed(2)} ms p99 ${q(inc, 0.99).toFixed(2)} ms cpu ${(incCpu / adds).toFixed(2)} ms | full p50 ${q(full, 0.5).toFixed(2)} ms p99 ${q(full, 0.99).toFixed(2)} ms cpu ${(fullCpu / full.length).toFixed(2)} ms (n=${full.length}) | full/incremental p50 ${(q(full, 0.5) / Math.max(q(inc, 0.5), 0.001)).toFixed(0)}x`,
      );
    }
  }
}
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`);
