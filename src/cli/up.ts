// `flatnet up`: start a lab cluster network on this machine (see src/lab/up.ts).
import { parseFlags, UsageError } from './flags.js';
import { MAX_PODS, parseMaxPods } from '../agent/node-status.js';
import { DEFAULT_DATA_DIR } from '../lab/plan.js';
import { LabError, labUp } from '../lab/up.js';

const HELP = `usage: flatnet up [flags]

Creates the lab's network namespaces (flatnet-lab, flatnet-ext, flatnet-node-*), starts one API
server and one agent per node under a supervisor, and waits until every node is Ready. Each agent
runs inside its node's namespace with its own data directory and joins as a node on another
machine would (\`flatnet join\` with a bootstrap token), reaching the server at 172.18.0.1:6443.

  --nodes N                          nodes to run (default 2)
  --overlay vxlan|host-gw|bgp        how pods reach pods on other nodes (default vxlan; bgp: a BIRD
                                     route reflector in flatnet-lab, see flatnet bgp status)
  --router bird|frr                  with --overlay bgp: the lab router's daemon, BIRD 2 or FRR (default bird)
  --proxy-mode nftables|iptables     the service proxy's backend (default nftables)
  --cni-plugins flatnet|reference    flatnet's CNI plugins or the reference ones in /usr/lib/cni (default flatnet)
  --data-dir D                       state, logs, kubeconfig (default ${DEFAULT_DATA_DIR})
  --dns=false                        do not install the cluster DNS add-on (coredns / kube-dns 10.96.0.10)
  --timeout SECONDS                  how long to wait for the nodes and DNS (default 120)
  --max-pods N                       the pods each node takes, its agent's --max-pods (default ${MAX_PODS}); a lab
                                     node's /24 pod CIDR has 253 addresses for pods
  --ha                               a 3-member etcd cluster (TLS, client certificates, on root-namespace loopback
                                     addresses) and 2 API servers on it; agents fail over between the servers
`;

function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')} (got "${v}")`);
  return v as T;
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const f = parseFlags(args, { values: { nodes: '2', overlay: 'vxlan', 'proxy-mode': 'nftables', 'cni-plugins': 'flatnet', 'data-dir': DEFAULT_DATA_DIR, timeout: '120', dns: 'true', router: 'bird', 'max-pods': String(MAX_PODS) }, booleans: ['ha'] });
  if (f.values.dns !== 'true' && f.values.dns !== 'false') throw new UsageError(`--dns must be true or false (got "${f.values.dns}")`);
  const nodes = Number(f.values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 50) throw new UsageError(`--nodes must be a whole number from 1 to 50 (got "${f.values.nodes}")`);
  const timeout = Number(f.values.timeout);
  if (!(timeout > 0)) throw new UsageError(`--timeout must be a positive number of seconds (got "${f.values.timeout}")`);
  const maxPods = parseMaxPods(f.values['max-pods']!);
  if (typeof maxPods !== 'number') throw new UsageError(maxPods.error);
  if (f.values.router !== 'bird' && f.values.overlay !== 'bgp') throw new UsageError(`--router applies to --overlay bgp only (got --router ${f.values.router} with --overlay ${f.values.overlay})`);
  if (process.getuid?.() !== 0) {
    process.stderr.write('flatnet up: needs root (it creates network namespaces and nftables rules in them)\n');
    return 1;
  }
  try {
    await labUp({
      nodes,
      overlay: oneOf('overlay', f.values.overlay!, ['vxlan', 'host-gw', 'bgp'] as const),
      proxyMode: oneOf('proxy-mode', f.values['proxy-mode']!, ['nftables', 'iptables'] as const),
      cniPlugins: oneOf('cni-plugins', f.values['cni-plugins']!, ['flatnet', 'reference'] as const),
      dataDir: f.values['data-dir']!,
      timeoutSeconds: timeout,
      dns: f.values.dns === 'true',
      ha: f.booleans.ha,
      router: oneOf('router', f.values.router!, ['bird', 'frr'] as const),
      ...(maxPods !== MAX_PODS ? { maxPods } : {}),
      print: (l) => process.stdout.write(l + '\n'),
    });
    return 0;
  } catch (err) {
    if (err instanceof LabError) {
      process.stderr.write(`flatnet up: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
