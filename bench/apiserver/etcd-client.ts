// The etcd store's client against etcd3 (grpc-js), on one etcd member, in interleaved rounds (the
// order rotates each round): kube-apiserver's create transaction (put if the key's create revision
// is 0, else read it) with 32 in flight, through each client, and the CPU each spends per
// transaction in this process and in etcd. This is the gRPC part of a create on `--store etcd`.
//
//   node --import tsx bench/apiserver/etcd-client.ts [--rounds N] [--txns N]
import { loadavg } from 'node:os';
import { EtcdGrpc } from '../../src/store/etcd-grpc.js';
import { txnRequest, txnResponse } from '../../src/store/etcd-wire.js';
import { libraryPeer, startEtcd } from './etcd-peer.js';
import { childPid, cpuSeconds, inParallel } from './etcd-bench-kit.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const n = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

const ROUNDS = flag('rounds', 3);
const TXNS = flag('txns', 3000);
const VALUE = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'bench', uid: '0b0e5bd4-5a4e-4d8e-9c31-2f0c6f1f6f0e', creationTimestamp: '2026-12-07T00:00:00Z' }, data: { i: '1' } });

async function main(): Promise<void> {
  const etcd = await startEtcd();
  const etcdPid = childPid(`--listen-client-urls ${etcd.url}`);
  const lib = libraryPeer(etcd.url);
  const ours = new EtcdGrpc([etcd.url]);
  const clients = {
    etcd3: (key: string) => lib.createTxn(key, VALUE),
    flatnet: async (key: string) => {
      const res = txnResponse(await ours.unary('/etcdserverpb.KV/Txn', txnRequest({ key, target: 'create', result: 'equal', value: 0 }, { put: { key, value: VALUE } }, { range: { key } })));
      if (!res.succeeded) throw new Error(`${key} already exists`);
    },
  };
  process.stdout.write(`etcd ${etcd.version}; ${TXNS} create transactions a round, 32 in flight; CPU µs per transaction: client / etcd\n`);
  process.stdout.write('round  load       etcd3 txn/s  (client/etcd)  store client txn/s  (client/etcd)  client CPU ratio\n');
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const got: Record<string, { rate: number; client: number; etcd: number }> = {};
      const names = Object.keys(clients) as (keyof typeof clients)[];
      const order = r % 2 === 0 ? names : [...names].reverse();
      const before = loadavg()[0].toFixed(1);
      for (const name of order) {
        const c0 = [cpuSeconds(), cpuSeconds(etcdPid)];
        const rate = await inParallel(TXNS, (i) => clients[name](`/bench/${name}/${r}/${i}`));
        const c1 = [cpuSeconds(), cpuSeconds(etcdPid)];
        got[name] = { rate, client: ((c1[0] - c0[0]) * 1e6) / TXNS, etcd: ((c1[1] - c0[1]) * 1e6) / TXNS };
      }
      const cell = (x: { rate: number; client: number; etcd: number }) => `${x.rate.toFixed(0).padStart(6)}  (${x.client.toFixed(0)}/${x.etcd.toFixed(0)})`;
      process.stdout.write(
        `${String(r + 1).padStart(5)}  ${`${before}-${loadavg()[0].toFixed(1)}`.padEnd(9)}  ${cell(got.etcd3).padEnd(25)}  ${cell(got.flatnet).padEnd(32)}  ${(got.flatnet.client / got.etcd3.client).toFixed(2)}\n`,
      );
    }
  } finally {
    ours.close();
    lib.close();
    await etcd.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
