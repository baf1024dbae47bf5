// The Gateway API kinds. Upstream serves them from their CRDs, so they behave as custom resources
// do: metadata.generation counts every change but metadata and status. kubectl sends them
// strategic merge patches, which a CRD would refuse with 415; flatnet applies those as JSON merge
// patches so that `kubectl patch` and `kubectl edit` keep working.
import { withGeneration } from './default.js';
import { statusOnlyUpdate } from './status.js';
import type { ResourceStrategy } from './types.js';

export const gatewayApiStrategy: ResourceStrategy = {
  ...withGeneration(),
  strategicMerge: 'merge',
  prepareForStatusUpdate: statusOnlyUpdate,
};
