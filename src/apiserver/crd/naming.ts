// The status the server writes on a CustomResourceDefinition, as apiextensions-apiserver's naming
// and establishing controllers do: acceptedNames when no other CRD of the group (nor a built-in
// resource of the group) already uses a plural, singular, kind, list kind or short name;
// NamesAccepted with the first conflict found; Established once names are accepted;
// storedVersions including the storage version; Terminating while a deletion is pending.
import type { ResourceInfo } from '../../api/resources.js';
import type {
  CustomResourceDefinition,
  CustomResourceDefinitionCondition,
  CustomResourceDefinitionStatus,
  CustomResourceNames,
} from '../../api/crd/types.js';

export interface NamesInUse {
  plurals: Set<string>;
  singulars: Set<string>;
  kinds: Set<string>;
  listKinds: Set<string>;
  shortNames: Set<string>;
}

function emptyNames(): NamesInUse {
  return { plurals: new Set(), singulars: new Set(), kinds: new Set(), listKinds: new Set(), shortNames: new Set() };
}

function addNames(into: NamesInUse, n: CustomResourceNames): void {
  into.plurals.add(n.plural);
  if (n.singular) into.singulars.add(n.singular);
  into.kinds.add(n.kind);
  if (n.listKind) into.listKinds.add(n.listKind);
  for (const s of n.shortNames ?? []) into.shortNames.add(s);
}

/** The built-in resource a CRD describes (same group and plural), which keeps serving it. */
export function builtinServing(crd: CustomResourceDefinition, builtins: readonly ResourceInfo[]): ResourceInfo | undefined {
  return builtins.find((r) => r.group === crd.spec.group && r.plural === crd.spec.names.plural);
}

/**
 * Names used in the CRD's group by other CRDs' accepted names and by built-in resources (except
 * the built-in the CRD itself describes).
 */
export function namesInUse(crd: CustomResourceDefinition, others: readonly CustomResourceDefinition[], builtins: readonly ResourceInfo[]): NamesInUse {
  const used = emptyNames();
  for (const o of others) {
    if (o.metadata.name === crd.metadata.name || o.spec?.group !== crd.spec.group) continue;
    const accepted = o.status?.acceptedNames;
    if (accepted?.plural) addNames(used, accepted);
  }
  const described = builtinServing(crd, builtins);
  for (const r of builtins) {
    if (r.group !== crd.spec.group || r === described) continue;
    addNames(used, { plural: r.plural, singular: r.singular, kind: r.kind, listKind: r.listKind, shortNames: r.shortNames });
  }
  return used;
}

interface NamingResult {
  accepted: CustomResourceNames | undefined;
  reason: string;
  message: string;
}

function checkNames(crd: CustomResourceDefinition, used: NamesInUse, builtins: readonly ResourceInfo[]): NamingResult {
  const n = crd.spec.names;
  const described = builtinServing(crd, builtins);
  if (described && described.kind !== n.kind) {
    return { accepted: undefined, reason: 'KindConflict', message: `"${n.plural}" is served by the built-in ${described.kind} kind, not ${n.kind}` };
  }
  if (used.plurals.has(n.plural)) return { accepted: undefined, reason: 'PluralConflict', message: `"${n.plural}" is already in use` };
  if (n.singular && used.singulars.has(n.singular)) return { accepted: undefined, reason: 'SingularConflict', message: `"${n.singular}" is already in use` };
  for (const s of n.shortNames ?? []) {
    if (used.shortNames.has(s)) return { accepted: undefined, reason: 'ShortNamesConflict', message: `"${s}" is already in use` };
  }
  if (used.kinds.has(n.kind)) return { accepted: undefined, reason: 'KindConflict', message: `"${n.kind}" is already in use` };
  if (n.listKind && used.listKinds.has(n.listKind)) return { accepted: undefined, reason: 'ListKindConflict', message: `"${n.listKind}" is already in use` };
  return { accepted: { ...n, ...(n.shortNames ? { shortNames: [...n.shortNames] } : {}), ...(n.categories ? { categories: [...n.categories] } : {}) }, reason: 'NoConflicts', message: 'no conflicts found' };
}

function setCondition(conditions: CustomResourceDefinitionCondition[], c: Omit<CustomResourceDefinitionCondition, 'lastTransitionTime'>, now: string): CustomResourceDefinitionCondition[] {
  const old = conditions.find((x) => x.type === c.type);
  const next: CustomResourceDefinitionCondition = { ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now };
  if (old && old.status === c.status && old.reason === c.reason && old.message === c.message) return conditions;
  return old ? conditions.map((x) => (x.type === c.type ? next : x)) : [...conditions, next];
}

/** The status the CRD should have, given the other CRDs and the built-in resources. */
export function desiredStatus(crd: CustomResourceDefinition, others: readonly CustomResourceDefinition[], builtins: readonly ResourceInfo[], now: string): CustomResourceDefinitionStatus {
  const current = crd.status ?? {};
  const naming = checkNames(crd, namesInUse(crd, others, builtins), builtins);
  let conditions = current.conditions ?? [];
  const accepted = naming.accepted ?? current.acceptedNames ?? { plural: '', kind: '' };
  conditions = setCondition(conditions, { type: 'NamesAccepted', status: naming.accepted ? 'True' : 'False', reason: naming.reason, message: naming.message }, now);
  const wasEstablished = conditions.some((c) => c.type === 'Established' && c.status === 'True');
  if (naming.accepted) conditions = setCondition(conditions, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }, now);
  else if (!wasEstablished) conditions = setCondition(conditions, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' }, now);
  if (crd.metadata.deletionTimestamp) {
    conditions = setCondition(conditions, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' }, now);
  }
  const storage = (crd.spec.versions ?? []).find((v) => v.storage)?.name;
  const storedVersions = [...(current.storedVersions ?? [])];
  if (storage && !storedVersions.includes(storage)) storedVersions.push(storage);
  return { conditions, acceptedNames: accepted, storedVersions };
}

export function isEstablished(crd: CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}
