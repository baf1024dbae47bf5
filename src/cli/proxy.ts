// `flatnet proxy rules [--node N] [--data-dir D] [--netns NS]`: the Service rules a node's kernel
// holds now, per Service: each virtual IP or node port with its endpoints and their share,
// affinity, source ranges and no-endpoint verdicts.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseFlags, UsageError } from './flags.js';
import { describeNodeRules } from '../proxy/describe.js';
import { DEFAULT_DATA_DIR } from '../lab/plan.js';
import { readLabState } from '../lab/supervisor.js';

const usage = `usage: flatnet proxy rules [--node NAME] [--data-dir DIR] [--netns NAMESPACE]

Prints the service proxy rules a node has now, read from its kernel.
  --node NAME        one lab node (default: every node of the lab)
  --data-dir DIR     the lab's data directory (default ${DEFAULT_DATA_DIR})
  --netns NAMESPACE  a network namespace by name instead of a lab node
`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'rules') {
    if (sub === undefined || sub === '--help' || sub === 'help') {
      process.stdout.write(usage);
      return sub ? 0 : 2;
    }
    throw new UsageError(`unknown proxy subcommand "${sub}"\n${usage}`);
  }
  const flags = parseFlags(rest, { values: { node: undefined, 'data-dir': DEFAULT_DATA_DIR, netns: undefined } });
  const targets: { label: string; netns: string | undefined }[] = [];
  if (flags.values.netns) targets.push({ label: `namespace ${flags.values.netns}`, netns: flags.values.netns });
  else {
    const dataDir = resolve(flags.values['data-dir']!);
    const statePath = join(dataDir, 'lab.json');
    if (!existsSync(statePath)) throw new UsageError(`no lab in ${dataDir}: start one with \`flatnet up\`, pass --data-dir, or name a namespace with --netns`);
    const nodes = readLabState(statePath).plan.nodes;
    const wanted = flags.values.node ? nodes.filter((n) => n.name === flags.values.node) : nodes;
    if (wanted.length === 0) throw new UsageError(`no node "${flags.values.node}" in the lab (nodes: ${nodes.map((n) => n.name).join(', ')})`);
    for (const n of wanted) targets.push({ label: `node ${n.name}`, netns: n.netns });
  }
  for (const t of targets) {
    const { mode, text } = await describeNodeRules(t.netns);
    process.stdout.write(`${t.label}${mode === 'none' ? '' : ` (${mode})`}:\n${text.replace(/^/gm, '  ').replace(/ +$/gm, '')}`);
  }
  return 0;
}
