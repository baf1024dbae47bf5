// `flatnet gateway proxy|routes`: run a gateway proxy (what the flatnet/gateway image runs in its
// pods), or print the routing table each Gateway's proxy serves, computed by the same model from
// the objects in the API.
import net from 'node:net';
import { join, resolve } from 'node:path';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { KubeClient } from '../client/client.js';
import { type ClusterConnection, loadKubeconfig } from '../client/kubeconfig.js';
import { DEFAULT_DATA_DIR } from '../lab/plan.js';
import { INGRESS_NAMESPACE, INGRESS_PROXY_NAME } from '../gateway/controller/names.js';
import { formatRoutingTable } from '../gateway/model/describe.js';
import { computeGatewayState } from '../gateway/model/state.js';
import { computeIngressState } from '../gateway/ingress/state.js';
import { PROXY_HEALTH_PORT, connectionFromEnvironment } from '../gateway/proxy-identity.js';
import type { ProxyTarget } from '../gateway/proxy-main.js';
import { parseFlags, UsageError } from './flags.js';

const usage = `usage: flatnet gateway <subcommand> [flags]

  proxy   run a gateway proxy (the program of the flatnet/gateway image)
          --gateway NS/NAME | --ingress   what it serves: one Gateway, or the cluster's Ingresses
          --kubeconfig FILE               the API connection (default: in a pod, KUBERNETES_SERVICE_HOST/PORT,
                                          FLATNET_PROXY_TOKEN and FLATNET_PROXY_CA)
          --health-listen IP:PORT         /healthz, /readyz and /metrics (default 0.0.0.0:${PROXY_HEALTH_PORT})
          --bind-address IP               the address the listeners bind (default 0.0.0.0)

  routes  print the routing table of each Gateway's proxy (or of one, or of the ingress proxy)
          --gateway NS/NAME | --ingress
          --kubeconfig FILE               (default: DIR/admin.kubeconfig)
          --data-dir DIR                  the server's data directory (default ${DEFAULT_DATA_DIR})
`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'proxy') return runProxy(rest);
  if (sub === 'routes') return runRoutes(rest);
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(usage);
    return sub ? 0 : 2;
  }
  throw new UsageError(`unknown gateway subcommand "${sub}" (known: proxy, routes)\n${usage}`);
}

/** `--gateway NS/NAME` or `--ingress`, exactly one (or neither, when `optional`). */
export function parseTarget(gateway: string | undefined, ingress: boolean, optional: boolean): ProxyTarget | undefined {
  if (gateway !== undefined && ingress) throw new UsageError('flags --gateway and --ingress exclude each other: a proxy serves one Gateway or the Ingresses');
  if (ingress) return { kind: 'ingress' };
  if (gateway === undefined) {
    if (optional) return undefined;
    throw new UsageError('flag --gateway NS/NAME or --ingress is required');
  }
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(gateway);
  if (!m) throw new UsageError(`flag --gateway ${JSON.stringify(gateway)} is not NAMESPACE/NAME (for example default/my-gateway)`);
  return { kind: 'gateway', namespace: m[1], name: m[3] };
}

export function parseHostPort(flag: string, s: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !net.isIP(m[1]) || !(port >= 0 && port < 65536)) throw new UsageError(`flag --${flag} ${JSON.stringify(s)} is not IP:PORT (for example 0.0.0.0:${PROXY_HEALTH_PORT})`);
  return { host: m[1], port };
}

async function runProxy(args: string[]): Promise<number> {
  const flags = parseFlags(args, { values: { gateway: undefined, kubeconfig: undefined, 'health-listen': `0.0.0.0:${PROXY_HEALTH_PORT}`, 'bind-address': '0.0.0.0' }, booleans: ['ingress'] });
  if (flags.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(flags.positionals[0])} to gateway proxy`);
  const target = parseTarget(flags.values.gateway, flags.booleans.ingress, false)!;
  const healthListen = parseHostPort('health-listen', flags.values['health-listen']!);
  const bindAddress = flags.values['bind-address']!;
  if (!net.isIP(bindAddress)) throw new UsageError(`flag --bind-address ${JSON.stringify(bindAddress)} is not an IP address`);
  // Loaded only here: `routes` and `--help` need neither the proxy nor prom-client.
  const { GatewayProxyProcess } = await import('../gateway/proxy-main.js');
  let connection: ClusterConnection;
  try {
    connection = flags.values.kubeconfig ? loadKubeconfig(flags.values.kubeconfig) : connectionFromEnvironment(process.env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const proc = new GatewayProxyProcess({ target, connection, healthListen, bindAddress });
  const stopped = new Promise<NodeJS.Signals>((res) => {
    process.once('SIGTERM', () => res('SIGTERM'));
    process.once('SIGINT', () => res('SIGINT'));
  });
  const startFailed = proc.start().then(
    () => new Promise<never>(() => {}),
    (err: unknown) => err as Error,
  );
  const first = await Promise.race([stopped, startFailed]);
  if (first instanceof Error) {
    await proc.stop();
    throw first;
  }
  const { drained } = await proc.stop();
  // Connections the drain gave up on must not keep the process alive.
  if (!drained) setTimeout(() => process.exit(0), 100).unref();
  return 0;
}

async function listAll(client: KubeClient, r: (typeof R)[keyof typeof R]): Promise<KubeObject[]> {
  return (await client.list(r)).items;
}

async function runRoutes(args: string[]): Promise<number> {
  const flags = parseFlags(args, { values: { gateway: undefined, kubeconfig: undefined, 'data-dir': DEFAULT_DATA_DIR }, booleans: ['ingress'] });
  if (flags.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(flags.positionals[0])} to gateway routes`);
  const target = parseTarget(flags.values.gateway, flags.booleans.ingress, true);
  const kubeconfig = flags.values.kubeconfig ?? join(resolve(flags.values['data-dir']!), 'admin.kubeconfig');
  let client: KubeClient;
  try {
    client = new KubeClient(loadKubeconfig(kubeconfig));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n(pass --kubeconfig FILE, or --data-dir DIR of a running server)`);
  }
  try {
    const [services, endpointSlices, allSecrets] = await Promise.all([listAll(client, R.services), listAll(client, R.endpointslices), listAll(client, R.secrets)]);
    const secrets = allSecrets.filter((s) => (s as { type?: string }).type === 'kubernetes.io/tls');
    if (target?.kind === 'ingress') {
      const [ingresses, ingressClasses] = await Promise.all([listAll(client, R.ingresses), listAll(client, R.ingressclasses)]);
      const state = computeIngressState({ ingresses, ingressClasses, services, endpointSlices, secrets, addresses: [] });
      process.stdout.write(formatRoutingTable(`${INGRESS_NAMESPACE}/${INGRESS_PROXY_NAME}`, state.config).replace(/^Gateway /, 'Ingress proxy '));
      return 0;
    }
    const [gatewayClasses, gateways, httpRoutes, grpcRoutes, tlsRoutes, tcpRoutes, udpRoutes, referenceGrants, namespaces] = await Promise.all(
      [R.gatewayclasses, R.gateways, R.httproutes, R.grpcroutes, R.tlsroutes, R.tcproutes, R.udproutes, R.referencegrants, R.namespaces].map((r) => listAll(client, r)),
    );
    const state = computeGatewayState({ gatewayClasses, gateways, httpRoutes, grpcRoutes, tlsRoutes, tcpRoutes, udpRoutes, referenceGrants, services, endpointSlices, secrets, namespaces, infra: new Map() });
    if (target?.kind === 'gateway') {
      const key = `${target.namespace}/${target.name}`;
      const gw = state.gateways.get(key);
      if (!gw) {
        const exists = gateways.some((g) => g.metadata.namespace === target.namespace && g.metadata.name === target.name);
        process.stderr.write(`flatnet: ${exists ? `Gateway ${key} is not served by flatnet (its GatewayClass is not flatnet's, or not accepted)` : `no Gateway ${key}`}\n`);
        return 1;
      }
      process.stdout.write(formatRoutingTable(key, gw.config));
      return 0;
    }
    const keys = [...state.gateways.keys()].sort();
    if (keys.length === 0) {
      process.stdout.write('no Gateways of a flatnet GatewayClass\n');
      return 0;
    }
    process.stdout.write(keys.map((k) => formatRoutingTable(k, state.gateways.get(k)!.config)).join('\n'));
    return 0;
  } finally {
    client.close();
  }
}
