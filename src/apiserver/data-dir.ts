// The data directory holds the store (every Secret), the CA and serving keys and the admin token:
// it is created 0700, the process umask makes every file the server creates private from its first
// byte, and files an older version left readable are narrowed. An existing directory is never
// chmod'ed (it may be shared, such as /tmp); a readable one is reported.
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../util/log.js';

const log = createLogger('apiserver');

/** Files of the data dir that must never be readable by others. */
const PRIVATE_FILE = /^(state\.db(-wal|-shm)?|.*\.key|admin\.token|admin\.kubeconfig)$/;

export function protectDataDir(dataDir: string): void {
  process.umask(0o077);
  if (!existsSync(dataDir)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    return;
  }
  const mode = statSync(dataDir).mode & 0o777;
  if (mode & 0o077) log.warn('the data directory is readable by other users; make it private with chmod 700', { dataDir, mode: mode.toString(8) });
  for (const name of readdirSync(dataDir)) {
    if (!PRIVATE_FILE.test(name)) continue;
    const file = join(dataDir, name);
    if (statSync(file).mode & 0o077) chmodSync(file, 0o600);
  }
}
