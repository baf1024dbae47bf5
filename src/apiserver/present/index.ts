// What the API server presents about its resources:
// discovery documents, the OpenAPI v3 index and documents, Tables, and protobuf request bodies.
import type { ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { openapiV3Document } from './openapi/document.js';
import { decodeProtobuf } from './protobuf/decode.js';
import { buildTable, type TableOptions } from './tables/index.js';

export type { IncludeObject, TableOptions, Table } from './tables/index.js';
export {
  aggregatedDiscovery,
  legacyDiscovery,
  setAdvertisedServerAddress,
  AGGREGATED_DISCOVERY_CONTENT_TYPE,
} from './discovery.js';
export { wantsTable, wantsAggregatedDiscovery } from './negotiate.js';

/** A meta.k8s.io/v1 Table with upstream's columns (priority 1 = `-o wide`) for these objects. */
export function toTable(r: ResourceInfo, objects: KubeObject[], opts: TableOptions): unknown {
  return buildTable(r, objects, opts, Date.now());
}

/** GET /openapi/v3 and /openapi/v3/<gv path>; undefined = 404. */
export function openapiV3(path: string): unknown | undefined {
  return openapiV3Document(path);
}

/**
 * A protobuf request body (application/vnd.kubernetes.protobuf, "k8s\0" magic + runtime.Unknown)
 * decoded into the JSON object kube-apiserver would have received. Throws Error with a message
 * naming what could not be decoded.
 */
export function decodeProtobufObject(body: Buffer): KubeObject {
  return decodeProtobuf(body);
}
