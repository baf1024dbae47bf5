// Nodes (upstream pkg/registry/core/node): an agent registers its Node with the status it
// observed, so a create keeps status; updates of the object still keep the stored status.
import { defaultStrategy } from './default.js';
import type { ResourceStrategy } from './types.js';

export const nodeStrategy: ResourceStrategy = {
  ...defaultStrategy,
  prepareForCreate() {},
};
