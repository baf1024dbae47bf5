// The flatnet/dns image: the cluster DNS server of src/dns served on sockets inside the pod
// (UDP and TCP 53; /health, /ready and /metrics on 8080). Names outside the cluster are
// forwarded only to the resolvers given with --upstream: never to the machine's own resolver,
// so lab traffic stays in the lab. With --corefile-configmap=NS/NAME the pod serves that
// ConfigMap's Corefile and follows its edits; Corefile errors and the log plugin go to the pod's log.
import { startDnsServer } from '../dns/workload.js';
import { bindUdp, connectTcp, listenTcp } from './sockets.js';
import { flagValue, parseGoFlags, servingWorkload, WorkloadStartError, type WorkloadMain } from './workload.js';

export const runDns: WorkloadMain = async (ctx) => {
  if (!ctx.client) throw new WorkloadStartError('flatnet/dns reads the API as its pod\'s ServiceAccount and this pod has no ServiceAccount token: do not set automountServiceAccountToken: false, and mount the kube-api-access volume at /var/run/secrets/kubernetes.io/serviceaccount');
  const { flags } = parseGoFlags(ctx.args);
  const port = Number(flagValue(flags, 'port', '53'));
  const udp = await bindUdp(ctx.netns, '0.0.0.0', port);
  const tcp = await listenTcp(ctx.netns, '0.0.0.0', port);
  const http = await listenTcp(ctx.netns, '0.0.0.0', Number(flagValue(flags, 'health-port', '8080')));
  const upstreams = flags.get('upstream') ?? [];
  const configMap = flagValue(flags, 'corefile-configmap', '');
  const [cmNamespace, cmName] = configMap.split('/');
  if (configMap && (!cmNamespace || !cmName)) throw new WorkloadStartError(`--corefile-configmap "${configMap}" must be NAMESPACE/NAME`);
  const server = await startDnsServer({
    client: ctx.client,
    udp,
    tcp,
    http,
    clusterDomain: flagValue(flags, 'cluster-domain', 'cluster.local'),
    upstreams,
    ttl: Number(flagValue(flags, 'ttl', '30')),
    corefileConfigMap: configMap ? { namespace: cmNamespace, name: cmName } : undefined,
    podLog: (line) => ctx.stdout(`${line}\n`),
    // Upstream queries leave from the pod's own address, as a CoreDNS container's do.
    forwardSockets: {
      udp: (family) => {
        if (family !== 'udp4') return Promise.reject(new Error('IPv6 upstreams are not supported from a flatnet/dns pod yet'));
        return bindUdp(ctx.netns, '0.0.0.0', 0);
      },
      tcp: (host, port, timeoutMs) => connectTcp(ctx.netns, host, port, timeoutMs),
    },
  });
  ctx.stdout(`flatnet/dns: serving on port ${port} (upstreams: ${upstreams.join(', ') || 'none'})\n`);
  return servingWorkload([
    () => void server.stop(),
    () => udp.close(),
    () => tcp.close(),
    () => http.close(),
  ]);
};
