// `flatnet join`: makes this machine a node of the cluster at --server, as `kubeadm join` does:
// pins the cluster CA by its hash before sending anything secret, writes a bootstrap kubeconfig
// with the token (0600, in the node's 0700 data directory), obtains the node's client certificate
// through a CertificateSigningRequest, then runs the agent with those credentials.
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { DiscoveryError, discoverClusterCA } from '../apiserver/node-identity/discovery.js';
import { parseToken } from '../apiserver/node-identity/bootstrap-token.js';
import { caCertHash } from '../apiserver/node-identity/join.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { parseServerList } from '../agent/server-selection.js';
import { nodeClientConnection, privateDir, renderBootstrapKubeconfig, writePrivateFile } from '../agent/tls-bootstrap.js';
import { createLogger } from '../util/log.js';
import { UsageError } from './flags.js';

const HELP = `usage: flatnet join --server https://HOST:6443 --token TOKEN --ca-cert-hash sha256:HEX --node NAME [agent flags]

  --server URL[,URL...]     the API server(s) (reachable from this machine); the agent fails over
                            between several
  --token TOKEN             a bootstrap token from \`flatnet token create\` on the server
                            (or the environment variable FLATNET_TOKEN, which other users cannot read)
  --ca-cert-hash sha256:HEX the cluster CA's public key hash (\`flatnet token create --print-ca-hash\`);
                            the token is sent only to a server whose CA matches it (or FLATNET_CA_CERT_HASH)
  --node NAME               this node's name
  --data-dir DIR            the node's data directory (default /var/lib/flatnet/agent-NAME)
  --credentials-only        stop once the node's kubeconfig is written (do not run the agent)
  --join-env-file F         read FLATNET_TOKEN and FLATNET_CA_CERT_HASH from the JSON file F (0600), waiting
                            until it exists; the agent's code loads meanwhile (\`flatnet up\` starts its agents
                            while the server starts and writes the file once the token exists)
Other flags are passed to \`flatnet agent\` (--netns, --node-ip, --overlay, --kubelet-listen...).
`;

const OWN = new Set(['server', 'token', 'ca-cert-hash', 'node', 'data-dir', 'join-env-file']);

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
  if (own['join-env-file'] && !(own.token ?? process.env.FLATNET_TOKEN)) {
    // Load the agent's modules while the file is not there yet: that is most of a join's start-up.
    const preload = import('./agent.js');
    preload.catch(() => undefined);
    const env = await waitForJoinEnvironment(own['join-env-file']);
    own.token ??= env.FLATNET_TOKEN ?? '';
    own['ca-cert-hash'] ??= env.FLATNET_CA_CERT_HASH ?? '';
  }
  own.token ??= process.env.FLATNET_TOKEN ?? '';
  own['ca-cert-hash'] ??= process.env.FLATNET_CA_CERT_HASH ?? '';
  for (const f of ['server', 'token', 'ca-cert-hash', 'node']) if (!own[f]) throw new UsageError(`flag --${f} is required\n\n${HELP}`);
  if (!parseToken(own.token)) throw new UsageError('--token must look like abcdef.0123456789abcdef (flatnet token create prints one)');
  let servers: string[];
  try {
    servers = parseServerList(own.server);
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (such as https://192.0.2.10:6443)`);
  }
  const node = own.node;
  const dataDir = own['data-dir'] ?? `/var/lib/flatnet/agent-${node}`;
  const log = createLogger('join', { node });
  privateDir(dataDir);
  const bootstrap = join(dataDir, 'bootstrap.kubeconfig');
  const kubeconfig = join(dataDir, 'kubelet.kubeconfig');
  const agentArgs = ['--node', node, '--server', servers.join(','), '--bootstrap-kubeconfig', bootstrap, '--kubeconfig', kubeconfig, '--data-dir', dataDir, ...rest];
  // A node that joined this cluster before (its kubeconfig trusts the pinned CA) restarts with its
  // own credentials: the token is not needed again, and may have expired.
  if (!credentialsOnly && existsSync(kubeconfig) && existsSync(bootstrap) && trustsPinnedCA(kubeconfig, own['ca-cert-hash'])) {
    const agent = await import('./agent.js');
    return agent.run(agentArgs);
  }
  let caPem: string | undefined;
  let server = servers[0];
  const refusals: string[] = [];
  for (const candidate of servers) {
    try {
      caPem = await discoverClusterCA(candidate, own['ca-cert-hash']);
      server = candidate;
      break;
    } catch (err) {
      if (!(err instanceof DiscoveryError)) throw err;
      refusals.push(err.message);
    }
  }
  if (!caPem) {
    process.stderr.write(`flatnet join: ${refusals.join('; ')}\n`);
    return 1;
  }
  writePrivateFile(bootstrap, renderBootstrapKubeconfig({ server, caPem, token: own.token }));
  await nodeClientConnection(node, { kubeconfig, bootstrapKubeconfig: bootstrap, certDir: join(dataDir, 'pki') }, log);
  log.info('joined', { server, kubeconfig });
  if (credentialsOnly) {
    process.stdout.write(`${kubeconfig}\n`);
    return existsSync(kubeconfig) ? 0 : 1;
  }
  const agent = await import('./agent.js');
  return agent.run(agentArgs);
}

/** The JSON object of `path` once the file exists (it is written whole, by rename or one write). */
async function waitForJoinEnvironment(path: string): Promise<Record<string, string>> {
  for (;;) {
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`--join-env-file ${path}: ${(err as Error).message}`);
    }
    if (text) {
      try {
        const env = JSON.parse(text) as unknown;
        if (env && typeof env === 'object' && !Array.isArray(env)) return env as Record<string, string>;
      } catch {
        // Not whole yet: read it again.
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

function trustsPinnedCA(kubeconfig: string, pin: string): boolean {
  try {
    const ca = loadKubeconfig(kubeconfig).ca;
    return ca !== undefined && caCertHash(ca.toString('utf8')) === pin.toLowerCase();
  } catch {
    return false;
  }
}
