// The model's Warning events, each recorded once while the model keeps reporting it: the model
// runs on every change, so without this the same warning would be written again and again. An
// event the model stops reporting is forgotten, and recorded again if it comes back.
import type { ModelEvent } from '../model/types.js';

export function eventKey(e: ModelEvent): string {
  return `${e.kind}|${e.namespace ?? ''}|${e.name}|${e.reason}|${e.message}`;
}

export class EventDedup {
  private readonly seen = new Set<string>();

  /** The events of this round not recorded in an earlier round. */
  fresh(events: readonly ModelEvent[]): ModelEvent[] {
    const now = new Map(events.map((e) => [eventKey(e), e]));
    for (const k of this.seen) if (!now.has(k)) this.seen.delete(k);
    const out: ModelEvent[] = [];
    for (const [k, e] of now) {
      if (this.seen.has(k)) continue;
      this.seen.add(k);
      out.push(e);
    }
    return out;
  }
}
