// What the API server presents about its resources and how it reads them: discovery documents,
// /openapi/v2 and the OpenAPI v3 index and documents, Tables, response media types (JSON, YAML,
// protobuf) and protobuf request bodies.
import type { ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { openapiV3Document } from './openapi/document.js';
import { OPENAPI_V2_PROTOBUF, openapiV2Document, openapiV2Protobuf, wantsOpenapiV2Protobuf, type OpenapiV3Source } from './openapi/v2.js';
import { decodeProtobuf } from './protobuf/decode.js';
import { buildTable, type TableOptions } from './tables/index.js';

export { UnsupportedProtobufKind } from './protobuf/decode.js';
export type { IncludeObject, TableOptions, Table } from './tables/index.js';
export {
  aggregatedDiscovery,
  legacyDiscovery,
  setAdvertisedServerAddress,
  AGGREGATED_DISCOVERY_CONTENT_TYPE,
} from './discovery.js';
export { wantsTable, wantsAggregatedDiscovery } from './negotiate.js';
export { encodeResponse } from './respond.js';

/** A meta.k8s.io/v1 Table with upstream's columns (priority 1 = `-o wide`) for these objects. */
export function toTable(r: ResourceInfo, objects: KubeObject[], opts: TableOptions): unknown {
  return buildTable(r, objects, opts, Date.now());
}

/** GET /openapi/v3 and /openapi/v3/<gv path>; undefined = 404. */
export function openapiV3(path: string): unknown | undefined {
  return openapiV3Document(path);
}

/**
 * GET /openapi/v2: gnostic protobuf when the Accept header asks for it (kubectl does), JSON
 * otherwise; built from the /openapi/v3 documents `v3` serves (custom resources included), and
 * rebuilt only when the v3 index (whose URLs carry each document's hash) changes.
 */
export function openapiV2(accept: string | undefined, v3: OpenapiV3Source = openapiV3Document): { contentType: string; body: Buffer } {
  const key = JSON.stringify(v3('/openapi/v3'));
  if (v2Cache?.key !== key) {
    const doc = openapiV2Document(v3);
    v2Cache = { key, json: Buffer.from(JSON.stringify(doc)), doc };
  }
  if (wantsOpenapiV2Protobuf(accept)) {
    v2Cache.proto ??= openapiV2Protobuf(v2Cache.doc);
    return { contentType: OPENAPI_V2_PROTOBUF, body: v2Cache.proto };
  }
  return { contentType: 'application/json', body: v2Cache.json };
}

let v2Cache: { key: string; json: Buffer; doc: Record<string, unknown>; proto?: Buffer } | undefined;

/**
 * A protobuf request body (application/vnd.kubernetes.protobuf, "k8s\0" magic + runtime.Unknown)
 * decoded into the JSON object kube-apiserver would have received. Throws Error with a message
 * naming what could not be decoded.
 */
export function decodeProtobufObject(body: Buffer): KubeObject {
  return decodeProtobuf(body);
}
