// A/B of the registry's Pod (or ConfigMap: --kind configmaps) create (decode check, defaults, admission, validation, managed fields,
// memory store; no HTTP, no TLS) between two source trees loaded into one process: rounds of
// creates alternate between the trees, so the machine's load hits both alike. Reports the
// process CPU time per create and the ratio B/A. Complements ab-creates.ts, whose server-process
// numbers include the HTTP layers and the store's write path.
//
//   node --import tsx bench/apiserver/ab-registry.ts --a /tmp/base --b . [--rounds 8] [--creates 2000] [--kind pods|configmaps]
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { argument } from './args.js';

const ROUNDS = Number(argument('rounds', '8'));
const CREATES = Number(argument('creates', '2000'));
const KIND = argument('kind', 'pods');
if (KIND !== 'pods' && KIND !== 'configmaps') throw new Error('--kind is pods or configmaps');

interface Side {
  label: string;
  mods: { R: any; MemoryStore: any; Registry: any; ServiceAllocator: any; podSecurityOverStore?: any };
  cpuMicros: number;
}

async function load(label: string, tree: string): Promise<Side> {
  const at = (p: string) => import(resolve(tree, p)) as Promise<any>;
  const [{ R }, { MemoryStore }, { Registry }, { ServiceAllocator }] = await Promise.all([
    at('src/api/resources.ts'),
    at('src/store/index.ts'),
    at('src/apiserver/registry.ts'),
    at('src/apiserver/service-allocation.ts'),
  ]);
  // Trees from before Pod Security admission have no such module.
  const podSecurityOverStore = await at('src/apiserver/admission/pod-security/index.ts').then((m) => m.podSecurityOverStore, () => undefined);
  return { label, mods: { R, MemoryStore, Registry, ServiceAllocator, podSecurityOverStore }, cpuMicros: 0 };
}

const pod = (i: number) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `pod-${i}`, namespace: 'ab', labels: { app: `app-${i % 10}` } },
  spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
});
const configMap = (i: number) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'ab' }, data: { i: String(i) } });
const context = () => ({ dryRun: false, fieldValidation: 'Strict', fieldManager: 'kubectl-create', warnings: [] as string[] });

function round(side: Side, measured: boolean): void {
  const { R, MemoryStore, Registry, ServiceAllocator, podSecurityOverStore } = side.mods;
  const store = new MemoryStore();
  const registry = new Registry(store, new ServiceAllocator({ serviceCIDR: '10.96.0.0/16', nodePortRange: '30000-32767' }));
  if (podSecurityOverStore) registry.podSecurity = podSecurityOverStore(store);
  registry.create(R.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ab' } }, context());
  const start = process.cpuUsage();
  const [r, make] = KIND === 'pods' ? [R.pods, pod] : [R.configmaps, configMap];
  for (let i = 0; i < CREATES; i++) JSON.stringify(registry.create(r, 'ab', make(i), context()).entry.obj);
  const used = process.cpuUsage(start);
  if (measured) side.cpuMicros += used.user + used.system;
}

async function main(): Promise<void> {
  const a = await load('A', argument('a'));
  const b = await load('B', argument('b'));
  const loads: number[] = [];
  // Round 0 warms both up (JIT) and is not counted; then A and B alternate, each going first half the time.
  for (let n = 0; n <= ROUNDS; n++) {
    for (const side of n % 2 === 0 ? [a, b] : [b, a]) round(side, n > 0);
    loads.push(loadavg()[0]);
  }
  const per = (side: Side) => side.cpuMicros / (ROUNDS * CREATES);
  process.stdout.write(`${ROUNDS} alternating rounds of ${CREATES} ${KIND} creates each, load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}\n`);
  process.stdout.write(`registry create  A ${per(a).toFixed(0)} µs CPU/create  B ${per(b).toFixed(0)} µs  B/A ${(per(b) / per(a)).toFixed(3)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
