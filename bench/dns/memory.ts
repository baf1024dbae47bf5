// Memory of the DNS model: heap used by N Services with one EndpointSlice of 3 endpoints each,
// measured in a fresh process after GC (run with --expose-gc).
//   node --expose-gc --import tsx bench/dns/memory.ts [services]
import { ClusterDnsModel } from '../../src/dns/model.js';
import { slimEndpointSlice, slimService } from '../../src/dns/objects.js';

const n = Number(process.argv[2] ?? 10000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
gc();
const before = process.memoryUsage().heapUsed;
const m = new ClusterDnsModel();
for (let i = 0; i < n; i++) {
  const ns = `ns${i % 100}`;
  m.setService(slimService({ metadata: { namespace: ns, name: `svc${i}` }, spec: { clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ name: 'http', protocol: 'TCP', port: 80 }] } })!);
  m.setEndpointSlice(
    slimEndpointSlice({
      metadata: { namespace: ns, name: `svc${i}-x`, labels: { 'kubernetes.io/service-name': `svc${i}` } },
      addressType: 'IPv4',
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      endpoints: [0, 1, 2].map((e) => ({ addresses: [`10.${100 + (i >> 16)}.${(i >> 8) & 255}.${(i & 255) ^ e}`], conditions: { ready: true } })),
    })!,
  );
}
gc();
const used = process.memoryUsage().heapUsed - before;
process.stdout.write(`${n} Services + ${n} EndpointSlices (3 endpoints each): ${(used / 1048576).toFixed(1)} MB heap, ${Math.round(used / (2 * n))} bytes per object\n`);
if (m.serviceCount !== n) throw new Error("model lost services");
