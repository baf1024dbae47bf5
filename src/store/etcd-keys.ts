// Where objects live in etcd, laid out as kube-apiserver does: /registry/<group>/<resource>/<ns>/<name>
// for namespaced objects and /registry/<group>/<resource>/<name> for cluster-scoped ones. The core
// group, empty in the store's "group/plural" resource key, is written "core" (no API group has
// that name: groups other than the built-in ones contain a dot), so every key parses back alone.

export const DEFAULT_ETCD_PREFIX = '/registry';

export interface ParsedKey {
  resource: string;
  ns: string;
  name: string;
}

/** The etcd key of one object; `resource` is the store's "group/plural". */
export function etcdKey(prefix: string, resource: string, ns: string, name: string): string {
  const slash = resource.indexOf('/');
  const group = resource.slice(0, slash) || 'core';
  const plural = resource.slice(slash + 1);
  return ns ? `${prefix}/${group}/${plural}/${ns}/${name}` : `${prefix}/${group}/${plural}/${name}`;
}

/** The object a key names, or undefined for keys under the prefix that are not objects. */
export function parseEtcdKey(prefix: string, key: string): ParsedKey | undefined {
  if (!key.startsWith(`${prefix}/`)) return undefined;
  const parts = key.slice(prefix.length + 1).split('/');
  if (parts.length !== 3 && parts.length !== 4) return undefined;
  if (parts.some((p) => p === '')) return undefined;
  const resource = `${parts[0] === 'core' ? '' : parts[0]}/${parts[1]}`;
  return parts.length === 4 ? { resource, ns: parts[2], name: parts[3] } : { resource, ns: '', name: parts[2] };
}
