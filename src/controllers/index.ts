// The controllers `flatnet server` runs: started after the API server listens, with a client
// holding the admin token. Each controller lives in its own file with its logic in a pure
// *-plan.ts beside it; they share one informer per resource.
import type { KubeClient } from '../client/client.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../util/log.js';
import { GatewayController } from '../gateway/controller/index.js';
import { GATEWAY_CONTROLLER_NAME } from '../gateway/model/types.js';
import { kubernetesServiceIP } from './kubernetes-service-plan.js';
import type { Controller, ControllerContext } from './context.js';
import { DeploymentController } from './deployment.js';
import { EndpointsController } from './endpoints.js';
import { EndpointSliceController } from './endpointslice.js';
import { EndpointSliceMirroringController } from './endpointslice-mirroring.js';
import { EventRecorder, reportingControllerOf } from './events.js';
import { GarbageCollector } from './garbage-collector.js';
import { InformerGroup } from '../client/shared-informers.js';
import { KubernetesServiceController } from './kubernetes-service.js';
import { NamespaceController } from './namespace.js';
import { NodeIpamController } from './node-ipam.js';
import { NodeLifecycleController } from './node-lifecycle.js';
import { PodGcController } from './pod-gc.js';
import { DEFAULT_NODE_MONITOR_GRACE_SECONDS } from './node-lifecycle-plan.js';
import { startLoadBalancerIPController } from './loadbalancer-ip.js';
import { ReplicaSetController } from './replicaset.js';
import { StatefulSetController } from './statefulset.js';
import { DaemonSetController } from './daemonset.js';
import { JobController } from './job.js';
import { CronJobController } from './cronjob.js';
import { DisruptionController } from './disruption.js';
import { Scheduler } from './scheduler.js';
import { UnschedulableTaintController } from './scheduler-unschedulable-taint.js';
import { ServiceAccountController } from './serviceaccount.js';
import { RootCAController } from './root-ca.js';
import { CsrCleanerController } from './csr-cleaner.js';
import { ValidatingPolicyStatusController } from './validating-policy-status.js';

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
  /** The server's data directory (the gateway controller mints proxy tokens with its key); without it the `gateway` controller does not run. */
  dataDir?: string;
  /** The cluster CA (PEM) given to gateway proxies; default: `<dataDir>/ca.crt`. */
  caPem?: string;
}

export const controllerNames = [
  'kubernetes-service',
  'node-ipam',
  'endpointslice',
  'endpoints',
  'endpointslice-mirroring',
  'deployment',
  'replicaset',
  'statefulset',
  'daemonset',
  'job',
  'cronjob',
  'disruption',
  'scheduler',
  'garbage-collector',
  'namespace',
  'node-lifecycle',
  'unschedulable-taint',
  'pod-garbage-collector',
  'serviceaccount',
  'root-ca-cert-publisher',
  'csr-cleaner',
  'validatingadmissionpolicy-status',
  'gateway',
] as const;

export async function startControllers(client: KubeClient, opts: ControllerOptions): Promise<{ stop(): Promise<void> }> {
  const log = createLogger('controllers');
  const informers = new InformerGroup(client);
  // Each controller gets its own event recorder, named as upstream's counterpart (events.ts).
  const contextFor = (name: string): ControllerContext => ({ client, informers, events: new EventRecorder(client, reportingControllerOf(name), log), log });
  const wanted = new Set<string>(opts.only ?? controllerNames.filter((n) => (n !== 'gateway' && n !== 'root-ca-cert-publisher') || opts.dataDir));
  if (wanted.has('gateway') && !opts.dataDir) throw new Error('the gateway controller needs the data directory (its proxy token key)');
  const make: Record<(typeof controllerNames)[number], (ctx: ControllerContext) => Controller> = {
    'kubernetes-service': (ctx) =>
      new KubernetesServiceController(ctx, { serviceCIDR: opts.serviceCIDR, advertiseAddress: opts.advertiseAddress, advertisePort: opts.advertisePort }),
    'node-ipam': (ctx) => new NodeIpamController(ctx, opts.podCIDR),
    endpointslice: (ctx) => new EndpointSliceController(ctx),
    endpoints: (ctx) => new EndpointsController(ctx),
    'endpointslice-mirroring': (ctx) => new EndpointSliceMirroringController(ctx),
    deployment: (ctx) => new DeploymentController(ctx),
    replicaset: (ctx) => new ReplicaSetController(ctx),
    statefulset: (ctx) => new StatefulSetController(ctx),
    daemonset: (ctx) => new DaemonSetController(ctx),
    job: (ctx) => new JobController(ctx),
    cronjob: (ctx) => new CronJobController(ctx),
    disruption: (ctx) => new DisruptionController(ctx),
    scheduler: (ctx) => new Scheduler(ctx),
    'garbage-collector': (ctx) => new GarbageCollector(ctx),
    namespace: (ctx) => new NamespaceController(ctx),
    'node-lifecycle': (ctx) =>
      new NodeLifecycleController(ctx, {
        gracePeriodMs: (opts.nodeMonitorGracePeriodSeconds ?? DEFAULT_NODE_MONITOR_GRACE_SECONDS) * 1000,
        monitorPeriodMs: (opts.nodeMonitorPeriodSeconds ?? 5) * 1000,
      }),
    'unschedulable-taint': (ctx) => new UnschedulableTaintController(ctx),
    'pod-garbage-collector': (ctx) => new PodGcController(ctx),
    serviceaccount: (ctx) => new ServiceAccountController(ctx),
    'csr-cleaner': (ctx) => new CsrCleanerController(ctx),
    'validatingadmissionpolicy-status': (ctx) => new ValidatingPolicyStatusController(ctx),
    'root-ca-cert-publisher': (ctx) => new RootCAController(ctx, opts.caPem ?? readFileSync(join(opts.dataDir!, 'ca.crt'), 'utf8')),
    gateway: (ctx) =>
      new GatewayController(
        { ...ctx, events: new EventRecorder(client, GATEWAY_CONTROLLER_NAME, log) },
        {
          dataDir: opts.dataDir!,
          caPem: opts.caPem ?? readFileSync(join(opts.dataDir!, 'ca.crt'), 'utf8'),
          apiService: { host: kubernetesServiceIP(opts.serviceCIDR), port: 443 },
        },
      ),
  };
  for (const name of wanted) if (!(name in make)) throw new Error(`unknown controller "${name}": choose from ${controllerNames.join(', ')}`);
  const controllers = controllerNames.filter((n) => wanted.has(n)).map((n) => make[n](contextFor(n)));
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
