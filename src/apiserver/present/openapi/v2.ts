// GET /openapi/v2: the Swagger 2.0 document kubectl reads for client-side validation (a `kind: List`
// file is validated item by item against it) and for `explain --output plaintext-openapiv2`. Its
// definitions are converted from the same component schemas as /openapi/v3, so both agree. Served
// as JSON, or as the gnostic OpenAPIv2 protobuf kubectl asks for
// (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf).
import { stringify as toYaml } from 'yaml';
import { parseAccept } from '../negotiate.js';
import { openapiV3Document } from './document.js';
import { encodeOpenapiV2Protobuf } from './v2-protobuf.js';
import type { Schema } from './schema.js';

/** The protobuf media type served (upstream answers the `@v1.0` request spelling with this one too). */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const PROTOBUF_TYPES = new Set([OPENAPI_V2_PROTOBUF, 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf']);
const JSON_TYPES = new Set(['application/json', 'application/*', '*/*']);

const V3_REF = '#/components/schemas/';
const V2_REF = '#/definitions/';

/** The keywords a v2 schema keeps (OpenAPI v3-only keywords such as nullable or oneOf are dropped, as upstream does for v2). */
const KEPT = new Set(['description', 'type', 'format', 'required', 'items', 'properties', 'additionalProperties', 'default']);

function convertRef(r: string): string {
  return r.startsWith(V3_REF) ? V2_REF + r.slice(V3_REF.length) : r;
}

/** One v3 schema as a v2 schema: `allOf: [$ref]` becomes `$ref`, int-or-string a string of that format. */
export function toV2Schema(s: Schema): Schema {
  const out: Schema = {};
  const allOf = s.allOf as Schema[] | undefined;
  if (typeof s.$ref === 'string') out.$ref = convertRef(s.$ref);
  else if (allOf?.length === 1 && typeof allOf[0].$ref === 'string') out.$ref = convertRef(allOf[0].$ref);
  if (s['x-kubernetes-int-or-string'] === true) {
    out.type = 'string';
    out.format = 'int-or-string';
  }
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref' || k === 'allOf' || out[k] !== undefined) continue;
    if (out.$ref !== undefined && k !== 'description' && !k.startsWith('x-')) continue; // v2: a $ref carries nothing else
    if (k === 'items') {
      if (v && typeof v === 'object' && !Array.isArray(v)) out.items = toV2Schema(v as Schema);
    }
    else if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([n, p]) => [n, toV2Schema(p)]));
    else if (k === 'additionalProperties') out.additionalProperties = typeof v === 'object' && v !== null ? toV2Schema(v as Schema) : v;
    else if (KEPT.has(k) || k.startsWith('x-kubernetes-')) out[k] = v;
  }
  // kubectl's v2 parser rejects an array without exactly one item schema and a type list: leave such values untyped.
  if (out.type === 'array' && out.items === undefined) delete out.type;
  if (Array.isArray(out.type)) delete out.type;
  return out;
}

/** Answers /openapi/v3 paths (the index and each group-version document), as served. */
export type OpenapiV3Source = (path: string) => Schema | undefined;

/** The v2 document as JSON: every group-version's component schemas, as definitions. */
export function openapiV2Document(v3: OpenapiV3Source = openapiV3Document): Schema {
  const index = v3('/openapi/v3') as { paths: Record<string, { serverRelativeURL: string }> };
  const definitions: Record<string, Schema> = {};
  for (const entry of Object.values(index.paths)) {
    const doc = v3(entry.serverRelativeURL) as { components?: { schemas?: Record<string, Schema> } } | undefined;
    for (const [name, schema] of Object.entries(doc?.components?.schemas ?? {})) definitions[name] ??= toV2Schema(schema);
  }
  const sorted = Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths: {}, definitions: sorted };
}

/** The v2 document as gnostic OpenAPIv2 protobuf; vendor extensions carry their values as YAML, as gnostic does. */
export function openapiV2Protobuf(doc: Schema): Buffer {
  return encodeOpenapiV2Protobuf(doc, (v) => toYaml(v));
}

/**
 * True when the Accept header prefers the protobuf form (kubectl sends it alone): the acceptable
 * type of highest q wins, the client's order breaks ties, as upstream's handler negotiates.
 */
export function wantsOpenapiV2Protobuf(accept: string | undefined): boolean {
  let best: { proto: boolean; q: number } | undefined;
  for (const m of parseAccept(accept)) {
    const proto = PROTOBUF_TYPES.has(m.type);
    if (!proto && !JSON_TYPES.has(m.type)) continue;
    const q = m.params.q === undefined ? 1 : Number(m.params.q);
    if (!(q > 0)) continue;
    if (!best || q > best.q) best = { proto, q };
  }
  return best?.proto ?? false;
}
