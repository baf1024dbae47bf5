// `flatnet server`: the API server with its store, then the controllers against it.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { parseFlags, UsageError } from './flags.js';
import { openStore, openEtcdStore, parseEtcdServers, type Store, type StoreKind } from '../store/index.js';
import { ApiServer } from '../apiserver/server.js';
import { KubeClient } from '../client/client.js';
import { createLogger } from '../util/log.js';
import { startControllers } from '../controllers/index.js';
import { runLeaderElection } from '../controllers/leader-election.js';
import { controllerMetrics } from '../controllers/metrics.js';
import { protectDataDir } from '../apiserver/data-dir.js';
import { parseByteSize } from '../apiserver/query.js';
import { parseDefaultPolicy } from '../apiserver/admission/pod-security/index.js';
import { startApiServerLease } from '../apiserver/apiserver-lease.js';
import { DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT, DEFAULT_MAX_REQUESTS_INFLIGHT, parseInflightLimit } from '../apiserver/max-inflight.js';

const log = createLogger('server');

export const DEFAULT_DATA_DIR = '/var/lib/flatnet';

const usage = `usage: flatnet server [flags]

  --data-dir D             state, certificates, admin token and kubeconfig (default ${DEFAULT_DATA_DIR})
  --listen HOST:PORT       HTTPS address (default 127.0.0.1:6443; port 0 = any free port)
  --advertise-address IP   address in the certificate and the kubernetes Service endpoints (default: the listen host)
  --service-cidr CIDR      Service cluster IPs (default 10.96.0.0/16)
  --pod-cidr CIDR          pod addresses, a /24 per node (default 10.244.0.0/16)
  --node-port-range A-B    NodePort range (default 30000-32767)
  --store sqlite|memory|etcd  where objects live (default sqlite, in the data dir)
  --etcd-servers URL[,URL...]  etcd v3 client URLs for --store etcd (e.g. http://127.0.0.1:2379)
  --etcd-cafile F --etcd-certfile F --etcd-keyfile F  TLS to etcd (https:// URLs): the CA that signed etcd's
                           certificates, and this server's client certificate and key (PEM)
  --controllers=false      serve the API only, without the controllers
  --load-balancer-pool CIDR  give LoadBalancer Services addresses from this range (default: none)
  --node-monitor-grace-period 40s  a node whose Lease is older than this becomes NotReady (Unknown)
  --event-ttl 1h           how long Events live after their last activity
  --bookmark-interval 60s  how often watches that allow bookmarks get one
  --watch-history 20000    changes kept per resource for watches and paging (older: 410 Expired)
  --handshake-timeout 32s  a connection that has not sent its first request's headers by then is closed
  --kubelet-netns NAME     dial node agents (logs, exec, port-forward) from this network namespace (the lab's switch)
  --watch-history-bytes 64Mi  serialized bytes of changes kept across all resources (oldest go first)
  --pod-security-default baseline  Pod Security for namespaces without pod-security.kubernetes.io labels: one
                           level for enforce, audit and warn, or mode=level[:version] pairs (enforce=baseline,warn=restricted)
  --http2[=true|false]     offer HTTP/2 beside HTTP/1.1 (ALPN h2, http/1.1), as kube-apiserver does (default true;
                           --http2=false serves HTTP/1.1 only)
  --max-requests-inflight 400  read-only requests (get, list) served at once; one more is answered 429 with
                           Retry-After: 1. Watches, exec, attach, port-forward, logs and proxy are not counted;
                           system:masters is served when full. 0: no limit (as kube-apiserver's flag)
  --max-mutating-requests-inflight 200  the same for every other verb (create, update, patch, delete...)
`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage);
    return 0;
  }
  const flags = parseFlags(args, {
    values: {
      'data-dir': DEFAULT_DATA_DIR,
      listen: '127.0.0.1:6443',
      'advertise-address': undefined,
      'service-cidr': '10.96.0.0/16',
      'pod-cidr': '10.244.0.0/16',
      'node-port-range': '30000-32767',
      store: 'sqlite',
      'etcd-servers': undefined,
      'etcd-cafile': undefined,
      'etcd-certfile': undefined,
      'etcd-keyfile': undefined,
      controllers: 'true',
      'load-balancer-pool': undefined,
      'node-monitor-grace-period': '40s',
      'bookmark-interval': '60s',
      'event-ttl': '1h',
      'watch-history': '20000',
      'watch-history-bytes': '64Mi',
      'handshake-timeout': '32s',
      'kubelet-netns': undefined,
      'pod-security-default': 'baseline',
      'max-requests-inflight': String(DEFAULT_MAX_REQUESTS_INFLIGHT),
      'max-mutating-requests-inflight': String(DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT),
    },
    booleans: { http2: true },
  });
  const v = flags.values;
  const storeKind = v.store as StoreKind | 'etcd';
  if (storeKind !== 'sqlite' && storeKind !== 'memory' && storeKind !== 'etcd') throw new UsageError(`--store must be sqlite, memory or etcd, not ${JSON.stringify(v.store)}`);
  if ((storeKind === 'etcd') !== (v['etcd-servers'] !== undefined)) throw new UsageError('--etcd-servers goes with --store etcd, and --store etcd needs --etcd-servers');
  const etcdTlsFlags = (['etcd-cafile', 'etcd-certfile', 'etcd-keyfile'] as const).filter((f) => v[f] !== undefined);
  if (etcdTlsFlags.length !== 0 && etcdTlsFlags.length !== 3) throw new UsageError('--etcd-cafile, --etcd-certfile and --etcd-keyfile go together');
  const readPem = (flag: 'etcd-cafile' | 'etcd-certfile' | 'etcd-keyfile') => {
    try {
      return readFileSync(v[flag]!, 'utf8');
    } catch (err) {
      throw new UsageError(`--${flag}: cannot read ${v[flag]}: ${(err as Error).message}`);
    }
  };
  const etcdTls = etcdTlsFlags.length === 3 ? { caPem: readPem('etcd-cafile'), certPem: readPem('etcd-certfile'), keyPem: readPem('etcd-keyfile') } : undefined;
  let etcdServers: string[] = [];
  try {
    if (storeKind === 'etcd') etcdServers = parseEtcdServers(v['etcd-servers']!, etcdTls !== undefined);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!/^\d+-\d+$/.test(v['node-port-range']!)) throw new UsageError(`--node-port-range must look like 30000-32767, not ${JSON.stringify(v['node-port-range'])}`);
  const bookmark = v['bookmark-interval']!.match(/^(\d+)(ms|s)$/);
  if (!bookmark) throw new UsageError('--bookmark-interval must look like 60s or 500ms');
  const ttl = v['event-ttl']!.match(/^(\d+)(s|m|h)$/);
  if (!ttl) throw new UsageError('--event-ttl must look like 1h, 30m or 90s');
  const eventTTLms = Number(ttl[1]) * { s: 1000, m: 60_000, h: 3600_000 }[ttl[2] as 's' | 'm' | 'h'];
  const grace = v['node-monitor-grace-period']!.match(/^(\d+)s$/);
  if (!grace) throw new UsageError('--node-monitor-grace-period must look like 40s');
  const handshake = v['handshake-timeout']!.match(/^(\d+)(ms|s)$/);
  if (!handshake || Number(handshake[1]) === 0) throw new UsageError('--handshake-timeout must look like 32s or 500ms');
  let podSecurityDefaults;
  try {
    podSecurityDefaults = parseDefaultPolicy(v['pod-security-default']!);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let maxRequestsInflight: number;
  let maxMutatingRequestsInflight: number;
  try {
    maxRequestsInflight = parseInflightLimit('max-requests-inflight', v['max-requests-inflight']!);
    maxMutatingRequestsInflight = parseInflightLimit('max-mutating-requests-inflight', v['max-mutating-requests-inflight']!);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const dataDir = v['data-dir']!;
  const historyLimit = Number(v['watch-history']);
  if (!Number.isInteger(historyLimit) || historyLimit < 1) throw new UsageError('--watch-history must be a positive number of events');
  const historyBytes = parseByteSize(v['watch-history-bytes']!);
  if (historyBytes === undefined || historyBytes < 1) throw new UsageError('--watch-history-bytes must be a size such as 64Mi, 512Ki or 100000000');
  // Everything the server writes (the store and its -wal/-shm files, keys, tokens) is private
  // from its first byte: SQLite creates its side files itself, so the umask is what covers them.
  protectDataDir(dataDir);
  const store: Store = storeKind === 'etcd' ? await openEtcdStore({ endpoints: etcdServers, historyLimit, historyBytes, tls: etcdTls }) : openStore(storeKind, dataDir, { historyLimit, historyBytes });
  let server: ApiServer;
  try {
    server = await ApiServer.start({
      dataDir,
      listen: v.listen!,
      store,
      serviceCIDR: v['service-cidr']!,
      nodePortRange: v['node-port-range']!,
      advertiseAddress: v['advertise-address'],
      bookmarkIntervalMs: Number(bookmark[1]) * (bookmark[2] === 's' ? 1000 : 1),
      eventTTLms,
      handshakeTimeoutMs: Number(handshake[1]) * (handshake[2] === 's' ? 1000 : 1),
      kubeletNetns: v['kubelet-netns'] || undefined,
      podSecurityDefaults,
      http2: flags.booleans.http2,
      maxRequestsInflight,
      maxMutatingRequestsInflight,
    });
  } catch (err) {
    store.close();
    throw err;
  }
  let controllers: { stop(): Promise<void> } | undefined;
  const client = new KubeClient({ server: server.url, token: server.token, ca: Buffer.from(server.caPem) });
  // Several servers share an etcd: each keeps its endpoint Lease so the `kubernetes` Service lists them all.
  const endpointLease = storeKind === 'etcd' ? startApiServerLease(client, { ip: server.options.advertiseAddress!, port: server.port }) : undefined;
  if (v.controllers !== 'false') {
    const start = () => startControllers(client, {
      serviceCIDR: v['service-cidr']!,
      podCIDR: v['pod-cidr']!,
      nodePortRange: v['node-port-range']!,
      advertiseAddress: server.options.advertiseAddress!,
      advertisePort: server.port,
      loadBalancerPool: v['load-balancer-pool'],
      nodeMonitorGracePeriodSeconds: Number(grace[1]),
      dataDir,
      caPem: server.caPem,
    });
    // On etcd several servers may share the store: the controllers run only on the holder of the
    // kube-system/kube-controller-manager Lease. SQLite and memory serve one process: no election.
    controllers = storeKind === 'etcd' ? runLeaderElection(client, { onStartedLeading: start, identity: `${hostname()}_${v.listen}_${randomUUID()}` }) : await start();
    server.metrics.include(controllerMetrics);
    log.info(storeKind === 'etcd' ? 'controllers campaigning for the controller lease' : 'controllers started');
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info('stopping', { signal });
      server.beginShutdown();
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  try {
    await controllers?.stop();
  } catch (err) {
    log.warn('controllers did not stop cleanly', { err: (err as Error).message });
  }
  await endpointLease?.stop();
  client.close();
  await server.close();
  store.close();
  return 0;
}
