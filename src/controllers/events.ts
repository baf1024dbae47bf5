// Events (core/v1) for what controllers and the node agent do: cheap, fire-and-forget, bounded. A
// burst beyond the bound (1000 queued, as client-go's broadcaster) is dropped (and logged at
// debug) rather than slowing a component down. Repeats are counted on the Event already written
// (a patch of count and lastTimestamp) and similar events combined, as client-go's
// EventCorrelator does (event-correlator.ts); the repeats of one event are sent one at a time,
// in order. Each controller reports under the name its upstream counterpart uses
// (deployment-controller, endpoint-slice-controller...), in source.component and
// reportingController, with reportingInstance `<name>-<host>` as upstream's recorders set it;
// the agent reports as the kubelet, with source.host and reportingInstance its node name.
import { hostname } from 'node:os';
import { isNotFound, type KubeClient } from '../client/client.js';
import { EventCorrelator } from './event-correlator.js';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { Logger } from '../util/log.js';

const MAX_PENDING = 1000;

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

export interface EventRecorderOptions {
  /** source.host (the kubelet sets its node name). */
  host?: string;
  /** reportingInstance (default `<component>-<hostname>`). */
  instance?: string;
  /** The clock of the correlator's 10-minute window (tests). */
  now?: () => number;
}

export class EventRecorder implements EventSink {
  private readonly pending: { event: KubeObject; key: string }[] = [];
  private inFlight = 0;
  private counter = 0;
  private readonly reporter: EventReporter;
  private readonly correlator: EventCorrelator;
  /** Keys with a create or patch in flight: their next occurrence waits for it. */
  private readonly sending = new Set<string>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly client: KubeClient,
    component: string,
    private readonly log: Logger,
    opts: EventRecorderOptions = {},
  ) {
    this.reporter = { component, instance: opts.instance ?? `${component}-${hostname()}`, host: opts.host };
    this.correlator = new EventCorrelator(opts.now);
  }

  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.submit(buildEvent(obj, type, reason, message, this.reporter, this.counter++));
  }

  /** An Event built by the caller (same reporter), through the same counting and queue. */
  submit(event: KubeObject): void {
    if (this.pending.length >= MAX_PENDING) {
      this.log.debug('event dropped', { reason: event.reason, object: (event.involvedObject as { name?: string } | undefined)?.name });
      return;
    }
    const aggregated = this.correlator.aggregate(event);
    if (!this.correlator.allow(aggregated.event)) {
      this.log.debug('event dropped: its source reported too many about the object', { reason: event.reason, object: (event.involvedObject as { name?: string } | undefined)?.name });
      return;
    }
    this.pending.push(aggregated);
    this.pump();
  }

  /** Resolves once nothing is queued or in flight (tests). */
  idle(): Promise<void> {
    if (this.inFlight === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.pending.length > 0) {
      const i = this.pending.findIndex((p) => !this.sending.has(p.key));
      if (i < 0) break;
      const [next] = this.pending.splice(i, 1);
      this.inFlight++;
      this.sending.add(next.key);
      void this.send(next.event, next.key).finally(() => {
        this.inFlight--;
        this.sending.delete(next.key);
        this.pump();
        if (this.inFlight === 0 && this.pending.length === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  /** A repeat patches the Event written first; if that is gone (expired, deleted), it is written again with the count so far. */
  private async send(event: KubeObject, key: string): Promise<void> {
    const { event: ev, patch } = this.correlator.observe(event, key);
    try {
      let saved: KubeObject | undefined;
      if (patch) {
        try {
          saved = await this.client.patch(R.events, ev.metadata.namespace, ev.metadata.name ?? '', patch, 'merge');
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      saved ??= await this.client.create(R.events, ev);
      this.correlator.update(key, saved);
    } catch (err) {
      this.log.debug('event not written', { reason: ev.reason, err: (err as Error).message });
    }
  }
}

export interface EventReporter {
  /** source.component and reportingController */
  component: string;
  /** reportingInstance */
  instance: string;
  /** source.host */
  host?: string;
}

export function buildEvent(obj: KubeObject, type: string, reason: string, message: string, reporter: EventReporter, seq = 0): KubeObject {
  // metav1.Time: whole seconds, as upstream writes them.
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
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
    source: { component: reporter.component, ...(reporter.host ? { host: reporter.host } : {}) },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    reportingComponent: reporter.component,
    reportingInstance: reporter.instance,
  };
}
