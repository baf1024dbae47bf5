// Services (upstream pkg/registry/core/service): names are DNS-1035 labels, status starts with an
// empty loadBalancer, fields the type no longer uses are dropped on update, cluster IPs and node
// ports are allocated, and a DELETE answers with the Service. No metadata.generation.
import { type ServiceLike, dropServiceTypeDependentFields } from '../../api/validation/service-update.js';
import { defaultStrategy } from './default.js';
import type { ResourceStrategy } from './types.js';

export const serviceStrategy: ResourceStrategy = {
  ...defaultStrategy,
  nameFormat: 'dns1035',
  returnsDeletedObject: true,
  prepareForCreate(_r, obj) {
    obj.status = { loadBalancer: {} };
  },
  prepareForUpdate(r, next, old) {
    defaultStrategy.prepareForUpdate(r, next, old);
    dropServiceTypeDependentFields(next as ServiceLike, old as ServiceLike);
  },
  allocator: (env) => env.services,
};
