// Messages between the etcd store (main thread) and its worker (etcd-worker.ts).

export interface EtcdEvent {
  type: 'put' | 'delete';
  key: string;
  /** The stored JSON (empty for deletes). */
  value: string;
  /** The event's etcd revision (the key's mod revision). */
  rev: number;
  /** True when this put created the key. */
  created: boolean;
  /**
   * Set when the event is this API server's own write (the request id): the value is then left
   * out, since the main thread holds the object it sent (exactly what etcd stored at `rev`).
   */
  own?: number;
}

export interface WriteRequest {
  kind: 'write';
  id: number;
  op: 'create' | 'update' | 'delete';
  key: string;
  ns: string;
  name: string;
  value?: string;
  expectedRev?: number;
}


export type WriteReply =
  | { kind: 'reply'; id: number; ok: true; rev: number }
  | { kind: 'reply'; id: number; ok: false; reason: 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Unavailable'; message: string };

/** What one postMessage carries: every message of one turn of the sender's event loop, in order. */
export type Batch<T> = T[];

export type WorkerToMain =
  | { kind: 'snapshot'; rev: number; kvs: { key: string; value: string; rev: number }[] }
  | { kind: 'events'; events: EtcdEvent[] }
  | { kind: 'ready' }
  | { kind: 'fatal'; message: string }
  | WriteReply;
