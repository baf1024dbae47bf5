// `flatnet down`: stop the lab and remove everything it made (see src/lab/down.ts).
import { parseFlags } from './flags.js';
import { DEFAULT_DATA_DIR } from '../lab/plan.js';
import { labDown } from '../lab/down.js';

const HELP = `usage: flatnet down [--data-dir D]

Stops the lab's processes (SIGTERM, then SIGKILL), deletes the flatnet-lab, flatnet-ext,
flatnet-node-* and flatnet-pod-* namespaces, and removes the files \`flatnet up\` made in the data
directory (default ${DEFAULT_DATA_DIR}). Also cleans up a lab left behind by a crash.
`;

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const f = parseFlags(args, { values: { 'data-dir': DEFAULT_DATA_DIR } });
  if (process.getuid?.() !== 0) {
    process.stderr.write('flatnet down: needs root (it deletes network namespaces)\n');
    return 1;
  }
  await labDown(f.values['data-dir']!, (l) => process.stdout.write(l + '\n'));
  return 0;
}
