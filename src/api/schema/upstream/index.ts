// The one table of upstream field facts (upstream-fields.ts): protobuf numbers and types for the
// wire codec, and the list/patch markers both server-side merges (strategic merge patch, apply)
// and the published OpenAPI (x-kubernetes-list-type, -list-map-keys, -patch-strategy,
// -patch-merge-key) read. Messages are named <package>.<version>.<Go type>: core.v1.PodSpec.
import { UPSTREAM_MESSAGES } from './upstream-fields.js';

export interface UpstreamField {
  json: string;
  id: number;
  /** A scalar (string, int32, int64, bool, bytes) or a message name; for a map, its value type. */
  type: string;
  repeated: boolean;
  map: boolean;
  /** Go's JSON keeps the zero value (a pointer, or no omitempty). */
  keepZero: boolean;
  /** Embedded with json:",inline": its fields appear in the parent's JSON. */
  inline: boolean;
  /** +listType, +listMapKey, +patchStrategy, +patchMergeKey. */
  markers: Record<string, string[]>;
}

export function parseFields(spec: string): UpstreamField[] {
  if (spec === '') return [];
  return spec.split(' ').map((token) => {
    const [head, ...markerParts] = token.split('|');
    const m = /^([\w$-]+)=(\d+):([^:]+)(?::([ki]+))?$/.exec(head);
    if (!m) throw new Error(`upstream field table: bad field "${token}"`);
    let type = m[3];
    const repeated = type.startsWith('[]');
    if (repeated) type = type.slice(2);
    const mapMatch = /^map<(.+)>$/.exec(type);
    if (mapMatch) type = mapMatch[1];
    const markers: Record<string, string[]> = {};
    for (const part of markerParts) {
      const eq = part.indexOf('=');
      (markers[part.slice(0, eq)] ??= []).push(part.slice(eq + 1));
    }
    const flags = m[4] ?? '';
    return { json: m[1], id: Number(m[2]), type, repeated, map: !!mapMatch, keepZero: flags.includes('k'), inline: flags.includes('i'), markers };
  });
}

/** Every message of the table, parsed once. */
export const UPSTREAM_FIELDS = new Map<string, UpstreamField[]>(Object.entries(UPSTREAM_MESSAGES).map(([name, spec]) => [name, parseFields(spec)]));

const byGoName = new Map<string, string[]>();
for (const name of UPSTREAM_FIELDS.keys()) {
  const go = name.slice(name.lastIndexOf('.') + 1);
  byGoName.set(go, [...(byGoName.get(go) ?? []), name]);
}

/**
 * The message behind a @kubernetes/client-node model class: a group prefix names the package
 * (CoreV1EndpointPort -> core.v1.EndpointPort, AuthenticationV1TokenRequest), an unprefixed
 * V1<Type> is the one v1 message of that name.
 */
export function messageOfModel(model: string): string | undefined {
  const m = /^([A-Z][a-z]+)?(V\d\w*?)([A-Z]\w*)$/.exec(model);
  if (!m) return undefined;
  const version = m[2].toLowerCase();
  if (m[1]) {
    const name = `${m[1].toLowerCase()}.${version}.${m[3]}`;
    return UPSTREAM_FIELDS.has(name) ? name : undefined;
  }
  const candidates = (byGoName.get(m[3]) ?? []).filter((n) => n.endsWith(`.${version}.${m[3]}`));
  return candidates.length === 1 ? candidates[0] : undefined;
}

/** The message of an upstream OpenAPI schema name: io.k8s.api.core.v1.PodSpec -> core.v1.PodSpec. */
export function messageOfSchemaName(schemaName: string): string | undefined {
  const name = schemaName.replace(/^io\.k8s\.api\./, '').replace(/^io\.k8s\.apimachinery\.pkg\.(?:apis\.|util\.|api\.)?/, '');
  return UPSTREAM_FIELDS.has(name) ? name : undefined;
}

/** A field's list and patch metadata, as upstream declares it. */
export interface FieldListMeta {
  /** patchStrategy (merge, retainKeys, merge,retainKeys). */
  patchStrategy?: string;
  patchMergeKey?: string;
  /** Lists only. */
  listType?: 'map' | 'set' | 'atomic';
  listMapKeys?: string[];
}

const metaCache = new Map<string, Map<string, FieldListMeta>>();

/** The list/patch metadata of every marked field of a message, by JSON field name. */
export function fieldMetaOf(message: string): Map<string, FieldListMeta> {
  let out = metaCache.get(message);
  if (out) return out;
  out = new Map();
  for (const f of UPSTREAM_FIELDS.get(message) ?? []) {
    const meta: FieldListMeta = {};
    if (f.markers.patchStrategy) meta.patchStrategy = f.markers.patchStrategy[0];
    if (f.markers.patchMergeKey) meta.patchMergeKey = f.markers.patchMergeKey[0];
    if (f.repeated && f.markers.listType) meta.listType = f.markers.listType[0] as FieldListMeta['listType'];
    if (f.repeated && f.markers.listMapKey) meta.listMapKeys = f.markers.listMapKey;
    if (Object.keys(meta).length) out.set(f.json, meta);
  }
  metaCache.set(message, out);
  return out;
}
