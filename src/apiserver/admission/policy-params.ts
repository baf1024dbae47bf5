// The parameter resources of ValidatingAdmissionPolicy (paramKind on the policy, paramRef on the
// binding), resolved as kube-apiserver 1.32 does: the paramKind names any served kind (a built-in
// one, or an established CustomResourceDefinition's served version); a binding's params are read
// from the live store on every request (a changed param counts from the next request), by name or
// by label selector, in paramRef.namespace or else the request's namespace when the kind is
// namespaced. What is not found follows parameterNotFoundAction: Deny is a configuration error
// (the policy's failurePolicy decides), Allow admits without evaluating the binding.
import { findByKind } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import type { CustomResourceDefinition, JSONSchemaProps } from '../../api/crd/types.js';
import { labelSelectorMatches, type LabelSelector } from '../../api/label-selector.js';
import { parseGroupVersion } from '../../api/validation/admission-policy.js';
import { isObject } from '../../api/patch/json-value.js';
import type { Store } from '../../store/types.js';
import { CRD_RESOURCE } from '../crd/catalog.js';
import { isEstablished } from '../crd/naming.js';
import { storeKey } from '../registry.js';

/** Where the objects of a paramKind are stored. */
export interface ParamResource {
  /** The store key (group/plural). */
  key: string;
  namespaced: boolean;
  /** The CRD version's schema, for a custom kind (its numbers become CEL doubles where it says so). */
  schema?: JSONSchemaProps;
}

export interface ParamRef {
  name?: string;
  namespace?: string;
  selector?: LabelSelector;
  parameterNotFoundAction?: string;
}

/** A GroupVersionKind as Go prints it (`example.com/v1, Kind=Limit`; core: `/v1, Kind=ConfigMap`). */
export function gvkString(apiVersion: string, kind: string): string {
  const gv = parseGroupVersion(apiVersion);
  const { group, version } = 'error' in gv ? { group: '', version: apiVersion } : gv;
  return `${group}/${version}, Kind=${kind}`;
}

/** The served resource of a paramKind, or why it cannot be used (upstream's configuration error). */
export function resolveParamKind(store: Store, paramKind: { apiVersion?: unknown; kind?: unknown }): ParamResource | { error: string } {
  const apiVersion = String(paramKind.apiVersion ?? '');
  const kind = String(paramKind.kind ?? '');
  const notFound = { error: `failed to find resource referenced by paramKind: '${gvkString(apiVersion, kind)}'` };
  const builtin = findByKind(apiVersion, kind);
  if (builtin) return { key: storeKey(builtin), namespaced: builtin.namespaced };
  const gv = parseGroupVersion(apiVersion);
  if ('error' in gv || gv.group === '') return notFound;
  for (const e of store.list(storeKey(CRD_RESOURCE)).entries) {
    const crd = e.obj as CustomResourceDefinition;
    if (crd.spec?.group !== gv.group || crd.status?.acceptedNames?.kind !== kind || !isEstablished(crd) || crd.metadata.deletionTimestamp) continue;
    const version = (crd.spec.versions ?? []).find((v) => v.name === gv.version && v.served);
    if (!version) continue;
    const plural = crd.status?.acceptedNames?.plural ?? crd.spec.names.plural;
    return { key: `${gv.group}/${plural}`, namespaced: crd.spec.scope === 'Namespaced', schema: version.schema?.openAPIV3Schema };
  }
  return notFound;
}

const byNamespaceAndName = (a: KubeObject, b: KubeObject) =>
  (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');

/**
 * The params a binding evaluates its policy with: one entry per param found, `[null]` when the
 * binding has no paramRef (the policy runs once with params null), `[]` when none was found and the
 * action is Allow; or the configuration error upstream reports.
 */
export function collectParams(store: Store, resource: ParamResource, ref: ParamRef | undefined, requestNamespace: string): (KubeObject | null)[] | { error: string } {
  if (!ref) return [null];
  const refNamespace = ref.namespace ?? '';
  if (refNamespace !== '' && !resource.namespaced) return { error: 'paramRef.namespace must not be provided for a cluster-scoped `paramKind`' };
  let ns = '';
  if (resource.namespaced) {
    ns = refNamespace !== '' ? refNamespace : requestNamespace;
    if (ns === '') return { error: 'cannot use namespaced paramRef in policy binding that matches cluster-scoped resources' };
  }
  let params: KubeObject[];
  if (ref.name) {
    if (ref.selector) return { error: 'paramRef.name and paramRef.selector are mutually exclusive' };
    const e = store.get(resource.key, ns, ref.name);
    params = e ? [e.obj] : [];
  } else if (ref.selector && isObject(ref.selector)) {
    const selector = ref.selector;
    params = store
      .list(resource.key, resource.namespaced ? { ns, filter: (e) => labelSelectorMatches(selector, e.obj.metadata.labels) } : { filter: (e) => labelSelectorMatches(selector, e.obj.metadata.labels) })
      .entries.map((e) => e.obj)
      .sort(byNamespaceAndName);
  } else {
    return { error: 'one of name or selector must be provided' };
  }
  if (params.length === 0 && ref.parameterNotFoundAction === 'Deny') return { error: 'no params found for policy binding with `Deny` parameterNotFoundAction' };
  return params;
}
