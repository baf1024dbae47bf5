// The ValidatingAdmissionPolicy status controller (kube-controller-manager's
// validatingadmissionpolicy-status-controller): for each policy whose metadata.generation is ahead of
// status.observedGeneration, type-checks its expressions against the kinds it matches
// (src/apiserver/admission/policy-type-check.ts) and writes status.observedGeneration and
// status.typeChecking.expressionWarnings. Like upstream's, it writes no conditions. The kinds are the
// built-in ones and established custom resources whose schema does not preserve unknown fields.
import { findResource, mustFindResource, R } from '../api/resources.js';
import { CRD_GROUP, type CustomResourceDefinition } from '../api/crd/types.js';
import { customResourceFieldType } from '../api/crd/schema/field-type.js';
import type { KubeObject } from '../api/types.js';
import { schemaFor } from '../api/schema/index.js';
import { isConflict, isNotFound } from '../client/client.js';
import { isEstablished } from '../apiserver/crd/naming.js';
import { typeCheckPolicy, type CheckedKind, type KindResolver } from '../apiserver/admission/policy-type-check.js';
import type { Controller, ControllerContext } from './context.js';
import { WorkQueue } from './queue.js';

/** The built-in kind served at group/version/resource, with its schema. */
export function builtinKind(group: string, version: string, resource: string): CheckedKind | undefined {
  const r = findResource(group, version, resource);
  return r ? { group: r.group, version: r.version, kind: r.kind, type: schemaFor(r) } : undefined;
}

const CRDS = mustFindResource(CRD_GROUP, 'customresourcedefinitions');

/** Built-in kinds, then the served versions of these established CRDs (a schema that preserves unknown fields is not checked). */
export function kindResolver(crds: readonly KubeObject[]): KindResolver {
  return (group, version, resource) => {
    const builtin = builtinKind(group, version, resource);
    if (builtin) return builtin;
    for (const obj of crds) {
      const crd = obj as CustomResourceDefinition;
      const names = crd.status?.acceptedNames;
      if (crd.spec?.group !== group || names?.plural !== resource || !isEstablished(crd)) continue;
      const served = (crd.spec.versions ?? []).find((v) => v.name === version && v.served);
      if (!served) continue;
      const schema = served.schema?.openAPIV3Schema;
      const open = !schema || JSON.stringify(schema).includes('"x-kubernetes-preserve-unknown-fields":true');
      return { group, version, kind: names.kind, type: open ? undefined : customResourceFieldType(schema) };
    }
    return undefined;
  };
}

/** The status the controller writes for `policy`, or undefined when it is current. */
export function desiredPolicyStatus(policy: KubeObject, resolve: KindResolver = builtinKind): Record<string, unknown> | undefined {
  const generation = policy.metadata.generation ?? 0;
  const status = (policy.status ?? {}) as Record<string, unknown>;
  if (generation <= Number(status.observedGeneration ?? 0)) return undefined;
  const warnings = typeCheckPolicy(policy, resolve);
  return { ...status, observedGeneration: generation, typeChecking: warnings.length > 0 ? { expressionWarnings: warnings } : {} };
}

export class ValidatingPolicyStatusController implements Controller {
  readonly name = 'validatingadmissionpolicy-status';
  private readonly queue: WorkQueue;
  private readonly policies;
  private readonly crds;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }), { maxDelayMs: 30_000 });
    this.policies = ctx.informers.for(R.validatingadmissionpolicies);
    this.crds = ctx.informers.for(CRDS);
    const enqueue = (p: KubeObject) => this.queue.add(p.metadata.name!);
    this.policies.addHandlers({ add: enqueue, update: enqueue });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(name: string): Promise<void> {
    const policy = this.policies.get(undefined, name);
    if (!policy) return;
    const status = desiredPolicyStatus(policy, kindResolver(this.crds.list()));
    if (!status) return;
    try {
      await this.ctx.client.updateStatus(R.validatingadmissionpolicies, { ...policy, status });
    } catch (err) {
      // A newer version is on its way through the informer; it is synced when it arrives.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}
