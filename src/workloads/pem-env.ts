// Certificates and keys named by environment variables: a file path (as the upstream images read
// them from a mounted Secret) or, since pods here have no volumes yet, the PEM text itself (a
// Secret key given with env valueFrom.secretKeyRef).
import { readFileSync } from 'node:fs';
import { WorkloadStartError } from './workload.js';

export function pemFromEnv(env: Record<string, string>, name: string): Buffer {
  const value = env[name] ?? '';
  if (value.trimStart().startsWith('-----BEGIN ')) return Buffer.from(value);
  try {
    return readFileSync(value);
  } catch (err) {
    throw new WorkloadStartError(`env ${name}: cannot read "${value}": ${(err as Error).message} (give a file path or the PEM text)`);
  }
}
