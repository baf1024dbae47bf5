// The flatnet/dns image: the cluster DNS server of src/dns served on sockets inside the pod
// (UDP and TCP 53, health on 8080, readiness and metrics on 8181).
import { startDnsServer } from '../dns/workload.js';
import { listenInNetns } from '../linux/netns-socket.js';
import { flagValue, parseGoFlags, servingWorkload, WorkloadStartError, type WorkloadMain } from './workload.js';

export const runDns: WorkloadMain = async (ctx) => {
  if (!ctx.client) throw new WorkloadStartError('flatnet/dns needs the agent\'s API client');
  const { flags } = parseGoFlags(ctx.args);
  const port = Number(flagValue(flags, 'port', '53'));
  const udp = await listenInNetns(ctx.netns, { host: '0.0.0.0', port, type: 'udp4' });
  const tcp = await listenInNetns(ctx.netns, { host: '0.0.0.0', port, type: 'tcp' });
  const http = await listenInNetns(ctx.netns, { host: '0.0.0.0', port: Number(flagValue(flags, 'health-port', '8080')), type: 'tcp' });
  const upstreams = flags.get('upstream') ?? ctx.nameservers.filter((ns) => !ns.startsWith('10.96.'));
  const server = await startDnsServer({
    client: ctx.client,
    udp,
    tcp,
    http,
    clusterDomain: flagValue(flags, 'cluster-domain', 'cluster.local'),
    upstreams,
    ttl: Number(flagValue(flags, 'ttl', '30')),
  });
  ctx.stdout(`flatnet/dns: serving on port ${port} (upstreams: ${upstreams.join(', ') || 'none'})\n`);
  return servingWorkload([
    () => void server.stop(),
    () => udp.close(),
    () => tcp.close(),
    () => http.close(),
  ]);
};
