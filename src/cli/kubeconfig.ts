// `flatnet kubeconfig`: prints the path of the admin kubeconfig the server wrote.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlags } from './flags.js';

export async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args, { values: { 'data-dir': '/var/lib/flatnet' } });
  const path = join(flags.values['data-dir']!, 'admin.kubeconfig');
  if (!existsSync(path)) {
    process.stderr.write(`flatnet: ${path} does not exist yet; start \`flatnet server --data-dir ${flags.values['data-dir']}\` first\n`);
    return 1;
  }
  process.stdout.write(path + '\n');
  return 0;
}
