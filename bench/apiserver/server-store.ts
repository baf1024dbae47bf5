// The flatnet server a bench runs, on the store `--store` names: sqlite (default), memory, or etcd.
// For etcd it starts a member of its own (Debian's etcd-server, the same binary as the peer) so
// the raw puts the bench sends to the peer never land in flatnet's /registry, and stops it with
// the server.
import { startTestServer, type TestServer } from '../../test/support/server.js';
import { startEtcd } from './etcd-peer.js';

export type BenchStore = 'sqlite' | 'memory' | 'etcd';

export function benchStoreOf(argv: string[]): BenchStore {
  const at = argv.indexOf('--store');
  if (at < 0) return 'sqlite';
  const kind = argv[at + 1];
  if (kind !== 'sqlite' && kind !== 'memory' && kind !== 'etcd') throw new Error(`--store must be sqlite, memory or etcd, not ${JSON.stringify(kind)}`);
  return kind;
}

/**
 * Starts `flatnet server` (no controllers) on `kind`; stop() also stops its etcd. With `etcdTls`
 * the server talks to its etcd over TLS with a client certificate (--etcd-cafile/certfile/keyfile),
 * as `flatnet up --ha` runs it.
 */
export async function startBenchServer(kind: string, opts: { etcdTls?: boolean; args?: string[] } = {}): Promise<TestServer> {
  const store = benchStoreOf(['--store', kind]);
  if (store !== 'etcd') return startTestServer({ store, controllers: false, args: opts.args });
  const etcd = await startEtcd({ tls: opts.etcdTls });
  const t = etcd.tls;
  const etcdArgs = t ? ['--etcd-servers', t.url, '--etcd-cafile', t.caFile, '--etcd-certfile', t.certFile, '--etcd-keyfile', t.keyFile] : ['--etcd-servers', etcd.url];
  let server: TestServer;
  try {
    server = await startTestServer({ controllers: false, args: ['--store', 'etcd', ...etcdArgs, ...(opts.args ?? [])] });
  } catch (err) {
    await etcd.stop();
    throw err;
  }
  const stopServer = server.stop.bind(server);
  server.stop = async () => {
    await stopServer();
    await etcd.stop();
  };
  return server;
}
