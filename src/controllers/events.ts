// Events (core/v1) for what controllers do: cheap, fire-and-forget, bounded. A burst beyond the
// bound is dropped (and logged at debug) rather than slowing a controller down.
import type { KubeClient } from '../client/client.js';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { Logger } from '../util/log.js';

const MAX_PENDING = 500;
const MAX_IN_FLIGHT = 8;

export interface EventSink {
  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export class EventRecorder implements EventSink {
  private readonly pending: KubeObject[] = [];
  private inFlight = 0;
  private counter = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly log: Logger,
  ) {}

  record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.pending.length >= MAX_PENDING) {
      this.log.debug('event dropped', { reason, object: obj.metadata.name });
      return;
    }
    this.pending.push(buildEvent(obj, type, reason, message, this.component, this.counter++));
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

export function buildEvent(obj: KubeObject, type: string, reason: string, message: string, component: string, seq = 0): KubeObject {
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
    source: { component },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    reportingComponent: component,
    reportingInstance: component,
  };
}
