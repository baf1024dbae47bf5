// `flatnet agent`: runs the node agent of one node until SIGINT/SIGTERM.
import { Agent } from '../agent/agent.js';
import { KubeClient } from '../client/client.js';
import { join } from 'node:path';
import { nodeClientConnectionWithRetry, startNodeCredentialGuard } from '../agent/tls-bootstrap.js';
import { startCertificateRotation } from '../agent/cert-rotation.js';
import { parseServerList } from '../agent/server-selection.js';
import { startServerFailover } from '../agent/server-failover.js';
import { MAX_PODS, parseMaxPods } from '../agent/node-status.js';
import { parseFlags, required, UsageError } from './flags.js';
import { createLogger } from '../util/log.js';

const HELP = `usage: flatnet agent --node NAME (--bootstrap-kubeconfig FILE | --kubeconfig FILE) [flags]

  --node NAME                 the Node this agent runs (required)
  --bootstrap-kubeconfig FILE a kubeconfig with a bootstrap token (flatnet token create): the agent makes
                              its key, gets its node client certificate through a CertificateSigningRequest
                              and writes --kubeconfig; used again only when that certificate ends
  --kubeconfig FILE           the node's own credentials (default with --bootstrap-kubeconfig: DATA_DIR/kubelet.kubeconfig)
  --cert-dir DIR              the node's keys and certificates, 0600 in a 0700 directory (default DATA_DIR/pki)
  --server URL[,URL...]       API server URL(s) (default: the kubeconfig's); with several, the agent
                              relays its connections to one and fails over to the next when it is down
  --netns NAME                the node's network namespace (default: this host's namespace)
  --node-ip IP                the node's InternalIP (default: eth0 of --netns, or this host's first address)
  --overlay vxlan|host-gw|bgp how pods reach pods of other nodes (default vxlan; bgp: routes
                              learned from the BGPPeer routers, see flatnet bgp)
  --proxy-mode nftables|iptables   the service proxy's backend (default nftables)
  --kubelet-listen HOST:PORT  the kubelet endpoint (HTTPS, only the API server's client certificate) for
                              logs/exec/port-forward, in --netns when given (default 0.0.0.0:10250); the
                              API server reaches it at the node's InternalIP
  --data-dir DIR              sandboxes, logs and CNI state (default /var/lib/flatnet/agent-NAME)
  --cni-plugins flatnet|reference  flatnet's CNI plugins or the reference bridge/host-local/portmap
  --cluster-cidr CIDR         (default 10.244.0.0/16)   --service-cidr CIDR (default 10.96.0.0/16)
  --cluster-dns IP            the kube-dns Service address written to pods (default 10.96.0.10)
  --cluster-domain DOMAIN     (default cluster.local)
  --pod-netns-prefix PREFIX   names of pod namespaces (default flatnet-pod-; tests use their own)
  --network-policy=false      do not enforce NetworkPolicies on this node
  --max-pods N                the pods this node takes: its capacity and allocatable \`pods\`, which the
                              scheduler fills no further (default ${MAX_PODS}, as the kubelet's); a pod beyond
                              the free addresses of the node's pod CIDR fails sandbox creation (no free address)
  --container-runtime-endpoint unix:///PATH  the node runtime's socket (flatnet runtime): containers run
                              there and outlive agent restarts (default: the agent runs them itself)
`;

/** The socket path of --container-runtime-endpoint (unix:///path or a path). */
function runtimeSocketPath(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  const path = endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : endpoint;
  if (!path.startsWith('/')) throw new UsageError(`--container-runtime-endpoint must be unix:///ABSOLUTE/PATH (got "${endpoint}")`);
  return path;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const flags = parseFlags(args, {
    values: {
      node: undefined,
      server: undefined,
      kubeconfig: undefined,
      'bootstrap-kubeconfig': undefined,
      'cert-dir': undefined,
      netns: undefined,
      'node-ip': undefined,
      overlay: 'vxlan',
      'proxy-mode': 'nftables',
      'kubelet-listen': '0.0.0.0:10250',
      'data-dir': undefined,
      'cni-plugins': 'flatnet',
      'cluster-cidr': '10.244.0.0/16',
      'service-cidr': '10.96.0.0/16',
      'cluster-dns': '10.96.0.10',
      'cluster-domain': 'cluster.local',
      'pod-netns-prefix': 'flatnet-pod-',
      'network-policy': 'true',
      'container-runtime-endpoint': undefined,
      'max-pods': String(MAX_PODS),
    },
  });
  const node = required(flags, 'node');
  const dataDir = flags.values['data-dir'] ?? `/var/lib/flatnet/agent-${node}`;
  const bootstrapKubeconfig = flags.values['bootstrap-kubeconfig'] || undefined;
  if (!bootstrapKubeconfig && !flags.values.kubeconfig) throw new UsageError('--bootstrap-kubeconfig or --kubeconfig is required');
  const certDir = flags.values['cert-dir'] ?? join(dataDir, 'pki');
  const maxPods = parseMaxPods(flags.values['max-pods']!);
  if (typeof maxPods !== 'number') throw new UsageError(maxPods.error);
  let servers: string[] | undefined;
  try {
    servers = flags.values.server ? parseServerList(flags.values.server) : undefined;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const log = createLogger('agent', { node });
  const kubeconfig = flags.values.kubeconfig ?? join(dataDir, 'kubelet.kubeconfig');
  const connection = await nodeClientConnectionWithRetry(node, { kubeconfig, bootstrapKubeconfig, certDir }, log);
  if (servers && servers.length > 1) connection.server = (await startServerFailover(servers, { log })).url;
  else if (servers) connection.server = servers[0];
  const client = new KubeClient(connection);
  const rotator = startCertificateRotation(node, client, kubeconfig, certDir, log);
  startNodeCredentialGuard(node, client, { kubeconfig, bootstrapKubeconfig, certDir }, log, { onRenewed: () => rotator?.start() });
  const agent = new Agent({
    nodeName: node,
    client,
    netns: flags.values.netns || undefined,
    nodeIP: flags.values['node-ip'] || undefined,
    overlay: oneOf('overlay', flags.values.overlay!, ['vxlan', 'host-gw', 'bgp'] as const),
    proxyMode: oneOf('proxy-mode', flags.values['proxy-mode']!, ['nftables', 'iptables'] as const),
    kubeletListen: flags.values['kubelet-listen']!,
    dataDir,
    certDir,
    cniPlugins: oneOf('cni-plugins', flags.values['cni-plugins']!, ['flatnet', 'reference'] as const),
    clusterCIDR: flags.values['cluster-cidr']!,
    serviceCIDR: flags.values['service-cidr']!,
    clusterDNS: flags.values['cluster-dns']!.split(',').filter(Boolean),
    clusterDomain: flags.values['cluster-domain']!,
    podNetnsPrefix: flags.values['pod-netns-prefix']!,
    networkPolicy: flags.values['network-policy'] !== 'false',
    runtimeSocket: runtimeSocketPath(flags.values['container-runtime-endpoint']),
    maxPods,
  });
  await agent.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // Pods keep running and their sandboxes stay: the next agent adopts them. Kernel state
  // (overlay, service rules) stays too, so traffic keeps flowing while the agent is away.
  agent.log.info('stopping; pods keep their sandboxes and the next agent adopts them');
  agent.abandonPods();
  process.exit(0);
}
