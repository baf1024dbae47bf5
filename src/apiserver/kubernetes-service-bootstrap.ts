// At start, each API server writes the `kubernetes` Service in `default` and its Endpoints and
// EndpointSlices so they list this server beside every other server whose endpoint Lease is live
// (apiserver-endpoints-plan.ts), as upstream's endpoint reconciler adds itself at start. Servers
// starting together on one etcd race on these objects: a lost create or update is redone on the
// state that won (bootstrap-writes.ts). The controller that runs on the lease holder
// (controllers/kubernetes-service.ts) keeps them so afterwards.
import { R, type ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import {
  desiredKubernetesEndpoints,
  desiredKubernetesSlices,
  kubernetesTargetPort,
  liveApiServers,
  type ApiServerAddress,
} from '../controllers/apiserver-endpoints-plan.js';
import { desiredKubernetesService, kubernetesObjectUpdate } from '../controllers/kubernetes-service-plan.js';
import { createUnlessExists, retryOnConflict } from './bootstrap-writes.js';
import type { Registry, WriteContext } from './registry.js';
import { storeKey } from './registry.js';

export function ensureKubernetesService(registry: Registry, ctx: () => WriteContext, o: { serviceCIDR: string; advertiseAddress: string; port: number }): void {
  const leases = registry.store.list(storeKey(R.leases)).entries.map((e) => e.obj);
  const { live } = liveApiServers(leases, Date.now());
  const self: ApiServerAddress = { ip: o.advertiseAddress, port: o.port };
  if (!live.some((a) => a.ip === self.ip && a.port === self.port)) live.push(self);
  const endpoint = { serviceCIDR: o.serviceCIDR, advertiseAddress: o.advertiseAddress, advertisePort: o.port };
  ensure(registry, ctx, R.services, desiredKubernetesService(endpoint, kubernetesTargetPort(live)));
  ensure(registry, ctx, R.endpoints, desiredKubernetesEndpoints(live));
  for (const slice of desiredKubernetesSlices(live)) ensure(registry, ctx, R.endpointslices, slice);
}

/** Creates or updates `desired`; a create another server won is followed by an update of what it wrote. */
function ensure(registry: Registry, ctx: () => WriteContext, r: ResourceInfo, desired: KubeObject): void {
  const name = desired.metadata.name!;
  for (let attempt = 0; attempt < 2; attempt++) {
    const current = registry.store.get(storeKey(r), 'default', name);
    if (!current) {
      if (createUnlessExists(registry, r, 'default', structuredClone(desired), ctx())) return;
      continue;
    }
    retryOnConflict(() => {
      const now = registry.store.get(storeKey(r), 'default', name);
      if (!now) return;
      const update = kubernetesObjectUpdate(desired, now.obj);
      // A Service with another cluster IP is the controller's to recreate; start-up leaves it.
      if (update === undefined || update === 'recreate') return;
      registry.update(r, 'default', name, update, ctx());
    });
    return;
  }
}
