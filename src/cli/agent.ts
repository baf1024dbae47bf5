// `flatnet agent`: runs the node agent of one node until SIGINT/SIGTERM.
import { Agent } from '../agent/agent.js';
import { KubeClient } from '../client/client.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { parseFlags, required, UsageError } from './flags.js';

const HELP = `usage: flatnet agent --node NAME --kubeconfig FILE [flags]

  --node NAME                 the Node this agent runs (required)
  --kubeconfig FILE           credentials for the API server (required)
  --server URL                API server URL (default: the kubeconfig's)
  --netns NAME                the node's network namespace (default: this host's namespace)
  --node-ip IP                the node's InternalIP (default: eth0 of --netns, or this host's first address)
  --overlay vxlan|host-gw     how pods reach pods of other nodes (default vxlan)
  --proxy-mode nftables|iptables   the service proxy's backend (default nftables)
  --kubelet-listen HOST:PORT  where the API server reaches logs/exec/port-forward (default 127.0.0.1:10250)
  --data-dir DIR              sandboxes, logs and CNI state (default /var/lib/flatnet/agent-NAME)
  --cni-plugins flatnet|reference  flatnet's CNI plugins or the reference bridge/host-local/portmap
  --cluster-cidr CIDR         (default 10.244.0.0/16)   --service-cidr CIDR (default 10.96.0.0/16)
  --cluster-dns IP            the kube-dns Service address written to pods (default 10.96.0.10)
  --cluster-domain DOMAIN     (default cluster.local)
  --pod-netns-prefix PREFIX   names of pod namespaces (default flatnet-pod-; tests use their own)
  --network-policy=false      do not enforce NetworkPolicies on this node
`;

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
      netns: undefined,
      'node-ip': undefined,
      overlay: 'vxlan',
      'proxy-mode': 'nftables',
      'kubelet-listen': '127.0.0.1:10250',
      'data-dir': undefined,
      'cni-plugins': 'flatnet',
      'cluster-cidr': '10.244.0.0/16',
      'service-cidr': '10.96.0.0/16',
      'cluster-dns': '10.96.0.10',
      'cluster-domain': 'cluster.local',
      'pod-netns-prefix': 'flatnet-pod-',
      'network-policy': 'true',
    },
  });
  const node = required(flags, 'node');
  const connection = loadKubeconfig(required(flags, 'kubeconfig'));
  if (flags.values.server) connection.server = flags.values.server.replace(/\/$/, '');
  const client = new KubeClient(connection);
  const agent = new Agent({
    nodeName: node,
    client,
    netns: flags.values.netns || undefined,
    nodeIP: flags.values['node-ip'] || undefined,
    overlay: oneOf('overlay', flags.values.overlay!, ['vxlan', 'host-gw'] as const),
    proxyMode: oneOf('proxy-mode', flags.values['proxy-mode']!, ['nftables', 'iptables'] as const),
    kubeletListen: flags.values['kubelet-listen']!,
    dataDir: flags.values['data-dir'] ?? `/var/lib/flatnet/agent-${node}`,
    cniPlugins: oneOf('cni-plugins', flags.values['cni-plugins']!, ['flatnet', 'reference'] as const),
    clusterCIDR: flags.values['cluster-cidr']!,
    serviceCIDR: flags.values['service-cidr']!,
    clusterDNS: flags.values['cluster-dns']!.split(',').filter(Boolean),
    clusterDomain: flags.values['cluster-domain']!,
    podNetnsPrefix: flags.values['pod-netns-prefix']!,
    networkPolicy: flags.values['network-policy'] !== 'false',
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
