// `flatnet status`: what runs and whether it is healthy (see src/lab/status.ts).
import { parseFlags } from './flags.js';
import { DEFAULT_DATA_DIR } from '../lab/plan.js';
import { labStatus } from '../lab/status.js';

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`usage: flatnet status [--data-dir D]   (default ${DEFAULT_DATA_DIR})\n\nLab processes, API health, and each node's readiness, pod CIDR and pods. Exit 0 when all is well.\n`);
    return 0;
  }
  const f = parseFlags(args, { values: { 'data-dir': DEFAULT_DATA_DIR } });
  return labStatus(f.values['data-dir']!, (l) => process.stdout.write(l + '\n'));
}
