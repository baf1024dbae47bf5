// `flatnet ingress2gateway`: reads the cluster's Ingresses with the admin kubeconfig and prints the
// equivalent Gateway API objects as multi-document YAML (see src/gateway/ingress/to-gateway.ts).
import { existsSync } from 'node:fs';
import { parseFlags, UsageError } from './flags.js';
import { KubeClient } from '../client/client.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { R } from '../api/resources.js';
import { ingressesToGateway, renderGatewayYaml } from '../gateway/ingress/to-gateway.js';

const DEFAULT_KUBECONFIG = '/var/lib/flatnet/admin.kubeconfig';

const usage = `usage: flatnet ingress2gateway [-n NAMESPACE | -A] [--kubeconfig FILE] [--gateway-class NAME]

Prints, as YAML, the Gateway API objects equivalent to the cluster's Ingresses: one Gateway per
Ingress class and namespace (HTTP on 80, HTTPS on 443 per TLS host), HTTPRoutes per Ingress and
host. nginx annotations without a Gateway API equivalent are named in comments.
  -n, --namespace NS     one namespace (default: "default")
  -A, --all-namespaces   every namespace
  --kubeconfig FILE      default: $KUBECONFIG, else ${DEFAULT_KUBECONFIG}
  --gateway-class NAME   spec.gatewayClassName of the Gateways (default: flatnet)
`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage);
    return 0;
  }
  const normalised = args.map((a) => (a === '-n' ? '--namespace' : a === '-A' ? '--all-namespaces' : a));
  const flags = parseFlags(normalised, { values: { namespace: undefined, kubeconfig: undefined, 'gateway-class': 'flatnet' }, booleans: ['all-namespaces'] });
  if (flags.positionals.length > 0) throw new UsageError(`ingress2gateway takes no arguments (got ${flags.positionals.join(' ')})\n${usage}`);
  if (flags.booleans['all-namespaces'] && flags.values.namespace) throw new UsageError('-n and -A exclude each other');
  const gatewayClassName = flags.values['gateway-class']!;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(gatewayClassName)) throw new UsageError(`--gateway-class "${gatewayClassName}" is not a valid object name`);
  const kubeconfig = flags.values.kubeconfig || process.env.KUBECONFIG || DEFAULT_KUBECONFIG;
  if (!existsSync(kubeconfig)) throw new UsageError(`kubeconfig ${kubeconfig} does not exist: pass --kubeconfig FILE (\`flatnet kubeconfig\` prints the lab's)`);
  const namespace = flags.booleans['all-namespaces'] ? undefined : (flags.values.namespace ?? 'default');
  const client = new KubeClient(loadKubeconfig(kubeconfig));
  try {
    const [ingresses, services] = await Promise.all([client.list(R.ingresses, { namespace }), client.list(R.services, { namespace })]);
    const translation = ingressesToGateway({ ingresses: ingresses.items, services: services.items, gatewayClassName });
    const where = namespace ? `namespace ${namespace}` : 'all namespaces';
    const header = [`Gateway API objects for the ${ingresses.items.length} Ingress(es) of ${where}, by flatnet ingress2gateway`];
    process.stdout.write(renderGatewayYaml(translation, header));
    return 0;
  } finally {
    client.close();
  }
}
