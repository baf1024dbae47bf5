// Reads the parts of a kubeconfig flatnet's components need: the current context's server, its
// CA and its bearer token (or client certificate).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

export interface ClusterConnection {
  server: string;
  token?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTLSVerify?: boolean;
}

interface RawKubeconfig {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> }[];
}

export function loadKubeconfig(path: string): ClusterConnection {
  let raw: RawKubeconfig;
  try {
    raw = parse(readFileSync(path, 'utf8')) as RawKubeconfig;
  } catch (err) {
    throw new Error(`cannot read kubeconfig ${path}: ${(err as Error).message}`, { cause: err });
  }
  const ctxName = raw['current-context'] ?? raw.contexts?.[0]?.name;
  const ctx = raw.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new Error(`kubeconfig ${path}: no context "${ctxName}"`);
  const cluster = raw.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`kubeconfig ${path}: cluster "${ctx.cluster}" has no server`);
  const user = raw.users?.find((u) => u.name === ctx.user)?.user ?? {};
  const base = dirname(path);
  const bytes = (dataKey: string, fileKey: string, from: Record<string, unknown>): Buffer | undefined => {
    if (typeof from[dataKey] === 'string') return Buffer.from(from[dataKey] as string, 'base64');
    if (typeof from[fileKey] === 'string') return readFileSync(resolve(base, from[fileKey] as string));
    return undefined;
  };
  return {
    server: cluster.server.replace(/\/$/, ''),
    ca: bytes('certificate-authority-data', 'certificate-authority', cluster),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    token: typeof user.token === 'string' ? user.token : undefined,
    cert: bytes('client-certificate-data', 'client-certificate', user),
    key: bytes('client-key-data', 'client-key', user),
  };
}

/** A kubeconfig with one cluster, one bearer-token user and one context, as YAML. */
export function renderKubeconfig(opts: { server: string; caPem: string; token: string; name?: string }): string {
  const name = opts.name ?? 'flatnet';
  const ca = Buffer.from(opts.caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${opts.server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    `- name: ${name}-admin`,
    '  user:',
    `    token: ${opts.token}`,
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${name}-admin`,
    `current-context: ${name}`,
    '',
  ].join('\n');
}
