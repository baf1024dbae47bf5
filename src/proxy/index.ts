// flatnet's service proxy: Services + EndpointSlices (informers) -> change tracker -> nftables
// (default) or iptables rules in a node's network namespace. `startServiceProxy` is what the agent
// calls; `ServiceProxy` can be fed directly (tests, bench).
import type { KubeClient } from '../client/client.js';
import { sharedInformer } from '../client/shared-informers.js';
import { R } from '../api/resources.js';
import { ServiceProxy, type ServiceProxyOptions } from './proxy.js';

export { ServiceProxy, type ServiceProxyOptions } from './proxy.js';
export { ServiceChangeTracker } from './change-tracker.js';

export interface RunningServiceProxy {
  stop(): Promise<void>;
  /** The rules this node has now, for a person. */
  rules(): Promise<string>;
}

export async function startServiceProxy(
  client: KubeClient,
  opts: { nodeName: string; netns?: string; mode: 'nftables' | 'iptables'; nodeIPs: string[]; clusterCIDR: string; serviceCIDR: string } & Partial<ServiceProxyOptions>,
): Promise<RunningServiceProxy> {
  const proxy = new ServiceProxy(opts);
  const services = sharedInformer(client, R.services);
  const slices = sharedInformer(client, R.endpointslices);
  services.addHandlers({
    add: (o) => proxy.tracker.serviceUpdated(o),
    update: (o) => proxy.tracker.serviceUpdated(o),
    delete: (o) => proxy.tracker.serviceDeleted(o),
  });
  slices.addHandlers({
    add: (o) => proxy.tracker.sliceUpdated(o),
    update: (o) => proxy.tracker.sliceUpdated(o),
    delete: (o) => proxy.tracker.sliceDeleted(o),
  });
  await Promise.all([services.start(), slices.start()]);
  await proxy.start();
  return {
    async stop() {
      services.stop();
      slices.stop();
      await proxy.stop();
    },
    rules: () => proxy.rules(),
  };
}
