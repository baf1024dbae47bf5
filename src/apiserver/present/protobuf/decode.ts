// Decode application/vnd.kubernetes.protobuf request bodies ("k8s\0" + runtime.Unknown wrapping
// the kind's message) into the JSON object the same request would have carried as JSON: zero
// values Go's JSON would omit are dropped, Time becomes RFC 3339, IntOrString a number or a
// string, Quantity a string, bytes base64, inline structs are flattened.
import protobuf from 'protobufjs';
import type { KubeObject } from '../../../api/types.js';
import { DECODABLE_KINDS, MESSAGES } from './messages.js';

const SCALARS = new Set(['string', 'int32', 'int64', 'bool', 'bytes']);
const SPECIAL = new Set(['Time', 'MicroTime', 'IntOrString', 'Quantity']);

interface FieldDef {
  json: string;
  id: number;
  type: string; // scalar or message name (map value type for maps)
  repeated: boolean;
  map: boolean;
  keepZero: boolean;
  inline: boolean;
}

function parseFields(spec: string): FieldDef[] {
  return spec.split(/\s+/).map((token) => {
    const m = /^(\w+)=(\d+):([^:]+)(?::([ki]+))?$/.exec(token);
    if (!m) throw new Error(`protobuf schema: bad field spec "${token}"`);
    let type = m[3];
    const repeated = type.startsWith('[]');
    if (repeated) type = type.slice(2);
    const mapMatch = /^map<(\w+)>$/.exec(type);
    if (mapMatch) type = mapMatch[1];
    const flags = m[4] ?? '';
    return { json: m[1], id: Number(m[2]), type, repeated, map: !!mapMatch, keepZero: flags.includes('k'), inline: flags.includes('i') };
  });
}

const FIELDS = new Map<string, FieldDef[]>(Object.entries(MESSAGES).map(([name, spec]) => [name, parseFields(spec)]));
const FIELDS_BY_ID = new Map<string, Map<number, FieldDef>>(
  [...FIELDS].map(([name, defs]) => [name, new Map(defs.map((d) => [d.id, d]))]),
);

function buildRoot(): protobuf.Root {
  const root = new protobuf.Root();
  const ns = root.define('flatnet');
  for (const [name, defs] of FIELDS) {
    const type = new protobuf.Type(name);
    for (const d of defs) {
      if (!SCALARS.has(d.type) && !FIELDS.has(d.type)) throw new Error(`protobuf schema: ${name}.${d.json} uses unknown message ${d.type}`);
      if (d.map) type.add(new protobuf.MapField(d.json, d.id, 'string', d.type));
      else type.add(new protobuf.Field(d.json, d.id, d.type, d.repeated ? 'repeated' : 'optional'));
    }
    ns.add(type);
  }
  root.resolveAll();
  return root;
}

const root = buildRoot();
const typeOf = (name: string) => root.lookupType(`flatnet.${name}`);

/** Fail on fields the schema does not know, instead of silently dropping them. */
function checkKnownFields(typeName: string, buf: Uint8Array, path: string): void {
  if (SPECIAL.has(typeName)) return;
  const byId = FIELDS_BY_ID.get(typeName)!;
  const reader = protobuf.Reader.create(buf);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wireType = tag & 7;
    const f = byId.get(id);
    if (!f) {
      throw new Error(
        `protobuf body: field number ${id} of ${typeName} (at ${path || 'the object'}) is not decoded by flatnet; send the object as JSON (kubectl create -f)`,
      );
    }
    if (wireType === 2 && !f.map && FIELDS.has(f.type)) checkKnownFields(f.type, reader.bytes(), path ? `${path}.${f.json}` : f.json);
    else reader.skipType(wireType);
  }
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function timeString(t: { seconds?: number; nanos?: number }, micro: boolean): string | undefined {
  const seconds = Number(t.seconds ?? 0);
  const nanos = Number(t.nanos ?? 0);
  if (seconds === 0 && nanos === 0) return undefined; // Go's zero time: JSON null, omitted here
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${iso}.${pad(Math.floor(nanos / 1000), 6)}Z` : `${iso}Z`;
}

type Plain = Record<string, unknown>;

function convertValue(type: string, value: unknown): unknown {
  switch (type) {
    case 'Time':
      return timeString(value as Plain, false);
    case 'MicroTime':
      return timeString(value as Plain, true);
    case 'IntOrString': {
      const v = value as { type?: number; intVal?: number; strVal?: string };
      return Number(v.type ?? 0) === 1 ? (v.strVal ?? '') : (v.intVal ?? 0);
    }
    case 'Quantity':
      return (value as { string?: string }).string ?? '';
    default:
      return FIELDS.has(type) ? convertMessage(type, value as Plain) : value;
  }
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

function convertMessage(typeName: string, msg: Plain): Plain {
  const out: Plain = {};
  for (const f of FIELDS.get(typeName)!) {
    const value = msg[f.json];
    if (value === undefined || value === null) continue;
    if (f.map) {
      const entries = Object.entries(value as Plain).map(([k, v]) => [k, convertValue(f.type, v)]);
      if (entries.length) out[f.json] = Object.fromEntries(entries);
      continue;
    }
    if (f.repeated) {
      const list = (value as unknown[]).map((v) => convertValue(f.type, v));
      if (list.length) out[f.json] = list;
      continue;
    }
    const converted = convertValue(f.type, value);
    if (converted === undefined) continue;
    if (f.inline) {
      Object.assign(out, converted as Plain);
      continue;
    }
    if (SCALARS.has(f.type) && isZero(converted) && !f.keepZero) continue;
    out[f.json] = converted;
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const decodableList = 'Deployment, Service, ConfigMap, Secret, ServiceAccount, Namespace and Ingress';

/** Decode one protobuf request body; throws an Error naming what could not be decoded. */
export function decodeProtobuf(body: Buffer): KubeObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) {
    throw new Error('protobuf body does not start with the "k8s\\0" magic; send application/vnd.kubernetes.protobuf bodies as kubectl does, or JSON');
  }
  const rest = body.subarray(4);
  let unknown: Plain;
  try {
    unknown = typeOf('Unknown').toObject(typeOf('Unknown').decode(rest), { longs: Number, bytes: Buffer }) as Plain;
  } catch (err) {
    throw new Error(`protobuf body: cannot decode the runtime.Unknown envelope: ${(err as Error).message}`, { cause: err });
  }
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  if (!kind) throw new Error('protobuf body: the envelope names no kind (typeMeta.kind is empty)');
  if (unknown.contentEncoding) throw new Error(`protobuf body: content encoding "${String(unknown.contentEncoding)}" is not supported; send it unencoded`);
  const message = DECODABLE_KINDS[`${apiVersion}/${kind}`];
  if (!message) {
    throw new Error(`protobuf bodies are decoded for ${decodableList} only; send JSON (kubectl create -f) for kind ${kind} (${apiVersion || 'no apiVersion'})`);
  }
  const raw = (unknown.raw as Buffer | undefined) ?? Buffer.alloc(0);
  checkKnownFields(message, raw, '');
  let decoded: Plain;
  try {
    const t = typeOf(message);
    decoded = t.toObject(t.decode(raw), { longs: Number, bytes: String }) as Plain;
  } catch (err) {
    throw new Error(`protobuf body: cannot decode ${kind}: ${(err as Error).message}`, { cause: err });
  }
  const obj = convertMessage(message, decoded);
  return { apiVersion, kind, ...obj, metadata: (obj.metadata as KubeObject['metadata']) ?? {} };
}
