// The page's live data: the lists and watches of the kinds it shows over one stream
// (/ui/api/live, authorized as the session's user through RBAC), and the merged flow stream of every node
// (/ui/api/flows?follow=true). Each change bumps a version the views re-render on.
import type { FlowEvent } from '../../flows/types.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

type Listener = () => void;

const listeners = new Set<Listener>();
let scheduled = false;

export function subscribe(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Coalesces bursts of events into one re-render per animation frame. */
export function changed(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    for (const l of listeners) l();
  });
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { message?: string };
    if (body.message) message = body.message;
  } catch {
    // not JSON
  }
  return new ApiError(res.status, message);
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

/** Calls onLine for each line of a streamed answer until it ends. */
async function streamLines(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(path, { credentials: 'same-origin', signal });
  if (!res.ok || !res.body) throw await errorOf(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) onLine(line);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One kind's objects, kept current by the live stream. */
export class Collection {
  readonly items = new Map<string, KubeObject>();
  error: string | undefined;
  synced = false;

  list(): KubeObject[] {
    return [...this.items.values()];
  }

  apply(line: LiveLine): void {
    if (line.error !== undefined) {
      this.error = line.error;
      return;
    }
    this.error = undefined;
    if (line.type === 'SYNC') {
      this.items.clear();
      for (const o of line.objects ?? []) this.items.set(key(o), o);
      this.synced = true;
    } else if (line.object) {
      if (line.type === 'DELETED') this.items.delete(key(line.object));
      else this.items.set(key(line.object), line.object);
    }
  }
}

interface LiveLine {
  resource?: string;
  type?: string;
  objects?: KubeObject[];
  object?: KubeObject;
  error?: string;
}

/**
 * Every kind the page shows over one stream (/ui/api/live): a browser has six connections per
 * server, so one watch per kind would starve the page's other requests. Reconnects resync.
 */
async function followCluster(signal: AbortSignal): Promise<void> {
  const names = Object.keys(cluster) as (keyof typeof cluster)[];
  while (!signal.aborted) {
    try {
      await streamLines(
        `/ui/api/live?resources=${names.join(',')}`,
        (text) => {
          const line = JSON.parse(text) as LiveLine;
          const c = line.resource ? cluster[line.resource as keyof typeof cluster] : undefined;
          if (!c) return;
          c.apply(line);
          changed();
        },
        signal,
      );
    } catch (err) {
      if (signal.aborted) return;
      for (const c of Object.values(cluster)) c.error = (err as Error).message;
      changed();
    }
    await sleep(1_000);
  }
}

function key(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

export interface NodeStatusLine {
  node: string;
  error?: string;
  [key: string]: unknown;
}

/** The last `capacity` flow events of every node, followed live. */
export class FlowFeed {
  readonly flows: FlowEvent[] = [];
  readonly nodes = new Map<string, NodeStatusLine>();
  error: string | undefined;
  connected = false;
  received = 0;
  /** node:seq of the flows held, so a reconnect that repeats the last seconds adds nothing twice. */
  private readonly seen = new Set<string>();

  constructor(readonly capacity = 2000) {}

  async run(signal: AbortSignal): Promise<void> {
    let since = '5m';
    while (!signal.aborted) {
      try {
        this.connected = true;
        this.error = undefined;
        changed();
        await streamLines(
          `/ui/api/flows?follow=true&since=${since}`,
          (line) => {
            const obj = JSON.parse(line) as { flow?: FlowEvent; node_status?: NodeStatusLine };
            if (obj.node_status) this.nodes.set(obj.node_status.node, obj.node_status);
            if (obj.flow && !this.seen.has(`${obj.flow.node}:${obj.flow.seq}`)) {
              this.seen.add(`${obj.flow.node}:${obj.flow.seq}`);
              this.received++;
              this.flows.push(obj.flow);
              if (this.flows.length > this.capacity) {
                for (const old of this.flows.splice(0, this.flows.length - this.capacity)) this.seen.delete(`${old.node}:${old.seq}`);
              }
            }
            changed();
          },
          signal,
        );
      } catch (err) {
        if (signal.aborted) return;
        this.error = (err as Error).message;
      }
      this.connected = false;
      changed();
      since = '10s';
      await sleep(2_000);
    }
  }
}

export const cluster = {
  nodes: new Collection(),
  pods: new Collection(),
  services: new Collection(),
  namespaces: new Collection(),
  endpointslices: new Collection(),
  networkpolicies: new Collection(),
};

export const flowFeed = new FlowFeed();

export function startLive(signal: AbortSignal): void {
  void followCluster(signal);
  void flowFeed.run(signal);
}
