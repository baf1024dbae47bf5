// Kubernetes protobuf (application/vnd.kubernetes.protobuf) for every message of the served API
// groups: protobufjs types built at load time from the upstream field table (numbers and types
// from generated.proto), and the conversions between the wire form and the JSON form Go's
// encoding/json gives: zero values omitted unless Go keeps them, Time/MicroTime as RFC 3339,
// IntOrString as a number or string, Quantity as a string, bytes as base64, RawExtension and
// FieldsV1 as embedded JSON, inline structs flattened into their parent.
import protobuf from 'protobufjs';
import { UPSTREAM_FIELDS, type UpstreamField } from '../../../api/schema/upstream/index.js';

const SCALARS = new Set(['string', 'int32', 'int64', 'bool', 'bytes', 'double']);
const TIME = 'meta.v1.Time';
const MICRO_TIME = 'meta.v1.MicroTime';
const INT_OR_STRING = 'intstr.IntOrString';
const QUANTITY = 'resource.Quantity';
const RAW_EXTENSION = 'runtime.RawExtension';
const FIELDS_V1 = 'meta.v1.FieldsV1';
const DURATION = 'meta.v1.Duration';
// apiextensions.k8s.io/v1 (CustomResourceDefinition schemas): JSON values and the either-or types.
const CRD_JSON = 'apiextensions.v1.JSON';
const SCHEMA = 'apiextensions.v1.JSONSchemaProps';
const SCHEMA_OR_ARRAY = 'apiextensions.v1.JSONSchemaPropsOrArray';
const SCHEMA_OR_BOOL = 'apiextensions.v1.JSONSchemaPropsOrBool';
const SCHEMA_OR_STRINGS = 'apiextensions.v1.JSONSchemaPropsOrStringArray';
/** Messages whose JSON form is not the object of their fields. */
const SPECIAL = new Set([TIME, MICRO_TIME, INT_OR_STRING, QUANTITY, RAW_EXTENSION, FIELDS_V1, DURATION, CRD_JSON, SCHEMA_OR_ARRAY, SCHEMA_OR_BOOL, SCHEMA_OR_STRINGS]);

/** Every message of the table, parsed once. */
export const MESSAGE_FIELDS = UPSTREAM_FIELDS;
const FIELDS_BY_ID = new Map<string, Map<number, UpstreamField>>([...MESSAGE_FIELDS].map(([name, defs]) => [name, new Map(defs.map((d) => [d.id, d]))]));

/** protobufjs type names cannot hold dots inside one name: core.v1.PodSpec -> core_v1_PodSpec. */
const typeId = (name: string) => name.replace(/\./g, '_');
/** The protobufjs name of a field: its JSON name, unless that is no identifier ($ref, x-kubernetes-list-type). */
const wireName = (f: UpstreamField) => (/^[A-Za-z_]\w*$/.test(f.json) ? f.json : `field${f.id}`);

function buildRoot(): protobuf.Root {
  const root = new protobuf.Root();
  const ns = root.define('k8s');
  for (const [name, defs] of MESSAGE_FIELDS) {
    const type = new protobuf.Type(typeId(name));
    for (const d of defs) {
      const t = SCALARS.has(d.type) ? d.type : typeId(d.type);
      if (d.map) type.add(new protobuf.MapField(wireName(d), d.id, 'string', t));
      else type.add(new protobuf.Field(wireName(d), d.id, t, d.repeated ? 'repeated' : 'optional'));
    }
    ns.add(type);
  }
  root.resolveAll();
  return root;
}

const root = buildRoot();
const types = new Map<string, protobuf.Type>();
function typeOf(name: string): protobuf.Type {
  let t = types.get(name);
  if (!t) types.set(name, (t = root.lookupType(`k8s.${typeId(name)}`)));
  return t;
}

/** The short Go-style name of a message for error messages: core.v1.ServiceSpec -> ServiceSpec. */
export const goName = (message: string) => message.slice(message.lastIndexOf('.') + 1);

/** Fail on field numbers the table does not know, naming them, instead of silently dropping data. */
export function checkKnownFields(message: string, buf: Uint8Array, path: string): void {
  if (SPECIAL.has(message)) return;
  const byId = FIELDS_BY_ID.get(message)!;
  const reader = protobuf.Reader.create(buf);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wireType = tag & 7;
    const f = byId.get(id);
    if (!f) {
      throw new Error(`protobuf body: field number ${id} of ${goName(message)} (at ${path || 'the object'}) is not a field of the ${goName(message)} flatnet serves (Kubernetes 1.32); send the object as JSON`);
    }
    if (wireType === 2 && !f.map && MESSAGE_FIELDS.has(f.type)) checkKnownFields(f.type, reader.bytes(), f.inline ? path : path ? `${path}.${f.json}` : f.json);
    else reader.skipType(wireType);
  }
}

// ---- wire -> JSON ----

type Plain = Record<string, unknown>;

function timeString(t: Plain, micro: boolean): string | undefined {
  const seconds = Number(t.seconds ?? 0);
  const nanos = Number(t.nanos ?? 0);
  if (seconds === 0 && nanos === 0) return undefined; // Go's zero time: JSON null, omitted here
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${iso}Z`;
}

/** A Go time.Duration in nanoseconds as Go prints it (1h2m3s, 500ms, 0s). */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let rest = Math.abs(ns);
  if (rest < 1e9) {
    if (rest < 1e3) return `${sign}${rest}ns`;
    if (rest < 1e6) return `${sign}${rest / 1e3}µs`;
    return `${sign}${rest / 1e6}ms`;
  }
  const h = Math.floor(rest / 3.6e12);
  rest -= h * 3.6e12;
  const m = Math.floor(rest / 6e10);
  rest -= m * 6e10;
  const s = `${rest / 1e9}s`;
  return h ? `${sign}${h}h${m}m${s}` : m ? `${sign}${m}m${s}` : `${sign}${s}`;
}

function embeddedJson(raw: unknown, what: string): unknown {
  const bytes = raw as Buffer | undefined;
  if (!bytes || bytes.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new Error(`protobuf body: ${what} does not hold JSON`);
  }
}

function toJsonValue(type: string, value: unknown): unknown {
  switch (type) {
    case TIME:
      return timeString(value as Plain, false);
    case MICRO_TIME:
      return timeString(value as Plain, true);
    case INT_OR_STRING: {
      const v = value as { type?: number; intVal?: number; strVal?: string };
      return Number(v.type ?? 0) === 1 ? (v.strVal ?? '') : (v.intVal ?? 0);
    }
    case QUANTITY:
      return (value as { string?: string }).string ?? '';
    case DURATION:
      return goDuration(Number((value as { duration?: number }).duration ?? 0));
    case RAW_EXTENSION:
      return embeddedJson((value as Plain).raw, 'a RawExtension');
    case FIELDS_V1:
      return embeddedJson((value as Plain).Raw, 'fieldsV1');
    case CRD_JSON:
      return embeddedJson((value as Plain).raw, 'a JSON value');
    case SCHEMA_OR_ARRAY: {
      const v = value as { schema?: Plain; jSONSchemas?: Plain[] };
      return v.schema ? toJsonMessage(SCHEMA, v.schema) : (v.jSONSchemas ?? []).map((x) => toJsonMessage(SCHEMA, x));
    }
    case SCHEMA_OR_BOOL: {
      const v = value as { allows?: boolean; schema?: Plain };
      return v.schema ? toJsonMessage(SCHEMA, v.schema) : (v.allows ?? false);
    }
    case SCHEMA_OR_STRINGS: {
      const v = value as { schema?: Plain; property?: string[] };
      return v.schema ? toJsonMessage(SCHEMA, v.schema) : (v.property ?? []);
    }
    case 'bytes':
      return Buffer.from(value as Uint8Array).toString('base64');
    default:
      return MESSAGE_FIELDS.has(type) ? toJsonMessage(type, value as Plain) : value;
  }
}

const isZero = (v: unknown) => v === '' || v === 0 || v === false;

export function toJsonMessage(message: string, msg: Plain): Plain {
  const out: Plain = {};
  for (const f of MESSAGE_FIELDS.get(message)!) {
    const value = msg[wireName(f)];
    if (value === undefined || value === null) continue;
    if (f.map) {
      const entries = Object.entries(value as Plain).map(([k, v]) => [k, toJsonValue(f.type, v)]);
      if (entries.length) out[f.json] = Object.fromEntries(entries);
      continue;
    }
    if (f.repeated) {
      const list = (value as unknown[]).map((v) => toJsonValue(f.type, v));
      if (list.length) out[f.json] = list;
      continue;
    }
    const converted = toJsonValue(f.type, value);
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

/** Decode one message's bytes into its JSON form. */
export function decodeMessage(message: string, bytes: Uint8Array): Plain {
  const t = typeOf(message);
  return toJsonMessage(message, t.toObject(t.decode(bytes), { longs: Number, bytes: Buffer }) as Plain);
}

// ---- JSON -> wire ----

function parseTime(s: unknown): Plain {
  if (typeof s !== 'string') return {};
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new Error(`cannot encode time ${JSON.stringify(s)}`);
  const frac = /\.(\d+)/.exec(s)?.[1] ?? '';
  return { seconds: Math.floor(ms / 1000), nanos: Number(frac.padEnd(9, '0').slice(0, 9)) };
}

function fromJsonValue(type: string, value: unknown): unknown {
  switch (type) {
    case TIME:
    case MICRO_TIME:
      return parseTime(value);
    case INT_OR_STRING:
      return typeof value === 'string' ? { type: 1, strVal: value } : { type: 0, intVal: Number(value) };
    case QUANTITY:
      return { string: String(value) };
    case DURATION:
      throw new Error('durations are not encoded');
    case RAW_EXTENSION:
      return { raw: Buffer.from(JSON.stringify(value)) };
    case FIELDS_V1:
      return { Raw: Buffer.from(JSON.stringify(value)) };
    case CRD_JSON:
      return { raw: Buffer.from(JSON.stringify(value)) };
    case SCHEMA_OR_ARRAY:
      return Array.isArray(value) ? { jSONSchemas: value.map((x) => fromJsonMessage(SCHEMA, x as Plain)) } : { schema: fromJsonMessage(SCHEMA, value as Plain) };
    case SCHEMA_OR_BOOL:
      return typeof value === 'boolean' ? { allows: value } : { allows: true, schema: fromJsonMessage(SCHEMA, value as Plain) };
    case SCHEMA_OR_STRINGS:
      return Array.isArray(value) ? { property: value } : { schema: fromJsonMessage(SCHEMA, value as Plain) };
    case 'bytes':
      return Buffer.from(String(value), 'base64');
    case 'int64':
    case 'int32':
    case 'double':
      return Number(value);
    default:
      return MESSAGE_FIELDS.has(type) ? fromJsonMessage(type, value as Plain) : value;
  }
}

export function fromJsonMessage(message: string, obj: Plain): Plain {
  const out: Plain = {};
  for (const f of MESSAGE_FIELDS.get(message)!) {
    const name = wireName(f);
    if (f.inline) {
      out[name] = fromJsonMessage(f.type, obj);
      continue;
    }
    const value = obj[f.json];
    if (value === undefined || value === null) continue;
    if (f.map) out[name] = Object.fromEntries(Object.entries(value as Plain).map(([k, v]) => [k, fromJsonValue(f.type, v)]));
    else if (f.repeated) out[name] = (value as unknown[]).map((v) => fromJsonValue(f.type, v));
    else out[name] = fromJsonValue(f.type, value);
  }
  return out;
}

/** Encode a JSON-form object as one message's bytes. */
export function encodeMessage(message: string, obj: Plain): Uint8Array {
  const t = typeOf(message);
  return t.encode(t.fromObject(fromJsonMessage(message, obj))).finish();
}
