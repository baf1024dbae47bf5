// `flatnet join`: makes this machine a node of the cluster at --server, as `kubeadm join` does:
// pins the cluster CA by its hash before sending anything secret, writes a bootstrap kubeconfig
// with the token (0600, in the node's 0700 data directory), obtains the node's client certificate
// through a CertificateSigningRequest, then runs the agent with those credentials.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { DiscoveryError, discoverClusterCA } from '../apiserver/node-identity/discovery.js';
import { parseToken } from '../apiserver/node-identity/bootstrap-token.js';
import { nodeClientConnection, privateDir, renderBootstrapKubeconfig, writePrivateFile } from '../agent/tls-bootstrap.js';
import { createLogger } from '../util/log.js';
import { UsageError } from './flags.js';

const HELP = `usage: flatnet join --server https://HOST:6443 --token TOKEN --ca-cert-hash sha256:HEX --node NAME [agent flags]

  --server URL              the API server (reachable from this machine)
  --token TOKEN             a bootstrap token from \`flatnet token create\` on the server
  --ca-cert-hash sha256:HEX the cluster CA's public key hash (\`flatnet token create --print-ca-hash\`);
                            the token is sent only to a server whose CA matches it
  --node NAME               this node's name
  --data-dir DIR            the node's data directory (default /var/lib/flatnet/agent-NAME)
  --credentials-only        stop once the node's kubeconfig is written (do not run the agent)
Other flags are passed to \`flatnet agent\` (--netns, --node-ip, --overlay, --kubelet-listen...).
`;

const OWN = new Set(['server', 'token', 'ca-cert-hash', 'node', 'data-dir']);

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const own: Record<string, string> = {};
  const rest: string[] = [];
  let credentialsOnly = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--credentials-only') {
      credentialsOnly = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (m && OWN.has(m[1])) {
      const value = m[2] ?? args[++i];
      if (value === undefined) throw new UsageError(`flag --${m[1]} needs a value`);
      own[m[1]] = value;
    } else rest.push(a);
  }
  for (const f of ['server', 'token', 'ca-cert-hash', 'node']) if (!own[f]) throw new UsageError(`flag --${f} is required\n\n${HELP}`);
  if (!parseToken(own.token)) throw new UsageError('--token must look like abcdef.0123456789abcdef (flatnet token create prints one)');
  if (!/^https:\/\//.test(own.server)) throw new UsageError('--server must be an https:// URL such as https://192.0.2.10:6443');
  const node = own.node;
  const dataDir = own['data-dir'] ?? `/var/lib/flatnet/agent-${node}`;
  const log = createLogger('join', { node });
  let caPem: string;
  try {
    caPem = await discoverClusterCA(own.server, own['ca-cert-hash']);
  } catch (err) {
    if (err instanceof DiscoveryError) {
      process.stderr.write(`flatnet join: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  privateDir(dataDir);
  const bootstrap = join(dataDir, 'bootstrap.kubeconfig');
  const kubeconfig = join(dataDir, 'kubelet.kubeconfig');
  writePrivateFile(bootstrap, renderBootstrapKubeconfig({ server: own.server.replace(/\/$/, ''), caPem, token: own.token }));
  await nodeClientConnection(node, { kubeconfig, bootstrapKubeconfig: bootstrap, certDir: join(dataDir, 'pki') }, log);
  log.info('joined', { server: own.server, kubeconfig });
  if (credentialsOnly) {
    process.stdout.write(`${kubeconfig}\n`);
    return existsSync(kubeconfig) ? 0 : 1;
  }
  const agent = await import('./agent.js');
  return agent.run(['--node', node, '--bootstrap-kubeconfig', bootstrap, '--kubeconfig', kubeconfig, '--data-dir', dataDir, ...rest]);
}
