// `flatnet flows`: the flow events of every node (through the API server), like `hubble observe`.
import { existsSync } from 'node:fs';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { flowsPath, openFlowStream } from '../flows/cluster-client.js';
import { filterFromQuery, FlowFilterError } from '../flows/filter.js';
import { flowLine } from '../flows/format.js';
import { parseFlags, UsageError } from './flags.js';

const DEFAULT_KUBECONFIG = '/var/lib/flatnet/admin.kubeconfig';

const usage = `usage: flatnet flows [--follow] [--namespace N] [--pod P] [--service S] [--verdict V] [--since 5m] [--node NODE] [--last N] [-o json] [--kubeconfig FILE]
  Flow events of every node: connections (conntrack) and packets dropped or rejected by flatnet's
  rules (NFLOG), with the pods, Services and nodes involved and the verdict.
  -f, --follow        keep printing new events
  -n, --namespace N   events with a pod or Service of namespace N on either side
  --pod P             events of pod P (NAME, with --namespace, or NAMESPACE/NAME)
  --service S         events addressed to Service S (NAME or NAMESPACE/NAME)
  --verdict V         forwarded (every event of a forwarded connection), translated, replied,
                      closed, dropped, rejected
  --since T           events after T: a duration (30s, 5m, 1h) or an RFC 3339 time
  --node NODE         events of one node only
  --last N            only the last N buffered events
  -o json             one JSON object per line ({"flow": ...}, {"node_status": ...}, {"lost_events": ...})
`;

const SHORT: Record<string, string> = { '-f': '--follow', '-n': '--namespace', '-o': '--output' };

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage);
    return 0;
  }
  const f = parseFlags(
    args.map((a) => SHORT[a] ?? a),
    { values: { namespace: undefined, pod: undefined, service: undefined, verdict: undefined, since: undefined, node: undefined, last: undefined, output: 'text', kubeconfig: undefined }, booleans: ['follow'] },
  );
  if (f.positionals.length > 0) throw new UsageError(`unexpected argument "${f.positionals[0]}"\n${usage}`);
  const output = f.values.output;
  if (output !== 'text' && output !== 'json') throw new UsageError(`-o: "${output}" is not text or json`);
  const q = new URLSearchParams();
  for (const k of ['namespace', 'pod', 'service', 'verdict', 'since', 'node'] as const) if (f.values[k] !== undefined) q.set(k, f.values[k]!);
  let filter;
  try {
    filter = filterFromQuery(q);
  } catch (err) {
    if (err instanceof FlowFilterError) throw new UsageError(`--${err.message}`);
    throw err;
  }
  let limit: number | undefined;
  if (f.values.last !== undefined) {
    limit = Number(f.values.last);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--last: "${f.values.last}" must be a positive integer`);
  }
  const kubeconfig = f.values.kubeconfig ?? process.env.KUBECONFIG ?? DEFAULT_KUBECONFIG;
  if (!existsSync(kubeconfig)) throw new UsageError(`kubeconfig ${kubeconfig} does not exist: pass --kubeconfig FILE (\`flatnet kubeconfig\` prints the lab's)`);
  const stream = await openFlowStream(loadKubeconfig(kubeconfig), flowsPath(filter, { follow: f.booleans.follow, limit }));
  const stop = () => stream.close();
  process.once('SIGINT', stop);
  let problems = 0;
  try {
    for await (const item of stream.items) {
      if (output === 'json') {
        process.stdout.write(JSON.stringify(item) + '\n');
        if ('node_status' in item && item.node_status.error) problems++;
        continue;
      }
      if ('flow' in item) process.stdout.write(flowLine(item.flow) + '\n');
      else if ('lost_events' in item) process.stderr.write(`flatnet flows: ${item.lost_events.num_events_lost} events of node ${item.lost_events.node} were lost (${item.lost_events.source})\n`);
      else {
        const s = item.node_status;
        if (s.error) {
          problems++;
          process.stderr.write(`flatnet flows: node ${s.node}: ${s.error}\n`);
        } else if (s.shed && s.shed.verdicts + s.shed.connections > 0 && !f.booleans.follow) {
          process.stderr.write(`flatnet flows: node ${s.node} shed ${s.shed.connections} connection events and ${s.shed.verdicts} drop/reject events from its full buffer\n`);
        }
      }
    }
  } catch (err) {
    if (!(err as { code?: string }).code?.startsWith('ERR_STREAM') && (err as Error).message !== 'aborted') throw err;
  } finally {
    process.off('SIGINT', stop);
    stream.close();
  }
  return problems > 0 ? 1 : 0;
}
