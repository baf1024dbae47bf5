// Custom resources and CustomResourceDefinitions (upstream apiextensions-apiserver's
// customresource and customresourcedefinition strategies). A custom resource is checked, pruned
// and defaulted against its CRD version's schema, counts every change but metadata (and status,
// when status is a subresource) in metadata.generation, takes no strategic merge patch (415),
// and offers its CRD's selectable fields. A CRD counts spec changes and waits for its custom
// resources to be deleted before it goes.
import { CRD_CLEANUP_FINALIZER } from '../../api/crd/types.js';
import * as validation from '../../api/validation/index.js';
import type { CustomResourceBehaviour } from '../crd/resource.js';
import { defaultStrategy, withGeneration } from './default.js';
import { statusOnlyUpdate, statusUpdateResetting } from './status.js';
import type { ResourceStrategy } from './types.js';

export function customResourceStrategy(custom: CustomResourceBehaviour): ResourceStrategy {
  return {
    ...defaultStrategy,
    generation: { ignores: custom.generationIgnores },
    strategicMerge: 'unsupported',
    prepareForStatusUpdate: statusOnlyUpdate,
    selectableFields: custom.selectableFields,
    decode: (obj) => custom.decode(obj),
    applyDefaults(r, obj, creating) {
      validation.applyDefaults(r, obj);
      custom.default(obj, creating);
    },
    validateCreate(r, obj) {
      return [...validation.validateCreate(r, obj), ...custom.validate(obj)];
    },
    validateUpdate(r, next, old, _subresource, warnings) {
      return [...validation.validateUpdate(r, next, old), ...custom.validate(next, old, warnings)];
    },
  };
}

export const customResourceDefinitionStrategy: ResourceStrategy = {
  ...withGeneration(),
  deletionFinalizers: [CRD_CLEANUP_FINALIZER],
  // Status writes change status and finalizers only: spec and this metadata stay.
  prepareForStatusUpdate: statusUpdateResetting(['spec', 'labels', 'annotations', 'ownerReferences', 'generation']),
};
