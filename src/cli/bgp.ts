// `flatnet bgp status|crd`: the BGP sessions every node publishes in its Node annotation
// (overlay/bgp/session-annotation.ts), and the BGPPeer CustomResourceDefinition to apply in
// clusters that `flatnet up --overlay bgp` did not make.
import { existsSync } from 'node:fs';
import { stringify as stringifyYaml } from 'yaml';
import { parseFlags, UsageError } from './flags.js';
import { KubeClient } from '../client/client.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { R } from '../api/resources.js';
import { bgpPeerCrd } from '../overlay/bgp/crd.js';
import { nodeSessions, statusText } from '../overlay/bgp/status-report.js';

const DEFAULT_KUBECONFIG = '/var/lib/flatnet/admin.kubeconfig';

const usage = `usage:
  flatnet bgp status [--kubeconfig FILE] [-o json]
      Each node's BGP sessions: peer, AS, state, uptime, prefixes received and sent.
  flatnet bgp crd
      Prints the BGPPeer CustomResourceDefinition (flatnet.dev/v1) for kubectl apply -f -.

  --kubeconfig FILE  default: $KUBECONFIG, else ${DEFAULT_KUBECONFIG}
`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === 'help') {
    process.stdout.write(usage);
    return sub ? 0 : 2;
  }
  const flags = parseFlags(rest.map((a) => (a === '-o' ? '--output' : a)), { values: { kubeconfig: undefined, output: undefined } });
  if (flags.positionals.length > 0) throw new UsageError(`bgp ${sub} takes no arguments (got ${flags.positionals.join(' ')})\n${usage}`);
  if (sub === 'crd') {
    process.stdout.write(stringifyYaml(bgpPeerCrd()));
    return 0;
  }
  if (sub === 'status') {
    const output = flags.values.output;
    if (output !== undefined && output !== 'json') throw new UsageError(`--output: "${output}" is not supported (json)`);
    const path = flags.values.kubeconfig ?? process.env.KUBECONFIG ?? DEFAULT_KUBECONFIG;
    if (!existsSync(path)) throw new UsageError(`kubeconfig ${path} does not exist: pass --kubeconfig FILE (\`flatnet kubeconfig\` prints the lab's)`);
    const client = new KubeClient(loadKubeconfig(path));
    try {
      const rows = nodeSessions((await client.list(R.nodes)).items);
      process.stdout.write(output === 'json' ? JSON.stringify(rows, null, 2) + '\n' : statusText(rows, Date.now()));
    } finally {
      client.close();
    }
    return 0;
  }
  throw new UsageError(`unknown bgp subcommand "${sub}"\n${usage}`);
}
