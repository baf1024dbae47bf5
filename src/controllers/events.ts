// Events (core/v1) for what controllers do: cheap, fire-and-forget, bounded. A burst beyond the
// bound is dropped (and logged at debug) rather than slowing a controller down. Each controller
// reports under the name its upstream counterpart uses (deployment-controller,
// endpoint-slice-controller...), in source.component and reportingController, with
// reportingInstance `<name>-<host>` as upstream's recorders set it.
import { hostname } from 'node:os';
import type { KubeClient } from '../client/client.js';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { Logger } from '../util/log.js';

const MAX_PENDING = 500;

/** The reporting controller of each flatnet controller (by its name in `controllerNames`), as kube-controller-manager names them. */
const REPORTING_CONTROLLERS: Record<string, string> = {
  'kubernetes-service': 'kube-apiserver',
  'node-ipam': 'cidrAllocator',
  endpointslice: 'endpoint-slice-controller',
  endpoints: 'endpoint-controller',
  'endpointslice-mirroring': 'endpoint-slice-mirroring-controller',
  deployment: 'deployment-controller',
  replicaset: 'replicaset-controller',
  statefulset: 'statefulset-controller',
  daemonset: 'daemonset-controller',
  job: 'job-controller',
  cronjob: 'cronjob-controller',
  scheduler: 'default-scheduler',
  'garbage-collector': 'garbage-collector-controller',
  namespace: 'namespace-controller',
  'node-lifecycle': 'node-controller',
  'unschedulable-taint': 'node-controller',
  serviceaccount: 'serviceaccount-controller',
  'root-ca-cert-publisher': 'root-ca-cert-publisher',
  // upstream's disruption controller records as the controller manager itself
  disruption: 'controllermanager',
};

/** The name a controller's events carry; a controller upstream does not have reports under its own name. */
export function reportingControllerOf(controller: string): string {
  return REPORTING_CONTROLLERS[controller] ?? controller;
}
const MAX_IN_FLIGHT = 8;

export interface EventSink {
  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export class EventRecorder implements EventSink {
  private readonly pending: KubeObject[] = [];
  private inFlight = 0;
  private counter = 0;
  private readonly instance: string;

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly log: Logger,
  ) {
    this.instance = `${component}-${hostname()}`;
  }

  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.pending.length >= MAX_PENDING) {
      this.log.debug('event dropped', { reason, object: obj.metadata.name });
      return;
    }
    this.pending.push(buildEvent(obj, type, reason, message, { component: this.component, instance: this.instance }, this.counter++));
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.pending.length > 0) {
      const ev = this.pending.shift()!;
      this.inFlight++;
      this.client
        .create(R.events, ev)
        .catch((err: Error) => this.log.debug('event not written', { reason: ev.reason, err: err.message }))
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}

export interface EventReporter {
  /** source.component and reportingController */
  component: string;
  /** reportingInstance */
  instance: string;
}

export function buildEvent(obj: KubeObject, type: string, reason: string, message: string, reporter: EventReporter, seq = 0): KubeObject {
  const now = new Date().toISOString();
  const namespace = obj.metadata.namespace ?? 'default';
  const unique = (BigInt(Date.now()) * 1_000_000n + BigInt(seq % 1_000_000)).toString(16);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${obj.metadata.name}.${unique}`, namespace },
    involvedObject: {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
    },
    reason,
    message,
    type,
    source: { component: reporter.component },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    reportingComponent: reporter.component,
    reportingInstance: reporter.instance,
  };
}
