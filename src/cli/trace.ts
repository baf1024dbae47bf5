// `flatnet trace FROM TO [PORT[/PROTOCOL]]`: the models' prediction for one flow (DNS, Service
// DNAT, route and overlay hop, NetworkPolicy), then a real probe under nftables tracing in the
// nodes involved; any difference between the two is printed as a BUG line (exit 1).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseFlags, UsageError } from './flags.js';
import { parsePortProtocol } from './policy.js';
import { KubeClient } from '../client/client.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { R } from '../api/resources.js';
import { DEFAULT_DATA_DIR, EXT_ADDRESS, EXT_NETNS } from '../lab/plan.js';
import { readLabState } from '../lab/supervisor.js';
import { PolicyModel, slimNamespace, slimPod, slimPolicy } from '../netpol/model.js';
import { overlayNodeFromObject } from '../overlay/model.js';
import { slimEndpointSlice, slimService, type SlimEndpointSlice } from '../proxy/model.js';
import type { ClusterView } from '../trace/predict.js';
import { reportText } from '../trace/report.js';
import { runTrace, TraceInputError, type LabLayout } from '../trace/run.js';

const usage = `usage: flatnet trace FROM TO [PORT[/PROTOCOL]] [-o json] [--timeout SECONDS] [--model-only] [--data-dir DIR] [--kubeconfig FILE]

  FROM  NAMESPACE/POD, POD (namespace default), or ${EXT_NETNS} (the outside client, ${EXT_ADDRESS})
  TO    NAMESPACE/POD, an IPv4 address, node:NAME (a node's address, for node ports), or a DNS
        name as the pod writes it (backend, backend.production, backend.production.svc.cluster.local),
        resolved from the pod's namespace with its resolv.conf search list and ndots
  PORT  default: the destination pod's first declared container port; PROTOCOL tcp (default) or udp

Prints the models' prediction (DNS answers, Service endpoints and the DNAT node, route and
overlay hop, egress and ingress NetworkPolicy verdicts), then sends one probe (a TCP SYN or a UDP
datagram) from the source's network namespace with nftables tracing on in the nodes involved,
and prints the rules it hit. Exit 1 when the kernel and the models disagree (BUG lines).

  -o json            the report as JSON
  --timeout SECONDS  how long the probe waits for an answer (default 3)
  --model-only       print the prediction only (no DNS query, no probe)
  --data-dir DIR     the lab's data directory (default ${DEFAULT_DATA_DIR})
  --kubeconfig FILE  default: $KUBECONFIG, else DIR/admin.kubeconfig
`;

async function loadView(kubeconfig: string, overlay: ClusterView['overlay']): Promise<ClusterView> {
  const client = new KubeClient(loadKubeconfig(kubeconfig));
  try {
    const [pods, namespaces, policies, services, slices, nodes] = await Promise.all([
      client.list(R.pods),
      client.list(R.namespaces),
      client.list(R.networkpolicies),
      client.list(R.services),
      client.list(R.endpointslices),
      client.list(R.nodes),
    ]);
    return {
      policy: new PolicyModel({ pods: pods.items.map(slimPod), namespaces: namespaces.items.map(slimNamespace), policies: policies.items.map(slimPolicy) }),
      services: services.items.map(slimService),
      slices: slices.items.map(slimEndpointSlice).filter((s): s is SlimEndpointSlice => s !== undefined),
      nodes: nodes.items.map(overlayNodeFromObject),
      overlay,
    };
  } finally {
    client.close();
  }
}

export async function run(args: string[]): Promise<number> {
  if (args[0] === '--help' || args[0] === 'help' || args.length === 0) {
    process.stdout.write(usage);
    return args.length === 0 ? 2 : 0;
  }
  const normalised = args.map((a) => (a === '-o' ? '--output' : a));
  const flags = parseFlags(normalised, { values: { output: 'text', timeout: '3', 'data-dir': DEFAULT_DATA_DIR, kubeconfig: undefined }, booleans: ['model-only'] });
  if (flags.positionals.length < 2 || flags.positionals.length > 3) throw new UsageError(`trace takes FROM TO [PORT[/PROTOCOL]]\n${usage}`);
  const output = flags.values.output;
  if (output !== 'text' && output !== 'json') throw new UsageError(`-o: "${output}" is not an output format (json, or leave it out for text)`);
  const timeoutSeconds = Number(flags.values.timeout);
  if (!(timeoutSeconds > 0 && timeoutSeconds <= 60)) throw new UsageError(`--timeout: "${flags.values.timeout}" is not a number of seconds from 0 to 60`);
  const portProtocol = flags.positionals[2] ? parsePortProtocol(flags.positionals[2]) : undefined;
  const dataDir = resolve(flags.values['data-dir']!);
  const statePath = join(dataDir, 'lab.json');
  if (!existsSync(statePath)) throw new UsageError(`no lab in ${dataDir}: start one with \`flatnet up\` or pass --data-dir`);
  const plan = readLabState(statePath).plan;
  const kubeconfig = flags.values.kubeconfig ?? process.env.KUBECONFIG ?? plan.kubeconfig;
  if (!existsSync(kubeconfig)) throw new UsageError(`kubeconfig ${kubeconfig} does not exist: pass --kubeconfig FILE`);
  const lab: LabLayout = {
    nodes: plan.nodes.map((n) => ({ name: n.name, netns: n.netns })),
    overlay: plan.options.overlay,
    outside: { name: EXT_NETNS, netns: EXT_NETNS, ip: EXT_ADDRESS },
  };
  const view = await loadView(kubeconfig, lab.overlay);
  let report;
  try {
    report = await runTrace(view, lab, {
      from: flags.positionals[0],
      to: flags.positionals[1],
      port: portProtocol?.port,
      protocol: portProtocol?.protocol ?? 'TCP',
      timeoutSeconds,
      modelOnly: flags.booleans['model-only'],
    });
  } catch (err) {
    if (err instanceof TraceInputError) throw new UsageError(err.message);
    throw err;
  }
  process.stdout.write(output === 'json' ? JSON.stringify(report, null, 2) + '\n' : reportText(report));
  return report.bugs > 0 ? 1 : 0;
}
