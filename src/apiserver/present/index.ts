// CONTRACT (owned by the api-schema work): what the API server presents about its resources:
// discovery documents, the OpenAPI v3 index and documents, Tables, and protobuf request bodies.
import type { ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  includeObject: IncludeObject;
  /** metadata of the Table: resourceVersion, continue */
  listMeta?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
}

/** A meta.k8s.io/v1 Table with upstream's columns (priority 1 = `-o wide`) for these objects. */
export function toTable(_r: ResourceInfo, _objects: KubeObject[], _opts: TableOptions): unknown {
  throw new Error('toTable: not implemented yet');
}

/** Aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) for /api or /apis. */
export function aggregatedDiscovery(_root: 'api' | 'apis'): unknown {
  throw new Error('aggregatedDiscovery: not implemented yet');
}

/** Legacy discovery: /api (APIVersions), /apis (APIGroupList), /api/v1 and /apis/g/v (APIResourceList); undefined = 404. */
export function legacyDiscovery(_path: string): unknown | undefined {
  throw new Error('legacyDiscovery: not implemented yet');
}

/** GET /openapi/v3 and /openapi/v3/<gv path>; undefined = 404. */
export function openapiV3(_path: string): unknown | undefined {
  throw new Error('openapiV3: not implemented yet');
}

/**
 * A protobuf request body (application/vnd.kubernetes.protobuf, "k8s\0" magic + runtime.Unknown)
 * decoded into the JSON object kube-apiserver would have received. Throws Error with a message
 * naming what could not be decoded.
 */
export function decodeProtobufObject(_body: Buffer): KubeObject {
  throw new Error('decodeProtobufObject: not implemented yet');
}
