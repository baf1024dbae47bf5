// The controllers `flatnet server` runs: started after the API server listens, with a client
// holding the admin token. Each controller lives in its own file with its logic in a pure
// *-plan.ts beside it; they share one informer per resource.
import type { KubeClient } from '../client/client.js';
import { createLogger } from '../util/log.js';
import type { Controller, ControllerContext } from './context.js';
import { DeploymentController } from './deployment.js';
import { EndpointsController } from './endpoints.js';
import { EndpointSliceController } from './endpointslice.js';
import { EndpointSliceMirroringController } from './endpointslice-mirroring.js';
import { EventRecorder } from './events.js';
import { GarbageCollector } from './garbage-collector.js';
import { SharedInformers } from './informers.js';
import { KubernetesServiceController } from './kubernetes-service.js';
import { NamespaceController } from './namespace.js';
import { NodeIpamController } from './node-ipam.js';
import { NodeLifecycleController } from './node-lifecycle.js';
import { DEFAULT_NODE_MONITOR_GRACE_SECONDS } from './node-lifecycle-plan.js';
import { startLoadBalancerIPController } from './loadbalancer-ip.js';
import { ReplicaSetController } from './replicaset.js';
import { Scheduler } from './scheduler.js';

export interface ControllerOptions {
  serviceCIDR: string;
  podCIDR: string;
  nodePortRange: string;
  advertiseAddress: string;
  advertisePort: number;
  /** node-monitor-grace-period: a node silent this long goes Unknown (default 40). */
  nodeMonitorGracePeriodSeconds?: number;
  /** How often node health is checked (default 5). */
  nodeMonitorPeriodSeconds?: number;
  /** Give LoadBalancer Services addresses from this pool (loadbalancer-ip.ts); off when unset. */
  loadBalancerPool?: string;
  /** Run only these controllers (names as in `controllerNames`); default all. */
  only?: string[];
}

export const controllerNames = [
  'kubernetes-service',
  'node-ipam',
  'endpointslice',
  'endpoints',
  'endpointslice-mirroring',
  'deployment',
  'replicaset',
  'scheduler',
  'garbage-collector',
  'namespace',
  'node-lifecycle',
] as const;

export async function startControllers(client: KubeClient, opts: ControllerOptions): Promise<{ stop(): Promise<void> }> {
  const log = createLogger('controllers');
  const informers = new SharedInformers(client);
  const ctx: ControllerContext = { client, informers, events: new EventRecorder(client, 'flatnet-controller-manager', log), log };
  const wanted = new Set<string>(opts.only ?? controllerNames);
  const make: Record<(typeof controllerNames)[number], () => Controller> = {
    'kubernetes-service': () =>
      new KubernetesServiceController(ctx, { serviceCIDR: opts.serviceCIDR, advertiseAddress: opts.advertiseAddress, advertisePort: opts.advertisePort }),
    'node-ipam': () => new NodeIpamController(ctx, opts.podCIDR),
    endpointslice: () => new EndpointSliceController(ctx),
    endpoints: () => new EndpointsController(ctx),
    'endpointslice-mirroring': () => new EndpointSliceMirroringController(ctx),
    deployment: () => new DeploymentController(ctx),
    replicaset: () => new ReplicaSetController(ctx),
    scheduler: () => new Scheduler({ ...ctx, events: new EventRecorder(client, 'default-scheduler', log) }),
    'garbage-collector': () => new GarbageCollector(ctx),
    namespace: () => new NamespaceController(ctx),
    'node-lifecycle': () =>
      new NodeLifecycleController(ctx, {
        gracePeriodMs: (opts.nodeMonitorGracePeriodSeconds ?? DEFAULT_NODE_MONITOR_GRACE_SECONDS) * 1000,
        monitorPeriodMs: (opts.nodeMonitorPeriodSeconds ?? 5) * 1000,
      }),
  };
  for (const name of wanted) if (!(name in make)) throw new Error(`unknown controller "${name}": choose from ${controllerNames.join(', ')}`);
  const controllers = controllerNames.filter((n) => wanted.has(n)).map((n) => make[n]());
  await informers.start();
  for (const c of controllers) c.start();
  const loadBalancer = opts.loadBalancerPool ? await startLoadBalancerIPController(client, { pool: opts.loadBalancerPool }) : undefined;
  log.info('controllers started', { controllers: [...controllers.map((c) => c.name), ...(loadBalancer ? ['loadbalancer-ip'] : [])] });
  return {
    async stop() {
      for (const c of controllers) c.stop();
      await loadBalancer?.stop();
      informers.stop();
    },
  };
}
