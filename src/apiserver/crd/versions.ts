// Serving a custom resource at each of its CRD's served versions with conversion strategy None, as
// kube-apiserver does: objects are stored at the storage version, and a read through another served
// version answers the same object with that version's apiVersion. Built-in kinds served at other
// versions over the same stored objects (ResourceInfo.storageVersion, Gateway API v1beta1) use it too.
import { apiVersionOf, type ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import type { StoreEntry } from '../../store/types.js';
import { storeKey } from '../registry.js';
import { customResourceOf } from './resource.js';

/** Whether `r` may read objects stored at another version: a custom resource, or a built-in's other served version. */
function servesOtherVersions(r: ResourceInfo): boolean {
  return customResourceOf(r) !== undefined || r.storageVersion !== undefined;
}

/** The object as a client of `r`'s version sees it (None conversion: only apiVersion changes). */
export function convertToServed(r: ResourceInfo, obj: KubeObject): KubeObject {
  const want = apiVersionOf(r);
  return obj.apiVersion === want ? obj : { ...obj, apiVersion: want };
}

/** The JSON of a stored entry as `r` serves it: the stored text unless a custom resource's version differs. */
export function servedJson(r: ResourceInfo, entry: StoreEntry): string {
  if (!servesOtherVersions(r) || entry.obj.apiVersion === apiVersionOf(r)) return entry.json;
  return JSON.stringify(convertToServed(r, entry.obj));
}

/** For a watch of a custom resource: the view that converts each event's object to the watched version. */
export function servedWatchView(r: ResourceInfo): { storeKey: string; tableResource: ResourceInfo; convert(obj: KubeObject): KubeObject } | undefined {
  if (!servesOtherVersions(r)) return undefined;
  return { storeKey: storeKey(r), tableResource: r, convert: (obj) => convertToServed(r, obj) };
}
