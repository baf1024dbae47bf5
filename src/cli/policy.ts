// `flatnet policy explain|matrix`: answers from the same policy model the node enforcers
// compile into nftables, loaded from the API (Pods, Namespaces, NetworkPolicies).
import { existsSync } from 'node:fs';
import { parseFlags, UsageError } from './flags.js';
import { KubeClient } from '../client/client.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { R } from '../api/resources.js';
import { ipToInt } from '../linux/ipv4.js';
import { evaluateFlow } from '../netpol/evaluate.js';
import { endpointFor, type Endpoint } from '../netpol/match.js';
import { isPolicyPod, PolicyModel, slimNamespace, slimPod, slimPolicy, type Protocol } from '../netpol/model.js';
import { explainText, matrixText } from '../netpol/report.js';

const DEFAULT_KUBECONFIG = '/var/lib/flatnet/admin.kubeconfig';

const usage = `usage:
  flatnet policy explain SOURCE DESTINATION PORT[/PROTOCOL] [--kubeconfig FILE]
      SOURCE, DESTINATION: NAMESPACE/POD or an IPv4 address; PROTOCOL: tcp (default), udp, sctp
      Tells which NetworkPolicies select the source (egress) and the destination (ingress),
      which rule allows the flow, or that none does.
  flatnet policy matrix [-n NAMESPACE] [--kubeconfig FILE]
      Reachability between pods on their declared container ports (. allowed, X denied).

  --kubeconfig FILE  default: $KUBECONFIG, else ${DEFAULT_KUBECONFIG}
`;

function kubeconfigPath(flag: string | undefined): string {
  const path = flag ?? process.env.KUBECONFIG ?? DEFAULT_KUBECONFIG;
  if (!existsSync(path)) throw new UsageError(`kubeconfig ${path} does not exist: pass --kubeconfig FILE (\`flatnet kubeconfig\` prints the lab's)`);
  return path;
}

async function loadModel(kubeconfig: string): Promise<PolicyModel> {
  const client = new KubeClient(loadKubeconfig(kubeconfig));
  try {
    const [pods, namespaces, policies] = await Promise.all([client.list(R.pods), client.list(R.namespaces), client.list(R.networkpolicies)]);
    return new PolicyModel({ pods: pods.items.map(slimPod), namespaces: namespaces.items.map(slimNamespace), policies: policies.items.map(slimPolicy) });
  } finally {
    client.close();
  }
}

function parseEndpoint(model: PolicyModel, text: string, role: string): Endpoint {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(text)) {
    ipToInt(text); // validates
    return endpointFor(model, text);
  }
  const m = /^([^/]+)\/([^/]+)$/.exec(text);
  if (!m) throw new UsageError(`${role} "${text}" is neither NAMESPACE/POD nor an IPv4 address`);
  const pod = model.findPod(m[1], m[2]);
  if (!pod) throw new UsageError(`${role} pod ${text} does not exist (kubectl get pod -n ${m[1]} ${m[2]})`);
  if (!isPolicyPod(pod)) {
    const why = pod.hostNetwork ? 'uses the host network (its traffic is node traffic; give its node address instead)' : pod.terminal ? 'has finished' : 'has no IP address yet';
    throw new UsageError(`${role} pod ${text} ${why}`);
  }
  return { kind: 'pod', pod };
}

export function parsePortProtocol(text: string): { port: number; protocol: Protocol } {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(text);
  const port = m ? Number(m[1]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UsageError(`"${text}" is not PORT[/PROTOCOL] (e.g. 8080/tcp, 53/udp)`);
  return { port, protocol: (m[2] ?? 'tcp').toUpperCase() as Protocol };
}

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === 'help') {
    process.stdout.write(usage);
    return sub ? 0 : 2;
  }
  const normalised = rest.map((a) => (a === '-n' ? '--namespace' : a));
  const flags = parseFlags(normalised, { values: { kubeconfig: undefined, namespace: undefined } });
  if (sub === 'explain') {
    if (flags.positionals.length !== 3) throw new UsageError(`policy explain takes SOURCE DESTINATION PORT[/PROTOCOL]\n${usage}`);
    const { port, protocol } = parsePortProtocol(flags.positionals[2]);
    const model = await loadModel(kubeconfigPath(flags.values.kubeconfig));
    const src = parseEndpoint(model, flags.positionals[0], 'source');
    const dst = parseEndpoint(model, flags.positionals[1], 'destination');
    const flow = { src, dst, protocol, port };
    const verdict = evaluateFlow(model, flow);
    process.stdout.write(explainText(flow, verdict));
    return 0;
  }
  if (sub === 'matrix') {
    if (flags.positionals.length > 0) throw new UsageError(`policy matrix takes no arguments (got ${flags.positionals.join(' ')})\n${usage}`);
    const model = await loadModel(kubeconfigPath(flags.values.kubeconfig));
    const ns = flags.values.namespace;
    if (ns && !model.namespaceNames().includes(ns)) throw new UsageError(`namespace ${ns} does not exist`);
    const pods = model.pods.filter((p) => !ns || p.namespace === ns).sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
    process.stdout.write(matrixText(model, pods));
    return 0;
  }
  throw new UsageError(`unknown policy subcommand "${sub}"\n${usage}`);
}
