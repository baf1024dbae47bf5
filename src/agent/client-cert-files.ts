// The node's client certificate files in its cert dir: the bootstrap pair (kubelet-client.crt/.key),
// rotated pairs (kubelet-client-<time>.crt/.key) and writePrivateFile's temporary files of either.
// The kubeconfig names the pair in use (the kubelet's kubelet-client-current.pem link); every other
// pair is a credential nothing reads, so whoever writes a new pair (the rotator, a re-bootstrap)
// deletes the others once the kubeconfig names the new one.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

const CLIENT_FILE = /^kubelet-client(-\d{8}T\d+Z)?\.(crt|key)(\.[0-9a-f]{8}\.tmp)?$/;

/** Of the file names in a cert dir, the node client certificate files that are not in `keep` (the pair in use). */
export function staleClientFiles(names: string[], keep: string[]): string[] {
  return names.filter((n) => CLIENT_FILE.test(n) && !keep.includes(n));
}

/** The files a kubeconfig names as its client certificate and key. */
function kubeconfigFiles(kubeconfig: string): string[] {
  const text = existsSync(kubeconfig) ? readFileSync(kubeconfig, 'utf8') : '';
  return [...text.matchAll(/client-(?:certificate|key): (\S+)/g)].map((m) => m[1]);
}

/** Deletes the client pairs of `certDir` other than the one `kubeconfig` names (and `alsoKeep`); answers the names deleted. */
export function removeStaleClientPairs(certDir: string, kubeconfig: string, alsoKeep: string[] = []): string[] {
  const keep = [...alsoKeep, ...kubeconfigFiles(kubeconfig)].filter((f) => dirname(resolve(f)) === resolve(certDir)).map((f) => basename(f));
  const removed = staleClientFiles(readdirSync(certDir), keep);
  for (const name of removed) rmSync(resolve(certDir, name), { force: true });
  return removed;
}
