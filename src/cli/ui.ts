// `flatnet ui [--kubeconfig FILE] [--no-open]`: asks the API server, as the kubeconfig's user,
// for a one-time login link to the web view, prints it and opens it with xdg-open when present.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseFlags, UsageError } from './flags.js';
import { KubeClient } from '../client/client.js';
import { loadKubeconfig } from '../client/kubeconfig.js';

const DEFAULT_KUBECONFIG = '/var/lib/flatnet/admin.kubeconfig';

const usage = `usage: flatnet ui [--kubeconfig FILE] [--no-open]

Prints a login link to the web view (/ui on the API server) for the kubeconfig's user. The link
works once, within 60 seconds; the browser then holds a session cookie that acts as that user
(what it shows is what that user may read). Opens the link with xdg-open when it is installed.

  --kubeconfig FILE  default: $KUBECONFIG, else ${DEFAULT_KUBECONFIG}
  --no-open          only print the link
`;

function xdgOpen(url: string): void {
  const candidates = (process.env.PATH ?? '').split(':').map((d) => `${d}/xdg-open`);
  if (!candidates.some((c) => existsSync(c))) return;
  const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

export async function run(args: string[]): Promise<number> {
  if (args[0] === '--help' || args[0] === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  const flags = parseFlags(args, { values: { kubeconfig: undefined }, booleans: ['no-open'] });
  if (flags.positionals.length > 0) throw new UsageError(`ui takes no arguments (got ${flags.positionals.join(' ')})\n${usage}`);
  const path = flags.values.kubeconfig ?? process.env.KUBECONFIG ?? DEFAULT_KUBECONFIG;
  if (!existsSync(path)) throw new UsageError(`kubeconfig ${path} does not exist: pass --kubeconfig FILE (\`flatnet kubeconfig\` prints the lab's)`);
  const connection = loadKubeconfig(path);
  const client = new KubeClient(connection);
  try {
    const link = await client.request<{ path: string; expiresInSeconds: number }>('POST', '/ui/login-links', {});
    const url = new URL(link.path, connection.server).toString();
    process.stdout.write(`${url}\n`);
    process.stderr.write(`flatnet: the link logs one browser in and expires in ${link.expiresInSeconds} s; the server's certificate is signed by the cluster CA (${path})\n`);
    if (!flags.booleans['no-open']) xdgOpen(url);
    return 0;
  } finally {
    client.close();
  }
}
