// ReferenceGrant: a grant lives in the namespace of the thing referred to and lets objects of
// the listed `from` kinds and namespaces refer to the listed `to` kinds (all names of that kind,
// or one name). from and to entries are ORed. Deleting a grant revokes access at once, since
// the model is recomputed from the current objects.
import type { KubeObject } from '../../api/types.js';
import { asArray, asRecord, asString, indexBy, namespaceOf, specOf } from './objects.js';

export interface RefFrom {
  group: string;
  kind: string;
  namespace: string;
}

export interface RefTo {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export class ReferenceGrantIndex {
  private readonly byNamespace: Map<string, KubeObject[]>;

  constructor(grants: KubeObject[]) {
    this.byNamespace = indexBy(grants, (g) => namespaceOf(g));
  }

  /** Whether a reference from `from` to `to` is allowed (same namespace always is). */
  permits(from: RefFrom, to: RefTo): boolean {
    if (from.namespace === to.namespace) return true;
    for (const grant of this.byNamespace.get(to.namespace) ?? []) {
      const spec = specOf(grant);
      const fromOk = asArray(spec.from).some((f) => {
        const r = asRecord(f);
        return (asString(r.group) ?? '') === from.group && asString(r.kind) === from.kind && asString(r.namespace) === from.namespace;
      });
      if (!fromOk) continue;
      const toOk = asArray(spec.to).some((t) => {
        const r = asRecord(t);
        const name = asString(r.name);
        return (asString(r.group) ?? '') === to.group && asString(r.kind) === to.kind && (name === undefined || name === '' || name === to.name);
      });
      if (toOk) return true;
    }
    return false;
  }
}
