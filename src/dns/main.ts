// `flatnet dns`: the cluster DNS server as a standalone process (tests, or outside the lab).
//   flatnet dns --kubeconfig F [--listen 127.0.0.1:5353] [--http-listen 127.0.0.1:8080]
//               [--cluster-domain cluster.local] [--upstream IP[:port]]... [--ttl 30] [--pods insecure|verified|disabled]
//               [--corefile FILE | --corefile-configmap NAMESPACE/NAME]
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { KubeClient } from '../client/client.js';
import { loadCorefile } from './corefile/config.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { UsageError, parseFlags } from '../cli/flags.js';
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_TTL, startDnsServer, validateClusterDomain, validateTtl } from './workload.js';
import type { PodsMode } from './records.js';

export interface DnsCommandOptions {
  kubeconfig?: string;
  listen: { host: string; port: number };
  httpListen?: { host: string; port: number };
  clusterDomain: string;
  upstreams: string[];
  ttl: number;
  pods: PodsMode;
  corefileFile?: string;
  corefileConfigMap?: { namespace: string; name: string };
}

function hostPort(flag: string, s: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !net.isIP(m[1]) || !(port >= 0 && port < 65536)) throw new UsageError(`--${flag} "${s}" is not IP:port (for example 127.0.0.1:5353)`);
  return { host: m[1], port };
}

/** Parses the flags of `flatnet dns` (also usable for the container args of the flatnet/dns image). */
export function dnsOptionsFromArgs(args: string[]): DnsCommandOptions {
  // --upstream may repeat: collect its values before the generic parser sees the rest.
  const upstreams: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--upstream') {
      const v = args[++i];
      if (v === undefined) throw new UsageError('flag --upstream needs a value');
      upstreams.push(...v.split(',').filter(Boolean));
    } else if (args[i].startsWith('--upstream=')) upstreams.push(...args[i].slice('--upstream='.length).split(',').filter(Boolean));
    else rest.push(args[i]);
  }
  const flags = parseFlags(rest, {
    values: { kubeconfig: undefined, listen: '127.0.0.1:53', 'http-listen': undefined, 'cluster-domain': DEFAULT_CLUSTER_DOMAIN, ttl: String(DEFAULT_TTL), pods: 'insecure', corefile: undefined, 'corefile-configmap': undefined },
  });
  if (flags.positionals.length > 0) throw new UsageError(`unexpected argument "${flags.positionals[0]}"`);
  const pods = flags.values.pods;
  if (pods !== 'insecure' && pods !== 'verified' && pods !== 'disabled') throw new UsageError(`--pods "${pods}" must be insecure, verified or disabled`);
  const ttl = Number(flags.values.ttl);
  try {
    validateTtl(ttl);
    validateClusterDomain(flags.values['cluster-domain'] ?? '');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const cm = flags.values['corefile-configmap'];
  const [cmNamespace, cmName, extra] = (cm ?? '').split('/');
  if (cm !== undefined && (!cmNamespace || !cmName || extra !== undefined)) throw new UsageError(`--corefile-configmap "${cm}" must be NAMESPACE/NAME`);
  if (cm !== undefined && flags.values.corefile !== undefined) throw new UsageError('give --corefile or --corefile-configmap, not both');
  return {
    corefileFile: flags.values.corefile,
    corefileConfigMap: cm !== undefined ? { namespace: cmNamespace, name: cmName } : undefined,
    kubeconfig: flags.values.kubeconfig,
    listen: hostPort('listen', flags.values.listen ?? ''),
    httpListen: flags.values['http-listen'] ? hostPort('http-listen', flags.values['http-listen']) : undefined,
    clusterDomain: flags.values['cluster-domain'] ?? DEFAULT_CLUSTER_DOMAIN,
    upstreams,
    ttl,
    pods,
  };
}

async function bind(listen: { host: string; port: number }): Promise<{ udp: dgram.Socket; tcp: net.Server }> {
  const udp = dgram.createSocket({ type: net.isIPv6(listen.host) ? 'udp6' : 'udp4' });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(listen.port, listen.host, () => resolve());
  });
  // With port 0, TCP takes the port UDP got.
  const port = udp.address().port;
  const tcp = net.createServer();
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, listen.host, () => resolve());
  });
  return { udp, tcp };
}

export async function run(args: string[]): Promise<number> {
  const opts = dnsOptionsFromArgs(args);
  let corefile: string | undefined;
  if (opts.corefileFile) {
    try {
      corefile = readFileSync(opts.corefileFile, 'utf8');
    } catch (err) {
      throw new UsageError(`--corefile: cannot read ${opts.corefileFile}: ${(err as Error).message}`);
    }
    try {
      loadCorefile(corefile, { readFile: (p) => readFileSync(p, 'utf8') });
    } catch (err) {
      throw new UsageError(`--corefile ${opts.corefileFile}: ${(err as Error).message}`);
    }
  }
  const kubeconfig = opts.kubeconfig ?? process.env.KUBECONFIG;
  if (!kubeconfig) throw new UsageError('flag --kubeconfig is required (or set KUBECONFIG)');
  const client = new KubeClient(loadKubeconfig(kubeconfig));
  const { udp, tcp } = await bind(opts.listen);
  let http: net.Server | undefined;
  if (opts.httpListen) {
    const h = net.createServer();
    const { host, port } = opts.httpListen;
    await new Promise<void>((resolve, reject) => {
      h.once('error', reject);
      h.listen(port, host, () => resolve());
    });
    http = h;
  }
  const podLog = (line: string) => process.stdout.write(`${line}\n`);
  const server = await startDnsServer({ client, udp, tcp, http, clusterDomain: opts.clusterDomain, upstreams: opts.upstreams, ttl: opts.ttl, pods: opts.pods, corefile, corefileConfigMap: opts.corefileConfigMap, podLog });
  const addr = udp.address();
  process.stderr.write(`flatnet dns: serving ${opts.clusterDomain} on ${addr.address}:${addr.port} (udp, tcp)${http ? `, http on ${opts.httpListen?.host}:${(http.address() as net.AddressInfo).port}` : ''}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  client.close();
  return 0;
}


