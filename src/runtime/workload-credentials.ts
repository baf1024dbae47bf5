// The API credentials of a built-in workload that reads the cluster (flatnet/dns): the cluster's
// address and CA as the node knows them, and the identity of the pod's own ServiceAccount, from
// the token file the agent projects into the pod's kube-api-access volume. Never the node's client
// certificate. The token is read again when it is a minute old (the agent rewrites the file at 80%
// of the token's lifetime), as client-go reloads a tokenFile.
import { readFileSync } from 'node:fs';
import type { ClusterConnection } from '../client/kubeconfig.js';

export const TOKEN_RELOAD_MS = 60_000;

/** A connection to `cluster`'s server and CA that authenticates with the token in `tokenFile`. */
export function serviceAccountConnection(cluster: ClusterConnection, tokenFile: string, now: () => number = Date.now): ClusterConnection {
  let token = readToken(tokenFile);
  let readAt = now();
  return {
    server: cluster.server,
    ca: cluster.ca,
    insecureSkipTLSVerify: cluster.insecureSkipTLSVerify,
    get token(): string {
      if (now() - readAt >= TOKEN_RELOAD_MS) {
        // A failed re-read keeps the token it has (it is still good until it expires).
        try {
          token = readToken(tokenFile);
        } catch {
          // keep the last token
        }
        readAt = now();
      }
      return token;
    },
  };
}

function readToken(tokenFile: string): string {
  let text: string;
  try {
    text = readFileSync(tokenFile, 'utf8').trim();
  } catch (err) {
    throw new Error(`cannot read the ServiceAccount token ${tokenFile}: ${(err as Error).message}`, { cause: err });
  }
  if (!text) throw new Error(`the ServiceAccount token ${tokenFile} is empty`);
  return text;
}
