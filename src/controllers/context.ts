// What every controller gets: the API client, the shared informers, an event sink and a logger.
import type { KubeClient } from '../client/client.js';
import type { Logger } from '../util/log.js';
import type { EventSink } from './events.js';
import type { InformerGroup } from '../client/shared-informers.js';

export interface ControllerContext {
  client: KubeClient;
  informers: InformerGroup;
  events: EventSink;
  log: Logger;
}

/** A controller registers its handlers when constructed; start() runs it after the caches synced. */
export interface Controller {
  readonly name: string;
  start(): void;
  stop(): void;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
