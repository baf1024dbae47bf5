// `flatnet token create`: a bootstrap token for a joining node, stored as the Secret
// kube-system/bootstrap-token-<id> (kubeadm's format), printed as `<id>.<secret>`.
import { join } from 'node:path';
import { KubeClient } from '../client/client.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { caCertHash, createBootstrapToken, parseTtl } from '../apiserver/node-identity/join.js';
import { DEFAULT_NODE_TOKEN_GROUP } from '../apiserver/node-identity/bootstrap-token.js';
import { parseFlags, UsageError } from './flags.js';

const HELP = `usage: flatnet token create [flags]

Creates a bootstrap token a node joins with (flatnet agent --bootstrap-kubeconfig) and prints it.
A node that presents it may only ask for its node client certificate, which the server signs.

  --ttl DURATION        how long the token is valid: 24h (default), 30m, 1h30m, or 0 for never
  --description TEXT    kept in the token's Secret
  --groups G[,G...]     extra groups (system:bootstrappers:...; default ${DEFAULT_NODE_TOKEN_GROUP})
  --kubeconfig FILE     an admin kubeconfig (default DATA_DIR/admin.kubeconfig)
  --data-dir DIR        the server's data directory (default /var/lib/flatnet)
  --print-ca-hash       also print the CA public key pin (sha256:...) a joining node checks
`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h') || args[0] !== 'create') {
    process.stdout.write(HELP);
    return args[0] === 'create' || args.includes('--help') || args.includes('-h') ? 0 : 2;
  }
  const flags = parseFlags(args.slice(1), {
    values: { ttl: '24h', description: undefined, groups: undefined, kubeconfig: undefined, 'data-dir': '/var/lib/flatnet' },
    booleans: ['print-ca-hash'],
  });
  let ttlSeconds: number;
  try {
    ttlSeconds = parseTtl(flags.values.ttl!);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const kubeconfig = flags.values.kubeconfig ?? join(flags.values['data-dir']!, 'admin.kubeconfig');
  const connection = loadKubeconfig(kubeconfig);
  const client = new KubeClient(connection);
  try {
    const groups = flags.values.groups ? flags.values.groups.split(',').filter(Boolean) : undefined;
    const token = await createBootstrapToken(client, { ttlSeconds, description: flags.values.description, groups });
    process.stdout.write(`${token}\n`);
    if (flags.booleans['print-ca-hash'] && connection.ca) process.stdout.write(`${caCertHash(connection.ca.toString('utf8'))}\n`);
  } catch (err) {
    if (err instanceof Error && /--groups/.test(err.message)) throw new UsageError(err.message);
    throw err;
  } finally {
    client.close();
  }
  return 0;
}
